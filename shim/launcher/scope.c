/*
 * The device a socket is bound to, which /proc/net does not show: a link-local
 * IPv6 address means little without its scope (fe80::1%eth0 and fe80::1%eth1 are
 * different places), and SO_BINDTODEVICE narrows even a wildcard to one interface.
 * The kernel's socket diagnostics (NETLINK_SOCK_DIAG, what ss(8) reads) give the
 * bound device of every socket. Where they are missing (a kernel built without
 * inet_diag, or without it for UDP or UDP-Lite), a link-local address gets the
 * one interface that holds it, and a device bound with SO_BINDTODEVICE stays unknown.
 */
#include <ifaddrs.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/launcher/audit.h"

/* The sockets whose devices a dump notes. */
struct notes {
	struct bs_audit_sock *v;
	size_t n;
};

/* Gives the sockets with inode m's inode the device m reports. */
static void note(const struct inet_diag_msg *m, void *arg)
{
	const struct notes *c = arg;

	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].inode == m->idiag_inode && m->id.idiag_if)
			c->v[i].ifindex = m->id.idiag_if;
}

/* Reads one dump's replies from fd, calling fn on each socket; returns 0 when it
 * is complete, -1 if the kernel answered with an error (no diagnostics for that
 * protocol). */
static int read_dump(int fd, void (*fn)(const struct inet_diag_msg *, void *), void *arg)
{
	long buf[8192 / sizeof(long)];

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		size_t off = 0;

		if (len <= 0)
			return -1;
		while (off + sizeof(struct nlmsghdr) <= (size_t)len) {
			const struct nlmsghdr *h = (const void *)((const char *)buf + off);

			if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > (size_t)len - off)
				return -1;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -1;
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				fn(NLMSG_DATA(h), arg);
			off += NLMSG_ALIGN(h->nlmsg_len);
		}
	}
}

int bs_diag_dump(int family, int ipproto, void (*fn)(const struct inet_diag_msg *, void *),
		 void *arg)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = {.nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.r = {.sdiag_family = (__u8)family, .sdiag_protocol = (__u8)ipproto,
		      /* TCP_LISTEN; an unconnected UDP socket is TCP_CLOSE */
		      .idiag_states = ipproto == IPPROTO_TCP ? 1u << TCP_LISTEN : 1u << TCP_CLOSE},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), rc = -1;

	if (fd < 0)
		return -1;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) >= 0)
		rc = read_dump(fd, fn, arg);
	close(fd);
	return rc;
}

/* The index of the only interface holding the IPv6 address a, or 0. */
static unsigned only_holder(const struct ifaddrs *ifs, const struct in6_addr *a)
{
	unsigned found = 0;

	for (const struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		const struct sockaddr_in6 *s = (const void *)i->ifa_addr;

		if (!s || s->sin6_family != AF_INET6 || memcmp(&s->sin6_addr, a, sizeof(*a)))
			continue;
		if (found && found != s->sin6_scope_id)
			return 0;
		found = s->sin6_scope_id;
	}
	return found;
}

/* Gives the link-local sockets of family and ipproto in v the interface that holds
 * their address, where only one does. */
static void guess_link_local(int family, int ipproto, struct bs_audit_sock *v, size_t n)
{
	struct ifaddrs *ifs = NULL;

	if (family != AF_INET6 || getifaddrs(&ifs) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct sockaddr_in6 *s = (const void *)&v[i].local;

		if (v[i].local.ss_family == AF_INET6 && v[i].ipproto == ipproto &&
		    IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr))
			v[i].ifindex = only_holder(ifs, &s->sin6_addr);
	}
	freeifaddrs(ifs);
}

void bs_audit_scopes(struct bs_audit_sock *v, size_t n)
{
	static const int families[] = {AF_INET, AF_INET6};
	static const int protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE};
	struct notes c = {v, n};

	for (size_t f = 0; f < 2; f++)
		for (size_t p = 0; p < 3; p++) {
			bool any = false;

			for (size_t i = 0; i < n && !any; i++)
				any = v[i].local.ss_family == families[f] && v[i].ipproto == protos[p];
			if (any && bs_diag_dump(families[f], protos[p], note, &c) < 0)
				guess_link_local(families[f], protos[p], v, n);
		}
}
