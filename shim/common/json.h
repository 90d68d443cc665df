/* JSON string escaping, shared by the shim's log records and `bindshim audit`. */
#ifndef BS_JSON_H
#define BS_JSON_H

#include <stddef.h>

/* Longest input a JSON string takes, so a record always closes. */
#define BS_JSON_VALUE_MAX 1024

/* Writes s as a quoted JSON string into dst (cap bytes, NUL-terminated): strictly
 * valid UTF-8 only, each byte of invalid UTF-8 as \ufffd, `"` and `\` escaped, the
 * characters escape.h calls unsafe (controls, DEL, line separators, bidi controls)
 * as \uXXXX; at most BS_JSON_VALUE_MAX input bytes. A piece that does not fit is
 * left out whole and the string still closes. Returns the length written. */
size_t bs_json_string(char *dst, size_t cap, const char *s);

#endif
