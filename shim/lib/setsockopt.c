/* setsockopt(): the option where a bind policy has a stake.
 *
 * IP_LOCAL_PORT_RANGE (Linux 6.3) lets a socket choose the range its ephemeral
 * port comes from: with a range of one port, an unbound UDP socket that sends
 * would be bound by the kernel to the wildcard and a port of the program's
 * choosing, and a port-0 bind would land on it, with no bind() to judge. It is
 * refused with ENOPROTOOPT, what kernels before 6.3 answer, so programs fall back. */
#include <errno.h>
#include <netinet/in.h>

#include "shim/common/sock.h"
#include "shim/lib/shim.h"

static int bs_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	bs_real_init();
	if (level == IPPROTO_IP && name == BS_IP_LOCAL_PORT_RANGE) {
		errno = ENOPROTOOPT;
		return -1;
	}
	return bs_real.setsockopt(fd, level, name, val, len);
}

BS_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return bs_setsockopt(fd, level, name, val, len);
}
