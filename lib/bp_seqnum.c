/* Sequence numbers as decimal strings: validated, compared by (length, bytes). */
#include <string.h>

#include "bp_int.h"
#include "batchpoint/bp_seqnum.h"

int bp_seqnum_validate(const char *s, size_t len) {
  if (len == 0 || len > BP_MAX_SEQNUM_DIGITS || !s) return BP_ERR_INVALID_SEQNUM;
  if (s[0] == '0' && len > 1) return BP_ERR_INVALID_SEQNUM;
  for (size_t i = 0; i < len; i++)
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
