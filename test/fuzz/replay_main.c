/* SPDX-License-Identifier: MIT */
/*
 * Replay driver for libFuzzer targets without libFuzzer: runs LLVMFuzzerTestOneInput over
 * every regular file of each directory argument (sorted by name) and over each file
 * argument, each input in a buffer of exactly its size (so ASan sees overreads).
 *
 *   build/fuzz/fuzz_x test/fuzz/corpus/x [more dirs or files...]
 *
 * Prints "replayed N inputs"; exits 1 if an argument cannot be read or nothing was replayed.
 * A target reports a bug by crashing or aborting, as under libFuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    len += fread(buf + len, 1, cap - len, f);
    if (len < cap) break;
    uint8_t *bigger = realloc(buf, cap * 2);
    if (!bigger) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = bigger;
    cap *= 2;
  }
  int err = ferror(f);
  fclose(f);
  if (!buf || err) {
    free(buf);
    fprintf(stderr, "replay: cannot read %s\n", path);
    return -1;
  }
  /* An exact-size copy: reading past the input is caught by ASan. */
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) {
    free(buf);
    fprintf(stderr, "replay: out of memory for %s\n", path);
    return -1;
  }
  if (len) memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_regular(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* @return inputs replayed, or -1. */
static long replay_dir(const char *dir) {
  struct dirent **names;
  int n = scandir(dir, &names, NULL, alphasort);
  if (n < 0) {
    fprintf(stderr, "replay: cannot read directory %s\n", dir);
    return -1;
  }
  long count = 0;
  int failed = 0;
  for (int i = 0; i < n; i++) {
    size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
    char *path = malloc(len);
    if (!path) {
      failed = 1;
    } else {
      snprintf(path, len, "%s/%s", dir, names[i]->d_name);
      if (is_regular(path)) {
        if (replay_file(path) < 0) failed = 1;
        else count++;
      }
      free(path);
    }
    free(names[i]);
  }
  free(names);
  return failed ? -1 : count;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
    return 2;
  }
  long total = 0;
  int failed = 0;
  for (int i = 1; i < argc; i++) {
    long n;
    if (is_dir(argv[i])) n = replay_dir(argv[i]);
    else n = replay_file(argv[i]) < 0 ? -1 : 1;
    if (n < 0) failed = 1;
    else total += n;
  }
  printf("replayed %ld inputs\n", total);
  if (!failed && total == 0) fprintf(stderr, "replay: no inputs\n");
  return failed || total == 0;
}
