/* SPDX-License-Identifier: MIT */
/* Sequence numbers as decimal strings: validated, compared by (length, bytes). */
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include "bp_int.h"
#include "batchpoint/bp_seqnum.h"

int bp_seqnum_validate(const char *s, size_t len) {
  if (len == 0 || len > BP_MAX_SEQNUM_DIGITS || !s) return BP_ERR_INVALID_SEQNUM;
  if (s[0] == '0' && len > 1) return BP_ERR_INVALID_SEQNUM;
#if defined(__SSE2__) && defined(__GNUC__)
  /* Sixteen at a time, the last block overlapping its predecessor: a byte is a digit when
   * it minus '0' (wrapping) is at most 9. SSE2 is part of x86-64: no run-time choice. */
  if (len >= 16) {
    const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
    __m128i ok = _mm_set1_epi8(-1);
    for (size_t i = 0;; i += 16) {
      if (i + 16 > len) i = len - 16;
      __m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)), zero);
      ok = _mm_and_si128(ok, _mm_cmpeq_epi8(_mm_max_epu8(d, nine), nine));
      if (i + 16 == len) break;
    }
    return _mm_movemask_epi8(ok) == 0xFFFF ? 0 : BP_ERR_INVALID_SEQNUM;
  }
#endif
  /* Eight digits at a time: every byte's high nibble is 3, and adding 6 to its low nibble
   * does not carry into the high nibble (low nibble <= 9). No carry crosses bytes. */
  const uint64_t threes = UINT64_C(0x3030303030303030), high = UINT64_C(0xF0F0F0F0F0F0F0F0);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if ((w & high) != threes || ((w + UINT64_C(0x0606060606060606)) & high) != threes)
      return BP_ERR_INVALID_SEQNUM;
  }
  for (; i < len; i++)
    if ((unsigned char)(s[i] - '0') > 9) return BP_ERR_INVALID_SEQNUM;
  return 0;
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
