/* SPDX-License-Identifier: MIT */
/* bp_lane_of(): the engine's own lane routing (SEMANTICS.md §3.2), offered to hosts as a pure
 * function. Checked against known FNV-1a-32 values and against the lanes the engine gives
 * its invocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine_fixture.h"

static void test_lane_values(void **state) {
  (void)state;
  /* FNV-1a-32: "" = 0x811c9dc5, "a" = 0xe40c292c, "foobar" = 0xbf9cf968 */
  assert_int_equal(bp_lane_of("", 0, 7), 0x811c9dc5u % 7);
  assert_int_equal(bp_lane_of(NULL, 0, 10), 0x811c9dc5u % 10);
  assert_int_equal(bp_lane_of("a", 1, 10), 0xe40c292cu % 10);
  assert_int_equal(bp_lane_of("foobar", 6, 9), 0xbf9cf968u % 9);
  assert_int_equal(bp_lane_of("foobar", 6, 1), 0);
  char key[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "user-%d", i);
    for (int pf = 1; pf <= BP_CONFIG_MAX_PARALLELIZATION_FACTOR; pf++)
      assert_int_equal(bp_lane_of(key, strlen(key), pf),
                       mock_fnv1a32(key, strlen(key)) % (uint32_t)pf);
  }
}

static void test_lane_errors(void **state) {
  (void)state;
  assert_int_equal(bp_lane_of(NULL, 1, 2), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_lane_of("k", 1, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_lane_of("k", 1, -3), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_lane_of("k", 1, BP_CONFIG_MAX_PARALLELIZATION_FACTOR + 1),
                   BP_ERR_INVALID_ARGUMENT);
}

/* Every record the engine invokes sits on the lane bp_lane_of() names. */
static void test_lane_matches_engine(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_parallelization_factor(cfg, 5), 0);
  assert_int_equal(bp_config_set_batch_size(cfg, 3), 0);
  bp_engine_opts o = engine_opts("7f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5", 11);
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 60, 17, T0);
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_true(m->ninvokes >= 20);
  size_t seen = 0;
  for (size_t i = 0; i < m->ninvokes; i++) {
    const size_t *idx = mock_inv_records(m, &m->invokes[i]);
    for (size_t k = 0; k < m->invokes[i].count; k++, seen++) {
      const mock_record *r = mock_rec(m, s, idx[k]);
      assert_int_equal(bp_lane_of(r->pk, r->pk_len, 5), (int)m->invokes[i].lane);
    }
  }
  assert_int_equal(seen, 60);
  mock_host_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lane_values),
      cmocka_unit_test(test_lane_errors),
      cmocka_unit_test_teardown(test_lane_matches_engine, release_mocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
