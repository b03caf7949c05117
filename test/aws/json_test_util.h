/* SPDX-License-Identifier: MIT */
/*
 * Checks the response-parser tests of both services share (test_aws_kinesis_json.c,
 * test_aws_ddbstreams_json.c): a string view of a parsed page, and bodies every one of
 * which a GetRecords or listing parser must refuse.
 */
#ifndef BATCHPOINT_TEST_AWS_JSON_TEST_UTIL_H
#define BATCHPOINT_TEST_AWS_JSON_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bp_aws_reader_json.h"

typedef int (*jt_records_parser)(bp__aws_recpage *p, const char *body, size_t len, char *err,
                                 size_t errlen);
typedef int (*jt_listing_parser)(const char *body, size_t len, bp__aws_shardlist *acc,
                                 char **page, char *err, size_t errlen);

/* The view @p p / @p n holds exactly @p want. */
static inline void jt_assert_view(const char *p, size_t n, const char *want) {
  assert_non_null(p);
  assert_int_equal(n, strlen(want));
  assert_memory_equal(p, want, n);
}

/* Each of the @p n bodies @p bad is BP_ERR_INVALID_JSON with a "GetRecords: " message and
 * leaves the page @p p empty. */
static inline void jt_assert_records_refused(jt_records_parser parse, bp__aws_recpage *p,
                                             const char *const *bad, size_t n) {
  char err[256];
  for (size_t i = 0; i < n; i++) {
    err[0] = '\0';
    int rc = parse(p, bad[i], strlen(bad[i]), err, sizeof err);
    if (rc != BP_ERR_INVALID_JSON) fprintf(stderr, "case %zu: rc %d\n", i, rc);
    assert_int_equal(rc, BP_ERR_INVALID_JSON);
    assert_true(strncmp(err, "GetRecords: ", 12) == 0);
    assert_int_equal(p->n, 0);
  }
}

/* Each of the @p n bodies @p bad is BP_ERR_INVALID_JSON with a message starting @p prefix
 * ("ListShards: ") and sets no next page. */
static inline void jt_assert_listing_refused(jt_listing_parser parse, bp__aws_shardlist *l,
                                             const char *prefix, const char *const *bad,
                                             size_t n) {
  char err[256], stale = 0, *page;
  for (size_t i = 0; i < n; i++) {
    err[0] = '\0';
    page = &stale; /* the parser must clear it */
    assert_int_equal(parse(bad[i], strlen(bad[i]), l, &page, err, sizeof err),
                     BP_ERR_INVALID_JSON);
    assert_null(page);
    assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
  }
}

#endif
