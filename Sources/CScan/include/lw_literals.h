#ifndef LW_LITERALS_H
#define LW_LITERALS_H
#include <stddef.h>
#include <stdint.h>

/* Finding the prefilter's literals and counting lines (scan.c): AVX2 where the processor has
   it, plain C elsewhere. */

#define LW_MAX_LITERALS 16
#define LW_MAX_LITERAL_LEN 64

typedef struct {
    int count;
    uint8_t len[LW_MAX_LITERALS];
    uint8_t off1[LW_MAX_LITERALS], off2[LW_MAX_LITERALS];   /* the plain-C search: two rare anchors */
    uint8_t byte1[LW_MAX_LITERALS], byte2[LW_MAX_LITERALS];   /* lower case when folded */
    uint8_t mask1[LW_MAX_LITERALS], mask2[LW_MAX_LITERALS];   /* 0x20 when the anchor is a folded letter */
    /* For the full compare, a word at a time: a text byte OR its mask must equal the literal's
       byte (the mask is 0x20 at folded letters, which are kept in lower case). */
    uint8_t lower[LW_MAX_LITERALS][LW_MAX_LITERAL_LEN];
    uint8_t cmask[LW_MAX_LITERALS][LW_MAX_LITERAL_LEN];
    /* Teddy: each literal's rarest window of up to 3 bytes, at offset woff, is looked up by
       nibbles in these tables; bit (k % 8) stands for literal k. */
    uint8_t woff[LW_MAX_LITERALS];
    uint8_t lo[3][16], hi[3][16];
} lw_literals;

/* Adds a literal; returns 0, or -1 when the set is full or the literal too long or empty. */
int lw_literals_add(lw_literals *set, const uint8_t *bytes, size_t len, int fold);

/* The offset at which some literal starts, or n when none does. With one literal, the first
   such offset; with several (Teddy), the literal whose window is verified first, so another may
   start before it, by less than its own length. */
size_t lw_find_literal(const lw_literals *set, const uint8_t *p, size_t n);

/* Which of the set's literals occur in p[0..n): bit k for literal k. */
uint32_t lw_literals_present(const lw_literals *set, const uint8_t *p, size_t n);

/* Whether the set's one literal (len bytes) occurs in p[0..n) with the ASCII word conditions
   around it that a pattern's boundaries ask: before, the byte before is no word byte
   ([A-Za-z0-9_]; the start counts as none); after 1, the byte after is none; after 2, it is
   neither a word byte nor '-'. Bytes from 0x80 up are never word bytes, as in PCRE2 without UCP.
   Returns 1 where it does, 0 where the literal does not occur at all, -1 where it occurs only
   without the conditions. */
int lw_literal_proves(const lw_literals *set, size_t len, int before, int after, const uint8_t *p, size_t n);

/* Whether some literal of the set starts at p (avail bytes readable there). */
int lw_literal_at(const lw_literals *set, const uint8_t *p, size_t avail);

/* lw_find_literal, and the number of '\n' bytes before the result, counted in the same pass. */
size_t lw_find_literal_counting(const lw_literals *set, const uint8_t *p, size_t n, size_t *newlines);

/* Whether the processor has AVX2 (always 0 off x86-64). */
int lw_has_avx2(void);

/* The number of '\n' bytes in p[0..n). */
size_t lw_count_newlines(const uint8_t *p, size_t n);

/* glibc's memrchr (a GNU extension that Swift's Glibc module hides). */
void *lw_memrchr(const void *s, int c, size_t n);

#endif
