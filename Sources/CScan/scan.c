#define _GNU_SOURCE
#include "lw_literals.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* A rough rarity rank of bytes in log text (lower is rarer): anchors are the two rarest bytes
   of a literal, so that a pair of them at the right distance almost never occurs by chance. */
static int rank(uint8_t c, int fold) {
    uint8_t l = (fold && c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
    static const char *common = " etaoinsrhldcumfpgwybvkxjqz";     /* English order, most common first */
    if (l >= '0' && l <= '9') return 200;
    if (l == '=' || l == '_' || l == '-' || l == ':' || l == '.' || l == ',' || l == '"' || l == '/') return 150;
    const char *hit = memchr(common, l, 27);
    int base = hit ? 120 - (int)(hit - common) * 4 : 10;
    if (c >= 'A' && c <= 'Z' && !fold) base = 20;   /* upper case is rare in most log text */
    if (fold && l >= 'a' && l <= 'z') base += 6;    /* both cases count */
    return base;
}

static int is_letter(uint8_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

int lw_literals_add(lw_literals *set, const uint8_t *bytes, size_t len, int fold) {
    if (set->count >= LW_MAX_LITERALS || len == 0 || len > LW_MAX_LITERAL_LEN) return -1;
    int k = set->count;
    for (size_t i = 0; i < len; i++) {
        int folded = fold && is_letter(bytes[i]);
        set->cmask[k][i] = folded ? 0x20 : 0;
        set->lower[k][i] = folded ? (uint8_t)(bytes[i] | 0x20) : bytes[i];
    }
    set->len[k] = (uint8_t)len;
    size_t a = 0, b = len > 1 ? 1 : 0;
    for (size_t i = 0; i < len; i++) if (rank(bytes[i], fold) < rank(bytes[a], fold)) a = i;
    if (len > 1) {
        b = a == 0 ? 1 : 0;
        for (size_t i = 0; i < len; i++) if (i != a && rank(bytes[i], fold) < rank(bytes[b], fold)) b = i;
    }
    if (b < a) { size_t t = a; a = b; b = t; }
    set->off1[k] = (uint8_t)a; set->off2[k] = (uint8_t)b;
    uint8_t c1 = bytes[a], c2 = bytes[b];
    set->mask1[k] = (fold && is_letter(c1)) ? 0x20 : 0;
    set->mask2[k] = (fold && is_letter(c2)) ? 0x20 : 0;
    set->byte1[k] = c1 | set->mask1[k];
    set->byte2[k] = c2 | set->mask2[k];

    /* The Teddy window: three consecutive bytes holding the rarest byte, the rarest such. */
    size_t w = 0, wlen = len < 3 ? len : 3;
    int best_min = 1 << 30, best_sum = 1 << 30;
    for (size_t i = 0; i + wlen <= len; i++) {
        int sum = 0, least = 1 << 30;
        for (size_t j = 0; j < wlen; j++) {
            int r = rank(bytes[i + j], fold);
            sum += r;
            if (r < least) least = r;
        }
        if (least < best_min || (least == best_min && sum < best_sum)) { best_min = least; best_sum = sum; w = i; }
    }
    set->woff[k] = (uint8_t)w;
    uint8_t bit = (uint8_t)(1u << (k % 8));
    for (size_t j = 0; j < 3; j++) {
        if (j >= wlen) {   /* a short literal accepts any byte here */
            for (int x = 0; x < 16; x++) { set->lo[j][x] |= bit; set->hi[j][x] |= bit; }
            continue;
        }
        uint8_t c = bytes[w + j];
        set->lo[j][c & 15] |= bit; set->hi[j][c >> 4] |= bit;
        if (fold && is_letter(c)) {
            uint8_t o = c ^ 0x20;
            set->lo[j][o & 15] |= bit; set->hi[j][o >> 4] |= bit;
        }
    }
    set->count++;
    return 0;
}

static inline int matches_at(const lw_literals *set, int k, const uint8_t *p, size_t avail) {
    size_t len = set->len[k], i = 0;
    if (avail < len) return 0;
    const uint8_t *lower = set->lower[k], *cmask = set->cmask[k];
    for (; i + 8 <= len; i += 8) {
        uint64_t a, m, l;
        memcpy(&a, p + i, 8); memcpy(&m, cmask + i, 8); memcpy(&l, lower + i, 8);
        if ((a | m) != l) return 0;
    }
    for (; i < len; i++) if ((uint8_t)(p[i] | cmask[i]) != lower[i]) return 0;
    return 1;
}

static int any_literal_at(const lw_literals *set, const uint8_t *p, size_t avail) {
    for (int k = 0; k < set->count; k++) if (matches_at(set, k, p, avail)) return 1;
    return 0;
}

static size_t find_scalar(const lw_literals *set, const uint8_t *p, size_t n, size_t from) {
    for (size_t i = from; i < n; i++) {
        for (int k = 0; k < set->count; k++) {
            size_t o1 = set->off1[k], o2 = set->off2[k];
            if (i + set->len[k] > n) continue;
            if ((uint8_t)(p[i + o1] | set->mask1[k]) != set->byte1[k]) continue;
            if ((uint8_t)(p[i + o2] | set->mask2[k]) != set->byte2[k]) continue;
            if (matches_at(set, k, p + i, n - i)) return i;
        }
    }
    return n;
}

#if defined(__x86_64__)
/* Teddy (after Hyperscan and ripgrep): one pass whose cost does not grow with the number of
   literals. Each position's three bytes are looked up by low and high nibble in per-bucket
   bit tables; a position where all three agree on a bucket is verified in full. */
__attribute__((target("avx2"), always_inline))
static inline __m256i teddy_block(const uint8_t *q, const __m256i *lo, const __m256i *hi, __m256i nib) {
    __m256i acc = _mm256_set1_epi8((char)0xFF);
    for (int j = 0; j < 3; j++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(q + j));
        __m256i l = _mm256_shuffle_epi8(lo[j], _mm256_and_si256(x, nib));
        __m256i h = _mm256_shuffle_epi8(hi[j], _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
        acc = _mm256_and_si256(acc, _mm256_and_si256(l, h));
    }
    return acc;
}

/* The set's nibble tables, in both lanes. */
__attribute__((target("avx2"), always_inline))
static inline void teddy_tables(const lw_literals *set, __m256i lo[3], __m256i hi[3]) {
    for (int j = 0; j < 3; j++) {
        lo[j] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)set->lo[j]));
        hi[j] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)set->hi[j]));
    }
}

/* Verifies the candidates of one 32-byte block. Without `found`, returns the start of the first
   literal verified, or (size_t)-1; with it, adds every literal verified to *found (those already
   there are not tried again) and returns (size_t)-1. */
__attribute__((target("avx2"), noinline))
static size_t teddy_verify(const lw_literals *set, const uint8_t *p, size_t n, size_t i, __m256i acc, uint32_t bits,
                           uint32_t *found) {
    uint8_t buckets[32];
    _mm256_storeu_si256((__m256i *)buckets, acc);
    while (bits) {
        int j = __builtin_ctz(bits);
        size_t at = i + (size_t)j;
        /* The literals of each bucket whose bit is set (k, k + 8: bucket k % 8). */
        for (uint32_t b = buckets[j]; b; b &= b - 1) {
            for (int k = __builtin_ctz(b); k < set->count; k += 8) {
                if (at < set->woff[k] || (found && ((*found >> k) & 1u))) continue;
                size_t start = at - set->woff[k];
                if (!matches_at(set, k, p + start, n - start)) continue;
                if (!found) return start;
                *found |= 1u << k;
            }
        }
        bits &= bits - 1;
    }
    return (size_t)-1;
}

__attribute__((target("avx2")))
static size_t count_avx2(const uint8_t *p, size_t n);

static uint32_t present_scalar(const lw_literals *set, const uint8_t *p, size_t n, size_t from, uint32_t found);

/* lw_literals_present for n >= 34: Teddy over every window position up to n - 3 (the last
   block ends at the text's end, positions searched before masked off), then the literals
   shorter than a window that start in the last two bytes. */
__attribute__((target("avx2")))
static uint32_t present_avx2(const lw_literals *set, const uint8_t *p, size_t n) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    const __m256i zero = _mm256_setzero_si256();
    __m256i lo[3], hi[3];
    teddy_tables(set, lo, hi);
    const uint32_t all = (1u << set->count) - 1u;
    uint32_t found = 0;
    size_t i = 0, last = n - 34;
    for (;;) {
        size_t at0 = i <= last ? i : last;
        __m256i a = teddy_block(p + at0, lo, hi, nib);
        uint32_t bits = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, zero));
        if (at0 < i) bits &= ~((1u << (i - at0)) - 1u);
        if (bits) teddy_verify(set, p, n, at0, a, bits, &found);
        if (found == all) return found;
        if (at0 == last) break;
        i += 32;
    }
    return present_scalar(set, p, n, n - 2, found);
}

/* Teddy over p[0..n); with `newlines`, also counts the '\n' bytes before the result in the
   same pass (the lines a chunk scan skips are counted without reading them twice). */
__attribute__((target("avx2")))
static size_t find_avx2(const lw_literals *set, const uint8_t *p, size_t n, size_t *newlines) {
    size_t i = 0, nl = 0;
    const __m256i nib = _mm256_set1_epi8(0x0F);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i eol = _mm256_set1_epi8('\n');
    __m256i lo[3], hi[3];
    teddy_tables(set, lo, hi);
    size_t r = (size_t)-1;
    while (n >= 66 && i <= n - 66) {
        __m256i a = teddy_block(p + i, lo, hi, nib);
        __m256i b = teddy_block(p + i + 32, lo, hi, nib);
        if (!_mm256_testz_si256(_mm256_or_si256(a, b), _mm256_or_si256(a, b))) {
            uint32_t ba = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, zero));
            if (ba) { r = teddy_verify(set, p, n, i, a, ba, NULL); if (r != (size_t)-1) break; }
            uint32_t bb = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, zero));
            if (bb) { r = teddy_verify(set, p, n, i + 32, b, bb, NULL); if (r != (size_t)-1) break; }
        }
        if (newlines) {
            uint32_t ma = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), eol));
            uint32_t mb = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + 32)), eol));
            nl += (size_t)(__builtin_popcount(ma) + __builtin_popcount(mb));
        }
        i += 64;
    }
    /* The tail, which is most of a short text (a record's subject): 32-byte blocks, then one
       block ending at the text's end, overlapping what was searched (positions before i are
       masked off); every window position up to n - 3 is then covered. */
    while (r == (size_t)-1 && n >= 34 && i <= n - 34) {
        __m256i a = teddy_block(p + i, lo, hi, nib);
        uint32_t ba = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, zero));
        if (ba) { r = teddy_verify(set, p, n, i, a, ba, NULL); if (r != (size_t)-1) break; }
        if (newlines) {
            uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), eol));
            nl += (size_t)__builtin_popcount(m);
        }
        i += 32;
    }
    if (r == (size_t)-1 && n >= 34) {
        if (i < n - 2) {
            size_t t = n - 34;
            __m256i a = teddy_block(p + t, lo, hi, nib);
            uint32_t ba = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, zero));
            if (t < i) ba &= ~((1u << (i - t)) - 1u);
            if (ba) r = teddy_verify(set, p, n, t, a, ba, NULL);
        }
        /* Only a literal shorter than a window can start in the last two bytes. */
        if (r == (size_t)-1) r = find_scalar(set, p, n, n - 2);
    } else if (r == (size_t)-1) {
        /* Shorter than a block: windows at i and later; literals may start up to the largest
           offset before. */
        size_t back = 0;
        for (int k = 0; k < set->count; k++) if (set->woff[k] > back) back = set->woff[k];
        r = find_scalar(set, p, n, i > back ? i - back : 0);
    }
    /* `nl` counts p[0..i); move it to p[0..r). */
    if (newlines) *newlines = r >= i ? nl + count_avx2(p + i, r - i) : nl - count_avx2(p + r, i - r);
    return r;
}

/* One literal (a rule's gate, the skip phrase): its two rarest bytes compared at their
   distance, 32 positions at a time — two loads and two compares where Teddy needs three loads
   and six shuffles — then the full compare. */
__attribute__((target("avx2")))
static size_t find_pair_avx2(const lw_literals *set, const uint8_t *p, size_t n) {
    size_t o1 = set->off1[0], o2 = set->off2[0], len = set->len[0];
    if (n < len) return n;
    const __m256i m1 = _mm256_set1_epi8((char)set->mask1[0]), m2 = _mm256_set1_epi8((char)set->mask2[0]);
    const __m256i b1 = _mm256_set1_epi8((char)set->byte1[0]), b2 = _mm256_set1_epi8((char)set->byte2[0]);
    if (n < o2 + 32) return find_scalar(set, p, n, 0);
    /* Blocks of 32 start positions, then one block ending where the second anchor meets the
       end, overlapping what was searched (positions before i masked off): every start up to
       n - len is covered. */
    size_t i = 0, last = n - o2 - 32;
    for (;;) {
        size_t at0 = i <= last ? i : last;
        __m256i x = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(p + at0 + o1)), m1);
        __m256i y = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(p + at0 + o2)), m2);
        uint32_t bits = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(x, b1), _mm256_cmpeq_epi8(y, b2)));
        if (at0 < i) bits &= ~((1u << (i - at0)) - 1u);
        while (bits) {
            size_t at = at0 + (size_t)__builtin_ctz(bits);
            if (matches_at(set, 0, p + at, n - at)) return at;
            bits &= bits - 1;
        }
        if (at0 == last) return n;
        i += 32;
    }
}

__attribute__((target("avx2")))
static size_t count_avx2(const uint8_t *p, size_t n) {
    size_t i = 0, total = 0;
    const __m256i nl = _mm256_set1_epi8('\n');
    while (i + 128 <= n) {
        uint32_t a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), nl));
        uint32_t b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + 32)), nl));
        uint32_t c = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + 64)), nl));
        uint32_t d = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + 96)), nl));
        total += (size_t)(__builtin_popcount(a) + __builtin_popcount(b) + __builtin_popcount(c) + __builtin_popcount(d));
        i += 128;
    }
    for (; i + 32 <= n; i += 32)
        total += (size_t)__builtin_popcount((uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), nl)));
    if (i < n && n >= 32) {
        /* The last block ends at n, overlapping what was counted: positions before i masked off. */
        uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + n - 32)), nl));
        return total + (size_t)__builtin_popcount(m >> (32 - (n - i)));
    }
    for (; i < n; i++) total += p[i] == '\n';
    return total;
}

int lw_has_avx2(void) {
    static int cached = -1;
    if (cached < 0) { __builtin_cpu_init(); cached = __builtin_cpu_supports("avx2") ? 1 : 0; }
    return cached;
}
#else
int lw_has_avx2(void) { return 0; }
#endif

size_t lw_find_literal(const lw_literals *set, const uint8_t *p, size_t n) {
    if (set->count == 0) return 0;
#if defined(__x86_64__)
    if (lw_has_avx2()) return set->count == 1 ? find_pair_avx2(set, p, n) : find_avx2(set, p, n, NULL);
#endif
    return find_scalar(set, p, n, 0);
}

/* Adds to `found` the literals that start at or after `from`. */
static uint32_t present_scalar(const lw_literals *set, const uint8_t *p, size_t n, size_t from, uint32_t found) {
    const uint32_t all = (1u << set->count) - 1u;
    for (size_t i = from; i < n && found != all; i++) {
        for (int k = 0; k < set->count; k++) {
            if ((found >> k) & 1u || i + set->len[k] > n) continue;
            if ((uint8_t)(p[i + set->off1[k]] | set->mask1[k]) != set->byte1[k]) continue;
            if ((uint8_t)(p[i + set->off2[k]] | set->mask2[k]) != set->byte2[k]) continue;
            if (matches_at(set, k, p + i, n - i)) found |= 1u << k;
        }
    }
    return found;
}

uint32_t lw_literals_present(const lw_literals *set, const uint8_t *p, size_t n) {
    if (set->count == 0) return 0;
#if defined(__x86_64__)
    if (lw_has_avx2() && n >= 34) return present_avx2(set, p, n);
#endif
    return present_scalar(set, p, n, 0, 0);
}

size_t lw_find_literal_counting(const lw_literals *set, const uint8_t *p, size_t n, size_t *newlines) {
    if (set->count == 0) { *newlines = 0; return 0; }
#if defined(__x86_64__)
    if (lw_has_avx2()) return find_avx2(set, p, n, newlines);
#endif
    size_t r = find_scalar(set, p, n, 0);
    *newlines = lw_count_newlines(p, r);
    return r;
}

static inline int is_word(uint8_t c) {
    return (unsigned)((c | 0x20) - 'a') < 26 || (unsigned)(c - '0') < 10 || c == '_';
}

int lw_literal_proves(const lw_literals *set, size_t len, int before, int after, const uint8_t *p, size_t n) {
    size_t from = 0;
    int seen = 0;
    while (from + len <= n) {
        size_t at = from + lw_find_literal(set, p + from, n - from);
        if (at >= n) break;
        size_t end = at + len;
        int ok = !(before && at > 0 && is_word(p[at - 1]))
            && !(after && end < n && (is_word(p[end]) || (after == 2 && p[end] == '-')));
        if (ok) return 1;
        seen = 1;
        from = at + 1;
    }
    return seen ? -1 : 0;
}

int lw_literal_at(const lw_literals *set, const uint8_t *p, size_t avail) { return any_literal_at(set, p, avail); }

size_t lw_count_newlines(const uint8_t *p, size_t n) {
#if defined(__x86_64__)
    if (lw_has_avx2()) return count_avx2(p, n);
#endif
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += p[i] == '\n';
    return total;
}

void *lw_memrchr(const void *s, int c, size_t n) { return memrchr(s, c, n); }
