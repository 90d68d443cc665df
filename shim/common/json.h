/* JSON string escaping, shared by the shim's log records and `bindshim audit`. */
#ifndef BS_JSON_H
#define BS_JSON_H

#include <stddef.h>

/* Longest input a JSON string takes, so a record always closes. */
#define BS_JSON_VALUE_MAX 1024

/* Writes s as a quoted JSON string into dst (cap bytes, NUL-terminated): escaped,
 * invalid UTF-8 replaced by U+FFFD, at most BS_JSON_VALUE_MAX input bytes. Returns
 * the length written, or cap - 1 if cut short. */
size_t bs_json_string(char *dst, size_t cap, const char *s);

#endif
