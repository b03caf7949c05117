/* SPDX-License-Identifier: MIT */
/* Checkpoint stores: the checked calls over a host store (every build), and the file store
 * (BP_WITH_FILE_STORE): round trips, isolation, id escaping, corruption and truncation at
 * every byte, leftover temporary files, directory errors, failmalloc, and crashes: a child
 * saving in a loop is SIGKILLed at random instants, 200 times. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "test_alloc.h"

/* ---- A host store in memory: what a DynamoDB / SQL / flash store looks like ---- */

enum mem_mode {
  MEM_OK,          /* behaves */
  MEM_BAD_SEQ,     /* load returns 0 with mem.bad bytes */
  MEM_OVERLONG,    /* load reports more bytes than the buffer */
  MEM_RETURN,      /* every call returns mem.ret */
};

#define MEM_SLOTS 8
#define KINESIS_SEQ "49590338271490256608559692538361571095921575989136588898"

typedef struct mem_store {
  struct {
    char m[BP_STORE_MAX_ID_LEN + 1], s[BP_STORE_MAX_ID_LEN + 1];
    char seq[BP_MAX_SEQNUM_DIGITS];
    size_t len;
    int used;
  } slot[MEM_SLOTS];
  enum mem_mode mode;
  int ret;
  const char *bad;
  const char *msg; /* what errmsg answers (may be NULL) */
  int loads, saves, removes;
  size_t last_cap;
} mem_store;

static int mem_find(mem_store *st, const char *m, const char *s) {
  for (int i = 0; i < MEM_SLOTS; i++)
    if (st->slot[i].used && !strcmp(st->slot[i].m, m) && !strcmp(st->slot[i].s, s)) return i;
  return -1;
}

static int mem_load(const char *m, const char *s, char *seq_out, size_t seq_cap, size_t *seq_len,
                    void *ud) {
  mem_store *st = ud;
  st->loads++;
  st->last_cap = seq_cap;
  *seq_len = 0;
  switch (st->mode) {
  case MEM_RETURN:
    return st->ret;
  case MEM_BAD_SEQ: {
    size_t n = strlen(st->bad);
    memcpy(seq_out, st->bad, n < seq_cap ? n : seq_cap);
    *seq_len = n < seq_cap ? n : seq_cap;
    return 0;
  }
  case MEM_OVERLONG:
    memcpy(seq_out, "1", 1);
    *seq_len = seq_cap + 1;
    return 0;
  case MEM_OK:
    break;
  }
  int i = mem_find(st, m, s);
  if (i < 0) return BP_STORE_NOT_FOUND;
  if (st->slot[i].len > seq_cap) return BP_ERR_BUFFER_TOO_SMALL;
  memcpy(seq_out, st->slot[i].seq, st->slot[i].len);
  *seq_len = st->slot[i].len;
  return 0;
}

static int mem_save(const char *m, const char *s, const char *seq, size_t seq_len, void *ud) {
  mem_store *st = ud;
  st->saves++;
  if (st->mode == MEM_RETURN) return st->ret;
  int i = mem_find(st, m, s);
  for (int k = 0; i < 0 && k < MEM_SLOTS; k++)
    if (!st->slot[k].used) i = k;
  if (i < 0) return BP_ERR_NOMEM;
  st->slot[i].used = 1;
  strcpy(st->slot[i].m, m);
  strcpy(st->slot[i].s, s);
  memcpy(st->slot[i].seq, seq, seq_len);
  st->slot[i].len = seq_len;
  return 0;
}

static int mem_remove(const char *m, const char *s, void *ud) {
  mem_store *st = ud;
  st->removes++;
  if (st->mode == MEM_RETURN) return st->ret;
  int i = mem_find(st, m, s);
  if (i < 0) return BP_STORE_NOT_FOUND;
  st->slot[i].used = 0;
  return 0;
}

static const char *mem_errmsg(void *ud) { return ((mem_store *)ud)->msg; }

static const bp_store_ops mem_ops = {BP_STORE_OPS_VERSION, mem_load, mem_save, mem_remove,
                                     mem_errmsg};

/* Load through the checked call; returns its code, the digits in out. */
static int load_str(const bp_store_ops *ops, void *ud, const char *m, const char *s, char *out,
                    char *err) {
  size_t n = 999;
  int rc = bp_store_load(ops, ud, m, s, out, BP_STORE_SEQ_CAP, &n, err, 256);
  assert_int_equal(strlen(out), n);
  if (rc != 0) assert_int_equal(n, 0);
  if (rc == 0 || rc == BP_STORE_NOT_FOUND) assert_string_equal(err, "");
  else assert_true(strlen(err) > 0);
  return rc;
}

static int save_str(const bp_store_ops *ops, void *ud, const char *m, const char *s,
                    const char *seq) {
  char err[256];
  int rc = bp_store_save(ops, ud, m, s, seq, strlen(seq), err, sizeof err);
  if (rc == 0) assert_string_equal(err, "");
  else assert_true(strlen(err) > 0);
  return rc;
}

/* ---- Checked calls over a host store ---- */

static void test_host_round_trip(void **state) {
  (void)state;
  static mem_store st;
  memset(&st, 0, sizeof st);
  char seq[BP_STORE_SEQ_CAP], err[256];
  assert_int_equal(load_str(&mem_ops, &st, "m", "s", seq, err), BP_STORE_NOT_FOUND);
  assert_string_equal(seq, "");
  assert_int_equal(save_str(&mem_ops, &st, "m", "s", KINESIS_SEQ), 0);
  assert_int_equal(load_str(&mem_ops, &st, "m", "s", seq, err), 0);
  assert_string_equal(seq, KINESIS_SEQ);
  assert_int_equal(st.last_cap, BP_STORE_SEQ_CAP - 1); /* room kept for the NUL */
  assert_int_equal(save_str(&mem_ops, &st, "m", "s2", "0"), 0);
  assert_int_equal(load_str(&mem_ops, &st, "m", "s2", seq, err), 0);
  assert_string_equal(seq, "0");

  /* 128 digits fit BP_STORE_SEQ_CAP exactly; a smaller buffer is the store's to refuse. */
  char big[BP_MAX_SEQNUM_DIGITS + 1];
  memset(big, '9', BP_MAX_SEQNUM_DIGITS);
  big[BP_MAX_SEQNUM_DIGITS] = '\0';
  assert_int_equal(save_str(&mem_ops, &st, "m", "big", big), 0);
  assert_int_equal(load_str(&mem_ops, &st, "m", "big", seq, err), 0);
  assert_string_equal(seq, big);
  size_t n = 5;
  assert_int_equal(bp_store_load(&mem_ops, &st, "m", "big", seq, BP_MAX_SEQNUM_DIGITS, &n, err,
                                 sizeof err),
                   BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 0);
  assert_string_equal(seq, "");
  assert_non_null(strstr(err, "buffer too small"));

  assert_int_equal(bp_store_remove(&mem_ops, &st, "m", "s", err, sizeof err), 0);
  assert_string_equal(err, "");
  assert_int_equal(bp_store_remove(&mem_ops, &st, "m", "s", err, sizeof err), BP_STORE_NOT_FOUND);
  assert_int_equal(load_str(&mem_ops, &st, "m", "s", seq, err), BP_STORE_NOT_FOUND);

  /* A newer host struct: the library reads the prefix it knows. */
  bp_store_ops newer = mem_ops;
  newer.version = BP_STORE_OPS_VERSION + 1;
  assert_int_equal(load_str(&newer, &st, "m", "s2", seq, err), 0);
  assert_string_equal(seq, "0");
}

static void test_host_bad_arguments(void **state) {
  (void)state;
  static mem_store st;
  memset(&st, 0, sizeof st);
  char seq[BP_STORE_SEQ_CAP], err[256];
  size_t n = 3;
  char longid[BP_STORE_MAX_ID_LEN + 2];
  memset(longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0'; /* MAX + 1 bytes */

  assert_int_equal(bp_store_load(NULL, &st, "m", "s", seq, sizeof seq, &n, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(n, 0);
  bp_store_ops v0 = mem_ops;
  v0.version = 0;
  assert_int_equal(bp_store_load(&v0, &st, "m", "s", seq, sizeof seq, &n, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err, "version 0"));
  assert_int_equal(bp_store_save(&v0, &st, "m", "s", "1", 1, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_store_remove(&v0, &st, "m", "s", err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  bp_store_ops none = mem_ops;
  none.load = NULL;
  none.save = NULL;
  none.remove = NULL;
  assert_int_equal(bp_store_load(&none, &st, "m", "s", seq, sizeof seq, &n, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_store_save(&none, &st, "m", "s", "1", 1, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_store_remove(&none, &st, "m", "s", err, sizeof err), BP_ERR_UNSUPPORTED);
  assert_non_null(strstr(err, "no remove"));

  assert_int_equal(bp_store_load(&mem_ops, &st, "m", "s", NULL, 10, &n, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_store_load(&mem_ops, &st, "m", "s", seq, sizeof seq, NULL, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_store_load(&mem_ops, &st, "m", "s", seq, 1, &n, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(seq, "");

  const char *bad_ids[] = {NULL, "", longid};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(bp_store_load(&mem_ops, &st, bad_ids[i], "s", seq, sizeof seq, &n, err,
                                   sizeof err),
                     BP_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "mapping id"));
    assert_int_equal(bp_store_load(&mem_ops, &st, "m", bad_ids[i], seq, sizeof seq, &n, err,
                                   sizeof err),
                     BP_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "shard id"));
    assert_int_equal(bp_store_save(&mem_ops, &st, bad_ids[i], "s", "1", 1, err, sizeof err),
                     BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(bp_store_save(&mem_ops, &st, "m", bad_ids[i], "1", 1, err, sizeof err),
                     BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(bp_store_remove(&mem_ops, &st, bad_ids[i], "s", err, sizeof err),
                     BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(bp_store_remove(&mem_ops, &st, "m", bad_ids[i], NULL, 0),
                     BP_ERR_INVALID_ARGUMENT);
  }
  longid[BP_STORE_MAX_ID_LEN] = '\0'; /* exactly the maximum is fine */
  assert_int_equal(save_str(&mem_ops, &st, longid, longid, "7"), 0);
  assert_int_equal(load_str(&mem_ops, &st, longid, longid, seq, err), 0);
  assert_string_equal(seq, "7");

  /* Invalid sequence numbers never reach the store. */
  const char *bad_seqs[] = {"", "012", "00", "12a", "-1", "+1", "1 ", " 1", "1.5", "1e3"};
  int saves = st.saves;
  for (size_t i = 0; i < sizeof bad_seqs / sizeof bad_seqs[0]; i++)
    assert_int_equal(save_str(&mem_ops, &st, "m", "s", bad_seqs[i]), BP_ERR_INVALID_SEQNUM);
  char over[BP_MAX_SEQNUM_DIGITS + 2];
  memset(over, '1', sizeof over - 1);
  over[sizeof over - 1] = '\0';
  assert_int_equal(save_str(&mem_ops, &st, "m", "s", over), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_store_save(&mem_ops, &st, "m", "s", NULL, 3, NULL, 0),
                   BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_store_save(&mem_ops, &st, "m", "s", "12\0" "3", 4, NULL, 0),
                   BP_ERR_INVALID_SEQNUM);
  assert_int_equal(st.saves, saves);
  assert_int_equal(st.loads, 1);
}

/* What a host store answers is checked: a bug in it is an error, never a checkpoint. */
static void test_host_bad_answers(void **state) {
  (void)state;
  static mem_store st;
  memset(&st, 0, sizeof st);
  char seq[BP_STORE_SEQ_CAP], err[256];

  st.mode = MEM_BAD_SEQ;
  const char *bad[] = {"", "012", "12x", "-5", "1 2", "\xff"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    st.bad = bad[i];
    assert_int_equal(load_str(&mem_ops, &st, "m", "s", seq, err), BP_ERR_CORRUPT);
    assert_string_equal(seq, "");
    assert_non_null(strstr(err, "not a sequence number"));
  }
  st.mode = MEM_OVERLONG;
  assert_int_equal(load_str(&mem_ops, &st, "m", "s", seq, err), BP_ERR_CALLBACK_FAILURE);
  assert_string_equal(seq, "");

  /* Return values: table codes pass unchanged (with the store's message when it has one);
   * anything else is a contract violation. */
  st.mode = MEM_RETURN;
  static const struct {
    int ret;
    int expect_load, expect_save, expect_remove;
  } cases[] = {
      {BP_ERR_IO, BP_ERR_IO, BP_ERR_IO, BP_ERR_IO},
      {BP_ERR_CORRUPT, BP_ERR_CORRUPT, BP_ERR_CORRUPT, BP_ERR_CORRUPT},
      {BP_ERR_WOULDBLOCK, BP_ERR_WOULDBLOCK, BP_ERR_WOULDBLOCK, BP_ERR_WOULDBLOCK},
      {BP_ERR_NOMEM, BP_ERR_NOMEM, BP_ERR_NOMEM, BP_ERR_NOMEM},
      {BP_ERR_CALLBACK_FAILURE, BP_ERR_CALLBACK_FAILURE, BP_ERR_CALLBACK_FAILURE,
       BP_ERR_CALLBACK_FAILURE},
      {-555, BP_ERR_CALLBACK_FAILURE, BP_ERR_CALLBACK_FAILURE, BP_ERR_CALLBACK_FAILURE},
      {7, BP_ERR_CALLBACK_FAILURE, BP_ERR_CALLBACK_FAILURE, BP_ERR_CALLBACK_FAILURE},
      {BP_STORE_NOT_FOUND, BP_STORE_NOT_FOUND, BP_ERR_CALLBACK_FAILURE, BP_STORE_NOT_FOUND},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st.ret = cases[i].ret;
    for (int with_msg = 0; with_msg < 2; with_msg++) {
      st.msg = with_msg ? "throttled by the table" : NULL;
      assert_int_equal(load_str(&mem_ops, &st, "m", "s", seq, err), cases[i].expect_load);
      if (cases[i].expect_load < 0 && cases[i].ret < 0 && cases[i].ret != -555)
        assert_non_null(strstr(err, with_msg ? st.msg : bp_strerror(cases[i].ret)));
      assert_int_equal(bp_store_save(&mem_ops, &st, "m", "s", "5", 1, err, sizeof err),
                       cases[i].expect_save);
      assert_int_equal(bp_store_remove(&mem_ops, &st, "m", "s", err, sizeof err),
                       cases[i].expect_remove);
    }
  }
  st.ret = -555;
  assert_int_equal(load_str(&mem_ops, &st, "m", "s", seq, err), BP_ERR_CALLBACK_FAILURE);
  assert_non_null(strstr(err, "-555"));
  st.msg = "";
  st.ret = BP_ERR_IO;
  assert_int_equal(load_str(&mem_ops, &st, "m", "s", seq, err), BP_ERR_IO);
  assert_non_null(strstr(err, "I/O error"));
  /* No error buffer at all is fine. */
  size_t n = 1;
  assert_int_equal(bp_store_load(&mem_ops, &st, "m", "s", seq, sizeof seq, &n, NULL, 0),
                   BP_ERR_IO);
  assert_int_equal(n, 0);
}

#if BP_WITH_FILE_STORE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- Directories: one fresh directory per test under a per-run mkdtemp base ---- */

static char base_dir[512];

static void rm_rf(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    chmod(path, 0700);
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      char sub[4096];
      while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rm_rf(sub);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

static int group_setup(void **state) {
  (void)state;
  const char *tmp = getenv("TMPDIR");
  snprintf(base_dir, sizeof base_dir, "%s/bp_test_store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  return mkdtemp(base_dir) ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  rm_rf(base_dir);
  return 0;
}

static int dir_setup(void **state) {
  char *d = malloc(600);
  if (!d) return -1;
  snprintf(d, 600, "%s/t.XXXXXX", base_dir);
  if (!mkdtemp(d)) {
    free(d);
    return -1;
  }
  *state = d;
  return 0;
}

static int dir_teardown(void **state) {
  rm_rf(*state);
  free(*state);
  return 0;
}

static bp_file_store *open_store(const char *dir) {
  bp_file_store *fs = (bp_file_store *)1;
  char err[256] = "x";
  assert_int_equal(bp_file_store_new(&fs, dir, NULL, err, sizeof err), 0);
  assert_non_null(fs);
  assert_string_equal(err, "");
  assert_string_equal(bp_file_store_errmsg(fs), "");
  return fs;
}

static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }

/* The names in @p dir (not . and ..), sorted; returns the count. */
static size_t list_dir(const char *dir, char names[][256], size_t max) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    assert_true(n < max);
    assert_true(strlen(e->d_name) < 256);
    strcpy(names[n++], e->d_name);
  }
  closedir(d);
  qsort(names, n, 256, cmp_names);
  return n;
}

/* The single checkpoint file in @p dir (ignoring .tmp files). */
static void only_file(const char *dir, char *path, size_t cap) {
  static char names[16][256];
  size_t n = list_dir(dir, names, 16), found = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(names[i]);
    if (len > 5 && !strcmp(names[i] + len - 5, ".ckpt")) {
      snprintf(path, cap, "%s/%s", dir, names[i]);
      found++;
    }
  }
  assert_int_equal(found, 1);
}

static size_t read_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  size_t n = fread(buf, 1, cap, f);
  assert_true(n < cap);
  fclose(f);
  return n;
}

static void write_file(const char *path, const char *buf, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static int fs_load(bp_file_store *fs, const char *m, const char *s, char *seq) {
  char err[256];
  int rc = load_str(bp_file_store_ops(), fs, m, s, seq, err);
  if (rc < 0) assert_true(strlen(bp_file_store_errmsg(fs)) > 0);
  return rc;
}

static int fs_save(bp_file_store *fs, const char *m, const char *s, const char *seq) {
  return save_str(bp_file_store_ops(), fs, m, s, seq);
}

/* An independent CRC-32, bit by bit. */
static uint32_t ref_crc32(const char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= (unsigned char)p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
  }
  return ~c;
}

/* Rewrite the CRC line of a file body so that only the chosen damage remains. */
static size_t with_crc(char *buf, size_t body) {
  char line[16];
  snprintf(line, sizeof line, "crc32 %08lx\n", (unsigned long)ref_crc32(buf, body));
  memcpy(buf + body, line, 15);
  return body + 15;
}

/* ---- File store ---- */

static void test_file_round_trip(void **state) {
  const char *dir = *state;
  bp_file_store *fs = open_store(dir);
  char seq[BP_STORE_SEQ_CAP];
  assert_int_equal(fs_load(fs, "esm-1", "shardId-000000000000", seq), BP_STORE_NOT_FOUND);
  assert_int_equal(fs_save(fs, "esm-1", "shardId-000000000000", "100"), 0);
  assert_int_equal(fs_load(fs, "esm-1", "shardId-000000000000", seq), 0);
  assert_string_equal(seq, "100");
  assert_int_equal(fs_save(fs, "esm-1", "shardId-000000000000", "101"), 0);
  assert_int_equal(fs_load(fs, "esm-1", "shardId-000000000000", seq), 0);
  assert_string_equal(seq, "101");
  /* The store does not care about order: it keeps the last value saved. */
  assert_int_equal(fs_save(fs, "esm-1", "shardId-000000000000", "0"), 0);
  assert_int_equal(fs_load(fs, "esm-1", "shardId-000000000000", seq), 0);
  assert_string_equal(seq, "0");
  char big[BP_MAX_SEQNUM_DIGITS + 1];
  for (int i = 0; i < BP_MAX_SEQNUM_DIGITS; i++) big[i] = (char)('1' + i % 9);
  big[BP_MAX_SEQNUM_DIGITS] = '\0';
  assert_int_equal(fs_save(fs, "esm-1", "shardId-000000000000", big), 0);
  assert_int_equal(fs_load(fs, "esm-1", "shardId-000000000000", seq), 0);
  assert_string_equal(seq, big);
  assert_string_equal(bp_file_store_errmsg(fs), "");

  /* The file is the documented text, its CRC the standard CRC-32. */
  assert_int_equal(ref_crc32("123456789", 9), 0xCBF43926u);
  char path[1024], buf[4096], expect[4096];
  only_file(dir, path, sizeof path);
  assert_non_null(strstr(path, "/bp.esm-1+shardId-000000000000.ckpt"));
  size_t n = read_file(path, buf, sizeof buf);
  int h = snprintf(expect, sizeof expect, "BPCK 1 5 20 128\nesm-1\nshardId-000000000000\n%s\n",
                   big);
  assert_int_equal(with_crc(expect, (size_t)h), n);
  assert_memory_equal(buf, expect, n);
  bp_file_store_del(fs);

  /* Another store over the same directory (a restart) reads it back. */
  fs = open_store(dir);
  assert_int_equal(fs_load(fs, "esm-1", "shardId-000000000000", seq), 0);
  assert_string_equal(seq, big);
  bp_file_store_del(fs);
  bp_file_store_del(NULL);
}

static void test_file_isolation(void **state) {
  const char *dir = *state;
  bp_file_store *fs = open_store(dir);
  const char *maps[] = {"mapping-a", "mapping-b"}, *shards[] = {"shard-1", "shard-2"};
  char seq[BP_STORE_SEQ_CAP], want[48];
  for (int round = 0; round < 3; round++) {
    for (int m = 0; m < 2; m++)
      for (int s = 0; s < 2; s++) {
        if (round == 2 && (m + s) % 2) continue; /* only some move */
        snprintf(want, sizeof want, "%d%d%d", 1 + round, m, s);
        assert_int_equal(fs_save(fs, maps[m], shards[s], want), 0);
      }
    for (int m = 0; m < 2; m++)
      for (int s = 0; s < 2; s++) {
        int r = round == 2 && (m + s) % 2 ? 1 : round;
        snprintf(want, sizeof want, "%d%d%d", 1 + r, m, s);
        assert_int_equal(fs_load(fs, maps[m], shards[s], seq), 0);
        assert_string_equal(seq, want);
      }
  }
  assert_int_equal(fs_load(fs, "mapping-c", "shard-1", seq), BP_STORE_NOT_FOUND);
  assert_int_equal(fs_load(fs, "mapping-a", "shard-3", seq), BP_STORE_NOT_FOUND);
  assert_int_equal(fs_load(fs, "shard-1", "mapping-a", seq), BP_STORE_NOT_FOUND);
  static char names[16][256];
  assert_int_equal(list_dir(dir, names, 16), 4);
  bp_file_store_del(fs);
}

static int name_char_ok(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         strchr("._-%+", c) != NULL;
}

/* Ids with every kind of byte stay inside the directory and never collide. */
static void test_file_id_escaping(void **state) {
  const char *outer = *state;
  char dir[700];
  snprintf(dir, sizeof dir, "%s/inner", outer);
  assert_int_equal(mkdir(dir, 0700), 0);
  static char long1[301], max1[BP_STORE_MAX_ID_LEN + 1], max2[BP_STORE_MAX_ID_LEN + 1],
      slashes[BP_STORE_MAX_ID_LEN + 1], over[BP_STORE_MAX_ID_LEN + 2];
  memset(long1, 'x', 300);
  memset(max1, 'y', BP_STORE_MAX_ID_LEN);
  memcpy(max2, max1, BP_STORE_MAX_ID_LEN);
  max2[BP_STORE_MAX_ID_LEN - 1] = 'z';
  memset(slashes, '/', BP_STORE_MAX_ID_LEN);
  memset(over, 'o', BP_STORE_MAX_ID_LEN + 1);
  const char *ids[] = {
      "shardId-000000000001", "a/b", "a%2Fb", "a%252Fb", "a+b", "a", "A", "..", ".",
      "../../escape", "/etc/passwd", "..%2F..", "日本語-шард", "sp ace\ttab\nnl", "%", "+",
      "a.b.ckpt.tmp", "\x01\x7f\xff", long1, max1, max2, slashes, "bp.h.0", "x+y+z"};
  enum { N = sizeof ids / sizeof ids[0] };
  bp_file_store *fs = open_store(dir);
  char seq[BP_STORE_SEQ_CAP], want[48];
  for (int i = 0; i < N; i++) {
    snprintf(want, sizeof want, "%d", 1000 + i);
    assert_int_equal(fs_save(fs, ids[i], "s", want), 0);
    snprintf(want, sizeof want, "%d", 2000 + i);
    assert_int_equal(fs_save(fs, "m", ids[i], want), 0);
  }
  /* Pairs that would meet if the separator were not escaped. */
  assert_int_equal(fs_save(fs, "a+b", "c", "3001"), 0);
  assert_int_equal(fs_save(fs, "a", "b+c", "3002"), 0);
  for (int i = 0; i < N; i++) {
    snprintf(want, sizeof want, "%d", 1000 + i);
    assert_int_equal(fs_load(fs, ids[i], "s", seq), 0);
    assert_string_equal(seq, want);
    snprintf(want, sizeof want, "%d", 2000 + i);
    assert_int_equal(fs_load(fs, "m", ids[i], seq), 0);
    assert_string_equal(seq, want);
  }
  assert_int_equal(fs_load(fs, "a+b", "c", seq), 0);
  assert_string_equal(seq, "3001");
  assert_int_equal(fs_load(fs, "a", "b+c", seq), 0);
  assert_string_equal(seq, "3002");
  /* Too long an id is refused, by the store itself as by the checked calls. */
  size_t n = 0;
  assert_int_equal(bp_file_store_ops()->save(over, "s", "1", 1, fs), BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_file_store_errmsg(fs), "mapping id"));
  assert_int_equal(bp_file_store_ops()->load("m", over, seq, sizeof seq, &n, fs),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_file_store_ops()->load("m", "", seq, sizeof seq, &n, fs),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_file_store_ops()->remove(NULL, "s", fs), BP_ERR_INVALID_ARGUMENT);

  /* Every file is a regular file directly in dir, named in the safe alphabet. */
  static char names[2 * N + 8][256];
  size_t count = list_dir(dir, names, 2 * N + 8);
  assert_int_equal(count, 2 * N + 2);
  for (size_t i = 0; i < count; i++) {
    size_t len = strlen(names[i]);
    assert_true(len <= 200);
    assert_true(strncmp(names[i], "bp.", 3) == 0);
    assert_string_equal(names[i] + len - 5, ".ckpt");
    for (size_t k = 0; k < len; k++) assert_true(name_char_ok(names[i][k]));
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%.700s/%.255s", dir, names[i]);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
  }
  /* Nothing left the directory. */
  assert_int_equal(list_dir(outer, names, 4), 1);
  assert_string_equal(names[0], "inner");
  assert_int_equal(list_dir(base_dir, names, 4), 1);
  bp_file_store_del(fs);
}

/* Every byte of a saved file flipped three ways: always an error, never a value. */
static void test_file_corrupt_bytes(void **state) {
  const char *dir = *state;
  bp_file_store *fs = open_store(dir);
  assert_int_equal(fs_save(fs, "esm-uuid-1234", "shardId-000000000007", KINESIS_SEQ), 0);
  char path[1024], orig[4096], buf[4096], seq[BP_STORE_SEQ_CAP];
  only_file(dir, path, sizeof path);
  size_t n = read_file(path, orig, sizeof orig);
  const unsigned char masks[] = {0x01, 0x80, 0xFF};
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < sizeof masks; k++) {
      memcpy(buf, orig, n);
      buf[i] = (char)(buf[i] ^ masks[k]);
      write_file(path, buf, n);
      assert_int_equal(fs_load(fs, "esm-uuid-1234", "shardId-000000000007", seq), BP_ERR_CORRUPT);
      assert_string_equal(seq, "");
    }
  write_file(path, orig, n);
  assert_int_equal(fs_load(fs, "esm-uuid-1234", "shardId-000000000007", seq), 0);
  assert_string_equal(seq, KINESIS_SEQ);

  /* The message names the file and the check; it reaches a caller of bp_store_load. */
  orig[20] ^= 1;
  write_file(path, orig, n);
  char err[256];
  assert_int_equal(load_str(bp_file_store_ops(), fs, "esm-uuid-1234", "shardId-000000000007",
                            seq, err),
                   BP_ERR_CORRUPT);
  assert_non_null(strstr(err, "CRC"));
  assert_non_null(strstr(err, ".ckpt"));
  assert_non_null(strstr(bp_file_store_errmsg(fs), "CRC"));
  bp_file_store_del(fs);
}

/* Truncated at every length (0 = an empty file), or with bytes appended. */
static void test_file_truncated(void **state) {
  const char *dir = *state;
  bp_file_store *fs = open_store(dir);
  assert_int_equal(fs_save(fs, "m", "s", "1234567890"), 0);
  char path[1024], orig[4096], buf[4096], seq[BP_STORE_SEQ_CAP];
  only_file(dir, path, sizeof path);
  size_t n = read_file(path, orig, sizeof orig);
  for (size_t len = 0; len < n; len++) {
    write_file(path, orig, len);
    assert_int_equal(fs_load(fs, "m", "s", seq), BP_ERR_CORRUPT);
    if (len == 0) assert_non_null(strstr(bp_file_store_errmsg(fs), "empty"));
  }
  memcpy(buf, orig, n);
  buf[n] = '\n';
  write_file(path, buf, n + 1);
  assert_int_equal(fs_load(fs, "m", "s", seq), BP_ERR_CORRUPT);
  /* The file twice over (a botched copy) and a huge file. */
  memcpy(buf + n, orig, n);
  write_file(path, buf, 2 * n);
  assert_int_equal(fs_load(fs, "m", "s", seq), BP_ERR_CORRUPT);
  static char huge[8192];
  memset(huge, '7', sizeof huge);
  write_file(path, huge, sizeof huge);
  assert_int_equal(fs_load(fs, "m", "s", seq), BP_ERR_CORRUPT);
  /* A save repairs it. */
  assert_int_equal(fs_save(fs, "m", "s", "5"), 0);
  assert_int_equal(fs_load(fs, "m", "s", seq), 0);
  assert_string_equal(seq, "5");
  bp_file_store_del(fs);
}

/* Damage that keeps a valid CRC: the content checks catch it. */
static void test_file_valid_crc_bad_content(void **state) {
  const char *dir = *state;
  bp_file_store *fs = open_store(dir);
  char path[1024], buf[4096], seq[BP_STORE_SEQ_CAP];
  snprintf(path, sizeof path, "%s/bp.m+s.ckpt", dir);
  static const struct {
    const char *body;
    int expect;
  } cases[] = {
      {"BPCK 1 1 1 2\nm\ns\n42\n", 0},          /* the genuine article */
      {"BPCK 2 1 1 2\nm\ns\n42\n", BP_ERR_UNSUPPORTED},
      {"BPCK 12\nsomething else\n", BP_ERR_UNSUPPORTED},
      {"BPCK 1\nm\ns\n42\n", BP_ERR_CORRUPT},
      {"BPCK 01 1 1 2\nm\ns\n42\n", BP_ERR_CORRUPT},
      {"BPCK 1 1 1 2\nx\ns\n42\n", BP_ERR_CORRUPT}, /* another mapping's file */
      {"BPCK 1 1 1 2\nm\nt\n42\n", BP_ERR_CORRUPT}, /* another shard's file */
      {"BPCK 1 1 2 2\nm\nss\n42\n", BP_ERR_CORRUPT},
      {"BPCK 1 1 1 3\nm\ns\n042\n", BP_ERR_CORRUPT}, /* not a sequence number */
      {"BPCK 1 1 1 2\nm\ns\n4x\n", BP_ERR_CORRUPT},
      {"BPCK 1 1 1 0\nm\ns\n\n", BP_ERR_CORRUPT},
      {"BPCK 1 1 1 3\nm\ns\n42\n", BP_ERR_CORRUPT}, /* lengths off */
      {"BPCK 1 1 1 1\nm\ns\n42\n", BP_ERR_CORRUPT},
      {"BPCK 1 01 1 2\nm\ns\n42\n", BP_ERR_CORRUPT},
      {"BPCK 1 1 1 2 \nm\ns\n42\n", BP_ERR_CORRUPT},
      {"BPCK 1 1 1 2\nm\ns\n42", BP_ERR_CORRUPT},
      {"BPCK 1 1 1 2\nm s\n42\n\n", BP_ERR_CORRUPT},
      {"BPCX 1 1 1 2\nm\ns\n42\n", BP_ERR_CORRUPT},
      {"BPCK 1 1 1 999999\nm\ns\n42\n", BP_ERR_CORRUPT},
      {"", BP_ERR_CORRUPT},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t body = strlen(cases[i].body);
    memcpy(buf, cases[i].body, body);
    write_file(path, buf, with_crc(buf, body));
    assert_int_equal(fs_load(fs, "m", "s", seq), cases[i].expect);
    if (cases[i].expect == 0) assert_string_equal(seq, "42");
  }
  /* Upper-case hex or a missing newline in the CRC line. */
  memcpy(buf, "BPCK 1 1 1 2\nm\ns\n42\n", 20);
  size_t n = with_crc(buf, 20);
  int letters = 0;
  for (size_t i = 26; i < 34; i++)
    if (buf[i] >= 'a') {
      buf[i] = (char)(buf[i] - 'a' + 'A');
      letters = 1;
    }
  write_file(path, buf, n);
  assert_int_equal(fs_load(fs, "m", "s", seq), letters ? BP_ERR_CORRUPT : 0);
  n = with_crc(buf, 20);
  write_file(path, buf, n - 1);
  assert_int_equal(fs_load(fs, "m", "s", seq), BP_ERR_CORRUPT);

  /* Another shard's genuine file copied under this name. */
  assert_int_equal(fs_save(fs, "m", "t", "99"), 0);
  char other[1024];
  snprintf(other, sizeof other, "%s/bp.m+t.ckpt", dir);
  n = read_file(other, buf, sizeof buf);
  write_file(path, buf, n);
  assert_int_equal(fs_load(fs, "m", "s", seq), BP_ERR_CORRUPT);
  assert_non_null(strstr(bp_file_store_errmsg(fs), "another mapping or shard"));

  /* Too small a buffer for the checkpoint. */
  size_t len = 9;
  assert_int_equal(fs_save(fs, "m", "s", "123456"), 0);
  assert_int_equal(bp_file_store_ops()->load("m", "s", seq, 5, &len, fs), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 0);
  assert_int_equal(bp_store_load(bp_file_store_ops(), fs, "m", "s", seq, 6, &len, NULL, 0),
                   BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_store_load(bp_file_store_ops(), fs, "m", "s", seq, 7, &len, NULL, 0), 0);
  assert_string_equal(seq, "123456");
  bp_file_store_del(fs);
}

/* A crash during a save leaves <name>.tmp with any prefix of the new content: the old value
 * stays readable, and the next save replaces the leftover. */
static void test_file_leftover_tmp(void **state) {
  const char *dir = *state;
  bp_file_store *fs = open_store(dir);
  char path[1024], tmp[1100], next[4096], seq[BP_STORE_SEQ_CAP];
  snprintf(path, sizeof path, "%s/bp.m+s.ckpt", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);

  /* No checkpoint yet, only a leftover: still not found. */
  write_file(tmp, "BPCK 1 1 1 2\nm\ns\n4", 19);
  assert_int_equal(fs_load(fs, "m", "s", seq), BP_STORE_NOT_FOUND);
  assert_int_equal(fs_save(fs, "m", "s", "41"), 0);
  assert_int_equal(access(tmp, F_OK), -1);

  assert_int_equal(fs_save(fs, "m", "s", "42"), 0);
  size_t n = read_file(path, next, sizeof next);
  assert_int_equal(fs_save(fs, "m", "s", "41"), 0);
  for (size_t len = 0; len <= n; len++) {
    write_file(tmp, next, len);
    assert_int_equal(fs_load(fs, "m", "s", seq), 0);
    assert_string_equal(seq, "41");
  }
  assert_int_equal(fs_save(fs, "m", "s", "43"), 0);
  assert_int_equal(access(tmp, F_OK), -1);
  assert_int_equal(fs_load(fs, "m", "s", seq), 0);
  assert_string_equal(seq, "43");

  /* A leftover that is a symbolic link is replaced, never written through. */
  char victim[1024];
  snprintf(victim, sizeof victim, "%s/victim", dir);
  write_file(victim, "keep", 4);
  assert_int_equal(symlink(victim, tmp), 0);
  assert_int_equal(fs_save(fs, "m", "s", "44"), 0);
  assert_int_equal(read_file(victim, next, sizeof next), 4);
  assert_memory_equal(next, "keep", 4);
  assert_int_equal(fs_load(fs, "m", "s", seq), 0);
  assert_string_equal(seq, "44");
  bp_file_store_del(fs);
}

static void test_file_bad_seq(void **state) {
  const char *dir = *state;
  bp_file_store *fs = open_store(dir);
  char seq[BP_STORE_SEQ_CAP];
  assert_int_equal(fs_save(fs, "m", "s", "77"), 0);
  const char *bad[] = {"", "012", "00", "7a", "-7", " 7", "7\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    /* Refused by the checked call and by the store itself. */
    assert_int_equal(fs_save(fs, "m", "s", bad[i]), BP_ERR_INVALID_SEQNUM);
    assert_int_equal(bp_file_store_ops()->save("m", "s", bad[i], strlen(bad[i]), fs),
                     BP_ERR_INVALID_SEQNUM);
    assert_non_null(strstr(bp_file_store_errmsg(fs), "sequence number"));
  }
  char over[BP_MAX_SEQNUM_DIGITS + 2];
  memset(over, '3', sizeof over - 1);
  over[sizeof over - 1] = '\0';
  assert_int_equal(bp_file_store_ops()->save("m", "s", over, strlen(over), fs),
                   BP_ERR_INVALID_SEQNUM);
  assert_int_equal(fs_load(fs, "m", "s", seq), 0);
  assert_string_equal(seq, "77");
  static char names[8][256];
  assert_int_equal(list_dir(dir, names, 8), 1);
  /* NULL handles and buffers. */
  size_t n = 3;
  assert_int_equal(bp_file_store_ops()->load("m", "s", seq, sizeof seq, &n, NULL),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(n, 0);
  assert_int_equal(bp_file_store_ops()->load("m", "s", NULL, 0, &n, fs), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_file_store_ops()->load("m", "s", seq, sizeof seq, NULL, fs),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_file_store_ops()->save("m", "s", "1", 1, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_file_store_ops()->remove("m", "s", NULL), BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(bp_file_store_ops()->errmsg(NULL), "");
  assert_string_equal(bp_file_store_errmsg(NULL), "");
  bp_file_store_del(fs);
}

static void test_file_remove(void **state) {
  const char *dir = *state;
  bp_file_store *fs = open_store(dir);
  char seq[BP_STORE_SEQ_CAP], err[256], tmp[1100];
  const bp_store_ops *ops = bp_file_store_ops();
  assert_int_equal(bp_store_remove(ops, fs, "m", "parent", err, sizeof err), BP_STORE_NOT_FOUND);
  assert_int_equal(fs_save(fs, "m", "parent", "10"), 0);
  assert_int_equal(fs_save(fs, "m", "child", "20"), 0);
  snprintf(tmp, sizeof tmp, "%s/bp.m+parent.ckpt.tmp", dir);
  write_file(tmp, "junk", 4);
  assert_int_equal(bp_store_remove(ops, fs, "m", "parent", err, sizeof err), 0);
  assert_string_equal(err, "");
  assert_int_equal(access(tmp, F_OK), -1); /* the leftover goes too */
  assert_int_equal(fs_load(fs, "m", "parent", seq), BP_STORE_NOT_FOUND);
  assert_int_equal(fs_load(fs, "m", "child", seq), 0);
  assert_string_equal(seq, "20");
  assert_int_equal(bp_store_remove(ops, fs, "m", "parent", err, sizeof err), BP_STORE_NOT_FOUND);
  static char names[8][256];
  assert_int_equal(list_dir(dir, names, 8), 1);
  bp_file_store_del(fs);
}

/* Run @p fn as an unprivileged user in a child (root ignores permission bits). */
static int as_nobody(int (*fn)(const char *), const char *dir) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    _exit(fn(dir));
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

/* 0 if a store over the read-only @p dir loads but cannot save, with the errno text. */
static int readonly_checks(const char *dir) {
  bp_file_store *fs = NULL;
  char seq[BP_STORE_SEQ_CAP], err[256];
  size_t n;
  if (bp_file_store_new(&fs, dir, NULL, err, sizeof err) != 0) return 1;
  if (bp_store_load(bp_file_store_ops(), fs, "m", "s", seq, sizeof seq, &n, err, sizeof err) != 0)
    return 2;
  if (strcmp(seq, "5") != 0) return 3;
  int rc = bp_store_save(bp_file_store_ops(), fs, "m", "s", "6", 1, err, sizeof err);
  if (rc != BP_ERR_IO) return 4;
  if (!strstr(err, strerror(EACCES)) || !strstr(bp_file_store_errmsg(fs), strerror(EACCES)))
    return 5;
  if (bp_store_remove(bp_file_store_ops(), fs, "m", "s", err, sizeof err) != BP_ERR_IO) return 6;
  if (bp_store_load(bp_file_store_ops(), fs, "m", "s", seq, sizeof seq, &n, err, sizeof err) != 0 ||
      strcmp(seq, "5") != 0)
    return 7;
  bp_file_store_del(fs);
  return 0;
}

static void *half_malloc(size_t n, void *ud) {
  (void)ud;
  return malloc(n);
}

static void test_file_dir_errors(void **state) {
  const char *dir = *state;
  bp_file_store *fs = (bp_file_store *)1;
  char err[256], path[1024];

  assert_int_equal(bp_file_store_new(&fs, NULL, NULL, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_null(fs);
  assert_int_equal(bp_file_store_new(&fs, "", NULL, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_file_store_new(NULL, dir, NULL, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  bp_allocator half = {half_malloc, NULL, NULL, NULL};
  assert_int_equal(bp_file_store_new(&fs, dir, &half, NULL, 0), BP_ERR_INVALID_ARGUMENT);

  snprintf(path, sizeof path, "%s/missing", dir);
  fs = (bp_file_store *)1;
  assert_int_equal(bp_file_store_new(&fs, path, NULL, err, sizeof err), BP_ERR_IO);
  assert_null(fs);
  assert_non_null(strstr(err, strerror(ENOENT)));
  assert_non_null(strstr(err, "missing"));

  snprintf(path, sizeof path, "%s/plainfile", dir);
  write_file(path, "x", 1);
  assert_int_equal(bp_file_store_new(&fs, path, NULL, err, sizeof err), BP_ERR_IO);
  assert_non_null(strstr(err, strerror(ENOTDIR)));

  /* Not writable: load works, save and remove fail with the errno text. */
  snprintf(path, sizeof path, "%s/ro", dir);
  assert_int_equal(mkdir(path, 0700), 0);
  fs = open_store(path);
  assert_int_equal(fs_save(fs, "m", "s", "5"), 0);
  bp_file_store_del(fs);
  if (geteuid() == 0) {
    assert_int_equal(chmod(base_dir, 0755), 0);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chmod(path, 0755), 0);
    assert_int_equal(as_nobody(readonly_checks, path), 0);
    assert_int_equal(chmod(base_dir, 0700), 0);
  } else {
    assert_int_equal(chmod(path, 0555), 0);
    assert_int_equal(readonly_checks(path), 0);
    assert_int_equal(chmod(path, 0700), 0);
  }

  /* The directory removed under an open store: an error, not "no checkpoint". */
  snprintf(path, sizeof path, "%s/gone", dir);
  assert_int_equal(mkdir(path, 0700), 0);
  fs = open_store(path);
  assert_int_equal(rmdir(path), 0);
  char seq[BP_STORE_SEQ_CAP];
  assert_int_equal(fs_load(fs, "m", "s", seq), BP_ERR_IO);
  assert_non_null(strstr(bp_file_store_errmsg(fs), "removed"));
  assert_int_equal(fs_save(fs, "m", "s", "1"), BP_ERR_IO);
  assert_int_equal(bp_store_remove(bp_file_store_ops(), fs, "m", "s", NULL, 0), BP_ERR_IO);
  bp_file_store_del(fs);

  /* A directory where the checkpoint file should be: an I/O error on every call. */
  fs = open_store(dir);
  snprintf(path, sizeof path, "%s/bp.m+d.ckpt", dir);
  assert_int_equal(mkdir(path, 0700), 0);
  assert_int_equal(fs_load(fs, "m", "d", seq), BP_ERR_IO);
  assert_int_equal(fs_save(fs, "m", "d", "1"), BP_ERR_IO);
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_int_equal(access(tmp, F_OK), -1); /* a failed save leaves no temporary file */
  bp_file_store_del(fs);
}

static int failmalloc_scenario(const bp_allocator *hooks, void *ctx) {
  const char *dir = ctx;
  bp_file_store *fs = NULL;
  char seq[BP_STORE_SEQ_CAP];
  size_t n;
  int rc = bp_file_store_new(&fs, dir, hooks, NULL, 0);
  if (rc) {
    assert_null(fs);
    return rc;
  }
  const bp_store_ops *ops = bp_file_store_ops();
  rc = bp_store_save(ops, fs, "mapping", "shard", "42", 2, NULL, 0);
  if (!rc) rc = bp_store_load(ops, fs, "mapping", "shard", seq, sizeof seq, &n, NULL, 0);
  if (!rc) assert_string_equal(seq, "42");
  if (!rc) rc = bp_store_remove(ops, fs, "mapping", "shard", NULL, 0);
  bp_file_store_del(fs);
  return rc;
}

static void test_file_failmalloc(void **state) {
  test_alloc_failmalloc(failmalloc_scenario, *state);
  /* Load, save and remove allocate nothing: one allocation, in new. */
  test_alloc t;
  bp_allocator hooks;
  test_alloc_init(&t, &hooks);
  assert_int_equal(failmalloc_scenario(&hooks, *state), 0);
  assert_int_equal(t.calls, 1);
}

/* ---- Crash at any instant: SIGKILL a child that saves in a loop ---- */

static uint64_t rng_next(uint64_t *s) { /* splitmix64, fixed seed: reproducible delays */
  uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Saves first, first + 1, ... and reports each completed save on @p fd. Never returns. */
static void crash_child(const char *dir, uint64_t first, int fd) {
  bp_file_store *fs = NULL;
  if (bp_file_store_new(&fs, dir, NULL, NULL, 0) != 0) _exit(2);
  const bp_store_ops *ops = bp_file_store_ops();
  for (uint64_t i = first;; i++) {
    char seq[32];
    int len = snprintf(seq, sizeof seq, "%llu", (unsigned long long)i);
    if (ops->save("esm", "shardId-000000000000", seq, (size_t)len, fs) != 0) _exit(3);
    if (write(fd, &i, sizeof i) != (ssize_t)sizeof i) _exit(4);
  }
}

#define CRASH_ROUNDS 200

static void test_file_crash_kill(void **state) {
  const char *dir = *state;
  bp_file_store *fs = open_store(dir);
  char seq[BP_STORE_SEQ_CAP];
  assert_int_equal(fs_save(fs, "esm", "shardId-000000000000", "1"), 0);
  uint64_t last = 1, rng = 20240601, torn = 0, total_saves = 0;
  /* Calibrate the delay window to this machine's save time (fsync cost varies widely). */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < 5; i++) assert_int_equal(fs_save(fs, "esm", "cal", "1"), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long save_us = ((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000) / 5;
  long window_us = 300 + 4 * save_us;
  if (window_us > 20000) window_us = 20000;

  for (int round = 0; round < CRASH_ROUNDS; round++) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(p[0]);
      crash_child(dir, last + 1, p[1]);
    }
    close(p[1]);
    /* Every other round waits for the child's first completed save before the random delay:
     * starting a child (fork, and under ASan much more) can outlast the whole calibrated window
     * on a loaded or slow machine, and then no round would ever kill a save in progress. */
    uint64_t reported = last, v;
    if (round % 2 == 0) {
      assert_int_equal(read(p[0], &v, sizeof v), (ssize_t)sizeof v);
      assert_true(v == reported + 1);
      reported = v;
    }
    long us = (long)(rng_next(&rng) % (uint64_t)window_us);
    struct timespec d = {us / 1000000L, (us % 1000000L) * 1000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR) {
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFEXITED(st)) print_error("crash child exited with %d\n", WEXITSTATUS(st));
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    ssize_t r;
    while ((r = read(p[0], &v, sizeof v)) == (ssize_t)sizeof v) {
      assert_true(v == reported + 1);
      reported = v;
    }
    assert_true(r == 0);
    close(p[0]);

    /* The previous checkpoint or the one being saved: never an error, never none. */
    assert_int_equal(fs_load(fs, "esm", "shardId-000000000000", seq), 0);
    uint64_t got = strtoull(seq, NULL, 10);
    if (got != reported && got != reported + 1)
      print_error("round %d: loaded %s, last reported save %llu\n", round, seq,
                  (unsigned long long)reported);
    assert_true(got == reported || got == reported + 1);
    torn += got == reported + 1;
    total_saves += got - last;
    last = got;
  }
  print_message("crash test: %d kills, %llu saves, %llu kills after the rename and before "
                "the report (save window %ld us)\n",
                CRASH_ROUNDS, (unsigned long long)total_saves, (unsigned long long)torn,
                window_us);
  assert_true(total_saves > 0);
  bp_file_store_del(fs);
}

#endif /* BP_WITH_FILE_STORE */

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_host_round_trip),
      cmocka_unit_test(test_host_bad_arguments),
      cmocka_unit_test(test_host_bad_answers),
#if BP_WITH_FILE_STORE
      cmocka_unit_test_setup_teardown(test_file_round_trip, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_isolation, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_id_escaping, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_corrupt_bytes, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_truncated, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_valid_crc_bad_content, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_leftover_tmp, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_bad_seq, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_remove, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_dir_errors, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_failmalloc, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_file_crash_kill, dir_setup, dir_teardown),
#endif
  };
#if BP_WITH_FILE_STORE
  return cmocka_run_group_tests_name("store", tests, group_setup, group_teardown);
#else
  print_message("file store tests skipped: BP_WITH_FILE_STORE is 0 in this build\n");
  return cmocka_run_group_tests_name("store", tests, NULL, NULL);
#endif
}
