/* A bind's outcome, and from it what the caller does and which record it writes:
 * one rule for the shim (shim/lib/judge.c) and the supervisor (notify.c). */
#ifndef BS_VERDICT_H
#define BS_VERDICT_H

#include "shim/common/settings.h"

enum bs_verdict { BS_PASS, BS_USE_TO, BS_FAIL };

/* Decides a bind of from (q filled from it) under the system and user layers, for
 * socket fd (-1: a lookup, no socket yet). The socket's IPV6_V6ONLY is asked only
 * where it changes the answer: for the IPv6 wildcard, whose loopback depends on it
 * (a lookup gets ::1, which any IPv6 socket can bind), and for another IPv6
 * address the policy would act on (what the wildcard is given depends on it too);
 * so an allowed bind makes no syscall. */
void bs_decide_bind(const struct bs_policy *system, const struct bs_policy *user,
		    struct bs_query *q, const struct sockaddr_storage *from, int fd,
		    struct bs_outcome *o);

/* Returns what to do with a call whose outcome is o: pass it on unchanged, bind
 * o->to instead, or fail with o->err. Sets *event (and *action, for dry runs) to the
 * record to write, or NULL for none. quiet: record rewrites only. */
enum bs_verdict bs_verdict_of(const struct bs_outcome *o, const struct bs_settings *set,
			      bool quiet, const char **event, const char **action);

#endif
