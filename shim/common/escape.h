/* Escaping for log records and `bindshim audit`, so that no field a program controls
 * (its name, a path, a user name) can start a line or forge a record. Nothing here
 * allocates or calls libc beyond strlen: the shim formats records inside hooks,
 * signal handlers included. */
#ifndef BS_ESCAPE_H
#define BS_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest text escape of one byte ("\xHH"). */
#define BS_ESCAPE_PER_BYTE 4

/* Decodes the character at s, reading at most avail (> 0) bytes, into *cp; returns
 * its length (1 to 4), or 0 if the bytes at s are not well-formed UTF-8 (RFC 3629:
 * an overlong form, a surrogate U+D800..U+DFFF, a code point above U+10FFFF, a
 * stray continuation byte, a sequence cut short). */
size_t bs_utf8_decode(const unsigned char *s, size_t avail, unsigned *cp);

/* Tells whether cp is shown escaped although it is valid: C0 and C1 controls, DEL,
 * the line and paragraph separators U+2028 and U+2029, and the bidirectional
 * embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069), which make a
 * viewer show a line differently from what it holds. */
bool bs_char_unsafe(unsigned cp);

/* Copies the run of printable ASCII at *s (at most *avail bytes), other than `\` and
 * also, which both escapes keep as it is, into dst (room bytes at most), advancing
 * *s and *avail past what it copied; returns how many bytes, 0 if *s starts no
 * such run, -1 if it does and room is 0. */
long bs_copy_plain(char *dst, size_t room, const unsigned char **s, size_t *avail, char also);

/* Writes s for a one-line text record into dst (cap bytes, NUL-terminated when cap
 * is not 0): printable ASCII and safe UTF-8 as they are, `\` as `\\`, newline, tab
 * and carriage return as \n \t \r, and every other byte of a control character, of
 * an unsafe character or of invalid UTF-8 as \xHH. An escape or a character that
 * does not fit is left out whole. Returns the length written (without the NUL). */
size_t bs_text_escape(char *dst, size_t cap, const char *s);

#endif
