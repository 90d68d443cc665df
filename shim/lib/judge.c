/*
 * One decision for a bind-like call: build the query, decide, log, and tell the
 * hook what to do. The common path (allowed unchanged, not logged) costs one
 * decision and no syscall unless a rule looks at the protocol or the uid.
 */
#include <errno.h>
#include <unistd.h>

#include "shim.h"

int bs_socket_kind(int fd, int *family, unsigned *proto)
{
	int type, domain;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return -1;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
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

/* Logs the decision in j as event (with action for dry runs). */
static void record(const struct bs_state *st, const struct bs_judgement *j, const char *event,
		   const char *action)
{
	struct bs_record r = {
		.call = j->call, .event = event, .action = action, .proto = j->proto,
		.from = &j->from, .policy = st->policy, .d = &j->d, .err = j->err,
	};

	if (j->d.action == BS_REWRITE && !j->err)
		r.to = &j->to;
	bs_log(st, &r);
}

/* Computes the rewrite target into j->to; on failure turns j into a denial. */
static enum bs_verdict rewrite(struct bs_judgement *j)
{
	int rc = bs_rewrite(j->d.rule, &j->from, &j->to);

	if (rc) {
		j->err = -rc;
		return BS_FAIL;
	}
	return BS_USE_TO;
}

/* Judges j while the shim is starting on this thread (a signal handler, or code our
 * start runs): the lock is ours, so the constant loopback policy decides, unlogged. */
static enum bs_verdict judge_starting(int fd, struct bs_judgement *j)
{
	struct bs_query q = {.program = NULL};

	bs_query_set_sockaddr(&q, &j->from);
	bs_decide(bs_policy_static_loopback(), &q, &j->d);
	if (j->d.action != BS_REWRITE || learn_socket(fd, j) < 0)
		return BS_PASS;
	return rewrite(j);
}

enum bs_verdict bs_judge(int fd, struct bs_judgement *j)
{
	const struct bs_state *st;
	const struct bs_policy *p;
	struct bs_query q;
	enum bs_verdict v = BS_PASS;

	if (bs_busy)
		return judge_starting(fd, j);
	st = bs_state();
	p = st->policy;

	q.program = st->program;
	q.exe = st->exe[0] ? st->exe : NULL;
	q.uid = 0;
	if (!p) {		/* not even the built-in policy could be built */
		j->err = EACCES;
		return BS_FAIL;
	}
	if ((p->needs & BS_NEED_PROTO) && learn_socket(fd, j) < 0)
		return BS_PASS;
	bs_query_set_sockaddr(&q, &j->from);
	q.proto = j->proto;
	if (p->needs & BS_NEED_UID)
		q.uid = getuid();
	bs_decide(p, &q, &j->d);
	if (j->d.action == BS_ALLOW && !st->log_allowed)
		return BS_PASS;
	if (learn_socket(fd, j) < 0)
		return BS_PASS;
	if (j->d.action == BS_DENY) {
		j->err = j->d.err;
		v = BS_FAIL;
	} else if (j->d.action == BS_REWRITE) {
		v = rewrite(j);
	}
	if (st->dry_run) {
		if (!j->quiet)
			record(st, j, "dry-run", v == BS_FAIL ? "deny" : bs_action_name(j->d.action));
		return BS_PASS;
	}
	if (!j->quiet || v == BS_USE_TO)
		record(st, j, v == BS_FAIL ? "deny" : bs_action_name(j->d.action), NULL);
	return v;
}
