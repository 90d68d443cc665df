/* Socket options worth carrying to a replacement socket (shim/common/sockopt.h). */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/sys.h"
#include "shim/common/sockopt.h"

/* Options worth carrying to the replacement socket, if they differ from a fresh one. */
static const struct {
	int level, name;
} options[] = {
	{SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_REUSEPORT}, {SOL_SOCKET, SO_KEEPALIVE},
	{SOL_SOCKET, SO_BROADCAST}, {SOL_SOCKET, SO_LINGER}, {SOL_SOCKET, SO_OOBINLINE},
	{SOL_SOCKET, SO_RCVBUF}, {SOL_SOCKET, SO_SNDBUF}, {SOL_SOCKET, SO_RCVLOWAT},
	{SOL_SOCKET, SO_RCVTIMEO}, {SOL_SOCKET, SO_SNDTIMEO}, {SOL_SOCKET, SO_PRIORITY},
	{SOL_SOCKET, SO_MARK}, {SOL_SOCKET, SO_BINDTODEVICE}, {SOL_SOCKET, SO_TIMESTAMP},
	{SOL_SOCKET, SO_TIMESTAMPNS}, {SOL_SOCKET, SO_PASSCRED}, {SOL_SOCKET, SO_DONTROUTE},
	{SOL_SOCKET, SO_BUSY_POLL}, {SOL_SOCKET, SO_ZEROCOPY},
	{IPPROTO_IP, IP_TOS}, {IPPROTO_IP, IP_TTL}, {IPPROTO_IP, IP_MULTICAST_TTL},
	{IPPROTO_IP, IP_MULTICAST_LOOP}, {IPPROTO_IP, IP_MULTICAST_IF}, {IPPROTO_IP, IP_RECVERR},
	{IPPROTO_IP, IP_PKTINFO}, {IPPROTO_IP, IP_RECVTOS}, {IPPROTO_IP, IP_RECVTTL},
	{IPPROTO_IP, IP_FREEBIND}, {IPPROTO_IP, IP_TRANSPARENT}, {IPPROTO_IP, IP_MTU_DISCOVER},
	{IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT}, {IPPROTO_IP, IP_RECVORIGDSTADDR},
	{IPPROTO_IPV6, IPV6_V6ONLY}, {IPPROTO_IPV6, IPV6_UNICAST_HOPS},
	{IPPROTO_IPV6, IPV6_MULTICAST_HOPS}, {IPPROTO_IPV6, IPV6_MULTICAST_LOOP},
	{IPPROTO_IPV6, IPV6_MULTICAST_IF}, {IPPROTO_IPV6, IPV6_RECVPKTINFO},
	{IPPROTO_IPV6, IPV6_TCLASS}, {IPPROTO_IPV6, IPV6_RECVTCLASS},
	{IPPROTO_IPV6, IPV6_RECVERR}, {IPPROTO_IPV6, IPV6_MTU_DISCOVER},
	{IPPROTO_IPV6, IPV6_TRANSPARENT}, {IPPROTO_IPV6, IPV6_RECVHOPLIMIT},
	{IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_TCP, TCP_MAXSEG}, {IPPROTO_TCP, TCP_CORK},
	{IPPROTO_TCP, TCP_KEEPIDLE}, {IPPROTO_TCP, TCP_KEEPINTVL}, {IPPROTO_TCP, TCP_KEEPCNT},
	{IPPROTO_TCP, TCP_SYNCNT}, {IPPROTO_TCP, TCP_LINGER2}, {IPPROTO_TCP, TCP_WINDOW_CLAMP},
	{IPPROTO_TCP, TCP_QUICKACK}, {IPPROTO_TCP, TCP_CONGESTION},
	{IPPROTO_TCP, TCP_USER_TIMEOUT}, {IPPROTO_TCP, TCP_FASTOPEN_CONNECT},
	{IPPROTO_TCP, TCP_NOTSENT_LOWAT},
	{IPPROTO_UDP, UDP_CORK}, {IPPROTO_UDP, UDP_SEGMENT}, {IPPROTO_UDP, UDP_GRO},
};

/* Tells whether a socket of this domain and type has options at level: asking the
 * others would be two failing syscalls per option (IPv6 options of an IPv4 socket,
 * UDP options of a TCP socket). */
static bool applies(int level, int domain, int type)
{
	switch (level) {
	case IPPROTO_IPV6:
		return domain == AF_INET6;
	case IPPROTO_TCP:
		return type == SOCK_STREAM;
	case IPPROTO_UDP:
		return type == SOCK_DGRAM;
	default:
		return true;
	}
}

void bs_sockopt_copy(int old, int fresh, int domain, int type)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		unsigned char a[64], b[64];
		socklen_t la = sizeof(a), lb = sizeof(b);
		int level = options[i].level, name = options[i].name;

		if (!applies(level, domain, type) || getsockopt(old, level, name, a, &la) < 0 ||
		    getsockopt(fresh, level, name, b, &lb) < 0 || (la == lb && !memcmp(a, b, la)))
			continue;
		/* The kernel doubles buffer sizes on set and reports the doubled value. */
		if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF) &&
		    la == sizeof(int)) {
			int v;

			memcpy(&v, a, sizeof(v));
			v /= 2;
			memcpy(a, &v, sizeof(v));
		}
		bs_sys_setsockopt(fresh, level, name, a, la);
	}
}
