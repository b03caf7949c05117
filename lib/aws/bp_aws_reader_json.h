/* SPDX-License-Identifier: MIT */
/*
 * Parsing pieces both stream readers share (Kinesis, DynamoDB Streams): the reusable page of
 * records a GetRecords response becomes, the shard list a listing accumulates over its pages,
 * the GetShardIterator response, and seconds-with-fraction timestamps.
 *
 * Pure functions of their input: no I/O, so the unit tests feed them canned bodies.
 */
#ifndef BATCHPOINT_BP_AWS_READER_JSON_H
#define BATCHPOINT_BP_AWS_READER_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "bp_aws_int.h"

/* One string of a record while the page is parsed: an offset into the arena (the arena may
 * move while it grows, so views are made only when the page is complete). */
typedef struct bp__aws_span {
  size_t off;
  size_t len;
  int set;
} bp__aws_span;

typedef struct bp__aws_recspans {
  bp__aws_span seq, partition_key, data, encryption_type, event_id, event_name, dynamodb,
      user_identity;
  int64_t arrival_ms;
  int has_arrival;
} bp__aws_recspans;

/*
 * The records of one GetRecords response as bp_record views into one byte arena. Every array
 * is kept across pages (bp__aws_recpage_reset()), so a warm reader allocates nothing per
 * record.
 */
typedef struct bp__aws_recpage {
  bp_record *recs;           /* valid after bp__aws_recpage_finish() */
  bp__aws_recspans *spans;
  size_t n;
  size_t cap;
  char *arena;
  size_t arena_len;
  size_t arena_cap;
  bp__aws_span next_iterator_span;
  const char *next_iterator; /* NULL: absent or null (the shard has ended); NUL-terminated */
  int64_t millis_behind;     /* MillisBehindLatest, -1 when absent */
} bp__aws_recpage;

void bp__aws_recpage_reset(bp__aws_recpage *p);
void bp__aws_recpage_free(bp__aws_recpage *p);
/* A new record slot (spans cleared): its index, or -1 (out of memory). */
long bp__aws_recpage_add(bp__aws_recpage *p);
/* Copy @p n bytes (and a NUL) into the arena; *@p sp names them. 0 or BP_ERR_NOMEM. */
int bp__aws_recpage_copy(bp__aws_recpage *p, const void *s, size_t n, bp__aws_span *sp);
/* Make the views (recs[], next_iterator) from the spans. */
void bp__aws_recpage_finish(bp__aws_recpage *p);

/* A listing of shards, accumulated over the pages of ListShards / DescribeStream. */
typedef struct bp__aws_shardlist {
  bp__aws_shard_info *v; /* strings owned by the list */
  size_t n;
  size_t cap;
} bp__aws_shardlist;

/* 0 or BP_ERR_NOMEM. @p parent / @p adjacent may be NULL. */
int bp__aws_shardlist_add(bp__aws_shardlist *l, const char *id, const char *parent,
                          const char *adjacent, int closed);
void bp__aws_shardlist_clear(bp__aws_shardlist *l);

/*
 * A JSON number of seconds with an optional fraction and exponent ("1441215410.867",
 * "1.46480646E9") as epoch milliseconds, rounded to nearest. Exact decimal arithmetic (no
 * locale, no double). 0, or BP_ERR_INVALID_JSON (not a number, negative) / BP_ERR_RANGE
 * (above BP_TIME_MAX_MS).
 */
int bp__aws_seconds_to_ms(const char *s, size_t n, int64_t *ms);

/*
 * A small response (listings, GetShardIterator) of @p len bytes at @p body (NUL-terminated)
 * as a yajl tree whose root is an object (free with yajl_tree_free()), or NULL with a message
 * naming @p what.
 */
yajl_val bp__aws_json_tree(const char *body, size_t len, const char *what, char *err,
                           size_t errlen);

/*
 * The shard objects of a listing (ListShards "Shards", DescribeStream
 * "StreamDescription.Shards"): ShardId (required), ParentShardId, AdjacentParentShardId,
 * SequenceNumberRange.EndingSequenceNumber (closed). 0, BP_ERR_INVALID_JSON or BP_ERR_NOMEM.
 */
int bp__aws_parse_shard_array(yajl_val shards, bp__aws_shardlist *acc, const char *what,
                              char *err, size_t errlen);

/* An optional string member: its text, NULL when absent or null; *@p bad set when it has
 * another type. */
const char *bp__aws_json_opt_string(yajl_val obj, const char *key, int *bad);

/*
 * A GetShardIterator response ({"ShardIterator": "..."}, both services) of @p len bytes at
 * @p body (NUL-terminated): *@p out receives a malloc'd copy. 0, BP_ERR_INVALID_JSON (with
 * a message) or BP_ERR_NOMEM.
 */
int bp__aws_parse_shard_iterator(const char *body, size_t len, char **out, char *err,
                                 size_t errlen);

/*
 * One pass of yajl's callback parser over a whole body, as a stream of events to @p on. The
 * string of an event (keys, strings, number text) is valid only during the call; @p pos is
 * the offset just past the event's token in @p body (for copying raw spans: a '{' event's
 * token starts at pos - 1). @p on returns 1 to go on, 0 to stop (it has written @p err).
 * Returns 0, or BP_ERR_INVALID_JSON (malformed or stopped; @p err says why), BP_ERR_NOMEM.
 */
enum {
  BP__AWS_JSON_NULL,
  BP__AWS_JSON_BOOL,
  BP__AWS_JSON_NUMBER,
  BP__AWS_JSON_STRING,
  BP__AWS_JSON_KEY,
  BP__AWS_JSON_MAP_START,
  BP__AWS_JSON_MAP_END,
  BP__AWS_JSON_ARRAY_START,
  BP__AWS_JSON_ARRAY_END
};
typedef int (*bp__aws_json_on)(void *ctx, int ev, const char *s, size_t n, size_t pos);
int bp__aws_json_walk(const char *body, size_t len, bp__aws_json_on on, void *ctx,
                      const char *what, char *err, size_t errlen);

/* The index + 1 of the key @p s (@p n bytes) in the NULL-terminated @p names, 0 if absent:
 * dialects number their keys from 1 with 0 for any other. */
int bp__aws_json_key_index(const char *s, size_t n, const char *const *names);

/*
 * An optional string member @p key of @p obj as a malloc'd copy in *@p out (NULL when absent,
 * null or empty: the last page of a listing). 0, BP_ERR_INVALID_JSON ("@p what: @p key is not
 * a string") or BP_ERR_NOMEM.
 */
int bp__aws_json_dup_opt_string(yajl_val obj, const char *key, char **out, const char *what,
                                char *err, size_t errlen);

/*
 * The walk of a GetRecords response both services share: the top object, its Records array,
 * NextShardIterator (and MillisBehindLatest where the service sends it), a page slot per
 * record, and the checks of a finished page. What a record holds is the dialect's: it sees
 * every event strictly inside a record object and checks each record at its end.
 */
typedef struct bp__aws_records_walk bp__aws_records_walk;

typedef struct bp__aws_records_dialect {
  /*
   * An event inside the record w->cur of w->p. @p depth: for a key or a value, the
   * containers open around it (a record's own members are at 3); for the end of a
   * container, those still open after it. 1 to go on, 0 to stop (bp__aws_records_fail()).
   */
  int (*in_record)(bp__aws_records_walk *w, int ev, const char *s, size_t n, size_t pos,
                   int depth);
  /* The record w->cur has ended: 1 if it holds what the service requires, else
   * bp__aws_records_fail(). */
  int (*record_end)(bp__aws_records_walk *w);
  int millis_behind; /* 1: the response carries MillisBehindLatest (Kinesis) */
} bp__aws_records_dialect;

struct bp__aws_records_walk {
  bp__aws_recpage *p;
  const char *body;  /* the whole response (for raw spans of objects) */
  const bp__aws_records_dialect *d;
  void *ctx;         /* the dialect's own state */
  int depth;         /* containers open */
  int top_key;       /* the member of the top object being read */
  int in_records;    /* inside the Records array (depth 2) */
  int saw_records;
  long cur;          /* the record being read */
  int rc;
  char *err;
  size_t errlen;
};

/* Stop the walk with @p rc and "GetRecords: @p msg". Returns 0 (the callbacks' "stop"). */
int bp__aws_records_fail(bp__aws_records_walk *w, int rc, const char *msg);
/* Copy @p n bytes at @p s into the page as *@p sp: 1, or 0 having failed the walk. */
int bp__aws_records_copy(bp__aws_records_walk *w, const char *s, size_t n, bp__aws_span *sp);

/*
 * A GetRecords response of @p len bytes at @p body into @p p (reset first; finished on
 * success), the records read as dialect @p d says with its state @p ctx. 0,
 * BP_ERR_INVALID_JSON (@p err says why: malformed, a wrong type, no Records array, a record
 * without a required member) or BP_ERR_NOMEM. On failure @p p is left empty.
 */
int bp__aws_parse_records(bp__aws_recpage *p, const char *body, size_t len,
                          const bp__aws_records_dialect *d, void *ctx, char *err,
                          size_t errlen);

/* printf into @p err (NULL or 0 bytes: nothing). */
void bp__aws_json_errf(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
