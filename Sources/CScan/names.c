// The process's table of interned names (lw_names.h): lookups without a lock, for the workers'
// hot path, where every lock record names a profile, a symbol and a host.
//
// Each name is an entry in 2 MiB blocks: its length and its id (4 bytes each), then its text,
// 4-byte aligned. Each id's place (block << 19 | offset / 4, 32 bits) is kept in pages of 2^16
// places. Neither blocks nor pages ever move, and the table lives as long as the process, so a
// reader needs no lock to read them. The index is open addressing over 32-bit slots (place + 1;
// 0 is empty, and no entry starts at the last place of a block, so it cannot wrap) in one
// reserved range of address space (1 GiB, less under `ulimit -v`), `cap` slots of it in use, at
// most half full. A lookup reads a slot and the entry it names: two memory accesses, which
// among 10^5 names or more are each a cache miss.
//
// A writer, under the lock, stores the entry and its place first, then the slot with release
// order: a reader that sees a slot (acquire) sees its entry. To grow, the writer doubles `cap`,
// empties the slots and puts every entry's place back, all in place: a reader probing meanwhile may find
// nothing where a name is (never a wrong name: the text is compared), and then looks again
// under the lock, which the writer holds until the index is whole. So the index takes 4 to 8
// bytes a name, with no second copy while it grows.
#include "lw_names.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
#define OFFSET_BITS 19            /* offsets in 4-byte units */
#define MAX_BLOCKS (1u << 13)     /* 16 GiB of names */
#define PAGE_PLACES (1u << 16)
#define MAX_PAGES (1u << 16)
#define MAX_SLOTS ((size_t)1 << 28)   /* 1 GiB of address space, reserved, not used */
#define MIN_SLOTS ((size_t)1 << 20)   /* what is tried last, under a tight address-space limit */

struct lw_intern {
    pthread_mutex_t lock;
    _Atomic uint32_t *slot;       /* `reserved` slots, `cap` of them in use */
    size_t reserved;
    _Atomic size_t cap;           /* a power of two */
    /* Below: written under the lock; a place and its entry are read without it once the slot
       that names them is seen. */
    uint8_t *block[MAX_BLOCKS];
    uint32_t blocks, block_used;
    uint32_t *page[MAX_PAGES];    /* per id: the place of its entry */
    uint32_t count;
};

/* An entry: the length, the id, then the bytes. */
typedef struct { uint32_t len; uint32_t id; uint8_t bytes[]; } entry_t;
/* No entry starts at a block's last 4-byte place, so a slot's place + 1 never wraps to 0. */
_Static_assert(sizeof(entry_t) > 4, "an entry takes more than one place");

/* Empties slots [from, to) by writing them, so that no probe maps the zero page that a first
   insert must then copy (a copy-on-write fault whose TLB flush stops every other thread). */
static void clear(lw_intern *t, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) atomic_store_explicit(&t->slot[i], 0, memory_order_relaxed);
}

lw_intern *lw_intern_new(void) {
    lw_intern *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    /* As much address space as the process may reserve, up to MAX_SLOTS (`ulimit -v` may
       allow less): it bounds the names the table can hold, at half its slots. */
    void *slots = MAP_FAILED;
    size_t reserved = MAX_SLOTS;
    for (; reserved >= MIN_SLOTS; reserved /= 2) {
        slots = mmap(NULL, reserved * sizeof(uint32_t), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (slots != MAP_FAILED) break;
    }
    if (slots == MAP_FAILED) { free(t); return NULL; }
    pthread_mutex_init(&t->lock, NULL);
    t->slot = slots;
    t->reserved = reserved;
    clear(t, 0, 1024);
    atomic_store_explicit(&t->cap, 1024, memory_order_release);
    return t;
}

static inline uint32_t place_of(const lw_intern *t, uint32_t id) { return t->page[id / PAGE_PLACES][id % PAGE_PLACES]; }

static inline const entry_t *entry_at(const lw_intern *t, uint32_t place) {
    return (const entry_t *)(t->block[place >> OFFSET_BITS] + 4 * (size_t)(place & ((1u << OFFSET_BITS) - 1)));
}

static inline const entry_t *entry_of(const lw_intern *t, uint32_t id) { return entry_at(t, place_of(t, id)); }

const uint8_t *lw_intern_bytes(const lw_intern *t, uint32_t id, size_t *n) {
    const entry_t *e = entry_of(t, id);
    *n = e->len;
    return e->bytes;
}

/* The slot where the probe for hash h starts, in an index of cap slots: for lookups, for
   placing, and for the prefetch. */
static inline size_t home(uint64_t h, size_t cap) { return (size_t)h & (cap - 1); }

/* The id of the bytes, or UINT32_MAX. */
static uint32_t probe(const lw_intern *t, const uint8_t *p, size_t n, uint64_t h) {
    size_t cap = atomic_load_explicit(&t->cap, memory_order_acquire), mask = cap - 1;
    for (size_t i = home(h, cap);; i = (i + 1) & mask) {
        uint32_t s = atomic_load_explicit(&t->slot[i], memory_order_acquire);
        if (s == 0) return UINT32_MAX;
        const entry_t *e = entry_at(t, s - 1);
        if (e->len == n && same(e->bytes, p, n)) return e->id;
    }
}

static void place_slot(lw_intern *t, size_t cap, uint64_t h, uint32_t place) {
    size_t mask = cap - 1;
    size_t i = home(h, cap);
    while (atomic_load_explicit(&t->slot[i], memory_order_relaxed)) i = (i + 1) & mask;
    atomic_store_explicit(&t->slot[i], place + 1, memory_order_release);
}

/* Under the lock: a new id for the bytes, their entry and place stored; UINT32_MAX when memory
   runs out. */
static uint32_t store(lw_intern *t, const uint8_t *p, size_t n) {
    uint32_t id = t->count;
    if (id >= UINT32_MAX - 1 || id / PAGE_PLACES >= MAX_PAGES) return UINT32_MAX;
    size_t need = (sizeof(entry_t) + n + 3) & ~(size_t)3;
    if (t->blocks == 0 || t->block_used + need > BLOCK_BYTES) {
        if (t->blocks == MAX_BLOCKS) return UINT32_MAX;
        uint8_t *b = malloc(BLOCK_BYTES);
        if (!b) return UINT32_MAX;
        t->block[t->blocks++] = b;
        t->block_used = 0;
    }
    if (!t->page[id / PAGE_PLACES]) {
        uint32_t *pg = malloc(PAGE_PLACES * sizeof *pg);
        if (!pg) return UINT32_MAX;
        t->page[id / PAGE_PLACES] = pg;
    }
    entry_t *e = (entry_t *)(t->block[t->blocks - 1] + t->block_used);
    e->len = (uint32_t)n;
    e->id = id;
    if (n) memcpy(e->bytes, p, n);
    t->page[id / PAGE_PLACES][id % PAGE_PLACES] = (t->blocks - 1) << OFFSET_BITS | t->block_used / 4;
    t->block_used += (uint32_t)need;
    t->count = id + 1;
    return id;
}

/* An index of fewer slots (512 KiB; the table then holds under 2^16 names of every kind:
   profiles, symbols, holders, hosts) stays mostly in the cache: there the prefetch's own hash
   would cost more than the wait it hides. */
#define PREFETCH_SLOTS ((size_t)1 << 17)

void lw_intern_prefetch(const lw_intern *t, const uint8_t *p, size_t n) {
    size_t cap = atomic_load_explicit(&((lw_intern *)t)->cap, memory_order_relaxed);
    if (cap < PREFETCH_SLOTS || n > LW_NAME_MAX_BYTES) return;
    __builtin_prefetch((const void *)&t->slot[home(name_hash(p, n), cap)]);
}

uint32_t lw_intern_name(lw_intern *t, const uint8_t *p, size_t n) {
    if (n > LW_NAME_MAX_BYTES) return UINT32_MAX;
    uint64_t h = name_hash(p, n);
    uint32_t id = probe(t, p, n, h);
    if (id != UINT32_MAX) return id;
    pthread_mutex_lock(&t->lock);
    id = probe(t, p, n, h);
    size_t cap = atomic_load_explicit(&t->cap, memory_order_relaxed);
    if (id == UINT32_MAX && (size_t)t->count + 1 >= cap / 2 && cap * 2 > t->reserved) {
        id = UINT32_MAX - 1;   /* the index is full: no more names */
    } else if (id == UINT32_MAX && (id = store(t, p, n)) != UINT32_MAX) {
        if ((size_t)(id + 1) * 2 > cap) {
            /* Grow in place: readers meanwhile may miss, and then wait for the lock. */
            size_t bigger = cap * 2;
            clear(t, 0, bigger);
            atomic_store_explicit(&t->cap, bigger, memory_order_release);
            for (uint32_t k = 0; k < id; k++) {
                uint32_t place = place_of(t, k);
                const entry_t *e = entry_at(t, place);
                place_slot(t, bigger, name_hash(e->bytes, e->len), place);
            }
            cap = bigger;
        }
        place_slot(t, cap, h, place_of(t, id));
    }
    pthread_mutex_unlock(&t->lock);
    return id == UINT32_MAX - 1 ? UINT32_MAX : id;
}
