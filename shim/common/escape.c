/* UTF-8 validation and the text records' escaping, allocation-free (see escape.h). */
#include <string.h>

#include "shim/common/escape.h"

static const char hex[] = "0123456789abcdef";

size_t bs_utf8_decode(const unsigned char *s, size_t avail, unsigned *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	unsigned v;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	/* The lead byte fixes the length; E0, ED, F0 and F4 narrow the second byte's
	 * range, which rules out overlong forms, surrogates and values past U+10FFFF. */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0fu;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07u;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;	/* a continuation byte, C0, C1, F5..FF */
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		v = v << 6 | (s[i] & 0x3fu);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return n;
}

bool bs_char_unsafe(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Writes the escape of the n bytes at s into out ("\xHH" each); returns its length. */
static size_t hex_bytes(const unsigned char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[4 * i] = '\\';
		out[4 * i + 1] = 'x';
		out[4 * i + 2] = hex[s[i] >> 4];
		out[4 * i + 3] = hex[s[i] & 0xf];
	}
	return 4 * n;
}

/* Fills piece with the text form of the character (or invalid byte) at s; returns
 * its length and sets *used to the bytes of s it stands for. */
static size_t text_piece(const unsigned char *s, size_t avail, char piece[16], size_t *used)
{
	unsigned cp;
	size_t n = bs_utf8_decode(s, avail, &cp);

	*used = n ? n : 1;
	if (!n)
		return hex_bytes(s, 1, piece);
	if (cp == '\\' || cp == '\n' || cp == '\t' || cp == '\r') {
		piece[0] = '\\';
		piece[1] = cp == '\n' ? 'n' : cp == '\t' ? 't' : cp == '\r' ? 'r' : '\\';
		return 2;
	}
	if (bs_char_unsafe(cp))
		return hex_bytes(s, n, piece);
	memcpy(piece, s, n);
	return n;
}

long bs_copy_plain(char *dst, size_t room, const unsigned char **s, size_t *avail, char also)
{
	const unsigned char *p = *s;
	size_t run = 0;

	while (run < *avail && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '\\' &&
	       p[run] != (unsigned char)also)
		run++;
	if (!run)
		return 0;
	if (run > room)
		run = room;
	if (!run)
		return -1;
	memcpy(dst, p, run);
	*s += run;
	*avail -= run;
	return (long)run;
}

size_t bs_text_escape(char *dst, size_t cap, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t avail = strlen(str), len = 0;

	if (!cap)
		return 0;
	while (avail) {
		char piece[16];
		size_t used, plen;
		/* Most fields are nothing but printable ASCII: copied whole, undecoded. */
		long run = bs_copy_plain(dst + len, cap - 1 - len, &s, &avail, '\\');

		if (run < 0)
			break;
		if (run) {
			len += (size_t)run;
			continue;
		}
		plen = text_piece(s, avail, piece, &used);
		if (len + plen >= cap)
			break;
		memcpy(dst + len, piece, plen);
		len += plen;
		s += used;
		avail -= used;
	}
	dst[len] = '\0';
	return len;
}
