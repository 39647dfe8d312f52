// key=value pairs: the scan that finds a record's fields in its text, as one tight loop.
#include "lwscan.h"
#include <string.h>

static inline uint64_t head8(const uint8_t *k, size_t len) {
    uint64_t v = 0;
    if (len >= 8) { memcpy(&v, k, 8); return v; }
    memcpy(&v, k, len);   // little-endian, zero-padded
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

static inline int lookup(const lw_keytable *t, const uint8_t *key, size_t len) {
    if (len == 0 || len > LW_KEY_MAX_LEN) return -1;
    uint64_t h = head8(key, len);
    for (size_t i = slot_of(h, len);; i = (i + 1) & (LW_KEY_SLOTS - 1)) {
        if (t->slot[i].len == 0) return -1;
        if (t->slot[i].head == h && t->slot[i].len == len && (len <= 8 || same_rest(t->slot[i].rest, key + 8, len - 8)))
            return t->slot[i].field;
    }
}

int lw_keytable_add(lw_keytable *t, const uint8_t *key, size_t len, int field) {
    if (len == 0 || len > LW_KEY_MAX_LEN || field < 0 || field > 255) return -1;
    if (lookup(t, key, len) >= 0) return 0;   /* the first one added wins */
    if ((t->count + 1) * 4 > LW_KEY_SLOTS) return -1;
    uint64_t h = head8(key, len);
    size_t i = slot_of(h, len);
    while (t->slot[i].len != 0) i = (i + 1) & (LW_KEY_SLOTS - 1);
    t->slot[i].head = h;
    t->slot[i].len = (uint8_t)len;
    t->slot[i].field = (uint8_t)field;
    if (len > 8) memcpy(t->slot[i].rest, key + 8, len - 8);
    t->count++;
    return 0;
}

int lw_keytable_lookup(const lw_keytable *t, const uint8_t *key, size_t len) { return lookup(t, key, len); }

/* Byte classes: 1 a key byte (letters, digits, _ @ . -), 2 a space or tab. */
static const uint8_t byte_class[256] = {
    ['\t'] = 2, [' '] = 2, ['-'] = 1, ['.'] = 1, ['@'] = 1, ['_'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static inline int is_space(uint8_t c) { return byte_class[c] == 2; }
static inline int is_key_byte(uint8_t c) { return byte_class[c] == 1; }

/* A pair found: fills the field's slot, or notes an escaped value (SPEC: the first value wins). */
static inline void take_pair(const lw_keytable *t, const uint8_t *b, size_t ks, size_t eq, size_t vs, size_t ve, int esc,
                             size_t base, uint64_t *slots, int nslots, lw_kv_escaped *escaped, int max_escaped,
                             int *nesc, uint32_t *escaped_fields) {
    int f = lookup(t, b + ks, eq - ks);
    if (f < 0 || f >= nslots || slots[f] != 0) return;
    if (esc) {
        if (f < 32 && !(*escaped_fields & (1u << f)) && *nesc < max_escaped) {
            *escaped_fields |= 1u << f;
            escaped[*nesc].field = (uint32_t)f;
            escaped[*nesc].start = (uint32_t)(vs + base);
            escaped[*nesc].end = (uint32_t)(ve + base);
            (*nesc)++;
        }
    } else {
        slots[f] = (uint64_t)(vs + base + 1) | (uint64_t)(ve + base) << 32;
    }
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
__attribute__((always_inline)) static inline size_t pair_at(const lw_keytable *t, const uint8_t *b, size_t n, size_t ks, size_t eq, size_t plain_end,
                             size_t base, uint64_t *slots, int nslots, lw_kv_escaped *escaped, int max_escaped,
                             int *nesc, uint32_t *escaped_fields) {
    size_t i = eq + 1, vs = i, ve = plain_end;
    int esc = 0, take = 1;
    if (i < n && b[i] == '"') i = quoted_value(b, n, i, &vs, &ve, &esc, &take);
    else i = plain_end;
    if (take) take_pair(t, b, ks, eq, vs, ve, esc, base, slots, nslots, escaped, max_escaped, nesc, escaped_fields);
    return i;
}

/* The definition, a byte at a time: jumps from '=' to '=' and checks each key backwards. */
static int kv_fill_scalar(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
                          lw_kv_escaped *escaped, int max_escaped) {
    int nesc = 0;
    uint32_t escaped_fields = 0;
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
        from = pair_at(t, b, n, ks, eq, end, base, slots, nslots, escaped, max_escaped, &nesc, &escaped_fields);
    }
    return nesc;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define KV_MAX_WORDS 64   /* lines up to 4 KiB take the vector path */

/* Per 64 bytes of the line, bit masks of '=', of spaces and tabs, and of bytes that cannot be
   in a key; then the same scan as the definition, each step a bit search instead of a loop
   over bytes. */
__attribute__((target("avx2")))
static int kv_fill_avx2(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
                        lw_kv_escaped *escaped, int max_escaped) {
    uint64_t eqm[KV_MAX_WORDS], spm[KV_MAX_WORDS], nkm[KV_MAX_WORDS];
    size_t words = (n + 63) / 64;
    const __m256i c_eq = _mm256_set1_epi8('='), c_sp = _mm256_set1_epi8(' '), c_tab = _mm256_set1_epi8('\t');
    const __m256i c_20 = _mm256_set1_epi8(0x20), c_a1 = _mm256_set1_epi8('a' - 1), c_z1 = _mm256_set1_epi8('z' + 1);
    const __m256i c_01 = _mm256_set1_epi8('0' - 1), c_91 = _mm256_set1_epi8('9' + 1);
    const __m256i c_us = _mm256_set1_epi8('_'), c_at = _mm256_set1_epi8('@'), c_dot = _mm256_set1_epi8('.');
    const __m256i c_dash = _mm256_set1_epi8('-');
    uint8_t tail[32];
    for (size_t w = 0; w < words; w++) {
        uint64_t me = 0, ms = 0, mk = 0;
        for (int h = 0; h < 2; h++) {
            size_t at = w * 64 + (size_t)h * 32;
            if (at >= n) break;
            __m256i x;
            if (at + 32 <= n) {
                x = _mm256_loadu_si256((const __m256i *)(b + at));
            } else {
                memset(tail, 0, sizeof tail);
                memcpy(tail, b + at, n - at);
                x = _mm256_loadu_si256((const __m256i *)tail);
            }
            __m256i eq = _mm256_cmpeq_epi8(x, c_eq);
            __m256i sp = _mm256_or_si256(_mm256_cmpeq_epi8(x, c_sp), _mm256_cmpeq_epi8(x, c_tab));
            __m256i y = _mm256_or_si256(x, c_20);
            __m256i letter = _mm256_and_si256(_mm256_cmpgt_epi8(y, c_a1), _mm256_cmpgt_epi8(c_z1, y));
            __m256i digit = _mm256_and_si256(_mm256_cmpgt_epi8(x, c_01), _mm256_cmpgt_epi8(c_91, x));
            __m256i other = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(x, c_us), _mm256_cmpeq_epi8(x, c_at)),
                                            _mm256_or_si256(_mm256_cmpeq_epi8(x, c_dot), _mm256_cmpeq_epi8(x, c_dash)));
            __m256i key = _mm256_or_si256(_mm256_or_si256(letter, digit), other);
            me |= (uint64_t)(uint32_t)_mm256_movemask_epi8(eq) << (32 * h);
            ms |= (uint64_t)(uint32_t)_mm256_movemask_epi8(sp) << (32 * h);
            mk |= (uint64_t)(uint32_t)~_mm256_movemask_epi8(key) << (32 * h);
        }
        eqm[w] = me; spm[w] = ms; nkm[w] = mk;
    }
    int nesc = 0;
    uint32_t escaped_fields = 0;
    size_t from = 0;
    while (from < n) {
        /* The next '=' at or after `from`. */
        size_t w = from / 64;
        uint64_t m = eqm[w] & (~0ULL << (from % 64));
        while (!m && ++w < words) m = eqm[w];
        if (!m) break;
        size_t eq = w * 64 + (size_t)__builtin_ctzll(m);
        if (eq >= n) break;
        /* The key: back to the last byte before it that cannot be in a key. */
        size_t v = eq / 64;
        uint64_t k = nkm[v] & ((1ULL << (eq % 64)) - 1);
        while (!k && v > 0) k = nkm[--v];
        size_t ks = k ? v * 64 + 64 - (size_t)__builtin_clzll(k) : 0;
        from = eq + 1;
        if (!(ks < eq && (ks == 0 || is_space(b[ks - 1])))) continue;
        /* A plain value: up to the next space or tab, or the end. */
        size_t i = eq + 1, u = i / 64;
        uint64_t s2 = u < words ? spm[u] & (~0ULL << (i % 64)) : 0;
        while (!s2 && ++u < words) s2 = spm[u];
        size_t end = s2 ? u * 64 + (size_t)__builtin_ctzll(s2) : n;
        from = pair_at(t, b, n, ks, eq, end < n ? end : n, base, slots, nslots, escaped, max_escaped, &nesc, &escaped_fields);
    }
    return nesc;
}
#endif

int lw_kv_fill(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
               lw_kv_escaped *escaped, int max_escaped) {
#if defined(__x86_64__)
    if (n <= KV_MAX_WORDS * 64 && lw_has_avx2()) return kv_fill_avx2(t, b, n, base, slots, nslots, escaped, max_escaped);
#endif
    return kv_fill_scalar(t, b, n, base, slots, nslots, escaped, max_escaped);
}

/* For tests: the definition itself, whatever the processor. */
int lw_kv_fill_scalar(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
                      lw_kv_escaped *escaped, int max_escaped) {
    return kv_fill_scalar(t, b, n, base, slots, nslots, escaped, max_escaped);
}
