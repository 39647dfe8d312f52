// The process's table of interned names (lw_names.h): lookups without a lock, for the workers'
// hot path, where every lock record names a profile, a symbol and a host.
//
// Bytes live in 2 MiB blocks, each name as an entry: its id and length (4 bytes each), then
// its text. Each id's place (block << 21 | offset of its entry) is kept in pages of 2^16
// places. Neither blocks nor pages ever move, and the table lives as long as the process, so
// a reader needs no lock to read them. The index is open addressing over 64-bit slots (the
// hash's top 24 bits, then the place plus one; 0 is empty), so that a lookup reads one slot
// and one entry; it is published through an atomic pointer. A writer, under the lock, stores
// the entry and its place first and then the slot with release order, so a reader that sees a
// slot (acquire) sees its entry. Growing fills a new index, then publishes it; the old one is
// never written again and never freed (a reader may still be probing it, and finds there every
// name it held; the indexes replaced sum to less than the last).
#include "lw_names.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t load8(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* A hash of short byte strings: a word at a time, multiplied and folded. */
static uint64_t name_hash(const uint8_t *p, size_t n) {
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

#define BLOCK_BYTES (1u << 21)
#define OFFSET_BITS 21
#define MAX_BLOCKS (1u << 16)
#define PAGE_PLACES (1u << 16)
#define MAX_PAGES (1u << 16)

typedef struct {
    size_t cap;                 /* a power of two, at most half full (while memory lasts) */
    _Atomic uint64_t slot[];
} index_t;

struct lw_intern {
    pthread_mutex_t lock;
    _Atomic(index_t *) index;
    /* Below: written under the lock; a place and its bytes are read without it once the
       slot that names them is seen. */
    uint8_t *block[MAX_BLOCKS];
    uint32_t blocks, block_used;
    uint64_t *page[MAX_PAGES];  /* per id: the place of its entry */
    uint32_t count;
};

static index_t *index_new(size_t cap) {
    index_t *x = calloc(1, sizeof *x + cap * sizeof x->slot[0]);
    if (!x) return NULL;
    x->cap = cap;
    /* Every page written now, so that no probe maps the zero page that a first insert must
       then copy (a copy-on-write fault whose TLB flush stops every other thread). */
    for (size_t i = 0; i < cap; i += 4096 / sizeof x->slot[0]) atomic_store_explicit(&x->slot[i], 0, memory_order_relaxed);
    atomic_store_explicit(&x->slot[cap - 1], 0, memory_order_relaxed);
    return x;
}

lw_intern *lw_intern_new(void) {
    lw_intern *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    pthread_mutex_init(&t->lock, NULL);
    index_t *x = index_new(1024);
    if (!x) { free(t); return NULL; }
    atomic_store_explicit(&t->index, x, memory_order_release);
    return t;
}

/* An entry: the id, the length, then the bytes. */
typedef struct { uint32_t id, len; uint8_t bytes[]; } entry_t;

static inline const entry_t *entry_at(const lw_intern *t, uint64_t place) {
    return (const entry_t *)(t->block[place >> OFFSET_BITS] + (place & ((1u << OFFSET_BITS) - 1)));
}

static inline uint64_t place_of(const lw_intern *t, uint32_t id) { return t->page[id / PAGE_PLACES][id % PAGE_PLACES]; }

const uint8_t *lw_intern_bytes(const lw_intern *t, uint32_t id, size_t *n) {
    const entry_t *e = entry_at(t, place_of(t, id));
    *n = e->len;
    return e->bytes;
}


#define TAG(h) ((h) >> 40)   /* the hash's top 24 bits */

/* The id of the bytes in index x, or UINT32_MAX. */
static uint32_t probe(const lw_intern *t, index_t *x, const uint8_t *p, size_t n, uint64_t h) {
    size_t mask = x->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t s = atomic_load_explicit(&x->slot[i], memory_order_acquire);
        if (s == 0) return UINT32_MAX;
        if (s >> 40 == TAG(h)) {
            const entry_t *e = entry_at(t, (s & 0xFFFFFFFFFFULL) - 1);
            if (e->len == n && same(e->bytes, p, n)) return e->id;
        }
    }
}

static void place_slot(index_t *x, uint64_t h, uint64_t place) {
    size_t mask = x->cap - 1;
    size_t i = (size_t)h & mask;
    while (atomic_load_explicit(&x->slot[i], memory_order_relaxed)) i = (i + 1) & mask;
    atomic_store_explicit(&x->slot[i], TAG(h) << 40 | (place + 1), memory_order_release);
}

/* Under the lock: a new id for the bytes, their entry and place stored; UINT32_MAX when memory
   runs out. */
static uint32_t store(lw_intern *t, const uint8_t *p, size_t n) {
    uint32_t id = t->count;
    if (id == UINT32_MAX - 1 || id / PAGE_PLACES >= MAX_PAGES) return UINT32_MAX;
    size_t need = (sizeof(entry_t) + n + 3) & ~(size_t)3;
    if (t->blocks == 0 || t->block_used + need > BLOCK_BYTES) {
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
    entry_t *e = (entry_t *)(t->block[t->blocks - 1] + t->block_used);
    e->id = id;
    e->len = (uint32_t)n;
    if (n) memcpy(e->bytes, p, n);
    t->page[id / PAGE_PLACES][id % PAGE_PLACES] = (uint64_t)(t->blocks - 1) << OFFSET_BITS | t->block_used;
    t->block_used += (uint32_t)need;
    t->count = id + 1;
    return id;
}

uint32_t lw_intern_name(lw_intern *t, const uint8_t *p, size_t n) {
    if (n > LW_NAME_MAX_BYTES) return UINT32_MAX;
    uint64_t h = name_hash(p, n);
    uint32_t id = probe(t, atomic_load_explicit(&t->index, memory_order_acquire), p, n, h);
    if (id != UINT32_MAX) return id;
    pthread_mutex_lock(&t->lock);
    index_t *x = atomic_load_explicit(&t->index, memory_order_relaxed);
    id = probe(t, x, p, n, h);
    if (id == UINT32_MAX && (id = store(t, p, n)) != UINT32_MAX) {
        if ((size_t)(id + 1) * 2 > x->cap) {
            index_t *bigger = index_new(x->cap * 2);
            if (bigger) {
                for (uint32_t k = 0; k < id; k++) {
                    const entry_t *e = entry_at(t, place_of(t, k));
                    place_slot(bigger, name_hash(e->bytes, e->len), place_of(t, k));
                }
                atomic_store_explicit(&t->index, bigger, memory_order_release);
                x = bigger;
            }
        }
        if ((size_t)id + 1 < x->cap) place_slot(x, h, place_of(t, id));
        else id = UINT32_MAX;   /* no memory to grow a full index */
    }
    pthread_mutex_unlock(&t->lock);
    return id;
}
