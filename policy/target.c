/*
 * Rewrite targets: parsing, and computing the address a rewritten bind uses.
 *
 * Loopback keeps the socket's family: 127.0.0.1, ::1, or ::ffff:127.0.0.1 when the
 * program bound a v4-mapped address. An IP of the other family is mapped: IPv4 on an
 * IPv6 socket becomes ::ffff:a.b.c.d, except 0.0.0.0 which becomes :: (both mean
 * "every interface"); :: on an IPv4 socket becomes 0.0.0.0; any other IPv6 address on
 * an IPv4 socket has no equivalent (EADDRNOTAVAIL). An interface is looked up when the
 * bind happens, with syscalls only, so the shim may do it inside any hook.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy/sys.h"

#define IFACE_PREFIX "interface:"

int bs_target_parse(const char *s, struct bs_target *t)
{
	memset(t, 0, sizeof(*t));
	if (!strcmp(s, "loopback")) {
		t->kind = BS_TO_LOOPBACK;
		return 0;
	}
	if (!strncmp(s, IFACE_PREFIX, strlen(IFACE_PREFIX))) {
		const char *name = s + strlen(IFACE_PREFIX);
		size_t n = strlen(name);

		if (n == 0 || n >= BS_IFNAMSIZ || strpbrk(name, "/: \t\n"))
			return -EINVAL;
		t->kind = BS_TO_IFACE;
		memcpy(t->ifname, name, n + 1);
		return 0;
	}
	if (bs_addr_parse(s, &t->ip))
		return -EINVAL;
	bs_addr_fold(&t->ip);
	t->kind = BS_TO_IP;
	return 0;
}

/* Tells whether the inet6 address at p is v4-mapped. */
static bool is_mapped6(const struct in6_addr *p)
{
	return IN6_IS_ADDR_V4MAPPED(p);
}

/* Stores IPv4 address v4 (4 bytes) into out, mapped if out is IPv6. */
static void put_v4(struct sockaddr_storage *out, const uint8_t *v4)
{
	if (out->ss_family == AF_INET) {
		memcpy(&((struct sockaddr_in *)out)->sin_addr, v4, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

		memset(&sin6->sin6_addr, 0, 10);
		memset((uint8_t *)&sin6->sin6_addr + 10, 0xff, 2);
		memcpy((uint8_t *)&sin6->sin6_addr + 12, v4, 4);
		sin6->sin6_scope_id = 0;
	}
}

/* Stores IPv6 address v6 (16 bytes) with scope into an IPv6 out. */
static void put_v6(struct sockaddr_storage *out, const uint8_t *v6, uint32_t scope)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

	memcpy(&sin6->sin6_addr, v6, 16);
	sin6->sin6_scope_id = scope;
}

/* Reads the primary IPv4 address of ifname into v4; returns 0 or -EADDRNOTAVAIL. */
static int iface_v4(const char *ifname, uint8_t *v4)
{
	struct ifreq ifr;
	int fd = bs_sys_socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -EADDRNOTAVAIL;

	if (fd < 0)
		return rc;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	if (ioctl(fd, SIOCGIFADDR, &ifr) == 0 && ifr.ifr_addr.sa_family == AF_INET) {
		memcpy(v4, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, 4);
		rc = 0;
	}
	bs_sys_close(fd);
	return rc;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parses n hex digits at s into bytes; returns 0 or -1. */
static int parse_hex(const char *s, uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* How good an address of this scope is: 0 global, 1 host, 2 link, 3 unusable. */
static int scope_rank(unsigned scope, unsigned flags)
{
	/* IFA_F_DADFAILED 0x08, IFA_F_TENTATIVE 0x40: cannot be bound yet */
	if (flags & (0x08 | 0x40))
		return 3;
	if (scope == 0x00 || scope == 0x40)
		return 0;
	if (scope == 0x10)
		return 1;
	return scope == 0x20 ? 2 : 3;
}

struct v6pick {
	const char *ifname;
	int rank;
	uint8_t addr[16];
	uint32_t ifindex;
};

/* Splits the next space-separated token of line[*i..len) into tok; returns its length. */
static size_t next_token(const char *line, size_t len, size_t *i, char *tok, size_t cap)
{
	size_t n = 0;

	while (*i < len && line[*i] == ' ')
		(*i)++;
	while (*i < len && line[*i] != ' ') {
		if (n + 1 < cap)
			tok[n++] = line[*i];
		(*i)++;
	}
	tok[n] = '\0';
	return n;
}

/* Parses a hex number of at most 8 digits; returns 0 or -1. */
static int parse_hexnum(const char *s, uint32_t *v)
{
	size_t n = strlen(s);

	*v = 0;
	if (n == 0 || n > 8)
		return -1;
	for (size_t k = 0; k < n; k++) {
		int d = hexval(s[k]);

		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* Considers one /proc/net/if_inet6 line: address, ifindex, prefix length, scope,
 * flags (hex) and name, e.g. "20010db8000000000000000000000007 02 40 00 80 bs0". */
static void consider_line(const char *line, size_t len, struct v6pick *best)
{
	char tok[40];
	uint8_t addr[16];
	uint32_t f[4];
	size_t i = 0;
	int rank;

	if (next_token(line, len, &i, tok, sizeof(tok)) != 32 || parse_hex(tok, addr, 16))
		return;
	for (int k = 0; k < 4; k++) {
		next_token(line, len, &i, tok, sizeof(tok));
		if (parse_hexnum(tok, &f[k]))
			return;
	}
	next_token(line, len, &i, tok, sizeof(tok));
	if (strcmp(tok, best->ifname))
		return;
	rank = scope_rank(f[2], f[3]);
	if (rank < best->rank) {
		best->rank = rank;
		memcpy(best->addr, addr, 16);
		best->ifindex = f[0];
	}
}

/* Picks the best IPv6 address of ifname from /proc/net/if_inet6; 0 or -EADDRNOTAVAIL. */
static int iface_v6(const char *ifname, uint8_t *v6, uint32_t *scope)
{
	char buf[4096];
	size_t have = 0;
	ssize_t got;
	struct v6pick best = {.ifname = ifname, .rank = 3};
	int fd = open("/proc/net/if_inet6", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -EADDRNOTAVAIL;
	while ((got = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		size_t start = 0;

		have += (size_t)got;
		for (size_t i = 0; i < have; i++)
			if (buf[i] == '\n') {
				consider_line(buf + start, i - start, &best);
				start = i + 1;
			}
		/* Keep a partial last line; a line never fills the buffer. */
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == sizeof(buf))
			have = 0;
	}
	bs_sys_close(fd);
	if (best.rank > 2)
		return -EADDRNOTAVAIL;
	memcpy(v6, best.addr, 16);
	/* Only a link-local address needs its interface as scope. */
	*scope = best.rank == 2 ? best.ifindex : 0;
	return 0;
}

bool bs_sockaddr_is_dualstack_wildcard(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

bool bs_sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port && a6->sin6_scope_id == b6->sin6_scope_id &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, 16);
}

/* Stores the loopback address of out's family: mapped if the program bound a
 * v4-mapped address, or the IPv6 wildcard on a dual-stack socket (which takes IPv4
 * too: ::ffff:127.0.0.1 is reachable as 127.0.0.1 and as localhost). */
static void put_loopback(struct sockaddr_storage *out, bool was_mapped, bool dualstack)
{
	static const uint8_t v4[4] = {127, 0, 0, 1}, v6[16] = {[15] = 1};

	if (out->ss_family == AF_INET || was_mapped || dualstack)
		put_v4(out, v4);
	else
		put_v6(out, v6, 0);
}

/* Stores IP target ip into out, crossing families as the file comment says. */
static int put_ip(struct sockaddr_storage *out, const struct bs_addr *ip, bool was_mapped)
{
	static const uint8_t zero[16];

	if (ip->family == AF_INET) {
		if (out->ss_family == AF_INET6 && !was_mapped && bs_addr_is_wildcard(ip))
			put_v6(out, zero, 0);
		else
			put_v4(out, ip->bytes);
		return 0;
	}
	if (out->ss_family == AF_INET6) {
		put_v6(out, ip->bytes, 0);
		return 0;
	}
	if (!bs_addr_is_wildcard(ip))
		return -EADDRNOTAVAIL;
	put_v4(out, zero);
	return 0;
}

int bs_rewrite(const struct bs_rule *r, const struct sockaddr_storage *in, bool v6only,
	       struct sockaddr_storage *out)
{
	bool mapped = in->ss_family == AF_INET6 &&
		      is_mapped6(&((const struct sockaddr_in6 *)in)->sin6_addr);
	uint8_t bytes[16];
	uint32_t scope = 0;
	int rc = 0;

	*out = *in;
	switch (r->to.kind) {
	case BS_TO_LOOPBACK:
		put_loopback(out, mapped, !v6only && bs_sockaddr_is_dualstack_wildcard(in));
		break;
	case BS_TO_IP:
		rc = put_ip(out, &r->to.ip, mapped);
		break;
	case BS_TO_IFACE:
		if (in->ss_family == AF_INET || mapped) {
			rc = iface_v4(r->to.ifname, bytes);
			if (!rc)
				put_v4(out, bytes);
		} else {
			rc = iface_v6(r->to.ifname, bytes, &scope);
			if (!rc)
				put_v6(out, bytes, scope);
		}
		break;
	}
	if (r->to_port >= 0) {
		uint16_t port = htons((uint16_t)r->to_port);

		if (out->ss_family == AF_INET)
			((struct sockaddr_in *)out)->sin_port = port;
		else
			((struct sockaddr_in6 *)out)->sin6_port = port;
	}
	return rc;
}
