// A thread's cache of interned names, looked up by their bytes (the worker's hot path).
#include "lw_names.h"
#include <stdlib.h>
#include <string.h>

/* A zeroed table whose pages are written now. calloc leaves a fresh mapping's pages
   unwritten, so the first probe would map the shared zero page and the first insert then take
   a copy-on-write fault whose TLB flush interrupts every other thread of the process. (A
   memset after malloc is no cure: the compiler folds the two into calloc.) */
static void *zeroed(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    size_t n = count * size;
    uint8_t *p = calloc(1, n);
    if (p) for (size_t i = 0; i < n; i += 4096) ((volatile uint8_t *)p)[i] = 0;
    return p;
}

static inline uint64_t load8(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

uint64_t lw_name_hash(const uint8_t *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        h = (h ^ load8(p + i)) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 29;
    }
    uint64_t tail = 0;
    if (i < n) {
        /* The last n - i bytes in the low bytes of the word (the last 8 bytes loaded and
           shifted when there are that many, so that no byte is read twice into the sum). */
        if (n >= 8) tail = load8(p + n - 8) >> (8 * (8 - (n - i)));
        else memcpy(&tail, p + i, n - i);
    }
    h = (h ^ tail) * 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

/* Whether a and b, n bytes each, are equal: a word at a time, the last word overlapping. */
static inline int same(const uint8_t *a, const uint8_t *b, size_t n) {
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) if (load8(a + i) != load8(b + i)) return 0;
        return i == n || load8(a + n - 8) == load8(b + n - 8);
    }
    for (size_t i = 0; i < n; i++) if (a[i] != b[i]) return 0;
    return 1;
}

lw_names *lw_names_new(size_t limit) {
    lw_names *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cap = 64;
    c->slots = zeroed(c->cap, sizeof *c->slots);
    c->limit = limit;
    if (!c->slots) { free(c); return NULL; }
    return c;
}

void lw_names_free(lw_names *c) {
    if (!c) return;
    free(c->slots);
    free(c->arena);
    free(c);
}

uint32_t lw_names_find(const lw_names *c, const uint8_t *p, size_t n, uint64_t *hash) {
    uint64_t h = lw_name_hash(p, n);
    *hash = h;
    size_t mask = c->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const lw_name_slot *s = &c->slots[i];
        if (!s->used) return UINT32_MAX;
        if (s->hash == h && s->len == n && same(c->arena + s->start, p, n)) return s->name;
    }
}

static void place(lw_name_slot *slots, size_t cap, lw_name_slot s) {
    size_t i = (size_t)s.hash & (cap - 1);
    while (slots[i].used) i = (i + 1) & (cap - 1);
    slots[i] = s;
}

int lw_names_put(lw_names *c, const uint8_t *p, size_t n, uint64_t hash, uint32_t name) {
    if (c->used >= c->limit) {
        /* Full: start over, so that the cache's memory does not grow with the input. */
        memset(c->slots, 0, c->cap * sizeof *c->slots);
        c->arena_len = 0;
        c->used = 0;
    }
    if (n > UINT32_MAX || c->arena_len + n > UINT32_MAX) return -1;
    if (c->arena_len + n > c->arena_cap) {
        size_t cap = c->arena_cap ? c->arena_cap : 4096;
        while (cap < c->arena_len + n) cap *= 2;
        uint8_t *a = realloc(c->arena, cap);
        if (!a) return -1;
        c->arena = a;
        c->arena_cap = cap;
    }
    if ((c->used + 1) * 2 > c->cap) {
        size_t cap = c->cap * 2;
        lw_name_slot *slots = zeroed(cap, sizeof *slots);
        if (!slots) return -1;
        for (size_t i = 0; i < c->cap; i++) if (c->slots[i].used) place(slots, cap, c->slots[i]);
        free(c->slots);
        c->slots = slots;
        c->cap = cap;
    }
    if (n) memcpy(c->arena + c->arena_len, p, n);
    lw_name_slot s = { .hash = hash, .start = (uint32_t)c->arena_len, .len = (uint32_t)n, .name = name, .used = 1 };
    place(c->slots, c->cap, s);
    c->arena_len += n;
    c->used++;
    return 0;
}
