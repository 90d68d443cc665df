/* JSON string escaping without allocation (the shim calls it inside hooks). */
#include <stdio.h>
#include <string.h>

#include "shim/common/json.h"

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
		 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

size_t bs_json_string(char *dst, size_t cap, const char *str)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + strnlen(str, BS_JSON_VALUE_MAX);
	size_t len = 0;

	if (cap < 3)
		return 0;
	dst[len++] = '"';
	while (s < end) {
		char esc[8];
		const char *piece = esc;
		size_t n = 1, plen;

		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			plen = 2;
		} else if (*s < 0x20) {
			plen = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *s);
		} else if (*s < 0x80) {
			piece = (const char *)s;
			plen = 1;
		} else if ((n = utf8_len(s))) {
			piece = (const char *)s;
			plen = n;
		} else {
			piece = "\\ufffd";
			plen = 6;
			n = 1;
		}
		if (len + plen + 2 > cap)
			break;
		memcpy(dst + len, piece, plen);
		len += plen;
		s += n;
	}
	dst[len++] = '"';
	dst[len] = '\0';
	return len;
}
