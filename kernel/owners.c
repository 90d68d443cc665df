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

/* Reads the decimal number at *p (digits only) into *v, up to max; moves *p past
 * it. Returns false for no digits or a value over max. */
static bool number(const char **p, const char *end, uint64_t max, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	while (s < end && *s >= '0' && *s <= '9') {
		*v = *v * 10 + (uint64_t)(*s - '0');
		if (*v > max)
			return false;
		s++;
	}
	if (s == *p)
		return false;
	*p = s;
	return true;
}

int bs_kowned_line(const char *line, size_t len, struct bs_kowned *r,
		   int (*name_uid)(const char *name, __u32 *uid))
{
	const char *end = line + len, *p = line, *colon = memchr(line, ':', len);
	uint64_t v, first, count;
	char name[256];

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == '#')
		return 0;
	if (!colon || colon == line || (size_t)(colon - line) >= sizeof(name))
		return -EINVAL;
	p = colon + 1;
	if (!number(&p, end, UINT32_MAX, &first) || p == end || *p++ != ':' ||
	    !number(&p, end, (uint64_t)1 << 32, &count) || p != end || !count ||
	    first + count > (uint64_t)1 << 32)
		return -EINVAL;
	memcpy(name, line, (size_t)(colon - line));
	name[colon - line] = '\0';
	p = line;
	if (number(&p, colon, UINT32_MAX - 1, &v) && p == colon)
		r->owner = (__u32)v;	/* shadow takes a uid for a name too */
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
