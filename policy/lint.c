/*
 * Warnings about valid policies that will not act as written: a rewrite whose
 * output another rewrite or deny rule matches. A decision is made once (the bind
 * of an address a rewrite produced, say through getaddrinfo, is not judged again),
 * so that other rule never applies to it, whatever the author expected.
 *
 * Conservative: only addresses and ports are compared; program, exe, uid, family
 * and proto keys are ignored, so a warning may name a pair that never meets. The one
 * exception is exact: an earlier rule that matches every address decides the input
 * of a rewrite that keeps the port before that rewrite can act (shadows()).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

struct lint {
	const struct bs_policy *p;
	char *buf;
	size_t len, used;
	int warnings;
};

/* Appends one "FILE:LINE: warning: ..." line to the buffer, as room allows. */
__attribute__((format(printf, 3, 4)))
static void warn(struct lint *w, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	w->warnings++;
	if (!w->buf || w->used + 1 >= w->len)
		return;
	n = snprintf(w->buf + w->used, w->len - w->used, "%s:%u: warning: ",
		     w->p->file ? w->p->file : "builtin", line);
	if (n > 0 && w->used + (size_t)n < w->len) {
		w->used += (size_t)n;
		va_start(ap, fmt);
		n = vsnprintf(w->buf + w->used, w->len - w->used, fmt, ap);
		va_end(ap);
		if (n > 0)
			w->used += (size_t)n;
	}
	if (w->used + 1 >= w->len) {
		/* Truncated: end on a whole line. */
		w->used = w->len - 1;
		w->buf[w->used - 1] = '\n';
		return;
	}
	w->buf[w->used++] = '\n';
	w->buf[w->used] = '\0';
}

/* The folded addresses a rewrite of r can produce (at most 2); interface targets
 * are unknown until the bind, so none. Returns the count. */
static size_t outputs(const struct bs_rule *r, struct bs_addr out[2])
{
	static const struct bs_addr lo4 = {AF_INET, {127, 0, 0, 1}};
	static const struct bs_addr lo6 = {AF_INET6, {[15] = 1}};
	static const struct bs_addr any4 = {AF_INET, {0}};
	static const struct bs_addr any6 = {AF_INET6, {0}};

	if (r->to.kind == BS_TO_LOOPBACK) {
		out[0] = lo4;	/* ::ffff:127.0.0.1 folds into it */
		out[1] = lo6;
		return 2;
	}
	if (r->to.kind != BS_TO_IP)
		return 0;
	out[0] = r->to.ip;
	bs_addr_fold(&out[0]);
	if (!bs_addr_is_wildcard(&out[0]))
		return 1;
	/* A wildcard target becomes the wildcard of the socket's family. */
	out[1] = out[0].family == AF_INET ? any6 : any4;
	return 2;
}

/* Tells whether some port of a (ranges, or any if na == 0) is in b (likewise). */
static bool ports_overlap(const struct bs_port_range *a, size_t na,
			  const struct bs_port_range *b, size_t nb)
{
	if (!na || !nb)
		return true;
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (a[i].lo <= b[j].hi && b[j].lo <= a[i].hi)
				return true;
	return false;
}

/* Tells whether rule r2's address key matches a (no key: every address). */
static bool address_matches(const struct bs_rule *r2, const struct bs_addr *a)
{
	struct bs_rule only = {.addrs = r2->addrs, .naddrs = r2->naddrs};
	struct bs_query q = {.addr = *a};

	return bs_rule_matches(&only, &q);
}

/* Tells whether r2, an earlier rule than rewrite r, sees every call r would see
 * before r does, on the ports r keeps: a rewrite changes only the address (and the
 * port with to_port), so if r2 matched the output it matched the input first, and
 * r never produced that output. Only the simple case: r2 matches every address. */
static bool shadows(const struct bs_rule *r2, const struct bs_rule *r)
{
	if (r2 > r || r->to_port >= 0)
		return false;
	for (size_t i = 0; i < r2->naddrs; i++)
		if (r2->addrs[i].kind == BS_ADDR_ANY)
			return true;
	return r2->naddrs == 0;
}

/* Warns about each rule that would act again on what rewrite rule r produces. */
static void lint_rewrite(struct lint *w, const struct bs_rule *r)
{
	struct bs_addr out[2];
	size_t nout = outputs(r, out);
	struct bs_port_range to = {(uint16_t)r->to_port, (uint16_t)r->to_port};
	const struct bs_port_range *ports = r->to_port >= 0 ? &to : r->ports;
	size_t nports = r->to_port >= 0 ? 1 : r->nports;

	for (size_t i = 0; nout && i < w->p->nrules; i++) {
		const struct bs_rule *r2 = &w->p->rules[i];
		char text[INET6_ADDRSTRLEN];

		if (r2 == r || (r2->action != BS_REWRITE && r2->action != BS_DENY) ||
		    !ports_overlap(ports, nports, r2->ports, r2->nports) || shadows(r2, r))
			continue;
		for (size_t k = 0; k < nout; k++) {
			if (!address_matches(r2, &out[k]))
				continue;
			inet_ntop(out[k].family, out[k].bytes, text, sizeof(text));
			warn(w, r->line, "rule \"%s\" rewrites to %s, which rule \"%s\" (line %u) "
			     "would %s; bindshim keeps the address a rewrite produced (a decision "
			     "is made once)", r->name, text, r2->name, r2->line,
			     r2->action == BS_DENY ? "deny" : "rewrite again");
			break;
		}
	}
}

int bs_policy_lint(const struct bs_policy *p, char *buf, size_t len)
{
	struct lint w = {.p = p, .buf = buf, .len = len};

	if (buf && len)
		buf[0] = '\0';
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].action == BS_REWRITE)
			lint_rewrite(&w, &p->rules[i]);
	return w.warnings;
}
