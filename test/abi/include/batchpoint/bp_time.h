/* SPDX-License-Identifier: MIT */
/**
 * @file bp_time.h
 * @brief Clock-free time formatting. batchpoint never reads a clock: every time is
 *        milliseconds since the Unix epoch (int64_t), passed in by the host.
 *
 * Each formatter writes the text and a terminating NUL into @p buf and returns the number of
 * characters written (without the NUL), or a negative ::bp_err:
 * ::BP_ERR_INVALID_ARGUMENT (@p buf NULL), ::BP_ERR_RANGE (@p ms negative or after
 * 9999-12-31T23:59:59.999Z), ::BP_ERR_BUFFER_TOO_SMALL (@p len shorter than the text + NUL).
 */
#ifndef BATCHPOINT_BP_TIME_H
#define BATCHPOINT_BP_TIME_H

#include "bp_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest epoch-ms value the formatters accept (9999-12-31T23:59:59.999Z). */
#define BP_TIME_MAX_MS 253402300799999LL

/** Buffer sizes (including the NUL) that always suffice. */
#define BP_TIME_ISO_MS_LEN 25       /* "2019-11-14T00:38:04.835Z" + NUL */
#define BP_TIME_ISO_S_LEN 21        /* "2019-11-14T00:38:04Z" + NUL */
#define BP_TIME_EPOCH_S_LEN 20      /* "253402300799.999" + NUL, with room */

/** ISO-8601 UTC with milliseconds: `2019-11-14T00:38:04.835Z` (24 characters). */
BP_API int bp_time_format_iso_ms(int64_t ms, char *buf, size_t len);

/** ISO-8601 UTC, whole seconds (milliseconds truncated): `2019-11-14T00:38:04Z`. */
BP_API int bp_time_format_iso_s(int64_t ms, char *buf, size_t len);

/**
 * Epoch seconds with exactly three fraction digits, as a JSON number token:
 * 1545084650987 -> `1545084650.987`, 1607497475000 -> `1607497475.000`.
 */
BP_API int bp_time_format_epoch_seconds(int64_t ms, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
