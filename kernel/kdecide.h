/*
 * The kernel program's decision over compiled tables, as C that both the BPF
 * program (kernel/bindshim.bpf.c) and user space (kernel/kdecide.c: `explain
 * --kernel`, the differential tests) compile. Whatever `explain --kernel` prints is
 * therefore what the program does, and tests/unit/kernel.c checks this code against
 * the policy engine (bs_resolve) on random policies.
 *
 * The includer defines, before including this file:
 *   struct bs_kenv               where the tables are (BPF: the generation), with
 *                                the generation's header as member hdr
 *   BS_K_RULE(env, i)            const struct bs_krule * of compiled rule i, or NULL
 *   BS_K_PAT(env, i)             const struct bs_kpat * of pattern i, or NULL
 *   BS_K_LOOP(n, cb, ctx)        calls cb(i, ctx) for i = 0.. n-1 until it returns 1
 *   BS_KINLINE                   static inline (always, for BPF)
 *   BS_KGLOBAL                   static (BPF: a global function, verified once
 *                                whatever its callers, with maybe-NULL pointers)
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

/* Tells whether glob p matches comm s (NUL-terminated within BS_KCOMM): the set of
 * positions reached, one character at a time; a star position keeps itself on any
 * character and lets the next position in for free. The same answers as bs_glob's
 * backtracking (tests/unit/kernel.c), in a fixed number of steps. */
BS_KINLINE int bs_k_glob(const struct bs_kpat *p, const char *s)
{
	__u32 st = p->stars, d = 1;

	if (p->never || p->ntok > BS_KPAT_TOKENS)
		return 0;
	d |= (d & st) << 1;
	for (int i = 0; i < BS_KCOMM; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!c)
			break;
		d = ((d & p->masks[c]) << 1) | (d & st);
		d |= (d & st) << 1;
	}
	return (d >> p->ntok) & 1;
}

/* Whether port is in one of r's ranges; likewise below for its addresses, uids and
 * program patterns (the first hit answers, as in policy/match.c). */
BS_KINLINE int bs_k_any_port(const struct bs_krule *r, __u16 port)
{
	for (int k = 0; k < BS_KR_PORTS && k < r->nports; k++)
		if (port >= r->ports[k].lo && port <= r->ports[k].hi)
			return 1;
	return 0;
}

BS_KINLINE int bs_k_any_addr(const struct bs_krule *r, const struct bs_kquery *q)
{
	for (int k = 0; k < BS_KR_ADDRS && k < r->naddrs; k++)
		if (bs_k_addr_match(&r->addrs[k], q))
			return 1;
	return 0;
}

BS_KINLINE int bs_k_any_uid(const struct bs_krule *r, __u32 uid)
{
	for (int k = 0; k < BS_KR_UIDS && k < r->nuids; k++)
		if (r->uids[k] == uid)
			return 1;
	return 0;
}

BS_KINLINE int bs_k_any_prog(const struct bs_kenv *env, const struct bs_krule *r,
			     const char *comm)
{
	for (int k = 0; k < BS_KR_PROGS && k < r->nprogs; k++) {
		const struct bs_kpat *p = BS_K_PAT(env, r->progs[k]);

		if (p && bs_k_glob(p, comm))
			return 1;
	}
	return 0;
}

BS_KINLINE int bs_k_rule_matches(const struct bs_kenv *env, const struct bs_krule *r,
				 const struct bs_kquery *q)
{
	__u8 fam = q->family == BS_KAF_INET ? 1 : 2;

	if (r->flags & BS_KR_NEVER)
		return 0;
	if (r->families && !(r->families & fam))
		return 0;
	if (r->protos && !(r->protos & q->proto))
		return 0;
	if (r->nports && !bs_k_any_port(r, q->port))
		return 0;
	if (r->naddrs && !bs_k_any_addr(r, q))
		return 0;
	if (r->nuids && !bs_k_any_uid(r, q->uid))
		return 0;
	if (r->nprogs && !bs_k_any_prog(env, r, q->comm))
		return 0;
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

/* Stores the loopback address of out's family: 127.0.0.1 (mapped on IPv6) or ::1. */
BS_KINLINE void bs_k_put_loopback(struct bs_ksa *out, int v4)
{
	__u8 lo4[4];

	if (v4) {
		lo4[0] = 127;
		lo4[1] = 0;
		lo4[2] = 0;
		lo4[3] = 1;
		bs_k_put_v4(out, lo4);
		return;
	}
	__builtin_memset(out->addr, 0, sizeof(out->addr));
	out->addr[15] = 1;
	out->scope = 0;
}

/* Stores the wildcard of out's family. */
BS_KINLINE void bs_k_put_wildcard(struct bs_ksa *out)
{
	__builtin_memset(out->addr, 0, sizeof(out->addr));
	out->scope = 0;
}

/* The address a rewrite by r of in gives (policy/target.c: bs_rewrite, and the
 * dual-stack rule above); returns 0 or BS_KEADDRNOTAVAIL. (No static constant
 * arrays here: clang puts them in a .rodata the kernel's BTF check refuses.) */
BS_KINLINE int bs_k_rewrite(const struct bs_krule *r, const struct bs_ksa *in, int v6only,
			    struct bs_ksa *out)
{
	int v6 = in->family == BS_KAF_INET6;
	int mapped = v6 && bs_k_is_mapped(in->addr);
	int rc = 0;

	*out = *in;
	if (r->to_kind == BS_KTO_LOOPBACK) {
		bs_k_put_loopback(out, !v6 || mapped || (!v6only && bs_k_zero(in->addr, 16)));
	} else if (r->to_kind == BS_KTO_IP) {
		if (r->to_family == 4) {
			if (v6 && !mapped && bs_k_zero(r->to_ip, 4))
				bs_k_put_wildcard(out);
			else
				bs_k_put_v4(out, r->to_ip);
		} else if (v6) {
			bs_k_put_v6(out, r->to_ip, 0);
		} else if (bs_k_zero(r->to_ip, 16)) {
			bs_k_put_wildcard(out);
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

/* Decides q (asked address from) under env's generation; returns 0. */
BS_KGLOBAL int bs_k_resolve(const struct bs_kenv *env, const struct bs_kquery *q,
			    const struct bs_ksa *from, int v6only, struct bs_kout *o)
{
	struct bs_kscan sc = {.env = env, .q = q, .found = -1};
	const struct bs_krule *r = 0;

	if (!env || !q || !from || !o)
		return 0;
	BS_K_LOOP(env->hdr.nrules, bs_k_scan_step, &sc);
	o->rule = sc.found;
	o->once = 0;
	o->err = 0;
	if (sc.found >= 0)
		r = BS_K_RULE(env, (__u32)sc.found);
	if (!r) {
		o->rule = -1;
		o->action = env->hdr.default_action;
		if (o->action == BS_KA_DENY)
			o->err = env->hdr.default_err;
		return 0;
	}
	o->action = r->action;
	if (o->action == BS_KA_DENY)
		o->err = r->err;
	else if (o->action == BS_KA_REWRITE)
		o->err = bs_k_rewrite(r, from, v6only, &o->to);
	return 0;
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
 * and port are filled here), with the decision-once rule; returns 0. */
BS_KGLOBAL int bs_k_judge(const struct bs_kenv *env, struct bs_kquery *q,
			  const struct bs_ksa *from, int v6only, struct bs_kout *o)
{
	struct bs_kout w = {};
	struct bs_ksa ws;
	int wv6only;

	if (!env || !q || !from || !o)
		return 0;
	/* A v4-mapped address can only be bound on a dual-stack socket. */
	wv6only = v6only && !(from->family == BS_KAF_INET6 && bs_k_is_mapped(from->addr));
	bs_k_fold(q, from);
	bs_k_resolve(env, q, from, v6only, o);
	if ((o->action != BS_KA_REWRITE && !o->err) || bs_k_is_wildcard(q))
		return 0;
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
		bs_k_resolve(env, q, &ws, wv6only, &w);
		if (w.action == BS_KA_REWRITE && !w.err && bs_k_sa_eq(&w.to, from)) {
			o->action = BS_KA_ALLOW;
			o->once = 1;
			o->err = 0;
			o->rule = w.rule;
			break;
		}
	}
	bs_k_fold(q, from);
	return 0;
}

#endif
