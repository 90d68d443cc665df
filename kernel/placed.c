/*
 * For `bindshim audit`: which listeners the kernel program placed. `system watch`
 * remembers every socket the program rewrote or held, from its records, by its
 * cookie (an LRU map); sock_diag gives the cookie of every listening TCP and bound
 * UDP socket of this network namespace (shim/launcher/scope.c asks it).
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "kernel/loader.h"
#include "shim/launcher/audit.h"

/* Whether a and b are the same address, and port if port (not scope). */
static bool same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
			  bool port)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a, *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return (!port || a4->sin_port == b4->sin_port) &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return (!port || a6->sin6_port == b6->sin6_port) &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, 16);
}

/* Tells whether the program placed (rewrote) the socket with this cookie where it
 * is (at, port in network order: a rewritten bind the kernel then refused placed
 * nothing); fills why with what it asked and the rule. */
static bool placed(const struct bs_kpins *p, __u64 cookie, const struct sockaddr_storage *at,
		   char *why, size_t len)
{
	struct bs_kplaced v;
	struct bs_kinfo info;
	struct sockaddr_storage from, to;
	char ep[BS_ENDPOINT_MAX];
	__u32 key;

	if (bpf_map_lookup_elem(p->fd[BS_KM_PLACED], &cookie, &v))
		return false;
	bs_ksa_to(&to, &v.to);
	if (!same_endpoint(&to, at, v.to.port != 0))
		return false;
	key = (v.gen & 1) * BS_KMAX_RULES + (__u32)v.rule;
	bs_ksa_to(&from, &v.from);
	bs_endpoint_format(&from, ep, sizeof(ep));
	if (v.rule >= 0 && v.rule < BS_KMAX_RULES &&
	    bpf_map_lookup_elem(p->fd[BS_KM_INFO], &key, &info) == 0)
		snprintf(why, len, "asked %s, rule \"%s\" line %u", ep, info.name, info.line);
	else
		snprintf(why, len, "asked %s, default", ep);
	return true;
}

struct audit_ctx {
	const struct bs_kpins *p;
	int proto;			/* of the dump under way */
	int n;				/* listeners printed */
};

/* Prints the socket m if the program placed it. */
static void one(const struct inet_diag_msg *m, void *arg)
{
	struct audit_ctx *c = arg;
	__u64 cookie = m->id.idiag_cookie[0] | (__u64)m->id.idiag_cookie[1] << 32;
	struct sockaddr_storage ss;
	char why[160], ep[BS_ENDPOINT_MAX];

	/* UDP: bound and not connected */
	if (c->proto == IPPROTO_UDP && (m->id.idiag_dport || m->id.idiag_sport == 0))
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
	if (!placed(c->p, cookie, &ss, why, sizeof(why)))
		return;
	if (!c->n++)
		printf("\nPlaced by the kernel program (bindshim system):\n");
	printf("%-5s %-24s uid %-6u inode %-9u %s\n", c->proto == IPPROTO_TCP ? "tcp" : "udp",
	       bs_endpoint_format(&ss, ep, sizeof(ep)), m->idiag_uid, m->idiag_inode, why);
}

int bs_kaudit_print(const char *pin)
{
	static const int protos[] = {IPPROTO_TCP, IPPROTO_UDP};
	static const int families[] = {AF_INET, AF_INET6};
	struct bs_kpins p;
	struct audit_ctx c = {&p, 0, 0};
	int rc = bs_kpins_open(&p, pin ? pin : BS_KPIN_DIR);

	if (bs_kpins_unusable(rc))
		printf("\nKernel mode: %s\n", bs_kpins_error(rc));
	if (rc)
		return 0;
	for (size_t i = 0; i < 2; i++)
		for (size_t f = 0; f < 2; f++) {
			c.proto = protos[i];
			bs_diag_dump(families[f], protos[i], one, &c);
		}
	bs_kpins_close(&p);
	return c.n;
}
