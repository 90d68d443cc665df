/* sendto(), sendmsg(), sendmmsg(): a datagram socket whose port-0 bind was
 * rewritten becomes a client's before it sends to a non-loopback peer (clients.c). */
#include "shim/lib/shim.h"

static ssize_t bs_sendto(int fd, const void *buf, size_t n, int flags,
			 const struct sockaddr *addr, socklen_t len)
{
	bs_real_init();
	if (addr)
		bs_clients_restore(fd, addr, len, "sendto");
	return bs_real.sendto(fd, buf, n, flags, addr, len);
}

static ssize_t bs_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	bs_real_init();
	if (msg && msg->msg_name)
		bs_clients_restore(fd, msg->msg_name, msg->msg_namelen, "sendto");
	return bs_real.sendmsg(fd, msg, flags);
}

static int bs_sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
	bs_real_init();
	/* Any message for a remote peer: the socket must be a client's before the
	 * first one goes, or the kernel stops at that message. The kernel sends at
	 * most UIO_MAXIOV (1024) messages a call. */
	for (unsigned int i = 0; vec && bs_clients_noted(fd) && i < n && i < 1024; i++)
		if (vec[i].msg_hdr.msg_name &&
		    bs_peer_is_remote(vec[i].msg_hdr.msg_name, vec[i].msg_hdr.msg_namelen)) {
			bs_clients_restore(fd, vec[i].msg_hdr.msg_name,
					   vec[i].msg_hdr.msg_namelen, "sendto");
			break;
		}
	return bs_real.sendmmsg(fd, vec, n, flags);
}

BS_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 const struct sockaddr *addr, socklen_t len)
{
	return bs_sendto(fd, buf, n, flags, addr, len);
}

BS_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return bs_sendmsg(fd, msg, flags);
}

BS_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
	return bs_sendmmsg(fd, vec, n, flags);
}
