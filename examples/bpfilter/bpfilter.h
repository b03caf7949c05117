/* SPDX-License-Identifier: MIT */
/*
 * bpfilter: try Lambda FilterCriteria patterns on events. Shared declarations of its files:
 *   bpfilter.c          main, command line, compiling the patterns
 *   bpfilter_events.c   one verdict per line of an NDJSON event file
 *   bpfilter_record.c   Lambda Kinesis / DynamoDB records (JSON) to record views and codecs
 *   bpfilter_vectors.c  the runner of filter-vectors.json files
 *   bpfilter_json.c     reading files, strict JSON parsing, tree helpers
 * Everything lives in main's locals or in objects it owns: no global mutable state.
 */
#ifndef BPFILTER_H
#define BPFILTER_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include <batchpoint.h>

/* ---- JSON and files (bpfilter_json.c) ---- */

/* Deepest nesting accepted in parsed JSON: the tree code recurses, so a hostile line of a
 * million brackets must be refused before it is parsed. */
#define BPF_MAX_DEPTH 512

/** A whole file, NUL-terminated (malloc'd). NULL with strerror text in @p err. */
char *bpf_read_file(const char *path, size_t *len, char *err, size_t errlen);

/**
 * Parse exactly one JSON value of @p len bytes (@p text NUL-terminated at @p len): RFC 8259,
 * UTF-8 checked, no comments, nothing after it but whitespace, at most BPF_MAX_DEPTH deep.
 * @return the tree (free with yajl_tree_free), or NULL with the reason in @p err and the byte
 *         offset where parsing stopped in @p *offset.
 */
yajl_val bpf_json_parse(const char *text, size_t len, size_t *offset, char *err, size_t errlen);

/** Member @p key of object @p obj (the last one if repeated); NULL if absent or not an object. */
yajl_val bpf_member(yajl_val obj, const char *key);
/** The string of @p v, or NULL if @p v is not a string. */
const char *bpf_string(yajl_val v);
/** Compact JSON text of @p v, numbers as their original tokens (malloc'd; NULL on OOM). */
char *bpf_json_text(yajl_val v);
/**
 * Whether @p a and @p b are the same JSON value: objects regardless of member order, numbers
 * by value. On a difference its path ("kinesis.data") goes to @p where.
 */
int bpf_json_equal(yajl_val a, yajl_val b, char *where, size_t cap);

/* ---- Lambda records (bpfilter_record.c) ---- */

/** A record view built from one Lambda record; its strings point into the JSON tree. */
typedef struct bpf_record {
  bp_record view;
  int source;          /* BP_SOURCE_KINESIS or BP_SOURCE_DYNAMODB */
  char shard[128];     /* Kinesis: the shard of eventID; "" for DynamoDB */
  const char *arn;     /* eventSourceARN */
  const char *region;  /* awsRegion, NULL: the ARN's */
  const char *role;    /* invokeIdentityArn (Kinesis) */
  char *ddb_text;      /* DynamoDB: the `dynamodb` object as text (owned) */
  char *user_identity; /* DynamoDB: `userIdentity` as text (owned) or NULL */
} bpf_record;

/**
 * Build @p r from the Lambda record @p v (SEMANTICS.md §1.1 / §1.2). Per-record fields are
 * required; with @p placeholders the mapping-wide ones (eventSourceARN, awsRegion,
 * invokeIdentityArn, the shard of eventID) may be absent and get fixed stand-ins.
 * @return 0; -1 with the first missing or malformed field named in @p err.
 */
int bpf_record_build(yajl_val v, int source, int placeholders, bpf_record *r, char *err,
                     size_t errlen);
void bpf_record_free(bpf_record *r);

/** The codec of the last record, reused while the mapping-wide strings stay the same. */
typedef struct bpf_codecs {
  bp_codec *codec;
  int source;
  char *arn, *region, *role;
} bpf_codecs;

/** A codec for @p r. @return it (owned by @p cc), or NULL with the reason in @p err. */
bp_codec *bpf_codec_for(bpf_codecs *cc, const bpf_record *r, char *err, size_t errlen);
void bpf_codecs_free(bpf_codecs *cc);

/**
 * Validate @p r as the codec would deliver it, then match it through its filter view.
 * @param result out: BP_FILTER_MATCH, BP_FILTER_NO_MATCH or BP_FILTER_DROPPED.
 * @return 0; -1 (a malformed record, out of memory) with the reason in @p err.
 */
int bpf_match_record(bp_filter *f, bp_codec *codec, const bpf_record *r, int *result, char *err,
                     size_t errlen);

/* ---- event files (bpfilter_events.c) ---- */

typedef struct bpf_events_opts {
  int source;   /* 0: plain JSON events; BP_SOURCE_KINESIS / BP_SOURCE_DYNAMODB: records */
  int matching; /* print only the matching lines, verbatim */
} bpf_events_opts;

/** Match every line of @p path ("-": stdin). @return the exit status (0, 1 or 2). */
int bpf_run_events(bp_filter *f, const char *path, const bpf_events_opts *o);

/* ---- vector files (bpfilter_vectors.c) ---- */

/** Run every vector of @p path. @return the exit status (0, 1 or 2). */
int bpf_run_vectors(const char *path, int strict);

#endif
