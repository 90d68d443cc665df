/*
 * From a query to what happens: decide, compute a rewrite's address, and combine a
 * locked system policy with a user's policy. The shim, the supervisor and `bindshim
 * explain` all come here, so explain prints what the shim will do.
 *
 * Locked rule: the system policy decides first. Unless it denies, the user's policy
 * then judges where the system's decision puts the call (the address asked for,
 * or the system's rewrite of it): it may deny it, or rewrite it to an address the
 * system policy would allow unchanged; a user rewrite to anywhere else is denied
 * with EACCES. So a user's policy can only take away, never give.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "policy/policy.h"

void bs_resolve(const struct bs_policy *p, const struct bs_query *q,
		const struct sockaddr_storage *from, struct bs_outcome *o)
{
	int rc;

	o->policy = p;
	o->refused = false;
	o->kept = false;
	bs_decide(p, q, &o->d);
	o->err = o->d.action == BS_DENY ? o->d.err : 0;
	if (o->d.action != BS_REWRITE)
		return;
	rc = bs_rewrite(o->d.rule, from, q->v6only, &o->to);
	if (rc)
		o->err = -rc;		/* e.g. an interface without an address: EADDRNOTAVAIL */
}

/* Tells whether outcome o lets the call proceed unchanged. */
static bool unchanged(const struct bs_outcome *o)
{
	return o->d.action == BS_ALLOW || o->d.action == BS_LOG;
}

/* The user's policy usr judges where the system's decision put the call (at); o
 * holds the system's outcome and takes the user's if it restricts: a denial, or a
 * rewrite to an address the system allows unchanged (else EACCES, refused). */
static void user_layer(const struct bs_policy *sys, const struct bs_policy *usr,
		       const struct bs_query *q, const struct sockaddr_storage *at,
		       struct bs_outcome *o)
{
	struct bs_outcome u, check;
	struct bs_query qu = *q, q2 = *q;

	bs_query_set_sockaddr(&qu, at);
	bs_resolve(usr, &qu, at, &u);
	/* Allowed unchanged by the user as well: the system's outcome stands (a
	 * user's "log" rule is recorded when the system allowed unchanged). */
	if (unchanged(&u) && o->d.action == BS_REWRITE)
		return;
	*o = u;
	if (o->d.action != BS_REWRITE || o->err)
		return;
	bs_query_set_sockaddr(&q2, &o->to);
	bs_resolve(sys, &q2, &o->to, &check);
	if (!unchanged(&check)) {
		o->refused = true;
		o->err = EACCES;
	}
}

void bs_resolve_layered(const struct bs_policy *sys, const struct bs_policy *usr,
			const struct bs_query *q, const struct sockaddr_storage *from,
			struct bs_outcome *o)
{
	struct sockaddr_storage at;

	if (!sys) {
		bs_resolve(usr, q, from, o);
		return;
	}
	bs_resolve(sys, q, from, o);
	if (!usr || o->err || (!unchanged(o) && o->d.action != BS_REWRITE))
		return;
	at = o->d.action == BS_REWRITE ? o->to : *from;
	user_layer(sys, usr, q, &at, o);
}

/* Fills w with the wildcard of from's family, same port: "::ffff:0.0.0.0" for a
 * v4-mapped address (mapped set), else 0.0.0.0 or ::. */
static void wildcard_of(const struct sockaddr_storage *from, bool mapped,
			struct sockaddr_storage *w)
{
	memset(w, 0, sizeof(*w));
	w->ss_family = from->ss_family;
	if (from->ss_family == AF_INET) {
		((struct sockaddr_in *)w)->sin_port = ((const struct sockaddr_in *)from)->sin_port;
		return;
	}
	((struct sockaddr_in6 *)w)->sin6_port = ((const struct sockaddr_in6 *)from)->sin6_port;
	if (mapped)
		memset(&((struct sockaddr_in6 *)w)->sin6_addr.s6_addr[10], 0xff, 2);
}

/* Tells whether the policy rewrites a wildcard bind on from's port to exactly from;
 * if so, *o says so, attributed to the rule that does it. */
static bool produced(const struct bs_policy *sys, const struct bs_policy *usr,
		     const struct bs_query *q, const struct sockaddr_storage *from,
		     struct bs_outcome *o)
{
	bool mapped = from->ss_family == AF_INET6 &&
		      IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)from)->sin6_addr);

	/* IPv6: the plain wildcard (its rewrite depends on IPV6_V6ONLY; a v4-mapped
	 * address can only be bound on a dual-stack socket), then the mapped one. */
	for (int i = 0; i < (from->ss_family == AF_INET6 ? 2 : 1); i++) {
		struct sockaddr_storage w;
		struct bs_outcome ow;
		struct bs_query qw = *q;

		wildcard_of(from, i == 1, &w);
		if (mapped)
			qw.v6only = false;
		bs_query_set_sockaddr(&qw, &w);
		bs_resolve_layered(sys, usr, &qw, &w, &ow);
		if (ow.err || ow.d.action != BS_REWRITE || !bs_sockaddr_same(&ow.to, from))
			continue;
		*o = ow;
		o->d.action = BS_ALLOW;
		o->kept = true;
		return true;
	}
	return false;
}

void bs_resolve_bind(const struct bs_policy *sys, const struct bs_policy *usr,
		     const struct bs_query *q, const struct sockaddr_storage *from,
		     struct bs_outcome *o)
{
	bs_resolve_layered(sys, usr, q, from, o);
	if (unchanged(o) || bs_addr_is_wildcard(&q->addr))
		return;
	produced(sys, usr, q, from, o);
}

bool bs_outcome_fails(const struct bs_outcome *o)
{
	return o->err != 0;
}
