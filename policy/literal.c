/*
 * The text of integer literals, read back from a policy file, for the numbers
 * libconfig cannot hold: libconfig 1.5 keeps a literal without an L suffix in 32 bits
 * (4294967318 becomes 22, 99999999999999999999 becomes -1) and later versions clip
 * what does not fit 64 bits. The loader asks only about lines that hold such a
 * literal, so ordinary policies cost one scan of their text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '*';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Skips a comment or string starting at p; returns where scanning goes on, or p if
 * none starts there. */
static const char *skip_noise(const char *p, const char *end)
{
	if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/'))
		return memchr(p, '\n', (size_t)(end - p)) ?: end;
	if (*p == '/' && p + 1 < end && p[1] == '*') {
		for (p += 2; p + 1 < end && !(p[0] == '*' && p[1] == '/'); p++)
			;
		return p + 1 < end ? p + 2 : end;
	}
	if (*p == '"') {
		for (p++; p < end && *p != '"' && *p != '\n'; p++)
			if (*p == '\\' && p + 1 < end)
				p++;
		return p < end ? p + 1 : end;
	}
	return p;
}

/* Finds the next integer literal in [p, end), skipping names, strings, comments and
 * floats; stores its bounds and returns true. */
static bool next_int(const char *p, const char *end, const char **start, const char **stop)
{
	while (p < end) {
		const char *q = skip_noise(p, end), *s;

		if (q != p) {
			p = q;
			continue;
		}
		if (is_name_char(*p) && !is_digit(*p) && *p != '-') {
			while (p < end && is_name_char(*p))
				p++;
			continue;
		}
		s = p;
		if ((*p == '-' || *p == '+') && p + 1 < end && is_digit(p[1]))
			p++;
		if (!is_digit(*p)) {
			p++;
			continue;
		}
		if (*p == '0' && p + 1 < end && (p[1] == 'x' || p[1] == 'X')) {
			for (p += 2; p < end && (is_digit(*p) || (*p >= 'a' && *p <= 'f') ||
						 (*p >= 'A' && *p <= 'F')); p++)
				;
		} else {
			while (p < end && is_digit(*p))
				p++;
			if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) {
				/* a float: 1.5, 1e9 */
				while (p < end && (is_digit(*p) || strchr(".eE+-", *p)))
					p++;
				continue;
			}
		}
		while (p < end && *p == 'L')
			p++;
		*start = s;
		*stop = p;
		return true;
	}
	return false;
}

bool bs_literal_value(const char *lit, long long *v)
{
	const char *digits = lit + (*lit == '-' || *lit == '+');
	bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
	char *end;

	errno = 0;
	if (hex) {
		unsigned long long u = strtoull(digits, &end, 16);

		if (errno || u > INT64_MAX)
			return false;
		*v = *lit == '-' ? -(long long)u : (long long)u;
	} else {
		*v = strtoll(lit, &end, 10);
		if (errno)
			return false;
	}
	return *end == '\0' || *end == 'L';
}

/* Tells whether libconfig delivers the literal [s, e) as written. */
static bool held_exactly(const char *s, const char *e)
{
	char lit[64];
	long long v;

	if (e - s >= (long)sizeof(lit))
		return false;
	memcpy(lit, s, (size_t)(e - s));
	lit[e - s] = '\0';
	if (!bs_literal_value(lit, &v))
		return false;
	return e[-1] == 'L' || (v >= INT32_MIN && v <= INT32_MAX);
}

unsigned *bs_big_literal_lines(const char *text, size_t len, size_t *n)
{
	const char *p = text, *end = text + len, *s, *e, *counted = text;
	unsigned line = 1, *lines = NULL;
	size_t cap = 0;

	*n = 0;
	while (next_int(p, end, &s, &e)) {
		for (; counted < s; counted++)
			line += *counted == '\n';
		p = e;
		if (held_exactly(s, e) || (*n && lines[*n - 1] == line))
			continue;
		if (*n == cap) {
			unsigned *more = realloc(lines, (cap = cap ? 2 * cap : 8) * sizeof(*lines));

			if (!more)
				break;
			lines = more;
		}
		lines[(*n)++] = line;
	}
	return lines;
}

/* Finds "key =" or "key:" on the line [p, end) and returns what follows it, or NULL. */
static const char *after_key(const char *p, const char *end, const char *key)
{
	const char *line = p;
	size_t k = strlen(key);

	while (p < end) {
		const char *q = skip_noise(p, end);

		if (q != p) {
			p = q;
			continue;
		}
		if ((size_t)(end - p) > k && !memcmp(p, key, k) && !is_name_char(p[k]) &&
		    (p == line || !is_name_char(p[-1]))) {
			q = p + k;
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if (q < end && (*q == '=' || *q == ':'))
				return q + 1;
		}
		p++;
	}
	return NULL;
}

bool bs_int_literal(const char *text, size_t len, unsigned line, const char *key, bool element,
		    size_t k, char *out, size_t outlen)
{
	const char *p = text, *end = text + len, *after, *s, *e;

	for (unsigned l = 1; l < line; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return false;
		p++;
	}
	end = memchr(p, '\n', (size_t)(end - p)) ?: end;
	after = key ? after_key(p, end, key) : NULL;
	if (after) {
		while (after < end && (*after == ' ' || *after == '\t'))
			after++;
		if (element && after < end && (*after == '(' || *after == '['))
			after++;
		p = after;
	} else if (!element) {
		return false;
	}
	for (size_t i = 0; next_int(p, end, &s, &e); i++, p = e) {
		/* A scalar's literal comes right after its "key =". */
		if (!element && (s != p || i > 0))
			return false;
		if (i == k) {
			if ((size_t)(e - s) >= outlen)
				return false;
			memcpy(out, s, (size_t)(e - s));
			out[e - s] = '\0';
			return true;
		}
	}
	return false;
}
