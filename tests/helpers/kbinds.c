/*
 * kbinds: binds for the kernel-mode tests (tests/integration/kernel.c).
 *
 *   kbinds loop N ADDR PORT     N UDP binds of ADDR:PORT (each closed again); prints
 *                               "ADDRESS count" per address the kernel gave, and
 *                               "error ENAME count" per failure
 *   kbinds portrange PORT       a UDP socket limits its local port range to PORT
 *                               (IP_LOCAL_PORT_RANGE) and sends without bind():
 *                               prints where the send's autobind put it
 *
 * Static in the tests, like any program the shim cannot reach.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

struct tally {
	char what[80];
	long n;
};

static void count(struct tally *t, size_t *n, const char *what)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(t[i].what, what)) {
			t[i].n++;
			return;
		}
	if (*n < 64) {
		snprintf(t[*n].what, sizeof(t[*n].what), "%s", what);
		t[(*n)++].n = 1;
	}
}

static int loop(long n, const char *ip, int port)
{
	struct tally t[64];
	size_t nt = 0;
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int v6 = strchr(ip, ':') != NULL;

	if (v6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &s->sin_addr);
		len = sizeof(*s);
	}
	for (long i = 0; i < n && i < 10000000; i++) {
		struct sockaddr_storage got;
		socklen_t gl = sizeof(got);
		char buf[80], a[INET6_ADDRSTRLEN] = "?";
		int fd = socket(ss.ss_family, SOCK_DGRAM, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0) {
			snprintf(buf, sizeof(buf), "error %s", strerrorname_np(errno));
		} else {
			getsockname(fd, (struct sockaddr *)&got, &gl);
			if (got.ss_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&got)->sin_addr, a, sizeof(a));
			else
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&got)->sin6_addr, a, sizeof(a));
			snprintf(buf, sizeof(buf), "%s", a);
		}
		count(t, &nt, buf);
		if (fd >= 0)
			close(fd);
	}
	for (size_t i = 0; i < nt; i++)
		printf("%s %ld\n", t[i].what, t[i].n);
	return 0;
}

static int portrange(int port)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)}, me;
	socklen_t ml = sizeof(me);
	uint32_t range = (uint32_t)port | (uint32_t)port << 16;
	char a[INET_ADDRSTRLEN];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range)) < 0) {
		printf("error setsockopt %s\n", strerrorname_np(errno));
		return 1;
	}
	if (sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		printf("error sendto %s\n", strerrorname_np(errno));
		return 1;
	}
	getsockname(fd, (struct sockaddr *)&me, &ml);
	inet_ntop(AF_INET, &me.sin_addr, a, sizeof(a));
	printf("autobound %s %u\n", a, ntohs(me.sin_port));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "loop"))
		return loop(atol(argv[2]), argv[3], atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "portrange"))
		return portrange(atoi(argv[2]));
	fprintf(stderr, "usage: kbinds loop N ADDR PORT | kbinds portrange PORT\n");
	return 2;
}
