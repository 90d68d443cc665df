/* bind(): judge inet binds; every other family passes through untouched. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "shim.h"

/* Linux takes AF_UNSPEC with INADDR_ANY on an IPv4 socket as AF_INET (an old
 * compatibility rule), so that form must be judged too. Returns 0 if ss now holds
 * the AF_INET address the kernel would bind. */
static int unspec_as_inet(int fd, const struct sockaddr *sa, socklen_t len,
			  struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;
	int domain;
	socklen_t dl = sizeof(domain);

	if (!sa || len < (socklen_t)sizeof(sin))
		return -1;
	memcpy(&sin, sa, sizeof(sin));
	if (sin.sin_family != AF_UNSPEC || sin.sin_addr.s_addr != htonl(INADDR_ANY) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) < 0 || domain != AF_INET)
		return -1;
	sin.sin_family = AF_INET;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
	return 0;
}

static int bs_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct bs_judgement j;
	int saved = errno, rc, rc2;

	bs_real_init();
	bs_judgement_init(&j, "bind");
	rc = bs_sockaddr_copy(sa, len, &j.from);
	if (rc == -EAFNOSUPPORT && sa && sa->sa_family == AF_UNSPEC)
		rc = unspec_as_inet(fd, sa, len, &j.from);
	if (rc) {
		errno = saved;
		return bs_real.bind(fd, sa, len);
	}
	/* A bind that fails here may still have bound nothing: mark successes only. */
	switch (bs_judge(fd, &j)) {
	case BS_FAIL:
		errno = j.o.err;
		return -1;
	case BS_USE_TO:
		rc2 = bs_real.bind(fd, (struct sockaddr *)&j.o.to, bs_sockaddr_len(&j.o.to));
		if (rc2 == 0) {
			bs_fd_mark(fd, true);
			bs_clients_note(fd, &j.from, &j.o, j.proto);
			errno = saved;
		}
		return rc2;
	case BS_PASS:
		break;
	}
	errno = saved;
	rc = bs_real.bind(fd, sa, len);
	if (rc == 0)
		bs_fd_mark(fd, true);
	return rc;
}

BS_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return bs_bind(fd, addr, len);
}
