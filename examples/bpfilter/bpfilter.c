/* SPDX-License-Identifier: MIT */
/*
 * bpfilter: try Lambda FilterCriteria patterns (FILTERS.md) on events, or run a filter
 * vector file.
 *
 *   bpfilter [--kinesis|--dynamodb] [--strict] [--matching] PATTERN EVENTS
 *   bpfilter [options] -p PATTERN [-p PATTERN]... EVENTS
 *   bpfilter --vectors FILE [--strict]
 *
 * PATTERN is the pattern text as sent to AWS when it starts with '{', else the name of a
 * file holding one pattern. Several -p patterns are OR-ed as Lambda does with the filters of
 * one FilterCriteria (at most BP_FILTER_MAX_PATTERNS). Exit status: 0 fine, 1 a malformed
 * event line or a failed vector, 2 bad usage, an invalid pattern, an unreadable or
 * malformed file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfilter.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: bpfilter [--kinesis|--dynamodb] [--strict] [-m] PATTERN EVENTS\n"
          "       bpfilter [options] -p PATTERN [-p PATTERN]... EVENTS\n"
          "       bpfilter --vectors FILE [--strict]\n"
          "\n"
          "Matches each line of EVENTS (NDJSON, - for stdin; blank lines skipped) against a\n"
          "Lambda FilterCriteria pattern: the pattern text as sent to AWS if it starts with\n"
          "'{', else a file holding it. Several -p (up to %d) match if any pattern does.\n"
          "\n"
          "  --kinesis       lines are Lambda Kinesis records; patterns see the record and\n"
          "                  its base64 kinesis.data decoded and parsed as top-level data\n"
          "  --dynamodb      lines are Lambda DynamoDB stream records\n"
          "  --strict        reject operators Lambda does not document (wildcard, cidr..);\n"
          "                  with --vectors such a refusal counts as a pass\n"
          "  -m, --matching  print only the matching lines, verbatim (errors to stderr)\n"
          "  --vectors FILE  run a filter-vectors.json file (match, no match, invalid)\n"
          "  -h, --help      this text\n"
          "\n"
          "Output: MATCH <line>, NO_MATCH <line>, DROPPED <line>: <why> (Kinesis data not\n"
          "JSON while a pattern reads data) or ERROR <line>: <why>, then the counts;\n"
          "--vectors: PASS <id> or FAIL <id>: <why>, then N passed, N failed.\n"
          "Exit status: 0 fine, 1 a malformed line or failed vector, 2 bad usage, invalid\n"
          "pattern, unreadable or malformed file.\n",
          BP_FILTER_MAX_PATTERNS);
}

static int usage_error(const char *what) {
  fprintf(stderr, "bpfilter: %s (bpfilter --help explains the usage)\n", what);
  return 2;
}

/* Compile one pattern argument: the text itself when it starts with '{' (after blanks),
 * else the name of a file holding it. @return 0, or 2 after printing why. */
static int compile_one(bp_filter *f, const char *arg, int index, int n) {
  const char *text = arg;
  size_t len = strlen(arg);
  char *file_text = NULL, err[256];
  if (arg[strspn(arg, " \t\r\n")] != '{') {
    if (!(file_text = bpf_read_file(arg, &len, err, sizeof err))) {
      fprintf(stderr, "bpfilter: %s: %s\n", arg, err);
      return 2;
    }
    text = file_text;
  }
  int rc = bp_filter_add(f, text, len);
  free(file_text);
  if (rc == 0) return 0;
  const char *msg = bp_filter_errmsg(f);
  if (rc != BP_ERR_CONFIG_INVALID) { /* too many patterns, out of memory */
    fprintf(stderr, "bpfilter: %s\n", msg[0] ? msg : bp_strerror(rc));
    return 2;
  }
  fprintf(stderr, "bpfilter: invalid pattern: %s", msg);
  if (bp_filter_error_offset(f) != SIZE_MAX)
    fprintf(stderr, " (at byte %zu)", bp_filter_error_offset(f));
  if (n > 1) fprintf(stderr, " (pattern %d of %d)", index + 1, n);
  fputc('\n', stderr);
  return 2;
}

/* stdout is the result: a failed write must not pass for success. */
static int flushed(int status) {
  if (fflush(stdout) == 0 && !ferror(stdout)) return status;
  fprintf(stderr, "bpfilter: writing the output: %s\n", strerror(errno));
  return 2;
}

typedef struct cli {
  char **patterns; /* the -p values */
  int np;
  char **positional; /* PATTERN (without -p) and EVENTS */
  int npos;
  const char *vectors;
  int strict;
  bpf_events_opts events;
} cli;

/* @return -1 to go on, else the exit status (after --help, or a usage error). */
static int parse_args(int argc, char **argv, cli *c) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--kinesis") || !strcmp(a, "--dynamodb")) {
      int source = a[2] == 'k' ? BP_SOURCE_KINESIS : BP_SOURCE_DYNAMODB;
      if (c->events.source && c->events.source != source)
        return usage_error("--kinesis and --dynamodb exclude each other");
      c->events.source = source;
    } else if (!strcmp(a, "--strict")) {
      c->strict = 1;
    } else if (!strcmp(a, "-m") || !strcmp(a, "--matching")) {
      c->events.matching = 1;
    } else if ((!strcmp(a, "-p") || !strcmp(a, "--pattern")) && has_value) {
      c->patterns[c->np++] = argv[++i];
    } else if (!strcmp(a, "--vectors") && has_value) {
      c->vectors = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      char what[256];
      int needs_value = !strcmp(a, "-p") || !strcmp(a, "--pattern") || !strcmp(a, "--vectors");
      snprintf(what, sizeof what, needs_value ? "%s needs a value" : "unknown option %s", a);
      return usage_error(what);
    } else {
      c->positional[c->npos++] = argv[i];
    }
  }
  if (c->vectors && (c->np || c->npos || c->events.source || c->events.matching))
    return usage_error("--vectors takes no pattern, events or event options");
  if (!c->vectors && c->npos != (c->np ? 1 : 2))
    return usage_error(c->np ? "expected one EVENTS file after the -p patterns"
                             : "expected PATTERN and EVENTS");
  return -1;
}

static int run_events(const cli *c) {
  bp_filter *f = NULL;
  if (bp_filter_new(&f, c->strict ? BP_FILTER_STRICT_LAMBDA : 0, NULL)) {
    fprintf(stderr, "bpfilter: out of memory\n");
    return 2;
  }
  char **args = c->np ? c->patterns : c->positional;
  int n = c->np ? c->np : 1, status = 0;
  for (int i = 0; i < n && status == 0; i++) status = compile_one(f, args[i], i, n);
  if (status == 0) status = flushed(bpf_run_events(f, c->positional[c->npos - 1], &c->events));
  bp_filter_del(f);
  return status;
}

int main(int argc, char **argv) {
  cli c;
  memset(&c, 0, sizeof c);
  c.patterns = calloc((size_t)argc, sizeof *c.patterns);
  c.positional = calloc((size_t)argc, sizeof *c.positional);
  int status = 2;
  if (!c.patterns || !c.positional)
    fprintf(stderr, "bpfilter: out of memory\n");
  else if ((status = parse_args(argc, argv, &c)) < 0)
    status = c.vectors ? flushed(bpf_run_vectors(c.vectors, c.strict)) : run_events(&c);
  free(c.patterns);
  free(c.positional);
  return status;
}
