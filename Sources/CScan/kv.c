// key=value pairs: the scan that finds a record's fields in its text, as one tight loop.
#include "lwscan.h"
#include <string.h>

static inline uint64_t head8(const uint8_t *k, size_t len) {
    uint64_t v = 0;
    if (len >= 8) { memcpy(&v, k, 8); return v; }
    memcpy(&v, k, len);   // little-endian, zero-padded
    return v;
}

int lw_keytable_add(lw_keytable *t, const uint8_t *key, size_t len, int field) {
    if (len == 0 || len > LW_KEY_MAX_LEN || field < 0 || field > 255) return -1;
    if (t->count[len] >= LW_KEYS_PER_LEN) return -1;
    int k = t->count[len]++;
    t->key[len][k].head = head8(key, len);
    if (len > 8) memcpy(t->key[len][k].rest, key + 8, len - 8);
    t->key[len][k].field = (uint8_t)field;
    return 0;
}

static inline int same_rest(const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) if (a[i] != b[i]) return 0;
    return 1;
}

static inline int lookup(const lw_keytable *t, const uint8_t *key, size_t len) {
    if (len == 0 || len > LW_KEY_MAX_LEN) return -1;
    uint64_t h = head8(key, len);
    for (int k = 0; k < t->count[len]; k++) {
        if (t->key[len][k].head != h) continue;
        if (len <= 8 || same_rest(t->key[len][k].rest, key + 8, len - 8)) return t->key[len][k].field;
    }
    return -1;
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

int lw_kv_fill(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
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
        size_t i = eq + 1, vs, ve;
        int esc = 0, take = 1;
        if (i < n && b[i] == '"') {
            i++;
            vs = i;
            while (i < n && b[i] != '"') {
                if (b[i] == '\\') { esc = 1; i++; }
                i++;
            }
            ve = i < n ? i : n;
            i = i + 1 < n ? i + 1 : n;
            take = i == n || is_space(b[i]);
        } else {
            vs = i;
            while (i < n && !is_space(b[i])) i++;
            ve = i;
        }
        from = i;
        if (!take) continue;
        int f = lookup(t, b + ks, eq - ks);
        if (f < 0 || f >= nslots || slots[f] != 0) continue;
        if (esc) {
            if (f < 32 && !(escaped_fields & (1u << f)) && nesc < max_escaped) {
                escaped_fields |= 1u << f;
                escaped[nesc].field = (uint32_t)f;
                escaped[nesc].start = (uint32_t)(vs + base);
                escaped[nesc].end = (uint32_t)(ve + base);
                nesc++;
            }
        } else {
            slots[f] = (uint64_t)(vs + base + 1) | (uint64_t)(ve + base) << 32;
        }
    }
    return nesc;
}
