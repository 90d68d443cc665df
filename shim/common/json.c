/* JSON string escaping without allocation (the shim calls it inside hooks, signal
 * handlers included: no stdio). */
#include <string.h>

#include "shim/common/escape.h"
#include "shim/common/json.h"

/* Fills piece with the JSON form of the character (or invalid byte) at s; returns
 * its length and sets *used to the bytes of s it stands for. */
static size_t json_piece(const unsigned char *s, size_t avail, char piece[8], size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned cp;
	size_t n = bs_utf8_decode(s, avail, &cp);

	*used = n ? n : 1;
	if (!n) {
		memcpy(piece, "\\ufffd", 6);
		return 6;
	}
	if (cp == '"' || cp == '\\') {
		piece[0] = '\\';
		piece[1] = (char)cp;
		return 2;
	}
	/* Every unsafe character is in the Basic Multilingual Plane: one \uXXXX. */
	if (bs_char_unsafe(cp)) {
		piece[0] = '\\';
		piece[1] = 'u';
		for (int i = 0; i < 4; i++)
			piece[2 + i] = hex[(cp >> (12 - 4 * i)) & 0xf];
		return 6;
	}
	memcpy(piece, s, n);
	return n;
}

size_t bs_json_string(char *dst, size_t cap, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t avail = strnlen(str, BS_JSON_VALUE_MAX), len = 0;

	if (cap < 3)
		return 0;
	dst[len++] = '"';
	while (avail) {
		char piece[8];
		size_t used, plen;
		/* Most fields are nothing but printable ASCII: copied whole, undecoded. */
		long run = bs_copy_plain(dst + len, cap - 2 - len, &s, &avail, '"');

		if (run < 0)
			break;
		if (run) {
			len += (size_t)run;
			continue;
		}
		plen = json_piece(s, avail, piece, &used);
		if (len + plen + 2 > cap)
			break;
		memcpy(dst + len, piece, plen);
		len += plen;
		s += used;
		avail -= used;
	}
	dst[len++] = '"';
	dst[len] = '\0';
	return len;
}
