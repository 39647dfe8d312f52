// The process's table of interned names (lw_names.h): lookups without a lock, for the workers'
// hot path, where every lock record names a profile, a symbol and a host.
//
// Bytes live in 1 MiB blocks and each id's place (block, offset, length) in pages of 2^16
// places; neither ever moves, so a reader needs no lock to read them. The index is open
// addressing over 64-bit slots (the hash's high half, then id + 1; 0 is empty), published
// through an atomic pointer. A writer, under the lock, stores the bytes and the place first
// and then the slot with release order, so a reader that sees a slot (acquire) sees its bytes.
// Growing makes a new index, fills it, then publishes it; the old one is kept (a reader may
// still be probing it, and finds there every name it held) and freed with the table.
#include "lw_names.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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

#define BLOCK_BYTES (1u << 20)
#define MAX_BLOCKS (1u << 16)
#define PAGE_PLACES (1u << 16)
#define MAX_PAGES (1u << 16)

typedef struct index {
    size_t cap;                 /* a power of two, at most half full */
    struct index *older;        /* the index this one replaced, freed with the table */
    _Atomic uint64_t slot[];
} index_t;

struct lw_intern {
    pthread_mutex_t lock;
    _Atomic(index_t *) index;
    /* Below: written under the lock; a place and its bytes are read without it once the
       slot that names them is seen. */
    uint8_t *block[MAX_BLOCKS];
    uint32_t blocks, block_used;
    uint64_t *page[MAX_PAGES];  /* per id: block << 40 | offset << 20 | length */
    _Atomic uint32_t count;
};

static index_t *index_new(size_t cap, index_t *older) {
    index_t *x = calloc(1, sizeof *x + cap * sizeof x->slot[0]);
    if (!x) return NULL;
    x->cap = cap;
    x->older = older;
    /* Written now, so that no probe maps the zero page that a first insert must then copy
       (a copy-on-write fault whose TLB flush stops every other thread). */
    for (size_t i = 0; i < cap; i += 4096 / sizeof x->slot[0]) atomic_store_explicit(&x->slot[i], 0, memory_order_relaxed);
    return x;
}

lw_intern *lw_intern_new(void) {
    lw_intern *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    pthread_mutex_init(&t->lock, NULL);
    index_t *x = index_new(1024, NULL);
    if (!x) { free(t); return NULL; }
    atomic_store_explicit(&t->index, x, memory_order_release);
    return t;
}

static inline uint64_t place_of(const lw_intern *t, uint32_t id) { return t->page[id / PAGE_PLACES][id % PAGE_PLACES]; }

static inline const uint8_t *bytes_of(const lw_intern *t, uint64_t place, size_t *n) {
    *n = (size_t)(place & 0xFFFFF);
    return t->block[place >> 40] + ((place >> 20) & 0xFFFFF);
}

const uint8_t *lw_intern_bytes(const lw_intern *t, uint32_t id, size_t *n) { return bytes_of(t, place_of(t, id), n); }

uint32_t lw_intern_count(const lw_intern *t) { return atomic_load_explicit(&t->count, memory_order_acquire); }

/* The id of the bytes in index x, or UINT32_MAX; *at is the empty slot where the probe ended. */
static uint32_t probe(const lw_intern *t, index_t *x, const uint8_t *p, size_t n, uint64_t h, size_t *at) {
    size_t mask = x->cap - 1;
    uint64_t tag = h >> 32;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t s = atomic_load_explicit(&x->slot[i], memory_order_acquire);
        if (s == 0) { *at = i; return UINT32_MAX; }
        if (s >> 32 == tag) {
            uint32_t id = (uint32_t)s - 1;
            size_t len;
            const uint8_t *b = bytes_of(t, place_of(t, id), &len);
            if (len == n && same(b, p, n)) return id;
        }
    }
}

static void place_slot(index_t *x, uint64_t h, uint32_t id) {
    size_t mask = x->cap - 1;
    size_t i = (size_t)h & mask;
    while (atomic_load_explicit(&x->slot[i], memory_order_relaxed)) i = (i + 1) & mask;
    atomic_store_explicit(&x->slot[i], (h >> 32) << 32 | ((uint64_t)id + 1), memory_order_release);
}

/* Under the lock: a new id for the bytes, their place stored; UINT32_MAX when memory runs out. */
static uint32_t store(lw_intern *t, const uint8_t *p, size_t n) {
    uint32_t id = atomic_load_explicit(&t->count, memory_order_relaxed);
    if (id == UINT32_MAX - 1 || id / PAGE_PLACES >= MAX_PAGES) return UINT32_MAX;
    if (t->blocks == 0 || t->block_used + n > BLOCK_BYTES) {
        if (t->blocks == MAX_BLOCKS) return UINT32_MAX;
        uint8_t *b = malloc(BLOCK_BYTES);
        if (!b) return UINT32_MAX;
        t->block[t->blocks++] = b;
        t->block_used = 0;
    }
    if (!t->page[id / PAGE_PLACES]) {
        uint64_t *pg = malloc(PAGE_PLACES * sizeof *pg);
        if (!pg) return UINT32_MAX;
        t->page[id / PAGE_PLACES] = pg;
    }
    if (n) memcpy(t->block[t->blocks - 1] + t->block_used, p, n);
    t->page[id / PAGE_PLACES][id % PAGE_PLACES] = (uint64_t)(t->blocks - 1) << 40 | (uint64_t)t->block_used << 20 | n;
    t->block_used += (uint32_t)n;
    atomic_store_explicit(&t->count, id + 1, memory_order_release);
    return id;
}

uint32_t lw_intern_name(lw_intern *t, const uint8_t *p, size_t n) {
    if (n >= BLOCK_BYTES) return UINT32_MAX;
    uint64_t h = lw_name_hash(p, n);
    size_t at;
    uint32_t id = probe(t, atomic_load_explicit(&t->index, memory_order_acquire), p, n, h, &at);
    if (id != UINT32_MAX) return id;
    pthread_mutex_lock(&t->lock);
    index_t *x = atomic_load_explicit(&t->index, memory_order_relaxed);
    id = probe(t, x, p, n, h, &at);
    if (id == UINT32_MAX && (id = store(t, p, n)) != UINT32_MAX) {
        if ((size_t)(id + 1) * 2 > x->cap) {
            index_t *bigger = index_new(x->cap * 2, x);
            if (bigger) {
                for (uint32_t k = 0; k < id; k++) {
                    size_t len;
                    const uint8_t *b = bytes_of(t, place_of(t, k), &len);
                    place_slot(bigger, lw_name_hash(b, len), k);
                }
                atomic_store_explicit(&t->index, bigger, memory_order_release);
                x = bigger;
            }
        }
        if ((size_t)id + 1 < x->cap) place_slot(x, h, id);
        else id = UINT32_MAX;   /* no memory to grow a full index */
    }
    pthread_mutex_unlock(&t->lock);
    return id;
}
