/* SPDX-License-Identifier: MIT */
/* bp__filter_key_node (segments first, then the trie walk) against bp__filter_key_walk alone:
 * the same trie node for every key at every node, over generated patterns whose keys mix
 * short segments, dots and empty keys. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bp_filter_int.h"

static uint32_t rng = 0x2545F491u;
static uint32_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
  return rng;
}

/* A random key of 0..4 bytes from a small alphabet (so keys often meet the patterns'). */
static size_t rand_key(char *k) {
  static const char alphabet[] = "ab.c";
  size_t n = next() % 5;
  for (size_t i = 0; i < n; i++) k[i] = alphabet[next() % 4];
  return n;
}

/* A pattern of 1..3 members, nested up to 3 deep, ending in {"exists": true} or a value. */
static void add_member(char *out, size_t *len, int depth) {
  char k[8];
  size_t n = rand_key(k);
  *len += (size_t)snprintf(out + *len, 64, "\"%.*s\":", (int)n, k);
  if (depth < 3 && next() % 2) {
    out[(*len)++] = '{';
    add_member(out, len, depth + 1);
    out[(*len)++] = '}';
  } else {
    *len += (size_t)snprintf(out + *len, 64, next() % 2 ? "[\"x\"]" : "[{\"exists\":true}]");
  }
}

static void check_filter(bp_filter *f) {
  char k[8];
  for (size_t node = 0; node <= f->ntrie; node++) {
    uint32_t parent = node == f->ntrie ? BP__FT_DEAD : (uint32_t)node;
    for (int root = 0; root < 2; root++) {
      for (int i = 0; i < 64; i++) {
        size_t n = rand_key(k);
        uint32_t fast = bp__filter_key_node(f, parent, root, k, n);
        uint32_t walk = bp__filter_key_walk(f, parent, root, k, n);
        if (fast != walk)
          fail_msg("key [%.*s] at node %u (root %d): %u, the walk %u", (int)n, k, parent, root,
                   fast, walk);
      }
      /* and every segment of this start, exactly */
      uint32_t start = parent;
      if (parent == BP__FT_DEAD || (!root && (start = f->trie[parent].dot) == BP__FT_NONE))
        continue;
      for (uint32_t s = 0; s < f->trie[start].seg_count; s++) {
        const bp__fseg *e = &f->seg[f->trie[start].seg_first + s];
        const char *sk = f->pool.data + e->off;
        assert_int_equal(bp__filter_key_node(f, parent, root, sk, e->len), e->node);
        assert_int_equal(bp__filter_key_walk(f, parent, root, sk, e->len), e->node);
      }
    }
  }
}

static void test_generated(void **state) {
  (void)state;
  size_t segments = 0, found = 0;
  for (int iter = 0; iter < 3000; iter++) {
    bp_filter *f = NULL;
    assert_int_equal(bp_filter_new(&f, 0, NULL), 0);
    for (int p = (int)(next() % 3); p >= 0; p--) {
      char pat[1024];
      size_t len = 0;
      pat[len++] = '{';
      for (int m = (int)(next() % 3); m >= 0; m--) {
        if (pat[len - 1] != '{') pat[len++] = ',';
        add_member(pat, &len, 1);
      }
      pat[len++] = '}';
      int rc = bp_filter_add(f, pat, len);
      if (rc != 0 && rc != BP_ERR_CONFIG_INVALID) fail_msg("%s: %d", pat, rc);
    }
    check_filter(f);
    segments += f->nseg;
    for (size_t i = 0; i < f->nseg; i++) found += f->seg[i].len > 0;
    bp_filter_del(f);
  }
  assert_true(segments > 3000 && found == segments); /* many segments were compared */
}

/* The bench's shape: keys no pattern names are ruled out, named ones found. */
static void test_known(void **state) {
  (void)state;
  bp_filter *f = NULL;
  const char *pat = "{\"data\":{\"type\":[\"order\"],\"region\":[{\"prefix\":\"eu-\"}],"
                    "\"a.b\":[1],\"amount\":{\"x\":[2]}}}";
  assert_int_equal(bp_filter_new(&f, 0, NULL), 0);
  assert_int_equal(bp_filter_add(f, pat, strlen(pat)), 0);
  uint32_t data = bp__filter_key_node(f, 0, 1, "data", 4);
  assert_int_not_equal(data, BP__FT_DEAD);
  const char *keys[] = {"type", "region", "amount", "a.b", "a", "id", "typ", "types", "", "pad",
                        "amount.x", "r"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    assert_int_equal(bp__filter_key_node(f, data, 0, keys[i], strlen(keys[i])),
                     bp__filter_key_walk(f, data, 0, keys[i], strlen(keys[i])));
  assert_int_equal(bp__filter_key_node(f, data, 0, "id", 2), BP__FT_DEAD);
  assert_int_not_equal(bp__filter_key_node(f, data, 0, "type", 4), BP__FT_DEAD);
  assert_int_not_equal(bp__filter_key_node(f, data, 0, "a.b", 3), BP__FT_DEAD);
  bp_filter_del(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_generated), cmocka_unit_test(test_known)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
