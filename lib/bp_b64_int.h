/* SPDX-License-Identifier: MIT */
/*
 * The library's own base64 (bp_b64.c): encoding without line breaks, and a strict check.
 * Codec layer: included by bp_b64.c and the codec and filter sources that encode or check
 * record data only.
 */
#ifndef BP_B64_INT_H
#define BP_B64_INT_H

#include "bp_int.h"

size_t bp__b64_encode(const uint8_t *in, size_t n, char *out);
/** Validate strictly; on success *decoded_len is the number of bytes it decodes to. */
int bp__b64_check(const char *in, size_t n, size_t *decoded_len);

#endif
