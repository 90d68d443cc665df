/* What the kernel says a socket is: getsockopt, for the shim and the supervisor. */
#include <errno.h>
#include <sys/socket.h>

#include "policy/policy.h"
#include "shim/common/sock.h"

int bs_sock_kind(int fd, int *domain, int *type)
{
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, domain, &len) < 0)
		return -errno;
	len = sizeof(int);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) < 0 ? -errno : 0;
}

int bs_sock_int(int fd, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, level, name, &v, &len) < 0 ? 0 : v;
}

unsigned bs_sock_proto_of(int type)
{
	if (type == SOCK_STREAM || type == SOCK_SEQPACKET)
		return BS_PROTO_TCP;
	return type == SOCK_DGRAM ? BS_PROTO_UDP : 0;
}
