#ifndef LOCKWATCH_CBYTES_SHIM_H
#define LOCKWATCH_CBYTES_SHIM_H
#include <stddef.h>

/* glibc's byte searches that are GNU extensions, and so hidden from Swift's Glibc module. */
extern void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
extern void *memrchr(const void *s, int c, size_t n);

static inline void *lw_memmem(const void *h, size_t hl, const void *n, size_t nl) { return memmem(h, hl, n, nl); }
static inline void *lw_memrchr(const void *s, int c, size_t n) { return memrchr(s, c, n); }
#endif
