/* libc's socket calls, for the launcher and the tests. */
#include <sys/socket.h>
#include <unistd.h>

#include "policy/sys.h"

int bs_sys_socket(int domain, int type, int protocol)
{
	return socket(domain, type, protocol);
}

int bs_sys_close(int fd)
{
	return close(fd);
}

int bs_sys_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return connect(fd, addr, len);
}

int bs_sys_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return setsockopt(fd, level, name, val, len);
}
