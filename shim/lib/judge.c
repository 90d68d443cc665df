/*
 * One decision for a bind-like call: build the query, decide, log, and tell the
 * hook what to do. The common path (allowed unchanged, not logged) costs one
 * decision and no syscall unless a rule looks at the protocol or the uid.
 */
#include <errno.h>
#include <unistd.h>

#include "shim/common/sock.h"
#include "shim/lib/shim.h"

int bs_socket_kind(int fd, int *family, unsigned *proto)
{
	int type, domain;

	if (bs_sock_kind(fd, &domain, &type) < 0)
		return -1;
	if ((domain != AF_INET && domain != AF_INET6) ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM))
		return -1;
	*family = domain;
	*proto = type == SOCK_STREAM ? BS_PROTO_TCP : BS_PROTO_UDP;
	return 0;
}

/* Fills j->proto from fd if still unknown; returns 0, or -1 if fd is not a socket
 * we judge (other type, or a family that does not match the address). */
static int learn_socket(int fd, struct bs_judgement *j)
{
	int family;

	if (j->proto)
		return 0;
	if (bs_socket_kind(fd, &family, &j->proto) < 0)
		return -1;
	/* The kernel refuses a mismatched family; let it say so itself. */
	return family == j->from.ss_family ? 0 : -1;
}

/* Logs the outcome in j as event (with action for dry runs). */
static void record(const struct bs_state *st, const struct bs_judgement *j, const char *event,
		   const char *action)
{
	struct bs_who who;
	struct bs_record r = {
		.who = &who, .call = j->call, .event = event, .action = action, .proto = j->proto,
		.from = &j->from, .policy = j->o.policy, .d = &j->o.d, .err = j->o.err,
	};

	bs_self(st, &who);
	if (j->o.d.action == BS_REWRITE && !j->o.err)
		r.to = &j->o.to;
	bs_log(&st->set.logger, &r);
}

/* Judges j while the shim is starting on this thread (a signal handler, or code our
 * start runs): the lock is ours, so the constant loopback policy decides, unlogged. */
static enum bs_verdict judge_starting(int fd, struct bs_judgement *j)
{
	struct bs_query q = {.program = NULL};

	bs_query_set_sockaddr(&q, &j->from);
	bs_resolve(bs_policy_static_loopback(), &q, &j->from, &j->o);
	if (j->o.d.action != BS_REWRITE || learn_socket(fd, j) < 0)
		return BS_PASS;
	return j->o.err ? BS_FAIL : BS_USE_TO;
}

enum bs_verdict bs_judge(int fd, struct bs_judgement *j)
{
	const struct bs_state *st;
	const struct bs_policy *p;
	struct bs_query q;
	const char *event, *action;
	enum bs_verdict v;

	if (bs_busy)
		return judge_starting(fd, j);
	st = bs_state();
	p = st->policy;
	q.program = st->program;
	q.exe = st->exe[0] ? st->exe : NULL;
	q.uid = 0;
	if (!p) {		/* not even the built-in policy could be built */
		j->o.err = EACCES;
		return BS_FAIL;
	}
	if ((st->needs & BS_NEED_PROTO) && learn_socket(fd, j) < 0)
		return BS_PASS;
	bs_query_set_sockaddr(&q, &j->from);
	q.proto = j->proto;
	if (st->needs & BS_NEED_UID)
		q.uid = getuid();
	bs_resolve_layered(st->system, p, &q, &j->from, &j->o);
	/* The common case, allowed and not logged, makes no syscall at all. */
	if (j->o.d.action == BS_ALLOW && !j->o.err && !st->set.log_allowed)
		return BS_PASS;
	if (learn_socket(fd, j) < 0)
		return BS_PASS;
	v = bs_verdict_of(&j->o, &st->set, j->quiet, &event, &action);
	if (event)
		record(st, j, event, action);
	return v;
}
