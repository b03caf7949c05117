/* SPDX-License-Identifier: MIT */
/* Shared setup and assertions of the engine tests (test_engine*.c): the mapping's fixed
 * ARNs and clock, configuration and option builders, engine start over the mock host, lane
 * keys, invocation checks and event JSON access. Everything asserts through cmocka, so a
 * setup step that fails fails the calling test. */
#ifndef BP_ENGINE_FIXTURE_H
#define BP_ENGINE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "batchpoint/bp_config.h"
#include "batchpoint/bp_engine.h"
#include "mock_host.h"

#define T0 INT64_C(1764088532021) /* 2025-11-25T16:35:32.021Z */
#define STREAM_ARN "arn:aws:kinesis:us-east-1:111111111111:stream/s1"
#define DDB_ARN "arn:aws:dynamodb:us-east-1:111111111111:table/t1/stream/2025-11-25T15:00:00.000"
#define FN_ARN "arn:aws:lambda:us-east-1:111111111111:function:fn"
#define ROLE_ARN "arn:aws:iam::111111111111:role/fn-role"
#define SHARD0 "shardId-000000000000"

/* A mapping of @p arn to FN_ARN, at @p position unless BP_POSITION_NONE. */
bp_config *cfg_new(const char *arn, int position);

/* A Kinesis mapping at TRIM_HORIZON with the defaults of §2.1. */
bp_config *kcfg(void);

/* Engine options with ROLE_ARN as the invoke identity; each suite names its own mapping
 * and seed (request ids and UUIDs are drawn from it, §5.3). */
bp_engine_opts engine_opts(const char *mapping_uuid, uint64_t seed);

/* A mock whose clock starts at @p now (mock_run() never ticks before it). */
mock_host *mock_at(int64_t now);

/* mock_at(T0). */
mock_host *mk_mock(void);

/* Create the engine over @p cfg (deleted here) without any shard; asserts success. */
void create_engine(mock_host *m, bp_config *cfg, const bp_engine_opts *o);

/* Create the engine over @p cfg (deleted here) and add shard SHARD0 to the mock (its index
 * in *shard) and to the engine. Returns the first error (a failmalloc scenario passes it
 * on), 0 on success. */
int try_start(mock_host *m, bp_config *cfg, const bp_engine_opts *o, int *shard);

/* try_start() that must succeed; returns the mock's shard index. */
int start(mock_host *m, bp_config *cfg, const bp_engine_opts *o);

/* A partition key "<prefix><n>" routed to @p lane of @p pf lanes (SEMANTICS.md §3.2). */
void key_for_lane(uint32_t lane, uint32_t pf, const char *prefix, char *out, size_t cap);

/* The number of bits set in @p x (records in a mask). */
unsigned popcount(unsigned x);

/* Invocation @p i carries exactly records [first, first + count) of @p shard, in order. */
void assert_inv(const mock_host *m, size_t i, int shard, size_t first, size_t count);

/* The tree of a JSON text (fails the test if it is not JSON); the caller frees it. */
yajl_val json_parse(const char *text);

/* The member at a dotted path ("requestContext.condition") of @p v, or NULL. */
yajl_val json_at(yajl_val v, const char *dotted);

/* cmocka teardown: frees the mocks of a test that failed half-way. */
int release_mocks(void **state);

#endif
