/*
 * Client sockets that bind before they connect or send.
 *
 * bind() cannot know whether a socket will listen or dial out, so it applies the
 * policy (a client's bind(0.0.0.0:0) becomes 127.0.0.1:0). A socket bound to
 * loopback cannot reach another host, and a bound socket cannot be rebound, so when
 * such a socket connects or sends to a non-loopback peer we give it back the address
 * the program asked for: a fresh socket of the same kind, with the options that can
 * be read back copied over, bound as the program asked (same port if it was
 * ephemeral, so what getsockname() said stays true), placed on the same descriptor
 * with dup3(). Rewrites are about where a program listens, not where it dials out.
 *
 * The table is indexed by descriptor and remembers the socket's inode, so a closed
 * and reused descriptor is never mistaken for the rewritten socket; close() need not
 * be hooked. It is consulted only after some bind was rewritten in this process.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/common/sock.h"
#include "shim/lib/shim.h"

#define BS_CLIENTS_MAX 65536

struct client {
	atomic_bool noted;		/* a hint, read without the lock: an entry is here */
	atomic_flag busy;		/* held while the entry is read or written */
	unsigned long ino;		/* 0: free */
	struct sockaddr_in6 from;	/* IPv4 fits too (sockaddr_in is smaller) */
	const struct bs_policy *policy;	/* what rewrote it, for the record */
	const struct bs_rule *rule;
	unsigned char proto;
};

/* Untouched pages of this table cost no memory. */
static struct client table[BS_CLIENTS_MAX];
static atomic_bool any;

/* Entries change hands when descriptor numbers do, between threads the kernel
 * orders but the compiler does not know: a per-entry spin lock, held for a copy. */
static void lock(struct client *c)
{
	while (atomic_flag_test_and_set_explicit(&c->busy, memory_order_acquire))
		;
}

static void unlock(struct client *c)
{
	atomic_flag_clear_explicit(&c->busy, memory_order_release);
}

void bs_clients_note(int fd, const struct sockaddr_storage *from, const struct bs_outcome *o,
		     unsigned proto)
{
	struct stat st;
	struct client *c;

	if (fd < 0 || fd >= BS_CLIENTS_MAX || fstat(fd, &st) < 0)
		return;
	c = &table[fd];
	lock(c);
	memcpy(&c->from, from, from->ss_family == AF_INET ? sizeof(struct sockaddr_in)
							: sizeof(struct sockaddr_in6));
	c->policy = o->policy;
	c->rule = o->d.rule;
	c->proto = (unsigned char)proto;
	c->ino = (unsigned long)st.st_ino;
	atomic_store_explicit(&c->noted, true, memory_order_relaxed);
	unlock(c);
	atomic_store_explicit(&any, true, memory_order_release);
}

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

/* Copies each readable option of old that differs on fresh into fresh. */
static void copy_options(int old, int fresh)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		unsigned char a[64], b[64];
		socklen_t la = sizeof(a), lb = sizeof(b);
		int level = options[i].level, name = options[i].name;

		if (getsockopt(old, level, name, a, &la) < 0 ||
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
		setsockopt(fresh, level, name, a, la);
	}
}

/* Tells whether an inet peer address is loopback (v4-mapped included). */
static bool peer_is_loopback(const struct sockaddr_storage *peer)
{
	struct bs_query q;

	bs_query_set_sockaddr(&q, peer);
	return bs_addr_is_loopback(&q.addr);
}

/* Sets the port of an inet sockaddr. */
static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* Port of an inet sockaddr. */
static uint16_t get_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Replaces fd by a socket of the same kind bound to *from; 0 or -errno. On success
 * *from holds the address the new socket got. */
static int rebind(int fd, struct sockaddr_storage *from)
{
	struct sockaddr_storage now;
	socklen_t len = sizeof(now);
	int domain, type, protocol, flags, fdflags, fresh, rc;
	socklen_t ol = sizeof(int);

	if ((rc = bs_sock_kind(fd, &domain, &type)) < 0)
		return rc;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &ol) < 0 ||
	    getsockname(fd, (struct sockaddr *)&now, &len) < 0 ||
	    (flags = fcntl(fd, F_GETFL)) < 0 || (fdflags = fcntl(fd, F_GETFD)) < 0)
		return -errno;
	fresh = bs_real.socket(domain, type | SOCK_CLOEXEC, protocol);
	if (fresh < 0)
		return -errno;
	copy_options(fd, fresh);
	fcntl(fresh, F_SETFL, flags);
	/* dup3 closes the rewritten socket atomically, freeing its port for us. */
	if (bs_real.dup3(fresh, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		rc = -errno;
		bs_real.close(fresh);
		return rc;
	}
	bs_real.close(fresh);
	bs_fd_mark(fd, false);
	/* Keep the ephemeral port the program may have read; any port if it is gone. */
	if (get_port(from) == 0)
		set_port(from, get_port(&now));
	rc = bs_real.bind(fd, (struct sockaddr *)from, bs_sockaddr_len(from));
	if (rc < 0 && errno == EADDRINUSE && get_port(&now) == get_port(from)) {
		set_port(from, 0);
		rc = bs_real.bind(fd, (struct sockaddr *)from, bs_sockaddr_len(from));
	}
	if (rc < 0)
		return -errno;
	bs_fd_mark(fd, true);
	len = sizeof(*from);
	getsockname(fd, (struct sockaddr *)from, &len);
	return 0;
}

/* The slow part of bs_clients_restore, for a descriptor that has an entry. */
static void restore(int fd, const struct sockaddr *peer, socklen_t plen, const char *call)
{
	struct sockaddr_storage p, from, asked;
	struct bs_decision d = {.action = BS_REWRITE};
	struct bs_who who;
	struct bs_record r = {.who = &who, .call = call, .event = "allow", .from = &asked,
			      .to = &from, .peer = &p, .d = &d};
	struct client *c;
	struct stat st;
	bool ours;
	int saved = errno, rc;

	if (bs_busy || bs_sockaddr_copy(peer, plen, &p) || peer_is_loopback(&p))
		return;
	c = &table[fd];
	lock(c);
	/* The entry is this socket's only if the inode matches: descriptor numbers are
	 * reused without close() telling us. Taken once: the entry is freed. */
	ours = c->ino && fstat(fd, &st) == 0 && st.st_ino == c->ino;
	/* Either way the entry is done with: used now, or another socket's leftover. */
	c->ino = 0;
	atomic_store_explicit(&c->noted, false, memory_order_relaxed);
	if (ours) {
		memset(&asked, 0, sizeof(asked));
		memcpy(&asked, &c->from, sizeof(c->from));
		d.rule = c->rule;
		r.policy = c->policy;
		r.proto = c->proto;
	}
	unlock(c);
	errno = saved;
	if (!ours)
		return;
	from = asked;
	rc = rebind(fd, &from);
	if (rc) {
		r.event = "error";
		r.message = "could not give a client socket its own address back";
	}
	bs_self(bs_state(), &who);
	bs_log(&bs_state()->set.logger, &r);
	errno = saved;
}

void bs_clients_restore(int fd, const struct sockaddr *peer, socklen_t plen, const char *call)
{
	/* Every connect and sendto comes here: two loads unless this descriptor's bind
	 * was rewritten. */
	if (!atomic_load_explicit(&any, memory_order_acquire) || fd < 0 || fd >= BS_CLIENTS_MAX ||
	    !atomic_load_explicit(&table[fd].noted, memory_order_relaxed))
		return;
	restore(fd, peer, plen, call);
}
