// Timestamps: the fast path of the parse every lock record needs twice.
#include "lw_time.h"
#include <string.h>

/* The common layout YYYY-MM-DD(T|t| )HH:MM:SS[(.|,)digits], read by position, two digits at a time. */

static inline int two_digits(const uint8_t *p, int *v) {
    unsigned a = (unsigned)(p[0] - '0'), b = (unsigned)(p[1] - '0');
    if (a > 9 || b > 9) return 0;
    *v = (int)(a * 10 + b);
    return 1;
}

int64_t lw_days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The clock HH:MM:SS[(.|,)digits] at p[11..n) (n >= 19), after a date that passed. */
static inline int iso_clock(const uint8_t *p, size_t n, int64_t *second_of_day, int32_t *micros, size_t *end) {
    int h, mi, s;
    if (!(p[10] == 'T' || p[10] == 't' || p[10] == ' ') || !two_digits(p + 11, &h) || p[13] != ':'
        || !two_digits(p + 14, &mi) || p[16] != ':' || !two_digits(p + 17, &s))
        return 0;
    if (h > 23 || mi > 59 || s > 60) return 0;
    size_t i = 19;
    int32_t us = 0;
    if (i + 1 < n && (p[i] == '.' || p[i] == ',') && (unsigned)(p[i + 1] - '0') <= 9) {
        /* Digits past the sixth are read and dropped. */
        static const int32_t scale[6] = {100000, 10000, 1000, 100, 10, 1};
        size_t first = ++i;
        while (i < n && (unsigned)(p[i] - '0') <= 9) {
            if (i - first < 6) us += (int32_t)(p[i] - '0') * scale[i - first];
            i++;
        }
    }
    *second_of_day = h * 3600 + mi * 60 + (s > 59 ? 59 : s);
    *micros = us;
    *end = i;
    return 1;
}

/* The date YYYY-MM-DD at p (n >= 19), as days since 1970. */
static inline int iso_date(const uint8_t *p, int64_t *days) {
    int y1, y2, mo, d;
    if (!two_digits(p, &y1) || !two_digits(p + 2, &y2) || p[4] != '-' || !two_digits(p + 5, &mo) || p[7] != '-'
        || !two_digits(p + 8, &d))
        return 0;
    int year = y1 * 100 + y2;
    static const int mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1) return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (d > mdays[mo] + (mo == 2 && leap)) return 0;
    *days = lw_days_from_civil(year, mo, d);
    return 1;
}

int lw_iso_prefix(const uint8_t *p, size_t n, int64_t *local_seconds, int32_t *micros, size_t *end) {
    int64_t days, sod;
    if (n < 19 || !iso_date(p, &days) || !iso_clock(p, n, &sod, micros, end)) return 0;
    *local_seconds = days * 86400 + sod;
    return 1;
}

int lw_iso_prefix_cached(lw_date_cache *cache, const uint8_t *p, size_t n, int64_t *local_seconds, int32_t *micros,
                         size_t *end) {
    if (n < 19) return 0;
    uint64_t head;
    uint16_t tail;
    memcpy(&head, p, 8);
    memcpy(&tail, p + 8, 2);
    if (!(cache->valid && head == cache->head && tail == cache->tail)) {
        int64_t days;
        if (!iso_date(p, &days)) return 0;
        cache->head = head;
        cache->tail = tail;
        cache->days = days;
        cache->valid = 1;
    }
    int64_t sod;
    if (!iso_clock(p, n, &sod, micros, end)) return 0;
    *local_seconds = cache->days * 86400 + sod;
    return 1;
}

static inline int is_digit(uint8_t c) { return (unsigned)(c - '0') <= 9; }

/* two_digits at b[i], when both bytes are within b[0..n). */
static inline int two_digits_at(const uint8_t *b, size_t n, size_t i, int *v) {
    return i + 2 <= n && two_digits(b + i, v);
}

int lw_parse_offset(const uint8_t *b, size_t n, size_t i, int64_t *seconds, size_t *end) {
    if (i >= n || (b[i] != '+' && b[i] != '-')) return 0;
    int negative = b[i] == '-';
    i++;
    int hh, mm = 0;
    if (!two_digits_at(b, n, i, &hh)) return 0;
    i += 2;
    if (i < n && b[i] == ':') {
        if (!two_digits_at(b, n, i + 1, &mm)) return 0;
        i += 3;
    } else if (two_digits_at(b, n, i, &mm)) {
        i += 2;
    }
    if (hh > 23 || mm >= 60) return 0;
    int64_t s = hh * 3600 + mm * 60;
    *seconds = negative ? -s : s;
    *end = i;
    return 1;
}

int lw_parse_number(const uint8_t *b, size_t n, double *out) {
    static const double powers[16] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    size_t i = 0;
    int negative = 0;
    if (i < n && b[i] == '-') { negative = 1; i++; }
    uint64_t mantissa = 0;
    int digits = 0, decimals = 0;
    while (i < n && is_digit(b[i]) && digits < 15) { mantissa = mantissa * 10 + (uint64_t)(b[i] - '0'); i++; digits++; }
    if (digits > 0 && i < n && b[i] == '.') {
        i++;
        while (i < n && is_digit(b[i]) && digits < 15) {
            mantissa = mantissa * 10 + (uint64_t)(b[i] - '0'); i++; digits++; decimals++;
        }
    }
    if (!(digits > 0 && i == n)) return 0;
    double v = (double)mantissa / powers[decimals];
    *out = negative ? -v : v;
    return 1;
}
