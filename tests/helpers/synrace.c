/*
 * synrace: races a peer's connects against listen(), to reach what a listener
 * accepts between the moment the kernel makes it listen and the moment a program
 * watching listen() acts on it.
 *
 *   synrace server FILE ROUNDS   each round: bind 0.0.0.0:0, publish the port in
 *                                FILE, listen, accept what came from elsewhere
 *                                than loopback and write "x" to it; at the end
 *                                prints "rounds R remote A" and its SO_BINDTOIFINDEX
 *                                values ("dev0 N dev1 N")
 *   synrace peer FILE ADDR       connects to ADDR:port, over and over, as fast as
 *                                it can; counts connections made and "x" read;
 *                                stops when the server is done and prints
 *                                "connected C read X"
 *
 * FILE (new, made by either) is shared memory between the two; they may run in
 * different network namespaces. Bounded: 60 s at most.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
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

static int server(const char *path, int rounds)
{
	struct shared *sh = share(path);
	int remote = 0, dev[2] = {0, 0}, r;
	double end = now() + 50;

	/* The peer has to be aiming before the first round counts. */
	for (int i = 0; i < 1000 && !atomic_load(&sh->peer_ready); i++)
		usleep(10000);
	for (r = 0; r < rounds && now() < end; r++) {
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), c[64], n = 0;

		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    getsockname(s, (struct sockaddr *)&a, &al) < 0) {
			perror("server");
			return 2;
		}
		atomic_store(&sh->port, ntohs(a.sin_port));
		usleep(2000);		/* the peer's SYNs reach the port: refused */
		if (listen(s, 64) < 0) {
			perror("listen");
			return 2;
		}
		usleep(4000);		/* SYN-ACK and ACK of what came in time */
		while (n < 64) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			int fd = accept4(s, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK);
			int ifx = -1;
			socklen_t il = sizeof(ifx);

			if (fd < 0)
				break;
			c[n++] = fd;
			if ((ntohl(from.sin_addr.s_addr) >> 24) == 127)
				continue;
			remote++;
			if (getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifx, &il) == 0 &&
			    (ifx == 0 || ifx == 1))
				dev[ifx]++;
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
	printf("rounds %d remote %d dev0 %d dev1 %d\n", r, remote, dev[0], dev[1]);
	return 0;
}

static int peer(const char *path, const char *ip)
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
			struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

			if (p[i].fd >= 0)
				continue;
			inet_pton(AF_INET, ip, &a.sin_addr);
			p[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			p[i].events = POLLOUT;
			if (p[i].fd >= 0 && connect(p[i].fd, (struct sockaddr *)&a, sizeof(a)) < 0 &&
			    errno != EINPROGRESS) {
				close(p[i].fd);
				p[i].fd = -1;
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
	if (argc == 4 && !strcmp(argv[1], "server"))
		return server(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "peer"))
		return peer(argv[2], argv[3]);
	fprintf(stderr, "usage: synrace server FILE ROUNDS | synrace peer FILE ADDR\n");
	return 2;
}
