/*
 * One decision for a bind-like call: build the query, decide, log, and tell the
 * hook what to do. The common path (allowed unchanged, not logged) costs one
 * decision and no syscall unless a rule looks at the protocol or the uid.
 */
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

#include "shim/common/sock.h"
#include "shim/lib/shim.h"

/* Fills j->proto from fd if still unknown (the kernel is asked: nothing a program
 * can make lie); returns 0, or -1 if fd is not a socket we judge. A socket of
 * another family than the address is judged all the same: the kernel refuses the
 * bind whatever address it is given. */
static int learn_socket(int fd, struct bs_judgement *j)
{
	return j->proto || bs_sock_proto(fd, &j->proto) == 0 ? 0 : -1;
}

bool bs_judge_may_act(int fd, struct bs_judgement *j)
{
	if (learn_socket(fd, j) < 0)
		return false;
	return !j->listen || (j->proto == BS_PROTO_TCP && !(bs_sockaddr_port(&j->from) &&
							  bs_sock_int(fd, SOL_SOCKET, SO_ACCEPTCONN)));
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

void bs_judge_record(const struct bs_judgement *j, const char *event)
{
	record(bs_state(), j, event, NULL);
}

/* Judges j while the shim is starting on this thread (a signal handler, or code our
 * start runs): the lock is ours, so the constant loopback policy decides, unlogged. */
static enum bs_verdict judge_starting(int fd, struct bs_judgement *j)
{
	struct bs_query q = {.program = NULL};

	bs_query_set_sockaddr(&q, &j->from);
	bs_resolve(bs_policy_static_loopback(), &q, &j->from, &j->o);
	if (j->o.d.action != BS_REWRITE || !bs_judge_may_act(fd, j))
		return BS_PASS;
	return j->o.err ? BS_FAIL : BS_USE_TO;
}

enum bs_verdict bs_judge(int fd, struct bs_judgement *j)
{
	const struct bs_state *st;
	struct bs_query q;
	const char *event, *action;
	enum bs_verdict v;

	if (bs_busy)
		return judge_starting(fd, j);
	st = bs_state();
	q.program = st->program;
	q.exe = st->exe[0] ? st->exe : NULL;
	q.uid = 0;
	q.v6only = false;
	if (!st->policy && !st->system) {	/* not even the built-in policy was built */
		j->o.err = EACCES;
		return BS_FAIL;
	}
	if ((st->needs & BS_NEED_PROTO) && learn_socket(fd, j) < 0)
		return BS_PASS;
	bs_query_set_sockaddr(&q, &j->from);
	q.proto = j->proto;
	if (st->needs & BS_NEED_UID)
		q.uid = bs_query_uid(st);
	bs_decide_bind(st->system, st->policy, &q, &j->from, fd, &j->o);
	/* The common case, allowed and not logged, makes no syscall at all. */
	if (j->o.d.action == BS_ALLOW && !j->o.err && !st->set.log_allowed)
		return BS_PASS;
	if (!bs_judge_may_act(fd, j))
		return BS_PASS;
	v = bs_verdict_of(&j->o, &st->set, false, &event, &action);
	/* A call that goes on unchanged reaches the supervisor, which judges it the
	 * same and writes the record: one decision, one record. */
	if (event && !j->quiet && !(st->supervised && v == BS_PASS))
		record(st, j, event, action);
	return v;
}
