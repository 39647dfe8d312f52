// The plain lane: decoding and building the record of the commonest lock line in one pass of C.
//
// A plain text line (no envelope, not JSON) whose time starts it and whose fields are
// key=value pairs is decoded in place, without copying the line, and its lock record's values
// are read from it here. Anything outside that shape returns 0, and the general decoder and
// matcher take the line: every rule below is theirs, restated, never widened.
#include "lwscan.h"
#include <math.h>
#include <string.h>

static inline int is_digit(uint8_t c) { return (unsigned)(c - '0') <= 9; }

static inline int two_digits_at(const uint8_t *b, size_t n, size_t i, int *v) {
    if (i + 2 > n || !is_digit(b[i]) || !is_digit(b[i + 1])) return 0;
    *v = (b[i] - '0') * 10 + (b[i + 1] - '0');
    return 1;
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

/* The common ISO layout at b[i..n) and its zone (`Z`, an offset, else `zone_offset` seconds
   east of UTC): TimestampParser.parseISO where it takes lw_iso_prefix's path. */
static int iso_time(lw_lane *lane, const uint8_t *b, size_t n, size_t i, int64_t *micros, size_t *end) {
    int64_t local;
    int32_t us;
    size_t len;
    if (i >= n || !lw_iso_prefix_cached(&lane->dates, b + i, n - i, &local, &us, &len)) return 0;
    i += len;
    int64_t utc, off;
    size_t e;
    if (i < n && (b[i] == 'Z' || b[i] == 'z')) {
        utc = local;
        i++;
    } else if (lw_parse_offset(b, n, i, &off, &e)) {
        utc = local - off;
        i = e;
    } else {
        utc = local - lane->zone_offset;
    }
    *micros = utc * 1000000 + us;
    *end = i;
    return 1;
}

/* Whether RecordDecoder.decodeTextEnvelope might find an envelope: it then takes the line. */
static int may_have_envelope(const uint8_t *b, size_t n) {
    if (n <= 10) return 1;
    uint8_t c0 = b[0];
    if (is_digit(c0)) {
        if (b[4] == '-' && b[10] == 'T') return 1;
        size_t i = 0;
        while (i < n && (is_digit(b[i]) || b[i] == '.')) i++;
        return i >= 9 && i < n && b[i] == ' ';
    }
    return (unsigned)(c0 - 'A') < 26;
}

int lw_lane_decode(lw_lane *lane, const lw_keytable *keys, const uint8_t *b, size_t n, uint64_t *slots, int nslots,
                   int64_t *time_micros) {
    size_t first = 0;
    while (first < n && (b[first] == ' ' || b[first] == '\t')) first++;
    if (first < n && b[first] == '{') return 0;
    if (lane->check_envelopes && may_have_envelope(b, n)) return 0;
    /* The time first: a line the lane declines is not scanned for its pairs twice. */
    size_t app = 0, end;
    while (app < n && b[app] == ' ') app++;
    if (!iso_time(lane, b, n, app, time_micros, &end)) return 0;
    memset(slots, 0, (size_t)nslots * sizeof *slots);
    lw_kv_escaped escaped[1];
    return lw_kv_fill(keys, b, n, 0, slots, nslots, escaped, 1) == 0;
}

static inline size_t span_start(uint64_t s) { return (size_t)(uint32_t)s - 1; }
static inline size_t span_end(uint64_t s) { return (size_t)(s >> 32); }

static uint32_t name_of(const lw_names *cache, const uint8_t *b, uint64_t s) {
    if (!s || span_end(s) == span_start(s)) return LW_NO_NAME;
    uint64_t hash;
    uint32_t id = lw_names_find(cache, b + span_start(s), span_end(s) - span_start(s), &hash);
    return id == UINT32_MAX ? LW_NAME_MISS : id;
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

/* Whether the value is one of the lower-case words, in any case (FieldSet.valueIs). */
static int value_is(const uint8_t *b, uint64_t s, const char *const *words, int count) {
    if (!s) return 0;
    size_t n = span_end(s) - span_start(s);
    const uint8_t *v = b + span_start(s);
    for (int w = 0; w < count; w++) {
        if (strlen(words[w]) != n) continue;
        size_t i = 0;
        for (; i < n; i++) {
            uint8_t c = (unsigned)(v[i] - 'A') < 26 ? v[i] | 0x20 : v[i];
            if (c != (uint8_t)words[w][i]) break;
        }
        if (i == n) return 1;
    }
    return 0;
}

static const char *const false_words[] = {"false", "0", "no"};
static const char *const true_words[] = {"true", "1", "yes"};

int lw_lane_build(lw_lane *lane, const lw_names *cache, const uint8_t *b, const uint64_t *slots, int skip_check,
                  lw_lane_record *out) {
    static const int name_fields[5] = {LW_F_PROFILE, LW_F_SYMBOL, LW_F_OWNER, LW_F_CALLER, LW_F_HOST};
    for (int k = 0; k < 5; k++) out->names[k] = name_of(cache, b, slots[name_fields[k]]);
    if (out->names[0] == LW_NO_NAME) return 0;
    out->expires = INT64_MIN;
    uint64_t s = slots[LW_F_EXPIRES];
    if (s) {
        size_t end, n = span_end(s) - span_start(s);
        if (!iso_time(lane, b + span_start(s), n, 0, &out->expires, &end) || end != n) return 0;
    }
    out->latency = NAN;
    if ((s = slots[LW_F_LATENCY_MS])) {
        double ms;
        if (!lw_parse_number(b + span_start(s), span_end(s) - span_start(s), &ms)) return 0;
        out->latency = ms / 1000;
    } else if ((s = slots[LW_F_LATENCY_S])) {
        if (!lw_parse_number(b + span_start(s), span_end(s) - span_start(s), &out->latency)) return 0;
    }
    out->skipped = 0;
    if (skip_check) {
        s = slots[LW_F_SKIPPED];
        uint64_t a = slots[LW_F_ACTION];
        if (s && span_end(s) > span_start(s) && !value_is(b, s, false_words, 3)) out->skipped = 1;
        else if (a && span_end(a) - span_start(a) == 11 && memcmp(b + span_start(a), "skip_signal", 11) == 0) out->skipped = 1;
        else if (value_is(b, slots[LW_F_SIGNAL_SKIPPED], true_words, 3)) out->skipped = 1;
        else out->skipped = 2;
    }
    return 1;
}
