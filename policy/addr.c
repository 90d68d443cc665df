/* Strict parsing of IP addresses, CIDRs, ports and port ranges. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int bs_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	/* strtol would take leading blanks and '+'; a policy value may not. */
	if (!(s[0] >= '0' && s[0] <= '9') && !(s[0] == '-' && s[1] >= '0' && s[1] <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int bs_addr_parse(const char *s, struct bs_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void bs_addr_fold(struct bs_addr *a)
{
	if (a->family != AF_INET6 || memcmp(a->bytes, v4mapped_prefix, 12))
		return;
	memmove(a->bytes, a->bytes + 12, 4);
	memset(a->bytes + 4, 0, 12);
	a->family = AF_INET;
}

bool bs_addr_is_wildcard(const struct bs_addr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->bytes, zero, a->family == AF_INET ? 4 : 16);
}

bool bs_addr_is_loopback(const struct bs_addr *a)
{
	static const uint8_t one[16] = {[15] = 1};

	if (a->family == AF_INET)
		return a->bytes[0] == 127;
	return !memcmp(a->bytes, one, 16);
}

/* Tells whether any bit after the first prefix bits of a is set. */
static bool host_bits_set(const struct bs_addr *a, unsigned prefix)
{
	unsigned total = a->family == AF_INET ? 32 : 128;

	for (unsigned bit = prefix; bit < total; bit++)
		if (a->bytes[bit / 8] & (0x80u >> (bit % 8)))
			return true;
	return false;
}

int bs_addr_match_parse(const char *s, struct bs_addr_match *m)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	long prefix;
	unsigned max;

	memset(m, 0, sizeof(*m));
	if (!strcmp(s, "wildcard")) {
		m->kind = BS_ADDR_WILDCARD;
		return 0;
	}
	if (!strcmp(s, "any")) {
		m->kind = BS_ADDR_ANY;
		return 0;
	}
	m->kind = BS_ADDR_CIDR;
	slash = strchr(s, '/');
	if (!slash) {
		if (bs_addr_parse(s, &m->net))
			return -EINVAL;
		m->prefix = m->net.family == AF_INET ? 32 : 128;
	} else {
		if ((size_t)(slash - s) >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, (size_t)(slash - s));
		buf[slash - s] = '\0';
		if (bs_addr_parse(buf, &m->net))
			return -EINVAL;
		max = m->net.family == AF_INET ? 32 : 128;
		if (bs_parse_long(slash + 1, 0, max, &prefix))
			return -ERANGE;
		m->prefix = (uint8_t)prefix;
		if (host_bits_set(&m->net, m->prefix))
			return -ENOTUNIQ;
	}
	/* A v4-mapped network is matched as the IPv4 network it contains. */
	if (m->net.family == AF_INET6 && m->prefix >= 96 &&
	    !memcmp(m->net.bytes, v4mapped_prefix, 12)) {
		bs_addr_fold(&m->net);
		m->prefix -= 96;
	}
	return 0;
}

int bs_port_range_parse(const char *s, struct bs_port_range *r)
{
	char lo[8];
	const char *dash = strchr(s, '-');
	long a, b;

	if (!dash) {
		if (bs_parse_long(s, 0, 65535, &a))
			return -EINVAL;
		r->lo = r->hi = (uint16_t)a;
		return 0;
	}
	if (dash == s || (size_t)(dash - s) >= sizeof(lo))
		return -EINVAL;
	memcpy(lo, s, (size_t)(dash - s));
	lo[dash - s] = '\0';
	if (bs_parse_long(lo, 0, 65535, &a) || bs_parse_long(dash + 1, 0, 65535, &b))
		return -EINVAL;
	if (a > b)
		return -ERANGE;
	r->lo = (uint16_t)a;
	r->hi = (uint16_t)b;
	return 0;
}
