/* bindresvport(), rresvport(), rresvport_af(): glibc binds these inside libc, where
 * no preloaded bind() sees it. They are done again here with the same search over
 * the reserved ports (600-1023, then 512-599; 1023 down to 512), each try through
 * the judged bind(). (listen() judges a socket bound behind its back anyway.)
 * rcmd() and rexec() listen inside libc: judged before libc is let do it. */
#include <dlfcn.h>
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

/* rcmd_af() and rexec_af() with a channel for the remote command's stderr (fd2p)
 * listen inside libc, for the remote server to connect back: on a socket bound
 * by libc's own rresvport_af (rcmd: the wildcard, a reserved port) or never bound
 * (rexec: the wildcard, an ephemeral port). No hook sees that listen(), so it is
 * judged here first, as listen() on such a socket would be: it goes ahead only
 * where the policy leaves a wildcard listener where it is. 0, or -1 with errno. */
static int back_channel(const char *call, sa_family_t family)
{
	static const sa_family_t both[] = {AF_INET, AF_INET6};
	struct bs_judgement j;

	for (size_t i = 0; i < 2; i++) {
		if (family != AF_UNSPEC && family != both[i])
			continue;
		bs_judgement_init(&j, call);
		j.proto = BS_PROTO_TCP;
		j.quiet = true;
		memset(&j.from, 0, sizeof(j.from));
		j.from.ss_family = both[i];
		switch (bs_judge(-1, &j)) {
		case BS_PASS:
			continue;
		case BS_USE_TO:		/* libc cannot be made to listen elsewhere */
			j.o.err = EACCES;
			break;
		case BS_FAIL:
			break;
		}
		bs_judge_record(&j, "deny");
		errno = j.o.err;
		return -1;
	}
	return 0;
}

/* The next definition of name (libc's), looked up on first use. */
#define NEXT(var, name) \
	do { \
		if (!(var)) { \
			union { void *p; __typeof__(var) f; } u_ = {dlsym(RTLD_NEXT, name)}; \
			(var) = u_.f; \
		} \
		if (!(var)) { \
			errno = ENOSYS; \
			return -1; \
		} \
	} while (0)

BS_EXPORT int rcmd_af(char **ahost, unsigned short rport, const char *locuser,
		      const char *remuser, const char *cmd, int *fd2p, sa_family_t af)
{
	static int (*next)(char **, unsigned short, const char *, const char *, const char *,
			   int *, sa_family_t);

	NEXT(next, "rcmd_af");
	if (fd2p && back_channel("rcmd", af) < 0)
		return -1;
	return next(ahost, rport, locuser, remuser, cmd, fd2p, af);
}

BS_EXPORT int rcmd(char **ahost, unsigned short rport, const char *locuser, const char *remuser,
		   const char *cmd, int *fd2p)
{
	return rcmd_af(ahost, rport, locuser, remuser, cmd, fd2p, AF_INET);
}

BS_EXPORT int rexec_af(char **ahost, int rport, const char *name, const char *pass,
		       const char *cmd, int *fd2p, sa_family_t af)
{
	static int (*next)(char **, int, const char *, const char *, const char *, int *,
			   sa_family_t);

	NEXT(next, "rexec_af");
	if (fd2p && back_channel("rexec", af) < 0)
		return -1;
	return next(ahost, rport, name, pass, cmd, fd2p, af);
}

BS_EXPORT int rexec(char **ahost, int rport, const char *name, const char *pass,
		    const char *cmd, int *fd2p)
{
	return rexec_af(ahost, rport, name, pass, cmd, fd2p, AF_INET);
}
