/* SPDX-License-Identifier: MIT */
/**
 * @file bp_seqnum.h
 * @brief Kinesis / DynamoDB sequence numbers: decimal strings of up to
 *        BP_MAX_SEQNUM_DIGITS (128) digits, compared numerically without ever converting
 *        them to an integer type.
 *
 * A valid sequence number is 1..BP_MAX_SEQNUM_DIGITS ASCII digits with no leading zero,
 * except the single digit "0". For valid numbers numeric order equals (length, bytes) order.
 */
#ifndef BATCHPOINT_BP_SEQNUM_H
#define BATCHPOINT_BP_SEQNUM_H

#include "bp_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Check that @p s is a valid sequence number.
 * @param s digits (not NUL-terminated; may be NULL only when @p len is 0).
 * @param len number of bytes.
 * @return 0; ::BP_ERR_INVALID_SEQNUM (empty, too long, a non-digit, or a leading zero).
 */
BP_API int bp_seqnum_validate(const char *s, size_t len);

/**
 * Compare two sequence numbers numerically.
 * @param result out: -1 if a < b, 0 if equal, 1 if a > b (untouched on error).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p result NULL);
 *         ::BP_ERR_INVALID_SEQNUM (either string is not a valid sequence number).
 */
BP_API int bp_seqnum_compare(const char *a, size_t alen, const char *b, size_t blen,
                             int *result);

#ifdef __cplusplus
}
#endif

#endif
