/* bind(): judge inet binds; every other family passes through untouched. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "shim/common/sock.h"
#include "shim/lib/shim.h"

/* The family of socket fd, or -1. */
static int domain_of(int fd)
{
	int domain, type;

	return bs_sock_kind(fd, &domain, &type) < 0 ? -1 : domain;
}

static int bs_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct bs_judgement j;
	int saved = errno, rc, rc2;

	bs_real_init();
	bs_judgement_init(&j, "bind");
	rc = bs_sockaddr_copy(sa, len, &j.from);
	/* AF_UNSPEC may mean AF_INET: only then is the socket's family worth a syscall
	 * (-EAFNOSUPPORT means sa holds at least a family, read here without alignment). */
	if (rc == -EAFNOSUPPORT) {
		sa_family_t family;

		memcpy(&family, sa, sizeof(family));
		if (family == AF_UNSPEC)
			rc = bs_sockaddr_copy_for(sa, len, domain_of(fd), &j.from);
	}
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
