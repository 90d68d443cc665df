/* Copying, viewing, formatting and parsing inet socket addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

socklen_t bs_sockaddr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

uint16_t bs_sockaddr_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

int bs_sockaddr_copy(const struct sockaddr *sa, socklen_t len, struct sockaddr_storage *ss)
{
	sa_family_t family;

	/* The kernel refuses more than a sockaddr_storage: leave that answer to it. */
	if (!sa || len < (socklen_t)sizeof(sa_family_t) || len > (socklen_t)sizeof(*ss))
		return -EINVAL;
	memcpy(&family, &sa->sa_family, sizeof(family));
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	/* The kernel accepts a longer buffer and reads only what the family needs. */
	if (family == AF_INET && len < (socklen_t)sizeof(struct sockaddr_in))
		return -EINVAL;
	/* Linux accepts the 24-byte RFC 2133 sockaddr_in6 without sin6_scope_id. */
	if (family == AF_INET6 && len < 24)
		return -EINVAL;
	/* Only the family's own length is ever read back (bs_sockaddr_len). */
	memset(ss, 0, sizeof(struct sockaddr_in6));
	memcpy(ss, sa, family == AF_INET ? sizeof(struct sockaddr_in)
		       : (len < (socklen_t)sizeof(struct sockaddr_in6) ? (size_t)len
		       : sizeof(struct sockaddr_in6)));
	return 0;
}

int bs_sockaddr_copy_for(const struct sockaddr *sa, socklen_t len, int domain,
			 struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;
	int rc = bs_sockaddr_copy(sa, len, ss);

	if (rc != -EAFNOSUPPORT || domain != AF_INET || len < (socklen_t)sizeof(sin))
		return rc;
	memcpy(&sin, sa, sizeof(sin));
	if (sin.sin_family != AF_UNSPEC || sin.sin_addr.s_addr != htonl(INADDR_ANY))
		return rc;
	sin.sin_family = AF_INET;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
	return 0;
}

void bs_query_set_sockaddr(struct bs_query *q, const struct sockaddr_storage *ss)
{
	memset(&q->addr, 0, sizeof(q->addr));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		q->addr.family = AF_INET;
		memcpy(q->addr.bytes, &sin->sin_addr, 4);
		q->port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		q->addr.family = AF_INET6;
		memcpy(q->addr.bytes, &sin6->sin6_addr, 16);
		q->port = ntohs(sin6->sin6_port);
		bs_addr_fold(&q->addr);
	}
}

/* Appends the decimal digits of v at p; returns the end. */
static char *put_decimal(char *p, unsigned v)
{
	char d[10];
	int n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = d[--n];
	return p;
}

static char *put_ip4(char *p, const unsigned char *b)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = put_decimal(p, b[i]);
	}
	return p;
}

/* The text of an IPv6 address as inet_ntop(3) writes it (RFC 5952's longest run
 * of zero words, the first of equals, as "::"; IPv4-mapped and -compatible
 * addresses end in dotted quad), without stdio: records are formatted inside the
 * hooks, and glibc's inet_ntop costs a sprintf per word. */
static char *put_ip6(char *p, const unsigned char *b)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;

	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
		if (!w[i]) {
			if (cur < 0)
				cur = i, cur_len = 0;
			if (++cur_len > best_len)
				best = cur, best_len = cur_len;
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return put_ip4(p, b + 12);
		for (int shift = 12, lead = 1; shift >= 0; shift -= 4) {
			unsigned nib = (w[i] >> shift) & 0xf;

			if (nib || !lead || !shift) {
				*p++ = hex[nib];
				lead = 0;
			}
		}
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	return p;
}

char *bs_ip_format(int family, const void *bytes, char out[BS_IP_MAX])
{
	char *end = family == AF_INET6 ? put_ip6(out, bytes) : put_ip4(out, bytes);

	*end = '\0';
	return out;
}

char *bs_endpoint_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char text[BS_ENDPOINT_MAX + 16], *p = text;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		p = put_ip4(p, (const unsigned char *)&sin->sin_addr);
		*p++ = ':';
		p = put_decimal(p, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		*p++ = '[';
		p = put_ip6(p, sin6->sin6_addr.s6_addr);
		if (sin6->sin6_scope_id) {
			*p++ = '%';
			p = put_decimal(p, sin6->sin6_scope_id);
		}
		*p++ = ']';
		*p++ = ':';
		p = put_decimal(p, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "family-%u", (unsigned)ss->ss_family);
		return buf;
	}
	*p = '\0';
	if (len) {
		size_t n = (size_t)(p - text) < len ? (size_t)(p - text) : len - 1;

		memcpy(buf, text, n);
		buf[n] = '\0';
	}
	return buf;
}

int bs_endpoint_parse(const char *s, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *hs = s;
	size_t hlen;
	long port;
	struct bs_addr a;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hlen = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	if (bs_addr_parse(host, &a) || bs_parse_long(colon + 1, 0, 65535, &port))
		return -EINVAL;
	/* An IPv6 literal must be bracketed, an IPv4 one must not. */
	if ((a.family == AF_INET6) != (s[0] == '['))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (a.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a.bytes, 4);
		sin->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a.bytes, 16);
		sin6->sin6_port = htons((uint16_t)port);
	}
	return 0;
}

uint32_t bs_sockaddr_hash(const struct sockaddr_storage *ss)
{
	const unsigned char *p = (const unsigned char *)ss;
	size_t n = bs_sockaddr_len(ss);
	uint32_t h = 2166136261u;

	/* FNV-1a; sin6_flowinfo (bytes 4..7) is not part of where a socket is bound. */
	for (size_t i = 0; i < n; i++)
		if (ss->ss_family != AF_INET6 || i < 4 || i >= 8)
			h = (h ^ p[i]) * 16777619u;
	return h | 1u;
}
