/*
 * For `bindshim audit`: which listeners the kernel program placed. The program
 * remembers every socket it rewrote by its cookie (an LRU map); sock_diag gives
 * the cookie of every listening TCP and bound UDP socket of this network
 * namespace.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "kernel/loader.h"

bool bs_ksystem_placed(const char *pin, unsigned long long cookie, char *why, size_t len)
{
	struct bs_kpins p;
	struct bs_kplaced v;
	struct bs_kinfo info;
	struct sockaddr_storage from;
	char ep[BS_ENDPOINT_MAX];
	bool found = false;

	if (bs_kpins_open(&p, pin))
		return false;
	if (bpf_map_lookup_elem(p.fd[BS_KM_PLACED], &cookie, &v) == 0) {
		__u32 key = (v.gen & 1) * BS_KMAX_RULES + (__u32)v.rule;

		found = true;
		bs_ksa_to(&from, &v.from);
		bs_endpoint_format(&from, ep, sizeof(ep));
		if (v.rule >= 0 && v.rule < BS_KMAX_RULES &&
		    bpf_map_lookup_elem(p.fd[BS_KM_INFO], &key, &info) == 0)
			snprintf(why, len, "asked %s, rule \"%s\" line %u", ep, info.name, info.line);
		else
			snprintf(why, len, "asked %s, default", ep);
	}
	bs_kpins_close(&p);
	return found;
}

/* Asks sock_diag for the sockets of one family and protocol; calls fn on each. */
static void dump(int family, int proto, void (*fn)(const struct inet_diag_msg *, int, void *),
		 void *arg)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nh = {.nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.req = {.sdiag_family = (__u8)family, .sdiag_protocol = (__u8)proto,
			.idiag_states = proto == IPPROTO_TCP ? 1u << 10 : ~0u},
	};
	char buf[16384];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	bool done = false;

	if (fd < 0)
		return;
	if (send(fd, &msg, sizeof(msg), 0) < 0)
		done = true;
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n <= 0)
			break;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			fn(NLMSG_DATA(h), proto, arg);
		}
	}
	close(fd);
}

struct audit_ctx {
	const char *pin;
	int n;
};

static void one(const struct inet_diag_msg *m, int proto, void *arg)
{
	struct audit_ctx *c = arg;
	unsigned long long cookie = m->id.idiag_cookie[0] |
				    (unsigned long long)m->id.idiag_cookie[1] << 32;
	struct sockaddr_storage ss;
	char why[160], ep[BS_ENDPOINT_MAX];

	/* UDP: bound and not connected */
	if (proto == IPPROTO_UDP && (m->id.idiag_dport || m->id.idiag_sport == 0))
		return;
	if (!bs_ksystem_placed(c->pin, cookie, why, sizeof(why)))
		return;
	memset(&ss, 0, sizeof(ss));
	if (m->idiag_family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = m->id.idiag_sport;
		memcpy(&s->sin_addr, m->id.idiag_src, 4);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = m->id.idiag_sport;
		memcpy(&s->sin6_addr, m->id.idiag_src, 16);
	}
	if (!c->n++)
		printf("\nPlaced by the kernel program (bindshim system):\n");
	printf("%-5s %-24s uid %-6u inode %-9u %s\n", proto == IPPROTO_TCP ? "tcp" : "udp",
	       bs_endpoint_format(&ss, ep, sizeof(ep)), m->idiag_uid, m->idiag_inode, why);
}

int bs_kaudit_print(const char *pin)
{
	struct audit_ctx c = {pin ? pin : BS_KPIN_DIR, 0};
	struct bs_kpins p;

	if (bs_kpins_open(&p, c.pin))
		return 0;
	bs_kpins_close(&p);
	dump(AF_INET, IPPROTO_TCP, one, &c);
	dump(AF_INET6, IPPROTO_TCP, one, &c);
	dump(AF_INET, IPPROTO_UDP, one, &c);
	dump(AF_INET6, IPPROTO_UDP, one, &c);
	return c.n;
}
