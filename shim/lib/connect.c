/* connect(): a client socket whose bind was rewritten gets its own address back
 * before it dials a non-loopback peer (see clients.c). */
#include "shim/lib/shim.h"

static int bs_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	bs_real_init();
	bs_clients_restore(fd, addr, len, "connect");
	return bs_real.connect(fd, addr, len);
}

BS_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return bs_connect(fd, addr, len);
}
