/* SPDX-License-Identifier: MIT */
/* Sequence numbers as decimal strings: validated, compared by (length, bytes). */
#include <string.h>

#include "bp_int.h"
#include "batchpoint/bp_seqnum.h"

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
/* Sixteen at a time, the last block overlapping the one before (len >= 16): byte - '0' is above
 * 9, unsigned, for every non-digit, and a saturating subtraction of 9 leaves it non-zero.
 * SSE2 is part of x86-64 itself: no run-time choice. */
static int all_digits16(const char *s, size_t len) {
  const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
  __m128i over = _mm_setzero_si128();
  for (size_t i = 0;; i += 16) {
    if (i + 16 > len) i = len - 16;
    __m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)), zero);
    over = _mm_or_si128(over, _mm_subs_epu8(d, nine));
    if (i + 16 == len) break;
  }
  return _mm_movemask_epi8(_mm_cmpeq_epi8(over, _mm_setzero_si128())) == 0xFFFF;
}
#endif

int bp_seqnum_validate(const char *s, size_t len) {
  if (len == 0 || len > BP_MAX_SEQNUM_DIGITS || !s) return BP_ERR_INVALID_SEQNUM;
  if (s[0] == '0' && len > 1) return BP_ERR_INVALID_SEQNUM;
#if defined(__SSE2__) && defined(__GNUC__)
  if (len >= 16) return all_digits16(s, len) ? 0 : BP_ERR_INVALID_SEQNUM;
#endif
  return bp__digits_end(s, s + len) == s + len ? 0 : BP_ERR_INVALID_SEQNUM;
}

int bp__seq_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  if (alen != blen) return alen < blen ? -1 : 1;
  int c = memcmp(a, b, alen);
  return (c > 0) - (c < 0);
}

int bp_seqnum_compare(const char *a, size_t alen, const char *b, size_t blen, int *result) {
  if (!result) return BP_ERR_INVALID_ARGUMENT;
  if (bp_seqnum_validate(a, alen) || bp_seqnum_validate(b, blen)) return BP_ERR_INVALID_SEQNUM;
  *result = bp__seq_cmp(a, alen, b, blen);
  return 0;
}
