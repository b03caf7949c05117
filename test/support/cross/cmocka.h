/* SPDX-License-Identifier: MIT */
/*
 * The part of cmocka's API that test/test_b64_paths.c uses, for its cross-built run under
 * qemu-user (test/support/check_b64_arm64.sh), where the target's cmocka is not installed.
 * A failed check prints where and exits 1; the run ends with cmocka's "PASSED" line.
 */
#ifndef BP_CROSS_CMOCKA_H
#define BP_CROSS_CMOCKA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define xc_fail(...)                                                                         \
  (fprintf(stderr, "%s:%d: ", __FILE__, __LINE__), fprintf(stderr, __VA_ARGS__),             \
   fputc('\n', stderr), exit(1))
#define fail_msg(...) xc_fail(__VA_ARGS__)
#define assert_true(c) ((c) ? (void)0 : xc_fail("%s", #c))
#define assert_false(c) assert_true(!(c))
#define assert_non_null(p) assert_true((p) != NULL)
#define assert_int_equal(a, b)                                                               \
  ((unsigned long long)(a) == (unsigned long long)(b)                                        \
       ? (void)0                                                                             \
       : xc_fail("%s == %s: %llu != %llu", #a, #b, (unsigned long long)(a),                  \
                 (unsigned long long)(b)))
#define assert_memory_equal(a, b, n)                                                         \
  (memcmp((a), (b), (n)) == 0 ? (void)0 : xc_fail("%s and %s differ", #a, #b))

struct CMUnitTest {
  const char *name;
  void (*fn)(void **state);
};
#define cmocka_unit_test(f) {#f, f}

static inline int xc_run(const char *group, const struct CMUnitTest *t, size_t n) {
  for (size_t i = 0; i < n; i++) {
    void *state = NULL;
    t[i].fn(&state);
    printf("[       OK ] %s\n", t[i].name);
  }
  printf("[  PASSED  ] %zu test(s). (%s)\n", n, group);
  return 0;
}
#define cmocka_run_group_tests_name(group, tests, setup, teardown)                           \
  xc_run(group, tests, sizeof(tests) / sizeof((tests)[0]))

#endif
