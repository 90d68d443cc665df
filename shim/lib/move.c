/*
 * Moving a socket the program already bound to where the policy puts it: a bound
 * socket cannot be bound again, so a fresh one of the same kind, with the same
 * options, status flags and close-on-exec flag, takes its place on the same
 * descriptor (dup3, which closes the old one atomically). The fresh socket is bound
 * while the old one still holds its port, with SO_REUSEADDR on both (the old one
 * does not listen), so nobody else can take the port in between; the program's
 * own SO_REUSEADDR comes back once the socket listens (bs_socket_replaced).
 *
 * Limits: what the program registered for the old socket elsewhere (an epoll set,
 * a dup() of its own) still refers to the old socket. Programs register a
 * listening socket after listen(), so in practice nothing is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "policy/sys.h"
#include "shim/common/sock.h"
#include "shim/common/sockopt.h"
#include "shim/lib/shim.h"

int bs_socket_replace(int fd, const struct sockaddr_storage *to)
{
	static const int one = 1;
	int domain, type, protocol, flags, fdflags, fresh, rc, reset = 0;

	if ((rc = bs_sock_kind(fd, &domain, &type)) < 0)
		return rc;
	protocol = bs_sock_int(fd, SOL_SOCKET, SO_PROTOCOL);
	if ((flags = fcntl(fd, F_GETFL)) < 0 || (fdflags = fcntl(fd, F_GETFD)) < 0)
		return -errno;
	fresh = bs_real.socket(domain, type | SOCK_CLOEXEC, protocol);
	if (fresh < 0)
		return -errno;
	bs_sockopt_copy(fd, fresh, domain, type);
	fcntl(fresh, F_SETFL, flags);
	if (!to) {
		rc = 0;		/* left unbound: the kernel binds it as it is used */
	} else if (!bs_sock_int(fresh, SOL_SOCKET, SO_REUSEADDR)) {
		bs_sys_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		bs_sys_setsockopt(fresh, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		rc = bs_kernel_bind(fresh, (const struct sockaddr *)to, bs_sockaddr_len(to));
		/* listen() checks the port again, and a fork()ed child may still hold
		 * the old socket: the caller turns it off once the socket listens. */
		reset = 1;
	} else {
		rc = bs_kernel_bind(fresh, (const struct sockaddr *)to, bs_sockaddr_len(to));
	}
	if (rc == 0 && bs_real.dup3(fresh, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		rc = -1;
	rc = rc < 0 ? -errno : reset;
	bs_real.close(fresh);
	return rc;
}

void bs_socket_replaced(int fd, int how)
{
	static const int zero = 0;

	if (how == 1)
		bs_sys_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &zero, sizeof(zero));
}
