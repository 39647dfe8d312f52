#ifndef LW_TIME_H
#define LW_TIME_H
#include <stddef.h>
#include <stdint.h>

/* Timestamps and numbers (timestamp.c): the kernels of the parse every record needs. */

/* Days since 1970-01-01 of a date in the proleptic Gregorian calendar (any year; month 1-12). */
int64_t lw_days_from_civil(int64_t year, int month, int day);

/* The common timestamp layout YYYY-MM-DD(T|t| )HH:MM:SS[(.|,)digits] at the start of p: 1 with
   the wall-clock seconds since 1970 as if in UTC, the microseconds and where it ended (before
   any zone); 0 when p does not start with that layout (the caller's general parser decides). */
int lw_iso_prefix(const uint8_t *p, size_t n, int64_t *local_seconds, int32_t *micros, size_t *end);

/* The last valid date lw_iso_prefix_cached read, as its ten bytes and its day number. */
typedef struct { uint64_t head; uint16_t tail; int valid; int64_t days; } lw_date_cache;

/* lw_iso_prefix, with the date's day number taken from `cache` when its ten bytes are the
   cached ones (a log's lines share their date): the same result, the date converted once. */
int lw_iso_prefix_cached(lw_date_cache *cache, const uint8_t *p, size_t n, int64_t *local_seconds, int32_t *micros,
                         size_t *end);

/* The offset `±hh:mm`, `±hhmm` or `±hh` at b[i..n): 1 with its seconds east of UTC and where
   it ended, else 0 (TimestampParser.parseOffset). */
int lw_parse_offset(const uint8_t *b, size_t n, size_t i, int64_t *seconds, size_t *end);

/* A number of up to 15 digits with one optional point and sign, read exactly (the digits over
   a power of ten): 1 and the value, else 0, for the caller's general parse (`parseNumber`). */
int lw_parse_number(const uint8_t *b, size_t n, double *out);

#endif
