#ifndef LW_KV_H
#define LW_KV_H
#include <stddef.h>
#include <stdint.h>

/* key=value pairs (kv.c): the key-byte class and a table of the key names lockwatch knows. */

/* Each byte's class: 1 a key byte ([A-Za-z0-9_@.-]), 2 a blank (space, tab), else 0. The one
   definition of both, for the scan and for the decoder. */
extern const uint8_t lw_byte_class[256];
static inline int lw_is_key_byte(uint8_t c) { return lw_byte_class[c] == 1; }
static inline int lw_is_blank(uint8_t c) { return lw_byte_class[c] == 2; }

/* A table of the key names lockwatch knows, each with its field number (< 32) and its rank
   among the names of that field (the order they were added in: 0 is the most specific); keys
   are compared whole, byte for byte. */
#define LW_KEY_MAX_LEN 32
#define LW_KEY_SLOTS 256

typedef struct {
    struct { uint64_t head; uint8_t len, field, rank, rest[LW_KEY_MAX_LEN - 8]; } slot[LW_KEY_SLOTS];   /* len 0: empty */
    int count;
    uint8_t added[256];   /* per field: the names added so far */
} lw_keytable;

/* Adds a key (looked up after the keys added before it), ranked after the keys of its field
   added before it; 0, or -1 when it cannot be held. */
int lw_keytable_add(lw_keytable *t, const uint8_t *key, size_t len, int field);

/* The field of a key, or -1; its rank in *rank. */
int lw_keytable_lookup_ranked(const lw_keytable *t, const uint8_t *key, size_t len, int *rank);

/* The rank of a field that has no value from the record's names yet. */
#define LW_NO_RANK 0xFF

/* Whether a value under a name of rank `rank` becomes its field's value, where the field's
   value so far came under a name of rank `current` (LW_NO_RANK: none yet, and then a field
   already `filled` before the record's names were read is kept): the more specific name wins,
   and of two values under one name the first (docs/semantics.md, "Inputs"). The one rule of
   both readers, the key=value scan and the JSON reader. */
static inline int lw_rank_wins(uint8_t current, int filled, uint8_t rank) {
    return current == LW_NO_RANK ? !filled : rank < current;
}

/* A quoted value with backslash escapes, for the caller to unescape. */
typedef struct { uint32_t field, start, end; } lw_kv_escaped;

/* Finds the whitespace-separated `key=value` tokens of b[0..n) whose keys are in the table.
   Values may be double-quoted (the range is inside the quotes). A field's value is that of
   its best-ranked key on the line, the first of them if it comes more than once
   (docs/semantics.md, "Inputs"); a slot already filled when the scan starts is kept. The
   winner's slot becomes (start + 1) | end << 32, with start and end offsets in b plus `base`;
   a winner quoted with escapes is written to `escaped` instead, its slot left 0 (at most
   `max_escaped` of them, one per field). Returns the number of escaped values written. */
int lw_kv_fill(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
               lw_kv_escaped *escaped, int max_escaped);

/* The same, a byte at a time whatever the processor (the definition, for tests). */
int lw_kv_fill_scalar(const lw_keytable *t, const uint8_t *b, size_t n, size_t base, uint64_t *slots, int nslots,
                      lw_kv_escaped *escaped, int max_escaped);

/* The offset of the first '"' or '\\' in p[0..n), or n: where a JSON string's text ends or an
   escape starts. */
size_t lw_quote_or_backslash(const uint8_t *p, size_t n);

/* Whether the line gate (LineGate in Matcher.swift) can read p[0..n): ASCII, no ']' (so no JSON
   byte array), and every backslash followed by one of `"/bfnrt` (so an escape stands for a
   quote, a slash or a control byte, never for a letter: not \u, not an escaped backslash,
   which may start an escape of a JSON record nested in a string, not the escapes the JSON
   reader also takes as the byte they escape, such as \e). The one definition of it. */
int lw_gate_readable(const uint8_t *p, size_t n);

#endif
