#ifndef LW_NAMES_H
#define LW_NAMES_H
#include <stddef.h>
#include <stdint.h>

/* Interned names (names.c). */

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

#endif
