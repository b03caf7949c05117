/* SPDX-License-Identifier: MIT */
/*
 * bpsim_report.c: JSON paths ("scenarios[0].expect.invocations[2]") that name where a value
 * is, and the per-case report that collects the first failure, skipped parts and notes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bpsim.h"

/* ---- paths and reports ---- */

void path_set(sim_path *p, const char *s) {
  snprintf(p->buf, sizeof p->buf, "%s", s);
  p->len = strlen(p->buf);
}

static size_t path_add(sim_path *p, const char *fmt, const char *key, size_t i) {
  size_t old = p->len;
  int n = key ? snprintf(p->buf + p->len, sizeof p->buf - p->len, fmt, key)
              : snprintf(p->buf + p->len, sizeof p->buf - p->len, fmt, i);
  if (n > 0) p->len += (size_t)n < sizeof p->buf - p->len ? (size_t)n : sizeof p->buf - 1 - p->len;
  return old;
}

size_t path_key(sim_path *p, const char *key) {
  return path_add(p, p->len ? ".%s" : "%s", key, 0);
}

size_t path_idx(sim_path *p, size_t i) { return path_add(p, "[%zu]", NULL, i); }

void path_pop(sim_path *p, size_t len) {
  p->len = len;
  p->buf[len] = '\0';
}

static void vappend(char *buf, size_t cap, const char *sep, const char *fmt, va_list ap) {
  size_t n = strlen(buf);
  if (n && n + strlen(sep) < cap) {
    memcpy(buf + n, sep, strlen(sep) + 1);
    n += strlen(sep);
  }
  if (n < cap) vsnprintf(buf + n, cap - n, fmt, ap);
}

int rep_fail(sim_report *r, const char *fmt, ...) {
  if (r->failed) return 0;
  r->failed = 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->fail, sizeof r->fail, fmt, ap);
  va_end(ap);
  return 0;
}

void rep_part(sim_report *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vappend(r->parts, sizeof r->parts, "; ", fmt, ap);
  va_end(ap);
}

void rep_note(sim_report *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vappend(r->notes, sizeof r->notes, "; ", fmt, ap);
  va_end(ap);
}
