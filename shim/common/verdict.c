/* A bind's outcome, and what happens and is logged once it is known: one rule for
 * the shim (shim/lib/judge.c) and the supervisor (shim/launcher/notify.c). */
#include <netinet/in.h>

#include "shim/common/sock.h"
#include "shim/common/verdict.h"

enum bs_verdict bs_verdict_of(const struct bs_outcome *o, const struct bs_settings *set,
			      bool quiet, const char **event, const char **action)
{
	enum bs_verdict v = o->err ? BS_FAIL : o->d.action == BS_REWRITE ? BS_USE_TO : BS_PASS;
	const char *name = v == BS_FAIL ? "deny" : bs_action_name(o->d.action);

	*event = *action = NULL;
	if (set->dry_run) {
		if (!quiet) {
			*event = "dry-run";
			*action = name;
		}
		return BS_PASS;
	}
	/* Every rewrite and denial is logged; allowed calls for "log" rules and when
	 * the policy asks for them. */
	if (v == BS_USE_TO ||
	    (!quiet && (v == BS_FAIL || o->d.action == BS_LOG || set->log_allowed)))
		*event = name;
	return v;
}

void bs_decide_bind(const struct bs_policy *system, const struct bs_policy *user,
		    struct bs_query *q, const struct sockaddr_storage *from, int fd,
		    struct bs_outcome *o)
{
	bool dualstack = bs_sockaddr_is_dualstack_wildcard(from);

	if (dualstack)
		q->v6only = fd < 0 || bs_sock_int(fd, IPPROTO_IPV6, IPV6_V6ONLY);
	bs_resolve_bind(system, user, q, from, o);
	if (from->ss_family == AF_INET6 && fd >= 0 && !dualstack && !o->kept &&
	    (o->err || o->d.action == BS_REWRITE) && bs_sock_int(fd, IPPROTO_IPV6, IPV6_V6ONLY)) {
		q->v6only = true;
		bs_resolve_bind(system, user, q, from, o);
	}
}
