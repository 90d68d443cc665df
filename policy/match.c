/* Does one rule match one query: every key given must match; a list matches if any
 * element does. Cheap keys are tested first, globs last. */
#include <string.h>

#include "policy/policy.h"

/* Matches the bracket expression starting after '[' at *pp against c; advances *pp
 * past the closing ']'. Returns 1 match, 0 no match, -1 not a bracket expression. */
static int glob_bracket(const char **pp, char c)
{
	const char *p = *pp;
	bool negate = false, found = false;

	if (*p == '!' || *p == '^') {
		negate = true;
		p++;
	}
	/* A ']' right after '[' or '[!' is a literal member. */
	if (*p == ']') {
		found = c == ']';
		p++;
	}
	while (*p && *p != ']') {
		char lo = *p++, hi;

		if (lo == '\\' && *p)
			lo = *p++;
		hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			hi = p[1];
			p += 2;
			if (hi == '\\' && *p)
				hi = *p++;
		}
		if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi)
			found = true;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return found != negate;
}

size_t bs_glob_bracket_end(const char *pat)
{
	const char *p = pat + 1;

	return glob_bracket(&p, '\0') < 0 ? 0 : (size_t)(p - pat);
}

bool bs_glob(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	/* Iterative wildcard matching with one backtrack point: linear in practice. */
	while (*s) {
		const char *next = p;
		int m = -1;

		if (*p == '*') {
			star_p = ++p;
			star_s = s;
			continue;
		}
		if (*p == '?') {
			m = 1;
			next = p + 1;
		} else if (*p == '[') {
			next = p + 1;
			m = glob_bracket(&next, *s);
			if (m < 0) {	/* an unclosed '[' is an ordinary character */
				m = *s == '[';
				next = p + 1;
			}
		} else if (*p) {
			const char *lit = p;

			if (*lit == '\\' && lit[1])
				lit++;
			m = *lit == *s;
			next = lit + 1;
		} else {
			m = 0;
		}
		if (m) {
			p = next;
			s++;
		} else if (star_p) {
			p = star_p;
			s = ++star_s;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

/* Tells whether the first prefix bits of a and b agree. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned bytes = prefix / 8, bits = prefix % 8;

	/* At most 16 bytes: a loop beats a call to memcmp on the hot path. */
	for (unsigned i = 0; i < bytes; i++)
		if (a[i] != b[i])
			return false;
	if (!bits)
		return true;
	return !((a[bytes] ^ b[bytes]) & (uint8_t)(0xff00u >> bits));
}

static bool addr_matches(const struct bs_addr_match *m, const struct bs_addr *a)
{
	switch (m->kind) {
	case BS_ADDR_ANY:
		return true;
	case BS_ADDR_WILDCARD:
		return bs_addr_is_wildcard(a);
	case BS_ADDR_CIDR:
		return m->net.family == a->family && prefix_equal(m->net.bytes, a->bytes, m->prefix);
	}
	return false;
}

static bool any_addr(const struct bs_rule *r, const struct bs_addr *a)
{
	for (size_t i = 0; i < r->naddrs; i++)
		if (addr_matches(&r->addrs[i], a))
			return true;
	return false;
}

static bool any_port(const struct bs_rule *r, uint16_t port)
{
	for (size_t i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

static bool any_uid(const struct bs_rule *r, uid_t uid)
{
	for (size_t i = 0; i < r->nuids; i++)
		if (r->uids[i] == uid)
			return true;
	return false;
}

/* An unknown name (NULL) matches no pattern. */
static bool any_glob(char *const *pats, size_t n, const char *s)
{
	if (!s)
		return false;
	for (size_t i = 0; i < n; i++)
		if (bs_glob(pats[i], s))
			return true;
	return false;
}

bool bs_rule_matches(const struct bs_rule *r, const struct bs_query *q)
{
	unsigned fam = q->addr.family == AF_INET ? BS_FAM_V4 : BS_FAM_V6;

	if (r->families && !(r->families & fam))
		return false;
	if (r->protos && !(r->protos & q->proto))
		return false;
	if (r->nports && !any_port(r, q->port))
		return false;
	if (r->naddrs && !any_addr(r, &q->addr))
		return false;
	if (r->nuids && !any_uid(r, q->uid))
		return false;
	if (r->nprograms && !any_glob(r->programs, r->nprograms, q->program))
		return false;
	if (r->nexes && !any_glob(r->exes, r->nexes, q->exe))
		return false;
	return true;
}
