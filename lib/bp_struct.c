/* SPDX-License-Identifier: MIT */
/*
 * Reading the structs a host fills and writing the ones the library fills for it, through
 * their leading struct_size ("How structs grow", bp_common.h): one place that checks the
 * size, copies what both sides know and zero-fills what the host's version lacks.
 */
#include <ctype.h>
#include <string.h>

#include "bp_int.h"

static uint32_t size_of(const void *s) {
  uint32_t n;
  memcpy(&n, s, sizeof n); /* every such struct starts with uint32_t struct_size */
  return n;
}

/* "bp_engine_opts" -> "BP_ENGINE_OPTS" (the static initializer's prefix). */
static void upper(const char *name, char *out, size_t cap) {
  size_t i = 0;
  for (; name[i] && i + 1 < cap; i++) out[i] = (char)toupper((unsigned char)name[i]);
  out[i] = '\0';
}

static int bad_size(const char *name, uint32_t n, size_t min_size, char *errbuf,
                    size_t errlen) {
  char up[64];
  upper(name, up, sizeof up);
  if (n == 0)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "%s.struct_size is 0: initialise it with %s_init() or %s_INIT", name, name,
                      up);
  return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                    "%s.struct_size is %u, below its first published size %zu: initialise it "
                    "with %s_init() or %s_INIT",
                    name, (unsigned)n, min_size, name, up);
}

int bp__struct_check(const void *src, size_t min_size, const char *name, char *errbuf,
                     size_t errlen) {
  uint32_t n = size_of(src);
  return n == 0 || n < min_size ? bad_size(name, n, min_size, errbuf, errlen) : 0;
}

int bp__struct_in(void *dst, size_t dst_size, size_t min_size, const void *src,
                  const char *name, char *errbuf, size_t errlen) {
  int rc = bp__struct_check(src, min_size, name, errbuf, errlen);
  if (rc) return rc;
  size_t n = size_of(src);
  if (n > dst_size) n = dst_size; /* a newer host: the tail is ignored */
  memcpy(dst, src, n);
  memset((char *)dst + n, 0, dst_size - n); /* an older host: later members read as 0 */
  return 0;
}

int bp__struct_out(void *dst, const void *src, size_t src_size, size_t min_size,
                   const char *name, char *errbuf, size_t errlen) {
  int rc = bp__struct_check(dst, min_size, name, errbuf, errlen);
  if (rc) return rc;
  size_t n = size_of(dst);
  if (n > src_size) n = src_size; /* the host's tail beyond ours is left alone */
  memcpy(dst, src, n);
  uint32_t written = (uint32_t)n;
  memcpy(dst, &written, sizeof written);
  return 0;
}

int bp__struct_init(void *x, size_t size, size_t min_size) {
  /* The caller's size, never the library's: an older host's struct may be shorter than
   * this library's, and one written by a newer header longer. */
  if (!x || size < min_size || size > UINT32_MAX) return BP_ERR_INVALID_ARGUMENT;
  memset(x, 0, size);
  uint32_t n = (uint32_t)size;
  memcpy(x, &n, sizeof n);
  return 0;
}

int bp__records_stride(const bp_record *recs, size_t n, size_t *stride, char *errbuf,
                       size_t errlen) {
  *stride = sizeof(bp_record);
  if (n == 0) return 0;
  int rc = bp__struct_check(recs, BP__RECORD_SIZE_V1, "bp_record", errbuf, errlen);
  if (rc) return rc;
  uint32_t first = size_of(recs);
  if (!bp__array_ok(recs, n, first)) /* checked before any element past the first is read */
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "n %zu is larger than any array of %u-byte records", n, (unsigned)first);
  for (size_t i = 1; i < n; i++) {
    uint32_t s = size_of((const char *)recs + i * first);
    if (s != first)
      return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                        "records[%zu].struct_size is %u, records[0]'s is %u: every element of "
                        "one array must carry the same struct_size (it is the stride)",
                        i, (unsigned)s, (unsigned)first);
  }
  *stride = first;
  return 0;
}

const bp_record *bp__record_get(const bp_record *recs, size_t stride, size_t i, bp_record *tmp) {
  if (stride == sizeof(bp_record)) return &recs[i];
  const char *src = (const char *)recs + i * stride;
  size_t n = stride < sizeof *tmp ? stride : sizeof *tmp;
  memcpy(tmp, src, n);
  memset((char *)tmp + n, 0, sizeof *tmp - n);
  return tmp;
}

int bp_record_init(bp_record *r, size_t size) {
  int rc = bp__struct_init(r, size, BP__RECORD_SIZE_V1);
  if (rc) return rc;
  return 0;
}
