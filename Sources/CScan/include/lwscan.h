#ifndef LOCKWATCH_SCAN_H
#define LOCKWATCH_SCAN_H
#include <stddef.h>
#include <stdint.h>

/* The byte-scanning kernels of lockwatch's input stage: counting newlines and finding the
   prefilter's literals, with AVX2 where the processor has it and plain C elsewhere. */

#define LW_MAX_LITERALS 16
#define LW_MAX_LITERAL_LEN 64

typedef struct {
    int count;
    uint8_t len[LW_MAX_LITERALS];
    uint8_t off1[LW_MAX_LITERALS], off2[LW_MAX_LITERALS];   /* the plain-C search: two rare anchors */
    uint8_t byte1[LW_MAX_LITERALS], byte2[LW_MAX_LITERALS];   /* lower case when folded */
    uint8_t mask1[LW_MAX_LITERALS], mask2[LW_MAX_LITERALS];   /* 0x20 when the anchor is a folded letter */
    /* For the full compare, a word at a time: a text byte OR its mask must equal the literal's
       byte (the mask is 0x20 at folded letters, which are kept in lower case). */
    uint8_t lower[LW_MAX_LITERALS][LW_MAX_LITERAL_LEN];
    uint8_t cmask[LW_MAX_LITERALS][LW_MAX_LITERAL_LEN];
    /* Teddy: each literal's rarest window of up to 3 bytes, at offset woff, is looked up by
       nibbles in these tables; bit (k % 8) stands for literal k. */
    uint8_t woff[LW_MAX_LITERALS];
    uint8_t lo[3][16], hi[3][16];
} lw_literals;

/* Adds a literal; returns 0, or -1 when the set is full or the literal too long or empty. */
int lw_literals_add(lw_literals *set, const uint8_t *bytes, size_t len, int fold);

/* The offset at which some literal starts, or n when none does. With one literal, the first
   such offset; with several (Teddy), the literal whose window is verified first, so another may
   start before it, by less than its own length. */
size_t lw_find_literal(const lw_literals *set, const uint8_t *p, size_t n);

/* Whether the set's one literal (len bytes) occurs in p[0..n) with the ASCII word conditions
   around it that a pattern's boundaries ask: before, the byte before is no word byte
   ([A-Za-z0-9_]; the start counts as none); after 1, the byte after is none; after 2, it is
   neither a word byte nor '-'. Bytes from 0x80 up are never word bytes, as in PCRE2 without UCP.
   Returns 1 where it does, 0 where the literal does not occur at all, -1 where it occurs only
   without the conditions. */
int lw_literal_proves(const lw_literals *set, size_t len, int before, int after, const uint8_t *p, size_t n);

/* Whether some literal of the set starts at p (avail bytes readable there). */
int lw_literal_at(const lw_literals *set, const uint8_t *p, size_t avail);

/* lw_find_literal, and the number of '\n' bytes before the result, counted in the same pass. */
size_t lw_find_literal_counting(const lw_literals *set, const uint8_t *p, size_t n, size_t *newlines);

/* key=value pairs (kv.c). A table of the key names lockwatch knows, each with its field
   number (< 32); keys are compared whole, byte for byte. */
#define LW_KEY_MAX_LEN 32
#define LW_KEY_SLOTS 256

typedef struct {
    struct { uint64_t head; uint8_t len, field, rest[LW_KEY_MAX_LEN - 8]; } slot[LW_KEY_SLOTS];   /* len 0: empty */
    int count;
} lw_keytable;

/* Adds a key (looked up after the keys added before it); 0, or -1 when it cannot be held. */
int lw_keytable_add(lw_keytable *t, const uint8_t *key, size_t len, int field);

/* The field of a key, or -1. */
int lw_keytable_lookup(const lw_keytable *t, const uint8_t *key, size_t len);

/* A quoted value with backslash escapes, for the caller to unescape. */
typedef struct { uint32_t field, start, end; } lw_kv_escaped;

/* Finds the whitespace-separated `key=value` tokens of b[0..n) whose keys are in the table.
   Values may be double-quoted (the range is inside the quotes). For each such pair whose
   field's slot is still 0, the slot becomes (start + 1) | end << 32, with start and end
   offsets in b plus `base`; a quoted value with escapes is written to `escaped` instead (once
   per field, at most `max_escaped`). Returns the number of escaped values written. */
int lw_kv_fill(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
               lw_kv_escaped *escaped, int max_escaped);

/* The same, a byte at a time whatever the processor (the definition, for tests). */
int lw_kv_fill_scalar(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
                      lw_kv_escaped *escaped, int max_escaped);

/* Days since 1970-01-01 of a date in the proleptic Gregorian calendar (any year; month 1-12). */
int64_t lw_days_from_civil(int64_t year, int month, int day);

/* The common timestamp layout YYYY-MM-DD(T|t| )HH:MM:SS[(.|,)digits] at the start of p: 1 with
   the wall-clock seconds since 1970 as if in UTC, the microseconds and where it ended (before
   any zone); 0 when p does not start with that layout (the caller's general parser decides). */
int lw_iso_prefix(const uint8_t *p, size_t n, int64_t *local_seconds, int32_t *micros, size_t *end);

/* The last valid date lw_iso_prefix_cached read, as its ten bytes and its day number. */
typedef struct { uint64_t head; uint16_t tail; int valid; int64_t days; } lw_date_cache;

/* lw_iso_prefix, with the date's day number taken from `cache` when its ten bytes are the
   cached ones (a log's lines share their date). */
int lw_iso_prefix_cached(lw_date_cache *cache, const uint8_t *p, size_t n, int64_t *local_seconds, int32_t *micros,
                         size_t *end);

/* Names (names.c): a hash of short byte strings (a word at a time, multiplied and folded), and
   one thread's cache from bytes to interned name ids: open addressing over the bytes kept in
   an arena. It holds at most `limit` names and starts over when full. */
uint64_t lw_name_hash(const uint8_t *p, size_t n);

typedef struct { uint64_t hash; uint32_t start, len, name, used; } lw_name_slot;
typedef struct {
    lw_name_slot *slots;
    size_t cap;   /* a power of two, at most half full */
    uint8_t *arena;
    size_t arena_len, arena_cap, used, limit;
} lw_names;

lw_names *lw_names_new(size_t limit);
void lw_names_free(lw_names *c);
/* The id cached for p[0..n), or UINT32_MAX; *hash is set to the bytes' hash either way. */
uint32_t lw_names_find(const lw_names *c, const uint8_t *p, size_t n, uint64_t *hash);
/* Caches an id for bytes not in the cache (with their hash from lw_names_find); 0, or -1 when
   memory runs out (the name is then not cached). */
int lw_names_put(lw_names *c, const uint8_t *p, size_t n, uint64_t hash, uint32_t name);

/* The plain lane (lane.c): a plain text line whose time starts it and whose fields are
   key=value pairs, decoded in place and its lock record's values read, in one pass of C.
   Each function returns 0 when the line is not of that shape; the general decoder and
   matcher then take it. Field numbers are those of `Field` (a test checks them). */
enum {
    LW_F_PROFILE = 0, LW_F_SYMBOL = 1, LW_F_OWNER = 2, LW_F_CALLER = 3, LW_F_EXPIRES = 4, LW_F_LATENCY_MS = 5,
    LW_F_LATENCY_S = 6, LW_F_HOST = 7, LW_F_ACTION = 14, LW_F_SIGNAL_SKIPPED = 15, LW_F_SKIPPED = 16
};

/* The offset `±hh:mm`, `±hhmm` or `±hh` at b[i..n): 1 with its seconds east of UTC and where
   it ended, else 0 (TimestampParser.parseOffset, for both paths). */
int lw_parse_offset(const uint8_t *b, size_t n, size_t i, int64_t *seconds, size_t *end);

/* A number of up to 15 digits with one optional point and sign, read exactly (the digits over
   a power of ten): 1 and the value, else 0, for the caller's general parse (parseNumber). */
int lw_parse_number(const uint8_t *b, size_t n, double *out);

/* One worker's lane: the zone of timestamps without one (seconds east of UTC), whether lines
   might carry a text envelope (auto-detection), and the last date read. */
typedef struct {
    int64_t zone_offset;
    int check_envelopes;
    lw_date_cache dates;
} lw_lane;

/* Fills `slots` (as lw_kv_fill, base 0) and the event time in microseconds since 1970, UTC.
   With `check_envelopes`, a line that might carry a text envelope goes to the general decoder. */
int lw_lane_decode(lw_lane *lane, const lw_keytable *keys, const uint8_t *b, size_t n, uint64_t *slots, int nslots,
                   int64_t *time_micros);

#define LW_NO_NAME UINT32_MAX
#define LW_NAME_MISS (UINT32_MAX - 1)

typedef struct {
    /* profile, symbol, owner, caller, host: a cached name id, LW_NO_NAME (absent or empty),
       or LW_NAME_MISS (not in the cache: the caller interns it) */
    uint32_t names[5];
    int64_t expires;   /* INT64_MIN: none */
    double latency;    /* seconds; NaN: none */
    int skipped;       /* 0 no, 1 yes, 2 the caller searches the line for the phrase */
} lw_lane_record;

/* Reads a record's values from the line `b` and the slots lw_lane_decode filled; with
   `skip_check` (failed records and warnings), whether the trading loop skipped a signal. */
int lw_lane_build(lw_lane *lane, const lw_names *cache, const uint8_t *b, const uint64_t *slots, int skip_check,
                  lw_lane_record *out);

/* Whether the processor has AVX2 (always 0 off x86-64). */
int lw_has_avx2(void);

/* The number of '\n' bytes in p[0..n). */
size_t lw_count_newlines(const uint8_t *p, size_t n);

/* glibc's memrchr (a GNU extension that Swift's Glibc module hides). */
void *lw_memrchr(const void *s, int c, size_t n);

/* Makes SIGINT and SIGTERM set a flag instead of ending the process (a second one still ends
   it); lw_stop_signal() is the first such signal's number, or 0. */
void lw_install_stop_handlers(void);
int lw_stop_signal(void);
/* Asks for the same graceful stop from the program itself (the live view's `q`); `reason` is
   what lw_stop_signal() then returns, unless a signal came first. */
void lw_request_stop(int reason);

/* Returns the heap's free pages to the system (malloc_trim). */
void lw_release_free_memory(void);

/* Names the calling thread (shown by top -H and perf). */
void lw_name_thread(const char *name);

#endif
