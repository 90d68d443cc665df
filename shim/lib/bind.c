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

/* After a successful bind to bound by decision j (rewritten: as j said): what
 * listen() and a later client send need to know. */
static void bound_by(int fd, const struct bs_judgement *j, const struct sockaddr_storage *bound,
		     bool rewritten)
{
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);

	/* Marked with the port it got (a port-0 bind asks the kernel which): listen()
	 * then knows a bind put it there, which the kernel holds it to. A UDP socket
	 * never listens: nothing to ask. */
	if (bs_sockaddr_port(bound))
		bs_fd_mark(fd, bound);
	else if (j->proto != BS_PROTO_UDP &&
		 getsockname(fd, (struct sockaddr *)&got, &len) == 0 && bs_sockaddr_port(&got))
		bs_fd_mark(fd, &got);
	if (rewritten && !bs_sockaddr_port(&j->from))
		bs_clients_note(fd, &j->from, &j->o, j->proto);
}

int bs_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage raw, asked;
	struct bs_judgement j;
	int saved = errno, rc;

	bs_real_init();
	if (!sa)
		return bs_kernel_bind(fd, sa, len);
	/* The caller's address is read once, and the kernel gets this very copy:
	 * another thread rewriting the caller's buffer cannot change what was judged.
	 * (Over a sockaddr_storage the kernel refuses without reading.) */
	memcpy(&raw, sa, len < sizeof(raw) ? len : sizeof(raw));
	bs_judgement_init(&j, "bind");
	rc = bs_sockaddr_copy((const struct sockaddr *)&raw, len, &j.from);
	/* AF_UNSPEC may mean AF_INET: only then is the socket's family worth asking. */
	if (rc == -EAFNOSUPPORT && raw.ss_family == AF_UNSPEC)
		rc = bs_sockaddr_copy_for((const struct sockaddr *)&raw, len, domain_of(fd), &j.from);
	if (rc) {
		errno = saved;
		return bs_kernel_bind(fd, (const struct sockaddr *)&raw, len);
	}
	/* A passive lookup's rewritten result: this bind continues that decision. */
	asked = j.from;
	if (bs_lookup_produced(&asked, &j.from))
		j.call = "getaddrinfo";
	switch (bs_judge(fd, &j)) {
	case BS_FAIL:
		errno = j.o.err;
		return -1;
	case BS_USE_TO:
		rc = bs_kernel_bind(fd, (const struct sockaddr *)&j.o.to, bs_sockaddr_len(&j.o.to));
		if (rc == 0) {
			bound_by(fd, &j, &j.o.to, true);
			errno = saved;
		}
		return rc;
	case BS_PASS:
		break;
	}
	errno = saved;
	rc = bs_kernel_bind(fd, (const struct sockaddr *)&raw, len);
	if (rc == 0)
		bound_by(fd, &j, &asked, false);
	return rc;
}

BS_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return bs_bind(fd, addr, len);
}
