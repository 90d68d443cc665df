/* bindresvport(), rresvport(), rresvport_af(): glibc binds these inside libc, where
 * no preloaded bind() sees it. They are done again here with the same search over
 * the reserved ports (600-1023, then 512-599; 1023 down to 512), each try through
 * the judged bind(). (listen() judges a socket bound behind its back anyway.) */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "shim/lib/shim.h"

#define LOW 512
#define START 600
#define END 1023

BS_EXPORT int bindresvport(int fd, struct sockaddr_in *sin)
{
	static unsigned next;
	struct sockaddr_in any;
	int rc = -1;

	if (!sin) {
		memset(&any, 0, sizeof(any));
		any.sin_family = AF_INET;
		sin = &any;
	} else if (sin->sin_family != AF_INET) {
		errno = EPFNOSUPPORT;
		return -1;
	}
	if (!next)
		next = (unsigned)getpid() % (END - START + 1);
	/* 600-1023 from a per-process start, then 512-599. */
	for (unsigned i = 0; i < END - LOW + 1; i++) {
		unsigned port = i <= END - START ? START + (next + i) % (END - START + 1)
						 : LOW + (i - (END - START + 1));

		sin->sin_port = htons((uint16_t)port);
		rc = bs_bind(fd, (struct sockaddr *)sin, sizeof(*sin));
		if (rc == 0 || errno != EADDRINUSE)
			break;
	}
	return rc;
}

BS_EXPORT int rresvport_af(int *port, sa_family_t family)
{
	struct sockaddr_storage ss;
	int fd, start;

	if (family != AF_INET && family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	bs_real_init();
	fd = bs_real.socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = family;
	if (*port < LOW)
		*port = LOW;
	else if (*port > END)
		*port = END;
	start = *port;
	do {
		uint16_t p = htons((uint16_t)*port);

		if (family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = p;
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = p;
		if (bs_bind(fd, (struct sockaddr *)&ss, bs_sockaddr_len(&ss)) == 0)
			return fd;
		if (errno != EADDRINUSE) {
			int saved = errno;

			bs_real.close(fd);
			errno = saved;
			return -1;
		}
		if ((*port)-- == LOW)
			*port = END;
	} while (*port != start);
	bs_real.close(fd);
	errno = EAGAIN;
	return -1;
}

BS_EXPORT int rresvport(int *port)
{
	return rresvport_af(port, AF_INET);
}
