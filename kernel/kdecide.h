/*
 * The kernel program's decision over compiled tables, as C that both the BPF
 * program (kernel/bindshim.bpf.c) and user space (kernel/kdecide.c: `explain
 * --kernel`, the differential tests) compile. Whatever `explain --kernel` prints is
 * therefore what the program does, and tests/unit/kernel.c checks this code against
 * the policy engine (bs_resolve) on random policies.
 *
 * The includer defines, before including this file:
 *   struct bs_kenv               where the tables are (BPF: the generation)
 *   BS_K_RULE(env, i)            const struct bs_krule * of compiled rule i, or NULL
 *   BS_K_PAT(env, i)             const struct bs_kpat * of pattern i, or NULL
 *   BS_K_LOOP(n, cb, ctx)        calls cb(i, ctx) for i = 0.. n-1 until it returns 1
 *   BS_KINLINE                   static inline (always, for BPF)
 *
 * Semantics, as in the shim: first matching rule (policy/match.c, decide.c), the
 * rewrite address (policy/target.c), plus two rules the kernel needs:
 *   - loopback for the IPv6 wildcard :: on a dual-stack socket (IPV6_V6ONLY off) is
 *     ::ffff:127.0.0.1, reachable as 127.0.0.1 and localhost; on a V6ONLY socket ::1;
 *   - a decision is made once: a non-wildcard address X that would be rewritten or
 *     denied is allowed unchanged if a wildcard bind of the same family at the same
 *     port is rewritten to exactly X (the shim in /etc/ld.so.preload rewrote it).
 */
#ifndef BS_KDECIDE_H
#define BS_KDECIDE_H

#include "kernel/ktypes.h"

BS_KINLINE int bs_k_is_mapped(const __u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return 0;
	return a[10] == 0xff && a[11] == 0xff;
}

/* Fills q's address and port from sa, folding v4-mapped IPv6 into IPv4. */
BS_KINLINE void bs_k_fold(struct bs_kquery *q, const struct bs_ksa *sa)
{
	__builtin_memset(q->addr, 0, sizeof(q->addr));
	q->port = sa->port;
	if (sa->family == BS_KAF_INET) {
		q->family = BS_KAF_INET;
		__builtin_memcpy(q->addr, sa->addr, 4);
	} else if (bs_k_is_mapped(sa->addr)) {
		q->family = BS_KAF_INET;
		__builtin_memcpy(q->addr, sa->addr + 12, 4);
	} else {
		q->family = BS_KAF_INET6;
		__builtin_memcpy(q->addr, sa->addr, 16);
	}
}

/* 0.0.0.0 or :: (after folding, so ::ffff:0.0.0.0 too). */
BS_KINLINE int bs_k_is_wildcard(const struct bs_kquery *q)
{
	for (int i = 0; i < 16; i++)
		if (q->addr[i])
			return 0;
	return 1;
}

/* Tells whether the first prefix bits of a and b agree. */
BS_KINLINE int bs_k_prefix_eq(const __u8 *a, const __u8 *b, __u32 prefix)
{
	for (__u32 i = 0; i < 16; i++) {
		__u32 bit = i * 8;

		if (bit >= prefix)
			break;
		if (bit + 8 <= prefix) {
			if (a[i] != b[i])
				return 0;
		} else if ((a[i] ^ b[i]) & (__u8)(0xff00u >> (prefix - bit))) {
			return 0;
		}
	}
	return 1;
}

BS_KINLINE int bs_k_addr_match(const struct bs_kcidr *m, const struct bs_kquery *q)
{
	if (m->kind == BS_KADDR_ANY)
		return 1;
	if (m->kind == BS_KADDR_WILDCARD)
		return bs_k_is_wildcard(q);
	if ((m->family == 4) != (q->family == BS_KAF_INET))
		return 0;
	return bs_k_prefix_eq(m->bytes, q->addr, m->prefix);
}

/* The state of one glob match (bs_glob's loop, one step per iteration). */
struct bs_kglob {
	const struct bs_kpat *p;
	const char *s;
	__u32 pi, si, star_pi, star_si;
	__u32 has_star, done, result;
};

/* Tells whether the token pi (a character class) holds character c. */
BS_KINLINE int bs_k_class_has(const struct bs_kpat *p, __u32 pi, unsigned char c)
{
	__u32 ci = p->cls_of[pi & (BS_KPAT_TOKENS - 1)];

	if (ci >= BS_KPAT_CLASSES)
		return 0;
	return (p->cls[ci][c >> 3] >> (c & 7)) & 1;
}

/* One step of the one-backtrack-point wildcard match (policy/match.c: bs_glob). */
static long bs_k_glob_step(__u32 n, void *ctx)
{
	struct bs_kglob *g = ctx;
	const struct bs_kpat *p = g->p;
	__u32 pi = g->pi, si = g->si;
	unsigned char c;

	(void)n;
	if (si >= BS_KCOMM || pi > BS_KPAT_TOKENS)
		goto no;
	c = (unsigned char)g->s[si];
	if (!c) {
		/* End of the string: what is left of the pattern must be stars. */
		__u32 left = p->ntok > pi ? p->ntok - pi : 0;
		__u64 mask = left >= 32 ? 0xffffffffull : ((1ull << left) - 1);

		g->result = left == 0 || (((__u64)p->stars >> (pi & 31)) & mask) == mask;
		g->done = 1;
		return 1;
	}
	if (pi < p->ntok && ((p->stars >> (pi & 31)) & 1)) {
		g->star_pi = ++g->pi;
		g->star_si = si;
		g->has_star = 1;
		return 0;
	}
	if (pi < p->ntok && bs_k_class_has(p, pi, c)) {
		g->pi = pi + 1;
		g->si = si + 1;
		return 0;
	}
	if (g->has_star) {
		g->pi = g->star_pi;
		g->si = ++g->star_si;
		return 0;
	}
no:
	g->result = 0;
	g->done = 1;
	return 1;
}

/* Tells whether glob p matches comm s (NUL-terminated within BS_KCOMM). */
BS_KINLINE int bs_k_glob(const struct bs_kpat *p, const char *s)
{
	struct bs_kglob g = {.p = p, .s = s};

	if (p->never)
		return 0;
	BS_K_LOOP(BS_KGLOB_STEPS, bs_k_glob_step, &g);
	return g.done && g.result;
}

BS_KINLINE int bs_k_rule_matches(const struct bs_kenv *env, const struct bs_krule *r,
				 const struct bs_kquery *q)
{
	__u8 fam = q->family == BS_KAF_INET ? 1 : 2;
	int hit;

	if (r->flags & BS_KR_NEVER)
		return 0;
	if (r->families && !(r->families & fam))
		return 0;
	if (r->protos && !(r->protos & q->proto))
		return 0;
	if (r->nports) {
		hit = 0;
		for (int k = 0; k < BS_KR_PORTS; k++)
			if (k < r->nports && q->port >= r->ports[k].lo && q->port <= r->ports[k].hi)
				hit = 1;
		if (!hit)
			return 0;
	}
	if (r->naddrs) {
		hit = 0;
		for (int k = 0; k < BS_KR_ADDRS; k++)
			if (k < r->naddrs && bs_k_addr_match(&r->addrs[k], q))
				hit = 1;
		if (!hit)
			return 0;
	}
	if (r->nuids) {
		hit = 0;
		for (int k = 0; k < BS_KR_UIDS; k++)
			if (k < r->nuids && r->uids[k] == q->uid)
				hit = 1;
		if (!hit)
			return 0;
	}
	if (r->nprogs) {
		hit = 0;
		for (int k = 0; k < BS_KR_PROGS && !hit; k++) {
			const struct bs_kpat *p;

			if (k >= r->nprogs)
				break;
			p = BS_K_PAT(env, r->progs[k]);
			if (p && bs_k_glob(p, q->comm))
				hit = 1;
		}
		if (!hit)
			return 0;
	}
	return 1;
}

struct bs_kscan {
	const struct bs_kenv *env;
	const struct bs_kquery *q;
	__s32 found;
};

static long bs_k_scan_step(__u32 i, void *ctx)
{
	struct bs_kscan *sc = ctx;
	const struct bs_krule *r = BS_K_RULE(sc->env, i);

	if (!r)
		return 1;
	if (bs_k_rule_matches(sc->env, r, sc->q)) {
		sc->found = (__s32)i;
		return 1;
	}
	return 0;
}

/* Stores IPv4 address v4 into an endpoint of family out->family (mapped if IPv6). */
BS_KINLINE void bs_k_put_v4(struct bs_ksa *out, const __u8 *v4)
{
	__builtin_memset(out->addr, 0, sizeof(out->addr));
	out->scope = 0;
	if (out->family == BS_KAF_INET) {
		__builtin_memcpy(out->addr, v4, 4);
	} else {
		out->addr[10] = 0xff;
		out->addr[11] = 0xff;
		__builtin_memcpy(out->addr + 12, v4, 4);
	}
}

BS_KINLINE void bs_k_put_v6(struct bs_ksa *out, const __u8 *v6, __u32 scope)
{
	__builtin_memcpy(out->addr, v6, 16);
	out->scope = scope;
}

BS_KINLINE int bs_k_zero(const __u8 *a, int n)
{
	for (int i = 0; i < 16; i++)
		if (i < n && a[i])
			return 0;
	return 1;
}

/* The address a rewrite by r of in gives (policy/target.c: bs_rewrite, and the
 * dual-stack rule above); returns 0 or BS_KEADDRNOTAVAIL. */
BS_KINLINE int bs_k_rewrite(const struct bs_krule *r, const struct bs_ksa *in, int v6only,
			    struct bs_ksa *out)
{
	static const __u8 lo4[4] = {127, 0, 0, 1};
	static const __u8 lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const __u8 zero[16];
	int v6 = in->family == BS_KAF_INET6;
	int mapped = v6 && bs_k_is_mapped(in->addr);
	int rc = 0;

	*out = *in;
	if (r->to_kind == BS_KTO_LOOPBACK) {
		if (!v6 || mapped || (!v6only && bs_k_zero(in->addr, 16)))
			bs_k_put_v4(out, lo4);
		else
			bs_k_put_v6(out, lo6, 0);
	} else if (r->to_kind == BS_KTO_IP) {
		if (r->to_family == 4) {
			if (v6 && !mapped && bs_k_zero(r->to_ip, 4))
				bs_k_put_v6(out, zero, 0);
			else
				bs_k_put_v4(out, r->to_ip);
		} else if (v6) {
			bs_k_put_v6(out, r->to_ip, 0);
		} else if (bs_k_zero(r->to_ip, 16)) {
			bs_k_put_v4(out, zero);
		} else {
			rc = BS_KEADDRNOTAVAIL;
		}
	} else if (!v6 || mapped) {
		if (r->if_v4_ok)
			bs_k_put_v4(out, r->if_v4);
		else
			rc = BS_KEADDRNOTAVAIL;
	} else {
		if (r->if_v6_ok)
			bs_k_put_v6(out, r->if_v6, r->if_scope);
		else
			rc = BS_KEADDRNOTAVAIL;
	}
	if (r->to_port >= 0)
		out->port = (__u16)r->to_port;
	return rc;
}

/* Decides q (asked address from) under the generation hdr describes. */
BS_KINLINE void bs_k_resolve(const struct bs_kenv *env, const struct bs_kgen *hdr,
			     const struct bs_kquery *q, const struct bs_ksa *from, int v6only,
			     struct bs_kout *o)
{
	struct bs_kscan sc = {.env = env, .q = q, .found = -1};
	const struct bs_krule *r = 0;

	BS_K_LOOP(hdr->nrules, bs_k_scan_step, &sc);
	o->rule = sc.found;
	o->once = 0;
	o->err = 0;
	if (sc.found >= 0)
		r = BS_K_RULE(env, (__u32)sc.found);
	if (!r) {
		o->rule = -1;
		o->action = hdr->default_action;
		if (o->action == BS_KA_DENY)
			o->err = hdr->default_err;
		return;
	}
	o->action = r->action;
	if (o->action == BS_KA_DENY)
		o->err = r->err;
	else if (o->action == BS_KA_REWRITE)
		o->err = bs_k_rewrite(r, from, v6only, &o->to);
}

BS_KINLINE int bs_k_sa_eq(const struct bs_ksa *a, const struct bs_ksa *b)
{
	int n = a->family == BS_KAF_INET ? 4 : 16;

	if (a->family != b->family || a->port != b->port)
		return 0;
	for (int i = 0; i < 16; i++)
		if (i < n && a->addr[i] != b->addr[i])
			return 0;
	return 1;
}

/* Judges bind(from) for the caller described by q (uid, proto, comm; its address
 * and port are filled here), with the decision-once rule. */
BS_KINLINE void bs_k_judge(const struct bs_kenv *env, const struct bs_kgen *hdr,
			   struct bs_kquery *q, const struct bs_ksa *from, int v6only,
			   struct bs_kout *o)
{
	struct bs_kout w;
	struct bs_ksa ws;

	bs_k_fold(q, from);
	bs_k_resolve(env, hdr, q, from, v6only, o);
	if ((o->action != BS_KA_REWRITE && !o->err) || bs_k_is_wildcard(q))
		return;
	/* IPv4: 0.0.0.0; IPv6: :: and ::ffff:0.0.0.0. */
	for (int k = 0; k < 2; k++) {
		if (k == 1 && from->family != BS_KAF_INET6)
			break;
		__builtin_memset(&ws, 0, sizeof(ws));
		ws.family = from->family;
		ws.port = from->port;
		if (k == 1) {
			ws.addr[10] = 0xff;
			ws.addr[11] = 0xff;
		}
		bs_k_fold(q, &ws);
		bs_k_resolve(env, hdr, q, &ws, v6only, &w);
		if (w.action == BS_KA_REWRITE && !w.err && bs_k_sa_eq(&w.to, from)) {
			o->action = BS_KA_ALLOW;
			o->once = 1;
			o->err = 0;
			o->rule = w.rule;
			break;
		}
	}
	bs_k_fold(q, from);
}

#endif
