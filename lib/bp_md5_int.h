/* SPDX-License-Identifier: MIT */
/* MD5 (RFC 1321), one-shot: only to check the digest that ends a KPL aggregated record,
 * never for security. */
#ifndef BATCHPOINT_BP_MD5_INT_H
#define BATCHPOINT_BP_MD5_INT_H

#include <stddef.h>
#include <stdint.h>

#define BP__MD5_LEN 16

/** The MD5 digest of @p len bytes at @p data into @p out. */
void bp__md5(const void *data, size_t len, uint8_t out[BP__MD5_LEN]);

#endif
