/* SPDX-License-Identifier: MIT */
/*
 * handler_ref: our side of the Powertools conformance test (check_powertools_conformance.sh),
 * a host of the public API only. Each line of EVENTS is one event's text; each goes through
 * one bp_handler (reused, as a Lambda container reuses it) with the "marked failing" record
 * handler (examples/lambda_runtime/marked.h), and one line is printed per event:
 *   the response text                 (bp_handler_process() returned 0)
 *   error FullBatchFailureError       (BP_ERR_BATCH_FAILED: Powertools' name for it)
 *   error BP_ERR_<NAME>: <message>    (a malformed event, or any other error)
 * usage: handler_ref [--stop-at-first-failure] EVENTS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marked.h"

/* Prints a message on one line (a newline in it would shift the comparison by a line). */
static void print_line(const char *s) {
  for (; *s; s++) putchar(*s == '\n' || *s == '\r' ? ' ' : *s);
  putchar('\n');
}

int main(int argc, char **argv) {
  bp_handler_opts opts = BP_HANDLER_OPTS_INIT;
  const char *file = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--stop-at-first-failure")) opts.flags |= BP_HANDLER_STOP_AT_FIRST_FAILURE;
    else if (!file && argv[i][0] != '-') file = argv[i];
    else file = NULL, i = argc;
  }
  if (!file) {
    fprintf(stderr, "usage: handler_ref [--stop-at-first-failure] EVENTS\n");
    return 2;
  }
  FILE *in = fopen(file, "rb");
  if (!in) {
    perror(file);
    return 2;
  }
  bp_handler *h;
  int rc = bp_handler_new(&h, &opts, NULL);
  if (rc) {
    fprintf(stderr, "handler_ref: bp_handler_new: %s\n", bp_err_name(rc));
    fclose(in);
    return 1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, in)) >= 0) {
    if (n > 0 && line[n - 1] == '\n') n--;
    const char *resp;
    size_t resp_len;
    rc = bp_handler_process(h, line, (size_t)n, marked_on_record, NULL, &resp, &resp_len);
    if (rc == 0) {
      fwrite(resp, 1, resp_len, stdout);
      putchar('\n');
    } else if (rc == BP_ERR_BATCH_FAILED) {
      puts("error FullBatchFailureError");
    } else {
      printf("error %s: ", bp_err_name(rc));
      print_line(bp_handler_errmsg(h));
    }
  }
  free(line);
  fclose(in);
  bp_handler_del(h);
  return ferror(stdout) ? 1 : 0;
}
