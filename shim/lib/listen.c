/* listen(): judges the address the socket really has at this moment. A socket that
 * was never bound would be bound by the kernel to the wildcard and an ephemeral
 * port, so it is judged like bind(wildcard:0) and bound per policy first. A socket
 * a judged bind put where it is keeps that decision. Any other socket (one a
 * failed connect() left with a source address, one bound behind our back) is
 * judged as it is, and listens only once bound for good where the policy says:
 * bound now if it has no port, else moved (a fresh socket bound there in its
 * place), or refused. Where getsockname() puts such a socket holds only for now:
 * another thread's connect(AF_UNSPEC) unbinds it, and listen() then binds the
 * wildcard. */
#include <errno.h>
#include <netinet/in.h>

#include "shim/lib/shim.h"

/* Puts fd where decision j says, before it listens; returns -1 with errno set, or
 * what bs_socket_replaced needs after the listen. */
static int place(int fd, const struct bs_judgement *j)
{
	int rc = 0;

	/* An unbound socket can still be bound; a bound one is replaced. */
	if (!bs_sockaddr_port(&j->from)) {
		if (bs_kernel_bind(fd, (const struct sockaddr *)&j->o.to, bs_sockaddr_len(&j->o.to)) < 0)
			return -1;
	} else if ((rc = bs_socket_replace(fd, &j->o.to)) < 0) {
		errno = -rc;
		return -1;
	}
	if (bs_sockaddr_port(&j->o.to))
		bs_fd_mark(fd, &j->o.to);
	return rc;
}

static int bs_listen(int fd, int backlog)
{
	struct bs_judgement j;
	socklen_t len = sizeof(j.from);
	int saved = errno, moved = 0, rc;
	enum bs_verdict v;

	bs_real_init();
	bs_judgement_init(&j, "listen");
	/* Where the socket is, from the kernel: the one syscall an allowed listen
	 * pays. Its kind (TCP, not listening yet) is asked only if the decision
	 * would act (bs_judge). */
	j.listen = true;
	if (getsockname(fd, (struct sockaddr *)&j.from, &len) < 0 ||
	    (j.from.ss_family != AF_INET && j.from.ss_family != AF_INET6) ||
	    (bs_sockaddr_port(&j.from) && bs_fd_marked(fd, &j.from))) {
		errno = saved;
		return bs_kernel_listen(fd, backlog);
	}
	v = bs_judge(fd, &j);
	if (v == BS_FAIL) {
		errno = j.o.err;
		return -1;
	}
	/* Left where it is (BS_PASS) or put elsewhere: held there by a bind, if it is
	 * one the hook may act on (not UDP, which never listens, nor a socket handed
	 * over listening). */
	if (v == BS_PASS) {
		if (!bs_judge_may_act(fd, &j)) {
			errno = saved;
			return bs_kernel_listen(fd, backlog);
		}
		j.o.to = j.from;
	}
	if ((moved = place(fd, &j)) < 0)
		return -1;
	errno = saved;
	rc = bs_kernel_listen(fd, backlog);
	bs_socket_replaced(fd, moved);
	return rc;
}

BS_EXPORT int listen(int fd, int backlog)
{
	return bs_listen(fd, backlog);
}
