// key=value pairs: the scan that finds a record's fields in its text, as one tight loop.
#include "lw_kv.h"
#include "lw_literals.h"
#include <stdint.h>
#include <string.h>

/* The first up to 8 bytes of k[0..len) (len >= 1) in a word, little-endian, zero-padded: one
   load, unless a load of 8 could cross into a page the key does not reach. */
static inline uint64_t head8(const uint8_t *k, size_t len) {
    uint64_t v = 0;
    if (len >= 8) { memcpy(&v, k, 8); return v; }
    if (((uintptr_t)k & 4095) <= 4096 - 8) { memcpy(&v, k, 8); return v & ((1ULL << (8 * len)) - 1); }
    for (size_t i = 0; i < len; i++) v |= (uint64_t)k[i] << (8 * i);
    return v;
}

/* Open addressing by the first word and the length; the table stays at most a quarter full,
   so that a key that is not there (most keys of a line) is rejected after a probe or two. */
static inline size_t slot_of(uint64_t head, size_t len) {
    return (size_t)(((head ^ (uint64_t)len << 59) * 0x9E3779B97F4A7C15ULL) >> 56) & (LW_KEY_SLOTS - 1);
}

static inline int same_rest(const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) if (a[i] != b[i]) return 0;
    return 1;
}

/* The slot of a key, or -1. */
static inline int lookup_slot(const lw_keytable *t, const uint8_t *key, size_t len) {
    if (len == 0 || len > LW_KEY_MAX_LEN) return -1;
    uint64_t h = head8(key, len);
    for (size_t i = slot_of(h, len);; i = (i + 1) & (LW_KEY_SLOTS - 1)) {
        if (t->slot[i].len == 0) return -1;
        if (t->slot[i].head == h && t->slot[i].len == len && (len <= 8 || same_rest(t->slot[i].rest, key + 8, len - 8)))
            return (int)i;
    }
}

int lw_keytable_add(lw_keytable *t, const uint8_t *key, size_t len, int field) {
    if (len == 0 || len > LW_KEY_MAX_LEN || field < 0 || field > 255) return -1;
    if (lookup_slot(t, key, len) >= 0) return 0;   /* the first one added wins */
    if ((t->count + 1) * 4 > LW_KEY_SLOTS) return -1;
    uint64_t h = head8(key, len);
    size_t i = slot_of(h, len);
    while (t->slot[i].len != 0) i = (i + 1) & (LW_KEY_SLOTS - 1);
    t->slot[i].head = h;
    t->slot[i].len = (uint8_t)len;
    t->slot[i].field = (uint8_t)field;
    t->slot[i].rank = t->added[field] < 255 ? t->added[field]++ : 255;
    if (len > 8) memcpy(t->slot[i].rest, key + 8, len - 8);
    t->count++;
    return 0;
}

int lw_keytable_lookup_ranked(const lw_keytable *t, const uint8_t *key, size_t len, int *rank) {
    int i = lookup_slot(t, key, len);
    if (i < 0) return -1;
    *rank = t->slot[i].rank;
    return t->slot[i].field;
}

/* Byte classes: 1 a key byte (letters, digits, _ @ . -), 2 a space or tab. */
const uint8_t lw_byte_class[256] = {
    ['\t'] = 2, [' '] = 2, ['-'] = 1, ['.'] = 1, ['@'] = 1, ['_'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static inline int is_space(uint8_t c) { return lw_is_blank(c); }
static inline int is_key_byte(uint8_t c) { return lw_is_key_byte(c); }

/* What a scan keeps besides the slots: the escaped winners, and the rank of each field's
   winner so far (LW_NO_RANK: none yet, so a slot filled before the scan is kept). */
typedef struct {
    lw_kv_escaped *escaped;
    int max_escaped, nesc;
    uint32_t escaped_fields;   /* the fields whose winner is in `escaped` */
    uint8_t rank[32];
} fill_state;

static inline void fill_init(fill_state *s, lw_kv_escaped *escaped, int max_escaped) {
    s->escaped = escaped;
    s->max_escaped = max_escaped;
    s->nesc = 0;
    s->escaped_fields = 0;
    memset(s->rank, LW_NO_RANK, sizeof s->rank);
}

/* A pair found: it becomes its field's value if its key ranks better than the value's so far
   (docs/semantics.md, "Inputs"), in the slot or, quoted with escapes, in `escaped`. */
static inline void take_pair(const lw_keytable *t, const uint8_t *b, size_t ks, size_t eq, size_t vs, size_t ve, int esc,
                             size_t base, uint64_t *slots, int nslots, fill_state *s) {
    int k = lookup_slot(t, b + ks, eq - ks);
    if (k < 0) return;
    int f = t->slot[k].field;
    uint8_t rank = t->slot[k].rank;
    if (f >= nslots || f >= 32) return;
    if (!lw_rank_wins(s->rank[f], slots[f] != 0, rank)) return;
    int at = -1;   /* the field's entry in `escaped`, if any */
    if (s->escaped_fields & (1u << f))
        for (int i = 0; i < s->nesc; i++) if (s->escaped[i].field == (uint32_t)f) { at = i; break; }
    if (esc) {
        if (at < 0) {
            if (s->nesc == s->max_escaped) return;
            at = s->nesc++;
            s->escaped_fields |= 1u << f;
        }
        s->escaped[at].field = (uint32_t)f;
        s->escaped[at].start = (uint32_t)(vs + base);
        s->escaped[at].end = (uint32_t)(ve + base);
        slots[f] = 0;
    } else {
        if (at >= 0) {
            s->escaped[at] = s->escaped[--s->nesc];
            s->escaped_fields &= ~(1u << f);
        }
        slots[f] = (uint64_t)(vs + base + 1) | (uint64_t)(ve + base) << 32;
    }
    s->rank[f] = rank;
}

/* A quoted value from its opening quote at i: sets the value's range and whether it has
   escapes; returns where the scan goes on and whether the pair counts (the closing quote must
   end the token). */
static inline size_t quoted_value(const uint8_t *b, size_t n, size_t i, size_t *vs, size_t *ve, int *esc, int *take) {
    i++;
    *vs = i;
    *esc = 0;
    while (i < n && b[i] != '"') {
        if (b[i] == '\\') { *esc = 1; i++; }
        i++;
    }
    *ve = i < n ? i : n;
    i = i + 1 < n ? i + 1 : n;
    *take = i == n || is_space(b[i]);
    return i;
}

/* The pair whose key is b[ks..eq): its value quoted, or up to `plain_end` (the next space or
   tab, or n); takes it and returns where the scan goes on. */
__attribute__((always_inline))
static inline size_t pair_at(const lw_keytable *t, const uint8_t *b, size_t n, size_t ks, size_t eq, size_t plain_end,
                             size_t base, uint64_t *slots, int nslots, fill_state *s) {
    size_t i = eq + 1, vs = i, ve = plain_end;
    int esc = 0, take = 1;
    if (i < n && b[i] == '"') i = quoted_value(b, n, i, &vs, &ve, &esc, &take);
    else i = plain_end;
    if (take) take_pair(t, b, ks, eq, vs, ve, esc, base, slots, nslots, s);
    return i;
}

/* The definition, a byte at a time: jumps from '=' to '=' and checks each key backwards. */
static int kv_fill_scalar(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
                          lw_kv_escaped *escaped, int max_escaped) {
    fill_state s;
    fill_init(&s, escaped, max_escaped);
    size_t from = 0;
    while (from < n) {
        const uint8_t *hit = memchr(b + from, '=', n - from);
        if (!hit) break;
        size_t eq = (size_t)(hit - b);
        size_t ks = eq;
        while (ks > 0 && is_key_byte(b[ks - 1])) ks--;
        from = eq + 1;
        if (!(ks < eq && (ks == 0 || is_space(b[ks - 1])))) continue;
        size_t end = eq + 1;
        if (!(end < n && b[end] == '"')) while (end < n && !is_space(b[end])) end++;
        from = pair_at(t, b, n, ks, eq, end, base, slots, nslots, &s);
    }
    return s.nesc;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* 32 bytes of the line from `at` (at < n); bytes past n are whatever follows, or zero. A load
   that would cross a page boundary past the line's end is made from a copy, so that no load
   touches a page the line does not reach. */
__attribute__((target("avx2"), always_inline))
static inline __m256i load32(const uint8_t *b, size_t n, size_t at) {
    if (at + 32 <= n || (((uintptr_t)(b + at) & 4095) <= 4096 - 32))
        return _mm256_loadu_si256((const __m256i *)(b + at));
    uint8_t tail[32] = {0};
    memcpy(tail, b + at, n - at);
    return _mm256_loadu_si256((const __m256i *)tail);
}

/* The bits of a 32-byte block at `at` that lie inside the line. */
static inline uint32_t inside(size_t n, size_t at) { return n - at >= 32 ? 0xFFFFFFFFu : (1u << (n - at)) - 1; }

/* The first '=' at or after `from`, or n. */
__attribute__((target("avx2"), always_inline))
static inline size_t next_eq(const uint8_t *b, size_t n, size_t from) {
    const __m256i c = _mm256_set1_epi8('=');
    for (; from < n; from += 32) {
        uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(load32(b, n, from), c)) & inside(n, from);
        if (m) return from + (size_t)__builtin_ctz(m);
    }
    return n;
}

/* The first space or tab at or after `from`, or n. */
__attribute__((target("avx2"), always_inline))
static inline size_t next_space(const uint8_t *b, size_t n, size_t from) {
    const __m256i sp = _mm256_set1_epi8(' '), tab = _mm256_set1_epi8('\t');
    for (; from < n; from += 32) {
        __m256i x = load32(b, n, from);
        uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(x, sp), _mm256_cmpeq_epi8(x, tab)))
                     & inside(n, from);
        if (m) return from + (size_t)__builtin_ctz(m);
    }
    return n;
}

/* Key bytes by nibble (Hyperscan's shufti): a byte is a key byte when lo[c & 15] & hi[c >> 4]
   is not 0. The bits: @ A-O; P-Z p-z; _; a-o; 0-9; - and . (bytes from 0x80 have none). */
static const uint8_t key_lo[16] = {
    0x01 | 0x02 | 0x10, 0x01 | 0x02 | 0x08 | 0x10, 0x01 | 0x02 | 0x08 | 0x10, 0x01 | 0x02 | 0x08 | 0x10,
    0x01 | 0x02 | 0x08 | 0x10, 0x01 | 0x02 | 0x08 | 0x10, 0x01 | 0x02 | 0x08 | 0x10, 0x01 | 0x02 | 0x08 | 0x10,
    0x01 | 0x02 | 0x08 | 0x10, 0x01 | 0x02 | 0x08 | 0x10, 0x01 | 0x02 | 0x08, 0x01 | 0x08,
    0x01 | 0x08, 0x01 | 0x08 | 0x20, 0x01 | 0x08 | 0x20, 0x01 | 0x04 | 0x08,
};
static const uint8_t key_hi[16] = {0, 0, 0x20, 0x10, 0x01, 0x02 | 0x04, 0x08, 0x02};

/* Bit i set when x's byte i cannot be in a key. */
__attribute__((target("avx2"), always_inline))
static inline uint32_t non_key_bytes(__m256i x) {
    const __m256i lo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)key_lo));
    const __m256i hi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)key_hi));
    const __m256i nib = _mm256_set1_epi8(0x0F);
    __m256i cls = _mm256_and_si256(_mm256_shuffle_epi8(lo, _mm256_and_si256(x, nib)),
                                   _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib)));
    return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(cls, _mm256_setzero_si256()));
}

/* Where the run of key bytes ending before b[eq] starts: from the 32 bytes before it at once,
   byte by byte only past a run that long. */
__attribute__((target("avx2"), always_inline))
static inline size_t key_start(const uint8_t *b, size_t n, size_t eq) {
    if (eq >= 32) {
        uint32_t stop = non_key_bytes(_mm256_loadu_si256((const __m256i *)(b + eq - 32)));
        if (stop) return eq - (size_t)__builtin_clz(stop);
        size_t ks = eq - 32;
        while (ks > 0 && is_key_byte(b[ks - 1])) ks--;
        return ks;
    }
    if (eq == 0) return 0;
    uint32_t stop = non_key_bytes(load32(b, n, 0)) & ((1u << eq) - 1);
    return stop ? 32 - (size_t)__builtin_clz(stop) : 0;
}

/* The definition's scan, its searches for '=', for a key's start and for a value's end 32
   bytes at a time. */
__attribute__((target("avx2")))
static int kv_fill_avx2(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
                        lw_kv_escaped *escaped, int max_escaped) {
    fill_state s;
    fill_init(&s, escaped, max_escaped);
    size_t from = 0;
    while (from < n) {
        size_t eq = next_eq(b, n, from);
        if (eq >= n) break;
        size_t ks = key_start(b, n, eq);
        from = eq + 1;
        if (!(ks < eq && (ks == 0 || is_space(b[ks - 1])))) continue;
        size_t end = eq + 1;
        if (!(end < n && b[end] == '"')) end = next_space(b, n, end);
        from = pair_at(t, b, n, ks, eq, end, base, slots, nslots, &s);
    }
    return s.nesc;
}
#endif

int lw_kv_fill(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
               lw_kv_escaped *escaped, int max_escaped) {
#if defined(__x86_64__)
    if (lw_has_avx2()) return kv_fill_avx2(t, b, n, base, slots, nslots, escaped, max_escaped);
#endif
    return kv_fill_scalar(t, b, n, base, slots, nslots, escaped, max_escaped);
}

/* For tests: the definition itself, whatever the processor. */
int lw_kv_fill_scalar(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
                      lw_kv_escaped *escaped, int max_escaped) {
    return kv_fill_scalar(t, b, n, base, slots, nslots, escaped, max_escaped);
}

/* The bytes after a backslash that the line gate reads: escapes that stand for a byte that
   joins runs in a subject anyway (a quote, a slash, a control byte). */
static inline int gate_escape(uint8_t c) {
    return c == '"' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't';
}

/* Whether the line gate can read a line (see lw_kv.h); one byte at a time from `i`. */
static int gate_readable_from(const uint8_t *p, size_t n, size_t i) {
    for (; i < n; i++) {
        if (p[i] >= 0x80 || p[i] == ']') return 0;
        if (p[i] == '\\' && (i + 1 == n || !gate_escape(p[i + 1]))) return 0;
    }
    return 1;
}

/* JSON strings: the first quote or backslash (SSE2, 16 bytes at a time, on x86-64). */
#if defined(__x86_64__)
#include <emmintrin.h>
size_t lw_quote_or_backslash(const uint8_t *p, size_t n) {
    size_t i = 0;
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        if (m) return i + (size_t)__builtin_ctz((unsigned)m);
    }
    for (; i < n; i++) if (p[i] == '"' || p[i] == '\\') return i;
    return n;
}
int lw_gate_readable(const uint8_t *p, size_t n) {
    size_t i = 0;
    const __m128i bracket = _mm_set1_epi8(']'), backslash = _mm_set1_epi8('\\');
    for (; i + 17 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        int m = _mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, bracket)));
        if (m) return 0;
        /* A backslash: its escape is looked at one byte at a time (rare outside JSON escapes). */
        int b = _mm_movemask_epi8(_mm_cmpeq_epi8(v, backslash));
        while (b) {
            int j = __builtin_ctz((unsigned)b);
            if (!gate_escape(p[i + (size_t)j + 1])) return 0;
            b &= b - 1;
        }
    }
    return gate_readable_from(p, n, i);
}
#else
int lw_gate_readable(const uint8_t *p, size_t n) { return gate_readable_from(p, n, 0); }

size_t lw_quote_or_backslash(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n && p[i] != '"' && p[i] != '\\') i++;
    return i;
}
#endif
