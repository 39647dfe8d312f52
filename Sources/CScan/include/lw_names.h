#ifndef LW_NAMES_H
#define LW_NAMES_H
#include <stddef.h>
#include <stdint.h>

/* Interned names (names.c): the process's table from short byte strings (profile ids, symbols,
   holders, hosts) to small integer ids, shared by every thread. A name already in the table is
   found without a lock; a new one is added under the table's lock. Ids are dense, from 0, and
   a name's bytes never move. */

/* The longest name the table holds; a caller cuts longer ones to this. */
enum { LW_NAME_MAX_BYTES = (1 << 20) - 1 };

typedef struct lw_intern lw_intern;

/* A new, empty table, for the life of the process; NULL when memory runs out. */
lw_intern *lw_intern_new(void);

/* The id of p[0..n) (n <= LW_NAME_MAX_BYTES), added if new; UINT32_MAX when memory runs out
   or n is too long. Safe from any thread. */
uint32_t lw_intern_name(lw_intern *t, const uint8_t *p, size_t n);

/* Asks the cache for the index slot where the lookup of p[0..n) starts: in a large table it is
   a cache miss, which work done before the lookup can then hide. Does nothing while the table
   is small enough to stay in the cache (PREFETCH_SLOTS in names.c). Changes nothing. */
void lw_intern_prefetch(const lw_intern *t, const uint8_t *p, size_t n);

/* The bytes of an id the table gave (to this thread, or to one that passed it on through a
   lock): valid for the process's life. */
const uint8_t *lw_intern_bytes(const lw_intern *t, uint32_t id, size_t *n);

#endif
