/* SPDX-License-Identifier: MIT */
/* Shared setup and assertions of the engine tests; see engine_fixture.h. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine_fixture.h"

bp_config *cfg_new(const char *arn, int position) {
  bp_config *c = NULL;
  assert_int_equal(bp_config_new(&c, NULL), 0);
  assert_int_equal(bp_config_set_event_source_arn(c, arn, strlen(arn)), 0);
  assert_int_equal(bp_config_set_function_name(c, FN_ARN, strlen(FN_ARN)), 0);
  if (position != BP_POSITION_NONE)
    assert_int_equal(bp_config_set_starting_position(c, position), 0);
  return c;
}

bp_config *kcfg(void) { return cfg_new(STREAM_ARN, BP_POSITION_TRIM_HORIZON); }

bp_engine_opts engine_opts(const char *mapping_uuid, uint64_t seed) {
  bp_engine_opts o = BP_ENGINE_OPTS_INIT;
  assert_int_equal(bp_engine_opts_init(&o, sizeof o), 0);
  o.invoke_identity_arn = ROLE_ARN;
  o.mapping_uuid = mapping_uuid;
  o.seed = seed;
  return o;
}

mock_host *mock_at(int64_t now) {
  mock_host *m = mock_host_new();
  m->now = now;
  return m;
}

mock_host *mk_mock(void) { return mock_at(T0); }

void create_engine(mock_host *m, bp_config *cfg, const bp_engine_opts *o) {
  assert_int_equal(mock_engine_new(m, cfg, o), 0);
  bp_config_del(cfg);
}

int try_start(mock_host *m, bp_config *cfg, const bp_engine_opts *o, int *shard) {
  int rc = mock_engine_new(m, cfg, o);
  bp_config_del(cfg);
  if (rc != 0) return rc;
  *shard = mock_shard_add(m, SHARD0);
  return bp_engine_add_shard(m->e, SHARD0, NULL, NULL, NULL, 0);
}

int start(mock_host *m, bp_config *cfg, const bp_engine_opts *o) {
  int s = -1;
  assert_int_equal(try_start(m, cfg, o, &s), 0);
  return s;
}

void key_for_lane(uint32_t lane, uint32_t pf, const char *prefix, char *out, size_t cap) {
  for (int i = 0; i < 10000; i++) {
    snprintf(out, cap, "%s%d", prefix, i);
    if (mock_fnv1a32(out, strlen(out)) % pf == lane) return;
  }
  fail_msg("no key for lane %u", lane);
}

unsigned popcount(unsigned x) {
  unsigned n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

void assert_inv(const mock_host *m, size_t i, int shard, size_t first, size_t count) {
  if (i >= m->ninvokes) fail_msg("invocation %zu missing (%zu made)", i, m->ninvokes);
  const mock_invoke *inv = &m->invokes[i];
  if (inv->shard != shard || inv->count != count || mock_inv_records(m, inv)[0] != first)
    fail_msg("invocation %zu: shard %d, %zu records from %zu, flags %x; expected shard %d, "
             "%zu records from %zu", i, inv->shard, inv->count,
             inv->count ? mock_inv_records(m, inv)[0] : 0, inv->flags, shard, count, first);
  for (size_t j = 0; j < count; j++) assert_int_equal(mock_inv_records(m, inv)[j], first + j);
}

yajl_val json_parse(const char *text) {
  char err[256];
  yajl_val v = yajl_tree_parse(text, err, sizeof err);
  if (!v) fail_msg("not JSON (%s): %.200s", err, text);
  return v;
}

yajl_val json_at(yajl_val v, const char *dotted) {
  char buf[256];
  const char *path[8];
  size_t n = 0;
  snprintf(buf, sizeof buf, "%s", dotted);
  for (char *p = strtok(buf, "."); p && n < 7; p = strtok(NULL, ".")) path[n++] = p;
  path[n] = NULL;
  return yajl_tree_get(v, path, yajl_t_any);
}

int release_mocks(void **state) {
  (void)state;
  return mock_host_release_all();
}
