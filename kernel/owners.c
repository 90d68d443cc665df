/*
 * Subordinate uids (subuid(5): lines OWNER:FIRST:COUNT) and whose record rate they
 * count against in kernel mode. Any user with a range (Debian gives every new user
 * 65,536) can run processes as each uid of it through a user namespace; counted
 * apart, each would have a rate of its own and together fill the ring buffer that
 * everybody's records share. The program finds a uid's owner in an LPM trie, so a
 * range is stored as the aligned blocks it is made of.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kernel/kernel.h"

/* The value of digit c in base, or -1. */
static int digit(char c, unsigned base)
{
	int v = c >= '0' && c <= '9' ? c - '0'
		: c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

	return v >= 0 && (unsigned)v < base ? v : -1;
}

/* Reads the field [s, end) as a number the way newuidmap does (strtoul): blanks
 * and a '+' before it, then for a range's numbers base 0 (0x for hexadecimal, a
 * leading 0 for octal; any_base), for an owner's uid decimal; up to max, and
 * nothing after it. Returns false for anything else (a '-' too: newuidmap would
 * take -1 for the largest number, which no range can use). */
static bool number(const char *s, const char *end, uint64_t max, bool any_base, uint64_t *v)
{
	unsigned base = 10;

	while (s < end && (*s == ' ' || (*s >= '\t' && *s <= '\r')))
		s++;
	if (s < end && *s == '+')
		s++;
	if (any_base && end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (any_base && end - s > 1 && s[0] == '0') {
		base = 8;
		s++;
	}
	if (s == end)
		return false;
	for (*v = 0; s < end; s++) {
		int d = digit(*s, base);

		if (d < 0)
			return false;
		*v = *v * base + (uint64_t)d;
		if (*v > max)
			return false;
	}
	return true;
}

int bs_kowned_line(const char *line, size_t len, struct bs_kowned *r,
		   int (*name_uid)(const char *name, __u32 *uid))
{
	const char *end = line + len, *f[3], *e[3], *p = line;
	uint64_t v, first, count;
	char name[256];

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == '#')
		return 0;
	/* Three fields; newuidmap ignores whatever a third colon starts. */
	for (int i = 0; i < 3; i++) {
		f[i] = i ? e[i - 1] + 1 : line;
		if (f[i] > end)
			return -EINVAL;
		e[i] = memchr(f[i], ':', (size_t)(end - f[i]));
		if (!e[i])
			e[i] = end;
		if (e[i] == f[i] || (i < 2 && e[i] == end))
			return -EINVAL;
	}
	if (!number(f[1], e[1], UINT32_MAX, true, &first) ||
	    !number(f[2], e[2], (uint64_t)1 << 32, true, &count) || !count ||
	    first + count > (uint64_t)1 << 32 || (size_t)(e[0] - f[0]) >= sizeof(name))
		return -EINVAL;
	memcpy(name, f[0], (size_t)(e[0] - f[0]));
	name[e[0] - f[0]] = '\0';
	if (number(f[0], e[0], UINT32_MAX - 1, false, &v))
		r->owner = (__u32)v;	/* newuidmap takes a uid for a name too */
	else if (!name_uid || name_uid(name, &r->owner))
		return -ENOENT;
	r->first = (__u32)first;
	r->count = count;
	return 1;
}

size_t bs_kowned_blocks(__u32 first, __u64 count, struct bs_kowner_key *out)
{
	uint64_t at = first, left = count;
	size_t n = 0;

	if (at + left > (uint64_t)1 << 32)
		left = ((uint64_t)1 << 32) - at;
	while (left) {
		unsigned bits = 0;

		/* The largest block aligned at `at` that the range still holds. */
		while (bits < 32 && !(at & ((uint64_t)1 << bits)) && ((uint64_t)2 << bits) <= left)
			bits++;
		out[n].prefixlen = 32 - bits;
		out[n].uid[0] = (__u8)(at >> 24);
		out[n].uid[1] = (__u8)(at >> 16);
		out[n].uid[2] = (__u8)(at >> 8);
		out[n].uid[3] = (__u8)at;
		n++;
		at += (uint64_t)1 << bits;
		left -= (uint64_t)1 << bits;
	}
	return n;
}
