/* SPDX-License-Identifier: MIT */
/* Test helpers over yajl's tree API: deep comparison of JSON texts and reading files. */
#ifndef BP_TEST_JSON_H
#define BP_TEST_JSON_H

#include <stddef.h>

/* 1 if both texts are valid JSON and equal as values (object key order ignored; numbers
 * compared by their token text). On difference writes the path to @p where (may be NULL). */
int test_json_equal(const char *a, const char *b, char *where, size_t where_len);

/* 1 if @p text (n bytes, not NUL-terminated) is exactly one valid JSON value. */
int test_json_valid(const char *text, size_t n);

/* Whitespace outside strings removed (compact form of a pretty-printed JSON text). */
char *test_json_compact(const char *text, size_t n);

/* Whole file into a NUL-terminated malloc'd buffer (NULL on failure); *len if non-NULL. */
char *test_read_file(const char *path, size_t *len);

/* The balanced {...} JSON object starting at the last '{' before the first occurrence of
 * @p marker in @p text (malloc'd, NUL-terminated), or NULL. */
char *test_extract_object(const char *text, const char *marker);

#endif
