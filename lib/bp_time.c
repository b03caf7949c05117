/* SPDX-License-Identifier: MIT */
/* Epoch milliseconds to text and back, without a clock or the C library's time functions. */
#include <string.h>

#include "bp_int.h"
#include "batchpoint/bp_time.h"

int bp__time_in_range(int64_t ms) { return ms >= 0 && ms <= BP_TIME_MAX_MS; }

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int *y, int *m, int *d) {
  z += 719468;
  int64_t era = z / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t dd = doy - (153 * mp + 2) / 5 + 1;
  int64_t mm = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)(yoe + era * 400 + (mm <= 2));
  *m = (int)mm;
  *d = (int)dd;
}

void bp__civil(int64_t ms, int *year, int *month, int *day, int *hour, int *min, int *sec,
               int *milli) {
  int64_t secs = ms / 1000;
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  civil_from_days(days, year, month, day);
  *hour = (int)(rem / 3600);
  *min = (int)(rem / 60 % 60);
  *sec = (int)(rem % 60);
  *milli = (int)(ms % 1000);
}

/* A proleptic Gregorian date to days since 1970-01-01: civil_from_days' inverse. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* The value of p[0..n) as decimal digits, -1 if one is not a digit. */
static int digits_value(const char *p, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

int bp__parse_iso(const char *t, size_t n, int64_t *ms) {
  if (n < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') || t[13] != ':' ||
      t[16] != ':' || (t[n - 1] != 'Z' && t[n - 1] != 'z'))
    return -1;
  int y = digits_value(t, 4), mo = digits_value(t + 5, 2), d = digits_value(t + 8, 2),
      hh = digits_value(t + 11, 2), mi = digits_value(t + 14, 2), ss = digits_value(t + 17, 2);
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || hh < 0 || hh > 23 ||
      mi < 0 || mi > 59 || ss < 0 || ss > 59)
    return -1;
  if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return -1;
  int milli = 0;
  if (n > 20) {
    if (t[19] != '.' || n == 21) return -1;
    for (size_t i = 20; i < n - 1; i++) {
      if (t[i] < '0' || t[i] > '9') return -1;
      if (i < 23) milli = milli * 10 + (t[i] - '0');
    }
    for (size_t i = n - 1; i < 23; i++) milli *= 10;
  } else if (t[19] != 'Z' && t[19] != 'z') {
    return -1;
  }
  int64_t v = ((days_from_civil(y, mo, d) * 24 + hh) * 60 + mi) * 60 + ss;
  v = v * 1000 + milli;
  if (!bp__time_in_range(v)) return -1;
  *ms = v;
  return 0;
}

static char *put2(char *p, int v) {
  p[0] = (char)('0' + v / 10);
  p[1] = (char)('0' + v % 10);
  return p + 2;
}

size_t bp__fmt_iso(int64_t ms, int with_ms, char *out) {
  int y, mo, d, h, mi, s, milli;
  bp__civil(ms, &y, &mo, &d, &h, &mi, &s, &milli);
  char *p = out;
  p = put2(p, y / 100);
  p = put2(p, y % 100);
  *p++ = '-';
  p = put2(p, mo);
  *p++ = '-';
  p = put2(p, d);
  *p++ = 'T';
  p = put2(p, h);
  *p++ = ':';
  p = put2(p, mi);
  *p++ = ':';
  p = put2(p, s);
  if (with_ms) {
    *p++ = '.';
    *p++ = (char)('0' + milli / 100);
    p = put2(p, milli % 100);
  }
  *p++ = 'Z';
  return (size_t)(p - out);
}

/* Decimal digits of v, without a division loop (the encoders size every record's time). */
static size_t dec_digits(uint64_t v) {
  size_t n = 1;
  if (v >= 100000000u) {
    n += 8;
    v /= 100000000u;
  }
  if (v >= 100000000u) { /* v was >= 10^16 */
    n += 8;
    v /= 100000000u;
  }
  if (v >= 10000u) {
    n += 4;
    v /= 10000u;
  }
  if (v >= 100u) {
    n += 2;
    v /= 100u;
  }
  return n + (v >= 10u);
}

size_t bp__epoch_seconds_len(int64_t ms) { return dec_digits((uint64_t)ms / 1000) + 4; }

/* "00" .. "99": two digits a step. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";

/* Two digits a step from the end; in 32 bits while the value fits (every date before 2106). */
static void epoch_digits_put(char *end, uint64_t s) {
  for (; s > UINT32_MAX; s /= 100) {
    end -= 2;
    memcpy(end, digit_pairs + s % 100 * 2, 2);
  }
  uint32_t v = (uint32_t)s;
  for (; v >= 100; v /= 100) {
    end -= 2;
    memcpy(end, digit_pairs + v % 100 * 2, 2);
  }
  if (v >= 10) memcpy(end - 2, digit_pairs + v * 2, 2);
  else end[-1] = (char)('0' + v);
}

/* ms >= 0 (bp__time_in_range). */
size_t bp__fmt_epoch_seconds(int64_t ms, char *out) {
  uint64_t s = (uint64_t)ms / 1000;
  unsigned frac = (unsigned)((uint64_t)ms % 1000);
  size_t n = dec_digits(s);
  epoch_digits_put(out + n, s);
  out[n] = '.';
  out[n + 1] = (char)('0' + frac / 100);
  memcpy(out + n + 2, digit_pairs + frac % 100 * 2, 2);
  return n + 4;
}

static int format(int64_t ms, char *buf, size_t len, size_t need,
                  size_t (*fmt)(int64_t, int, char *), int with_ms) {
  if (!buf) return BP_ERR_INVALID_ARGUMENT;
  if (!bp__time_in_range(ms)) return BP_ERR_RANGE;
  if (len < need + 1) return BP_ERR_BUFFER_TOO_SMALL;
  size_t n = fmt(ms, with_ms, buf);
  buf[n] = '\0';
  return (int)n;
}

static size_t fmt_epoch_adapter(int64_t ms, int unused, char *out) {
  (void)unused;
  return bp__fmt_epoch_seconds(ms, out);
}

int bp_time_format_iso_ms(int64_t ms, char *buf, size_t len) {
  return format(ms, buf, len, 24, bp__fmt_iso, 1);
}

int bp_time_format_iso_s(int64_t ms, char *buf, size_t len) {
  return format(ms, buf, len, 20, bp__fmt_iso, 0);
}

int bp_time_format_epoch_seconds(int64_t ms, char *buf, size_t len) {
  if (!buf) return BP_ERR_INVALID_ARGUMENT;
  if (!bp__time_in_range(ms)) return BP_ERR_RANGE;
  return format(ms, buf, len, bp__epoch_seconds_len(ms), fmt_epoch_adapter, 0);
}
