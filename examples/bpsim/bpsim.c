/* SPDX-License-Identifier: MIT */
/*
 * bpsim: run the ESM acceptance scenarios of a scenario file (SEMANTICS.md §11, the format
 * described by the file's own `format` object) through the batchpoint engine with a
 * simulated clock, stream and function, and the config cases through bp_config.
 *
 *   bpsim [--only ID,...] [--trace | --json] FILE.json
 *
 * One line per case: `PASS <id>`, `FAIL <id>: <first difference>` or `SKIP <id>: <why>`,
 * then `N passed, N failed, N skipped`; --trace adds each scenario's timeline, --json writes
 * all of it as NDJSON instead (bpsim_trace.c). Exit status 0 all passed (or skipped), 1
 * something failed, 2 bad usage or a malformed file (the message names the JSON path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpsim.h"

static void usage(FILE *out) {
  fputs("usage: bpsim [--only ID,...] [--trace | --json] FILE.json\n"
        "\n"
        "Replays the scenarios and config cases of FILE (the esm-scenarios.json format,\n"
        "described by its `format` object) through the batchpoint engine with a simulated\n"
        "clock, stream and function, and checks each against its `expect`. Records may\n"
        "come from NDJSON: \"stream_file\": \"x.ndjson\" (relative to FILE).\n"
        "\n"
        "  --only ID,...  only these cases (scenario or config case ids)\n"
        "  --trace        each scenario's timeline, at each simulated time: fetches,\n"
        "                 invocations (first/last record, count, bytes, attempt), the\n"
        "                 function's response and its classification, backoff waits,\n"
        "                 splits, discards with the on-failure record, checkpoint moves,\n"
        "                 metrics; a run of empty fetches is one line\n"
        "  --json         the same timeline and the results as NDJSON, one object a line:\n"
        "                 entries {\"kind\":\"invoke\",\"t_ms\":...}, then per case\n"
        "                 {\"kind\":\"result\",...}, then {\"kind\":\"summary\",...}\n"
        "  -h, --help     this text\n"
        "\n"
        "Output: PASS <id> | FAIL <id>: <first difference> | SKIP <id>: <reason>, one\n"
        "line per case, then \"N passed, N failed, N skipped\".\n"
        "Exit status: 0 nothing failed, 1 a case failed, 2 bad usage or a malformed file.\n"
        "\n"
        "Example, in the source tree (the acceptance scenarios ship in test/data/):\n"
        "  bpsim --trace --only S30 test/data/esm-scenarios.json\n",
        out);
}

/* Whether @p id is in the comma-separated @p list (NULL: everything is selected). */
static int selected(const char *list, const char *id) {
  if (!list) return 1;
  size_t n = strlen(id);
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, id, n) == 0) return 1;
    p += len;
    if (*p) p++;
  }
  return 0;
}

static const char *unknown_id(const sim_file *f, const char *list, char *buf, size_t cap) {
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    int found = 0;
    for (size_t i = 0; i < f->n_scn && !found; i++)
      found = strlen(f->scn[i].id) == len && !strncmp(f->scn[i].id, p, len);
    for (size_t i = 0; i < f->n_cases && !found; i++)
      found = strlen(f->cases[i].id) == len && !strncmp(f->cases[i].id, p, len);
    if (!found && len) {
      snprintf(buf, cap, "%.*s", (int)len, p);
      return buf;
    }
    p += len;
    if (*p) p++;
  }
  return NULL;
}

static void run_scenario(const sim_file *f, const sim_scenario *s, sim_out *tl, sim_report *rep) {
  for (size_t k = 0; k < s->n_maps && !rep->failed && !rep->skipped; k++) {
    const sim_mapping *m = &s->maps[k];
    sim_opts o = {tl, sim_needs_payloads(m)};
    sim_log log;
    if (sim_run(f, s, m, &o, &log, rep) == 0 && !rep->failed) sim_check(f, s, m, &log, rep);
    sim_log_free(&log);
  }
  for (size_t i = 0; i < s->n_actions; i++) {
    const sim_action *a = &s->actions[i];
    for (size_t k = 0; a->expect_response && k < a->expect_response->u.object.len; k++)
      rep_part(rep, "actions[%zu].expect_response.%s (API-level)", i, a->expect_response->u.object.keys[k]);
    if (a->expect_state) rep_part(rep, "actions[%zu].expect_state_eventually (API-level)", i);
  }
}

int main(int argc, char **argv) {
  const char *only = NULL, *file = NULL;
  int trace = 0, json = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--trace")) {
      trace = 1;
    } else if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
      only = argv[++i];
    } else if (!strncmp(argv[i], "--only=", 7)) {
      only = argv[i] + 7;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "bpsim: unknown option %s\n", argv[i]);
      usage(stderr);
      return 2;
    } else if (!file) {
      file = argv[i];
    } else {
      fprintf(stderr, "bpsim: one scenario file only\n");
      return 2;
    }
  }
  if (!file) {
    usage(stderr);
    return 2;
  }
  sim_file f;
  char err[1024];
  if (sim_file_load(&f, file, err, sizeof err)) {
    fprintf(stderr, "bpsim: %s: %s\n", file, err);
    sim_file_free(&f);
    return 2;
  }
  char bad[128];
  if (only && unknown_id(&f, only, bad, sizeof bad)) {
    fprintf(stderr, "bpsim: --only: no case \"%s\" in %s\n", bad, file);
    sim_file_free(&f);
    return 2;
  }
  sim_out *out = sim_out_new(stdout, json);
  if (!out) {
    fprintf(stderr, "bpsim: out of memory\n");
    sim_file_free(&f);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  int counts[3] = {0, 0, 0};
  for (size_t i = 0; i < f.n_scn; i++) {
    if (!selected(only, f.scn[i].id)) continue;
    sim_report rep;
    memset(&rep, 0, sizeof rep);
    run_scenario(&f, &f.scn[i], trace || json ? out : NULL, &rep);
    counts[sim_out_result(out, f.scn[i].id, &rep)]++;
  }
  for (size_t i = 0; i < f.n_cases; i++) {
    if (!selected(only, f.cases[i].id)) continue;
    sim_report rep;
    memset(&rep, 0, sizeof rep);
    sim_config_case(&f, &f.cases[i], &rep);
    counts[sim_out_result(out, f.cases[i].id, &rep)]++;
  }
  sim_out_summary(out, counts);
  sim_out_del(out);
  sim_file_free(&f);
  return counts[1] ? 1 : 0;
}
