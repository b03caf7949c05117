/* SPDX-License-Identifier: MIT */
/* Per-object error messages and caller error buffers. */
#include <stdio.h>
#include <string.h>

#include "bp_int.h"

void bp__errmsg_clear(bp__errmsg *e) {
  e->text[0] = '\0';
  e->offset = SIZE_MAX;
}

int bp__verror(bp__errmsg *e, int code, const char *fmt, va_list ap) {
  vsnprintf(e->text, sizeof e->text, fmt, ap);
  e->offset = SIZE_MAX;
  return code;
}

int bp__error(bp__errmsg *e, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  bp__verror(e, code, fmt, ap);
  va_end(ap);
  return code;
}

int bp__errbuf(char *buf, size_t len, int code, const char *fmt, ...) {
  if (buf && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
  }
  return code;
}
