/*
 * From a query to what happens: decide, compute a rewrite's address, and combine a
 * locked system policy with a user's policy. The shim and `bindshim explain` both
 * come here, so explain prints what the shim will do.
 *
 * Locked rule: the system policy decides first. Only a call it allows unchanged
 * (allow, log, or its default allow) goes on to the user's policy, which may deny
 * it, or rewrite it to an address the system policy would also allow unchanged;
 * a user rewrite to anywhere else is denied with EACCES. So a user's policy can
 * only take away, never give.
 */
#include <errno.h>
#include <string.h>

#include "policy/policy.h"

void bs_resolve(const struct bs_policy *p, const struct bs_query *q,
		const struct sockaddr_storage *from, struct bs_outcome *o)
{
	int rc;

	o->policy = p;
	o->refused = false;
	bs_decide(p, q, &o->d);
	o->err = o->d.action == BS_DENY ? o->d.err : 0;
	if (o->d.action != BS_REWRITE)
		return;
	rc = bs_rewrite(o->d.rule, from, &o->to);
	if (rc)
		o->err = -rc;		/* e.g. an interface without an address: EADDRNOTAVAIL */
}

/* Tells whether outcome o lets the call proceed unchanged. */
static bool unchanged(const struct bs_outcome *o)
{
	return o->d.action == BS_ALLOW || o->d.action == BS_LOG;
}

void bs_resolve_layered(const struct bs_policy *sys, const struct bs_policy *usr,
			const struct bs_query *q, const struct sockaddr_storage *from,
			struct bs_outcome *o)
{
	struct bs_outcome check;
	struct bs_query q2;

	if (!sys) {
		bs_resolve(usr, q, from, o);
		return;
	}
	bs_resolve(sys, q, from, o);
	if (!usr || !unchanged(o))
		return;
	bs_resolve(usr, q, from, o);
	if (o->d.action != BS_REWRITE || o->err)
		return;
	q2 = *q;
	bs_query_set_sockaddr(&q2, &o->to);
	bs_resolve(sys, &q2, &o->to, &check);
	if (!unchanged(&check)) {
		o->refused = true;
		o->err = EACCES;
	}
}

bool bs_outcome_fails(const struct bs_outcome *o)
{
	return o->err != 0;
}
