/* getsockopt(SO_DOMAIN) and getsockopt(SO_TYPE), once. */
#include <errno.h>
#include <sys/socket.h>

#include "shim/common/sock.h"

int bs_sock_kind(int fd, int *domain, int *type)
{
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, domain, &len) < 0)
		return -errno;
	len = sizeof(int);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) < 0 ? -errno : 0;
}
