// Timestamps: the fast path of the parse every lock record needs twice.
#include "lwscan.h"

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

int lw_iso_prefix(const uint8_t *p, size_t n, int64_t *local_seconds, int32_t *micros, size_t *end) {
    if (n < 19) return 0;
    int y1, y2, mo, d, h, mi, s;
    if (!two_digits(p, &y1) || !two_digits(p + 2, &y2) || p[4] != '-' || !two_digits(p + 5, &mo) || p[7] != '-'
        || !two_digits(p + 8, &d) || !(p[10] == 'T' || p[10] == 't' || p[10] == ' ') || !two_digits(p + 11, &h)
        || p[13] != ':' || !two_digits(p + 14, &mi) || p[16] != ':' || !two_digits(p + 17, &s))
        return 0;
    int year = y1 * 100 + y2;
    static const int mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (d > mdays[mo] + (mo == 2 && leap)) return 0;
    size_t i = 19;
    int32_t us = 0;
    if (i + 1 < n && (p[i] == '.' || p[i] == ',') && (unsigned)(p[i + 1] - '0') <= 9) {
        i++;
        int32_t scale = 100000;
        while (i < n && (unsigned)(p[i] - '0') <= 9) { us += (int32_t)(p[i] - '0') * scale; scale /= 10; i++; }
    }
    *local_seconds = lw_days_from_civil(year, mo, d) * 86400 + h * 3600 + mi * 60 + (s > 59 ? 59 : s);
    *micros = us;
    *end = i;
    return 1;
}
