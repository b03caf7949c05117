/* SPDX-License-Identifier: MIT */
/*
 * The JSON text writer (bp_jsonw.c): compute exact lengths, then write into reserved space.
 * Codec layer: included by bp_jsonw.c and the encoders (bp_codec*.c) only.
 */
#ifndef BP_JSONW_INT_H
#define BP_JSONW_INT_H

#include <string.h>

#include "bp_int.h"

/** Escaped length of [s, s+n) including the two quotes (SEMANTICS.md §1.4 escaping). */
size_t bp__json_str_len(const char *s, size_t n);
/** Write the quoted, escaped string at @p out; returns the end. Room must be reserved. */
char *bp__json_str_put(char *out, const char *s, size_t n);
/** A literal's bytes at @p out (bp__put(), bp_int.h); returns the end. */
#define BP__PUT_LIT(out, lit) bp__put((out), (lit), sizeof(lit) - 1)
/** Decimal digits of an unsigned value, and writing them. */
size_t bp__u64_len(uint64_t v);
char *bp__u64_put(char *out, uint64_t v);

#endif
