/* listen(): a socket that was never bound would be bound by the kernel to the
 * wildcard address and an ephemeral port, so judge it like bind(wildcard:0) first. */
#include <errno.h>

#include "shim/lib/shim.h"

/* Port of an inet sockaddr. */
static uint16_t port_of(const struct sockaddr_storage *ss)
{
	struct bs_query q;

	bs_query_set_sockaddr(&q, ss);
	return q.port;
}

static int bs_listen(int fd, int backlog)
{
	struct bs_judgement j;
	socklen_t len = sizeof(j.from);
	int saved = errno, family;

	bs_real_init();
	if (bs_fd_is_bound(fd))
		return bs_real.listen(fd, backlog);
	bs_judgement_init(&j, "listen");
	/* Bound sockets (port set) were judged by bind(); others we judge now. */
	if (getsockname(fd, (struct sockaddr *)&j.from, &len) < 0 ||
	    (j.from.ss_family != AF_INET && j.from.ss_family != AF_INET6) ||
	    port_of(&j.from) != 0 || bs_socket_kind(fd, &family, &j.proto) < 0 ||
	    j.proto != BS_PROTO_TCP) {
		errno = saved;
		return bs_real.listen(fd, backlog);
	}
	switch (bs_judge(fd, &j)) {
	case BS_FAIL:
		errno = j.o.err;
		return -1;
	case BS_USE_TO:
		if (bs_real.bind(fd, (struct sockaddr *)&j.o.to, bs_sockaddr_len(&j.o.to)) < 0)
			return -1;
		bs_fd_mark(fd, true);
		break;
	case BS_PASS:
		break;
	}
	errno = saved;
	return bs_real.listen(fd, backlog);
}

BS_EXPORT int listen(int fd, int backlog)
{
	return bs_listen(fd, backlog);
}
