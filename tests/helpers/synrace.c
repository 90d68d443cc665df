/*
 * synrace: races a peer's connects against listen(), to reach what a listener
 * accepts between the moment the kernel makes it listen and the moment a program
 * watching listen() acts on it.
 *
 *   synrace server FILE ROUNDS [judged|v6] [tfo]
 *                                at most ROUNDS rounds, or until 8 connections
 *                                from elsewhere got in; each round: bind
 *                                0.0.0.0:0 (v6: [::]:0, dual-stack; judged: then
 *                                a bind of 198.51.100.7 at that port, which the
 *                                kernel refuses; tfo: TCP Fast Open), publish
 *                                the port in FILE, listen,
 *                                accept what came from elsewhere than loopback
 *                                and write "x" to it; at the end prints "rounds R
 *                                remote A" (R: rounds that listened), its SO_BINDTOIFINDEX values ("dev0 N
 *                                dev1 N") and "data D": connections that had
 *                                brought data
 *   synrace peer FILE ADDR [tfo] connects to ADDR:port (IPv4, or IPv6 with an
 *                                optional %INTERFACE), over and over, as fast as
 *                                it can (tfo: with Fast Open, sending "hello");
 *                                counts connections made and "x" read; stops
 *                                when the server is done and prints "connected C
 *                                read X"
 *
 * FILE (new, made by either) is shared memory between the two; they may run in
 * different network namespaces. Bounded: 60 s at most.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct shared {
	_Atomic unsigned port;		/* where the server listens next, 0: nowhere yet */
	_Atomic unsigned done;
	_Atomic unsigned peer_ready;
};

#define SLOTS 32

/* Maps FILE, made by whichever of the two comes first (zeros). */
static struct shared *share(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	void *p;

	if (fd < 0 || ftruncate(fd, sizeof(struct shared)) < 0) {
		perror(path);
		exit(2);
	}
	p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	close(fd);
	return p;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

struct mode {
	int judged, tfo, v6;
};

/* A socket whose port is known before listen(), published in sh->port; -1 on
 * failure, after saying why. */
static int aimed_at(struct shared *sh, const struct mode *m)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
	socklen_t al = sizeof(a), al6 = sizeof(a6);
	int s = socket(m->v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), qlen = 16;

	if (s < 0)
		return -1;
	if (m->tfo && setsockopt(s, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen)) < 0) {
		perror("TCP_FASTOPEN");
		close(s);
		return -1;
	}
	if (m->v6) {
		if (bind(s, (struct sockaddr *)&a6, sizeof(a6)) < 0 ||
		    getsockname(s, (struct sockaddr *)&a6, &al6) < 0) {
			perror("bind");
			close(s);
			return -1;
		}
		atomic_store(&sh->port, ntohs(a6.sin6_port));
		return s;
	}
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &al) < 0) {
		perror("bind");
		close(s);
		return -1;
	}
	if (m->judged) {
		/* Judged by the bind program, then refused by the kernel (bound). */
		struct sockaddr_in b = a;

		inet_pton(AF_INET, "198.51.100.7", &b.sin_addr);
		if (bind(s, (struct sockaddr *)&b, sizeof(b)) == 0) {
			fprintf(stderr, "a second bind worked\n");
			close(s);
			return -1;
		}
	}
	atomic_store(&sh->port, ntohs(a.sin_port));
	return s;
}

static int server(const char *path, int rounds, const struct mode *m)
{
	struct shared *sh = share(path);
	int remote = 0, dev[2] = {0, 0}, data = 0, listened = 0, r;
	double end = now() + 25;

	/* The peer has to be aiming before the first round counts. */
	for (int i = 0; i < 1000 && !atomic_load(&sh->peer_ready); i++)
		usleep(10000);
	/* Until enough got in: each is a try of what the test is about. */
	for (r = 0; r < rounds && remote < 8 && now() < end; r++) {
		int s = aimed_at(sh, m), c[64], n = 0;
		struct linger abort_close = {1, 0};

		if (s < 0)
			return 2;
		usleep(2000);		/* the peer's SYNs reach the port: refused */
		if (listen(s, 64) < 0) {
			if (errno != EADDRINUSE) {
				perror("listen");
				return 2;
			}
			close(s);	/* that one port is taken: the next round */
			continue;
		}
		listened++;
		usleep(4000);		/* SYN-ACK and ACK of what came in time */
		while (n < 64) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			int fd = accept4(s, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK);
			const struct sockaddr_in6 *f6 = (const struct sockaddr_in6 *)&from;
			int ifx = -1;
			socklen_t il = sizeof(ifx);
			char b[16];

			if (fd < 0)
				break;
			c[n++] = fd;
			/* Closed with a reset: no TIME_WAIT keeps the port. */
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
			if (from.ss_family == AF_INET6 ? IN6_IS_ADDR_LOOPBACK(&f6->sin6_addr) ||
							     (IN6_IS_ADDR_V4MAPPED(&f6->sin6_addr) &&
							      f6->sin6_addr.s6_addr[12] == 127)
						       : (ntohl(((const struct sockaddr_in *)&from)
								       ->sin_addr.s_addr) >> 24) == 127)
				continue;
			remote++;
			if (getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifx, &il) == 0 &&
			    (ifx == 0 || ifx == 1))
				dev[ifx]++;
			if (read(fd, b, sizeof(b)) > 0)
				data++;
			if (write(fd, "x", 1) < 0) {
				/* held: not routed to the peer */
			}
		}
		usleep(2000);
		for (int i = 0; i < n; i++)
			close(c[i]);
		close(s);
	}
	atomic_store(&sh->done, 1);
	printf("rounds %d remote %d dev0 %d dev1 %d data %d\n", listened, remote, dev[0], dev[1],
	       data);
	return 0;
}

/* ip (IPv4, or IPv6 with an optional %INTERFACE) and port into a; its length. */
static socklen_t address(const char *ip, uint16_t port, struct sockaddr_storage *a)
{
	char addr[64], *scope;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)a;

	memset(a, 0, sizeof(*a));
	if (!strchr(ip, ':')) {
		struct sockaddr_in *a4 = (struct sockaddr_in *)a;

		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		inet_pton(AF_INET, ip, &a4->sin_addr);
		return sizeof(*a4);
	}
	snprintf(addr, sizeof(addr), "%s", ip);
	if ((scope = strchr(addr, '%')))
		*scope++ = '\0';
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(port);
	a6->sin6_scope_id = scope ? if_nametoindex(scope) : 0;
	inet_pton(AF_INET6, addr, &a6->sin6_addr);
	return sizeof(*a6);
}

static int peer(const char *path, const char *ip, int tfo)
{
	struct shared *sh = share(path);
	struct pollfd p[SLOTS];
	double end = now() + 55;
	unsigned connected = 0, got = 0;

	for (int i = 0; i < SLOTS; i++)
		p[i].fd = -1;
	atomic_store(&sh->peer_ready, 1);
	while (!atomic_load(&sh->done) && now() < end) {
		unsigned port = atomic_load(&sh->port);

		for (int i = 0; port && i < SLOTS; i++) {
			struct sockaddr_storage to;
			socklen_t tl = address(ip, (uint16_t)port, &to);

			if (p[i].fd >= 0)
				continue;
			p[i].fd = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
			p[i].events = POLLOUT;
			if (p[i].fd >= 0 && tfo)
				setsockopt(p[i].fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &tfo, sizeof(tfo));
			if (p[i].fd >= 0 && connect(p[i].fd, (struct sockaddr *)&to, tl) < 0 &&
			    errno != EINPROGRESS) {
				close(p[i].fd);
				p[i].fd = -1;
			} else if (p[i].fd >= 0 && tfo && write(p[i].fd, "hello", 5) < 0) {
				/* data in the SYN once a cookie is known; EINPROGRESS first */
			}
		}
		if (poll(p, SLOTS, 5) <= 0)
			continue;
		for (int i = 0; i < SLOTS; i++) {
			int err = 1;
			socklen_t el = sizeof(err);
			char b;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
			if (err == 0) {
				struct pollfd q = {.fd = p[i].fd, .events = POLLIN};

				connected++;
				/* The server writes at once, or never. */
				if (poll(&q, 1, 100) > 0 && read(p[i].fd, &b, 1) == 1 && b == 'x')
					got++;
			}
			close(p[i].fd);
			p[i].fd = -1;
		}
	}
	printf("connected %u read %u\n", connected, got);
	return 0;
}

int main(int argc, char **argv)
{
	struct mode m = {0};
	int bad = 0;

	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "judged"))
			m.judged = 1;
		else if (!strcmp(argv[i], "tfo"))
			m.tfo = 1;
		else if (!strcmp(argv[i], "v6"))
			m.v6 = 1;
		else
			bad = 1;
	}
	if (argc >= 4 && !bad && !(m.judged && m.v6) && !strcmp(argv[1], "server"))
		return server(argv[2], atoi(argv[3]), &m);
	if (argc >= 4 && !bad && !m.judged && !m.v6 && !strcmp(argv[1], "peer"))
		return peer(argv[2], argv[3], m.tfo);
	fprintf(stderr, "usage: synrace server FILE ROUNDS [judged|v6] [tfo] | "
		"synrace peer FILE ADDR [tfo]\n");
	return 2;
}
