/* The policy library's socket calls, inside the shim: the real ones, never a hook. */
#include "policy/sys.h"
#include "shim/lib/shim.h"

int bs_sys_socket(int domain, int type, int protocol)
{
	bs_real_init();
	return bs_real.socket(domain, type, protocol);
}

int bs_sys_close(int fd)
{
	bs_real_init();
	return bs_real.close(fd);
}

int bs_sys_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	bs_real_init();
	return bs_real.connect(fd, addr, len);
}

int bs_sys_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	bs_real_init();
	return bs_real.setsockopt(fd, level, name, val, len);
}
