/* SPDX-License-Identifier: MIT */
/*
 * bpfilter_events.c: one verdict per line of an NDJSON event file. A line is a JSON event
 * matched as it is, or (--kinesis / --dynamodb) a Lambda record matched through its filter
 * view. Blank lines are skipped; line numbers count every line of the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "bpfilter.h"

typedef enum verdict { V_MATCH, V_NO_MATCH, V_DROPPED, V_ERROR } verdict;

static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
  return 1;
}

static verdict match_record_line(bp_filter *f, bpf_codecs *cc, int source, const char *line,
                                 size_t len, char *why, size_t cap) {
  size_t at = 0;
  char msg[256];
  yajl_val tree = bpf_json_parse(line, len, &at, msg, sizeof msg);
  if (!tree) {
    snprintf(why, cap, "invalid JSON at byte %zu: %s", at, msg);
    return V_ERROR;
  }
  verdict v = V_ERROR;
  bpf_record r;
  if (bpf_record_build(tree, source, 1, &r, why, cap) == 0) {
    bp_codec *codec = bpf_codec_for(cc, &r, why, cap);
    int result = BP_FILTER_NO_MATCH;
    if (codec && bpf_match_record(f, codec, &r, &result, why, cap) == 0)
      v = result == BP_FILTER_MATCH     ? V_MATCH
          : result == BP_FILTER_DROPPED ? V_DROPPED
                                        : V_NO_MATCH;
    bpf_record_free(&r);
  }
  yajl_tree_free(tree);
  return v;
}

static verdict match_line(bp_filter *f, bpf_codecs *cc, int source, const char *line, size_t len,
                          char *why, size_t cap) {
  if (source) return match_record_line(f, cc, source, line, len, why, cap);
  int matched = 0;
  if (bp_filter_match_json(f, line, len, &matched)) {
    snprintf(why, cap, "%s", bp_filter_errmsg(f));
    return V_ERROR;
  }
  return matched ? V_MATCH : V_NO_MATCH;
}

int bpf_run_events(bp_filter *f, const char *path, const bpf_events_opts *o) {
  int from_stdin = strcmp(path, "-") == 0;
  FILE *in = from_stdin ? stdin : fopen(path, "rb");
  if (!in) {
    fprintf(stderr, "bpfilter: %s: %s\n", path, strerror(errno));
    return 2;
  }
  const char *name = from_stdin ? "(stdin)" : path;
  size_t counts[4] = {0, 0, 0, 0}; /* by verdict */
  size_t lineno = 0, cap = 0;
  char *line = NULL;
  bpf_codecs codecs;
  memset(&codecs, 0, sizeof codecs);
  ssize_t got;
  while ((got = getline(&line, &cap, in)) >= 0) {
    size_t len = (size_t)got;
    lineno++;
    if (len && line[len - 1] == '\n') line[--len] = '\0';
    if (blank(line, len)) continue;
    char why[512];
    verdict v = match_line(f, &codecs, o->source, line, len, why, sizeof why);
    counts[v]++;
    if (o->matching) { /* grep-like: the matching lines alone on stdout */
      if (v == V_MATCH) {
        fwrite(line, 1, len, stdout);
        putchar('\n');
      } else if (v == V_ERROR) {
        fprintf(stderr, "bpfilter: %s:%zu: %s\n", name, lineno, why);
      }
    } else if (v == V_MATCH || v == V_NO_MATCH) {
      printf("%s %zu\n", v == V_MATCH ? "MATCH" : "NO_MATCH", lineno);
    } else if (v == V_DROPPED) {
      printf("DROPPED %zu: the payload is not JSON and a pattern filters on data\n", lineno);
    } else {
      printf("ERROR %zu: %s\n", lineno, why);
    }
  }
  int read_failed = ferror(in);
  int saved = errno;
  free(line);
  bpf_codecs_free(&codecs);
  if (!from_stdin) fclose(in);
  if (read_failed) {
    fprintf(stderr, "bpfilter: %s: %s\n", name, strerror(saved));
    return 2;
  }
  if (!o->matching) {
    printf("%zu matched, %zu not matched", counts[V_MATCH], counts[V_NO_MATCH]);
    if (o->source == BP_SOURCE_KINESIS) printf(", %zu dropped", counts[V_DROPPED]);
    if (counts[V_ERROR]) printf(", %zu malformed", counts[V_ERROR]);
    printf("\n");
  }
  return counts[V_ERROR] ? 1 : 0;
}
