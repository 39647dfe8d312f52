#ifndef LOCKWATCH_CPCRE2_SHIM_H
#define LOCKWATCH_CPCRE2_SHIM_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* PCRE2's width-generic names are function-like macros, which Swift does not import;
   these inline wrappers give Swift the 8-bit entry points and the macro constants. */

static inline size_t lw_pcre2_unset(void) { return PCRE2_UNSET; }

static inline pcre2_code_8 *lw_pcre2_compile(const unsigned char *pattern, size_t length,
                                             uint32_t options, int *errorcode, size_t *erroroffset) {
    return pcre2_compile_8(pattern, length, options, errorcode, erroroffset, NULL);
}
#endif
