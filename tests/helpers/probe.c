/*
 * probe: a small program that binds, listens, connects and sends the way real
 * programs do, and prints what really happened (getsockname, errno names), so the
 * tests can run it under the shim and check the outcome.
 *
 *   probe bind [--udp] [--v6only 0|1] [--listen] [--hold S] ADDR PORT
 *   probe listen-unbound [--v6] [--hold S]
 *   probe port0 [--hold S]          bind 0.0.0.0:0, read the port, then listen
 *   probe client tcp|udp|udp-sendmsg|udp-sendmmsg PEER PORT [--bind ADDR PORT]
 *   probe echo tcp|udp ADDR PORT N  serve N requests, then exit
 *   probe threads N PORTBASE        N threads bind wildcard ports concurrently
 *   probe errno                     errno survives successful judged calls
 *   probe deny-usable ADDR PORT     a denied bind leaves the socket usable
 *   probe unspec PORT               bind(AF_UNSPEC, INADDR_ANY) on an IPv4 socket
 *   probe unix PATH                 bind an AF_UNIX socket
 *   probe raw-syscall ADDR PORT     syscall(SYS_bind): what a preload cannot see
 *   probe mapped PORT               IPv6 socket binding ::ffff:0.0.0.0
 *   probe reuse                     descriptor numbers of bound sockets reused by
 *                                   never-bound ones, which then listen
 *   probe io-uring                  io_uring_setup: "io_uring ok" or the errno name
 *   probe seccomp-listener          installs a seccomp filter asking for a listener
 *   probe int80                     a syscall through the 32-bit ABI (x86_64)
 *
 * Every run is bounded: --hold and waits are capped at 60 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/helpers/report.h"

static int fail(const char *what)
{
	printf("error %s %s\n", what, ename(errno));
	fflush(stdout);
	return 1;
}

/* Parses ip and port into ss; returns the length or exits. */
static socklen_t addr(const char *ip, const char *port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(port));
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			exit(2);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
		exit(2);
	return sizeof(*s4);
}

static void hold(int secs)
{
	if (secs > 60)
		secs = 60;
	fflush(stdout);
	for (int i = 0; i < secs * 10; i++)
		usleep(100000);
}

/* Takes "--hold S" etc. from argv; returns the value or dflt. */
static int opt_int(int *argc, char **argv, const char *name, int dflt)
{
	for (int i = 0; i + 1 < *argc; i++)
		if (!strcmp(argv[i], name)) {
			int v = atoi(argv[i + 1]);

			memmove(argv + i, argv + i + 2, (size_t)(*argc - i - 1) * sizeof(char *));
			*argc -= 2;
			return v;
		}
	return dflt;
}

static bool opt_flag(int *argc, char **argv, const char *name)
{
	for (int i = 0; i < *argc; i++)
		if (!strcmp(argv[i], name)) {
			memmove(argv + i, argv + i + 1, (size_t)(*argc - i) * sizeof(char *));
			(*argc)--;
			return true;
		}
	return false;
}

static int cmd_bind(int argc, char **argv)
{
	bool udp = opt_flag(&argc, argv, "--udp"), do_listen = opt_flag(&argc, argv, "--listen");
	int v6only = opt_int(&argc, argv, "--v6only", -1), secs = opt_int(&argc, argv, "--hold", 0);
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[128];
	int fd;

	if (argc != 2)
		return 2;
	len = addr(argv[0], argv[1], &ss);
	fd = socket(ss.ss_family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return fail("socket");
	if (v6only >= 0)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return fail("bind");
	if (do_listen && listen(fd, 16) < 0)
		return fail("listen");
	printf("bound %s\n", local(fd, buf, sizeof(buf)));
	hold(secs);
	return 0;
}

static int cmd_listen_unbound(int argc, char **argv)
{
	bool v6 = opt_flag(&argc, argv, "--v6");
	int secs = opt_int(&argc, argv, "--hold", 0);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	char buf[128];

	if (fd < 0 || listen(fd, 16) < 0)
		return fail("listen");
	printf("listening %s\n", local(fd, buf, sizeof(buf)));
	hold(secs);
	return 0;
}

static int cmd_port0(int argc, char **argv)
{
	int secs = opt_int(&argc, argv, "--hold", 0);
	struct sockaddr_storage ss;
	socklen_t len = addr("0.0.0.0", "0", &ss);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char before[128], after[128];

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0)
		return fail("bind");
	local(fd, before, sizeof(before));
	if (listen(fd, 16) < 0)
		return fail("listen");
	printf("read %s\nserving %s\n", before, local(fd, after, sizeof(after)));
	hold(secs);
	return 0;
}

/* Waits up to 3 s for fd to be readable; returns true if it is. */
static bool readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, 3000) == 1;
}

static int cmd_client(int argc, char **argv)
{
	struct sockaddr_storage peer, me;
	socklen_t plen, mlen;
	char buf[128], reply[64];
	bool udp;
	int fd;
	ssize_t n;

	if (argc != 3 && argc != 6)
		return 2;
	udp = !strncmp(argv[0], "udp", 3);
	plen = addr(argv[1], argv[2], &peer);
	fd = socket(peer.ss_family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (argc == 6) {
		mlen = addr(argv[4], argv[5], &me);
		if (bind(fd, (struct sockaddr *)&me, mlen) < 0)
			return fail("bind");
		printf("bound %s\n", local(fd, buf, sizeof(buf)));
	}
	if (udp) {
		struct iovec iov = {(void *)"ping", 4};
		struct mmsghdr mm = {.msg_hdr = {.msg_name = &peer, .msg_namelen = plen,
						 .msg_iov = &iov, .msg_iovlen = 1}};

		if (!strcmp(argv[0], "udp-sendmsg")) {
			if (sendmsg(fd, &mm.msg_hdr, 0) < 0)
				return fail("sendmsg");
		} else if (!strcmp(argv[0], "udp-sendmmsg")) {
			if (sendmmsg(fd, &mm, 1, 0) < 0)
				return fail("sendmmsg");
		} else if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&peer, plen) < 0) {
			return fail("sendto");
		}
	} else {
		if (connect(fd, (struct sockaddr *)&peer, plen) < 0)
			return fail("connect");
		if (send(fd, "ping", 4, 0) < 0)
			return fail("send");
	}
	if (!readable(fd)) {
		printf("error reply ETIMEDOUT\n");
		return 1;
	}
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	if (n <= 0)
		return fail("recv");
	reply[n] = '\0';
	printf("reply %s from %s\n", reply, local(fd, buf, sizeof(buf)));
	return 0;
}

static int cmd_echo(int argc, char **argv)
{
	struct sockaddr_storage ss, from;
	socklen_t len, fl;
	char buf[512];
	int fd, one = 1, count;

	if (argc != 4)
		return 2;
	len = addr(argv[1], argv[2], &ss);
	count = atoi(argv[3]);
	fd = socket(ss.ss_family, strcmp(argv[0], "udp") ? SOCK_STREAM : SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return fail("bind");
	if (strcmp(argv[0], "udp") && listen(fd, 16) < 0)
		return fail("listen");
	printf("echo %s\n", local(fd, buf, sizeof(buf)));
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, 30000) != 1)
			return 1;
		fl = sizeof(from);
		if (!strcmp(argv[0], "udp")) {
			n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n > 0)
				sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		} else {
			int c = accept(fd, (struct sockaddr *)&from, &fl);

			if (c < 0)
				continue;
			if (readable(c) && (n = recv(c, buf, sizeof(buf), 0)) > 0)
				send(c, buf, (size_t)n, 0);
			close(c);
		}
	}
	return 0;
}

struct worker {
	int index, portbase, escaped, failed;
};

/* Binds four sockets (tcp/udp x v4/v6) on wildcard ports and checks they are
 * on loopback. */
static void *bind_worker(void *arg)
{
	struct worker *w = arg;
	static const char *const ips[2] = {"0.0.0.0", "::"};

	for (int k = 0; k < 4; k++) {
		struct sockaddr_storage ss;
		char port[16], buf[128];
		socklen_t len;
		int fd;

		snprintf(port, sizeof(port), "%d", w->portbase + w->index * 4 + k);
		len = addr(ips[k % 2], port, &ss);
		fd = socket(ss.ss_family, k < 2 ? SOCK_STREAM : SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0) {
			w->failed++;
		} else {
			local(fd, buf, sizeof(buf));
			if (strncmp(buf, "127.0.0.1 ", 10) && strncmp(buf, "::1 ", 4) &&
			    strncmp(buf, "::ffff:127.0.0.1 ", 17))
				w->escaped++;
		}
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static int cmd_threads(int argc, char **argv)
{
	int n, escaped = 0, failed = 0;
	pthread_t tid[256];
	struct worker w[256];

	if (argc != 2 || (n = atoi(argv[0])) <= 0 || n > 256)
		return 2;
	for (int i = 0; i < n; i++) {
		w[i] = (struct worker){.index = i, .portbase = atoi(argv[1])};
		pthread_create(&tid[i], NULL, bind_worker, &w[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		escaped += w[i].escaped;
		failed += w[i].failed;
	}
	printf("threads %d binds %d escaped %d failed %d\n", n, n * 4, escaped, failed);
	return escaped || failed;
}

static int cmd_errno(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int bad = 0;
	const char *const tries[][2] = {{"127.0.0.1", "0"}, {"0.0.0.0", "0"}, {"::", "0"}};

	for (size_t i = 0; i < 3; i++) {
		int fd = socket(strchr(tries[i][0], ':') ? AF_INET6 : AF_INET, SOCK_STREAM, 0);

		len = addr(tries[i][0], tries[i][1], &ss);
		errno = 4242;
		if (bind(fd, (struct sockaddr *)&ss, len) != 0 || errno != 4242)
			bad++;
		errno = 4243;
		if (listen(fd, 1) != 0 || errno != 4243)
			bad++;
		close(fd);
	}
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		errno = 4244;
		if (listen(fd, 1) != 0 || errno != 4244)	/* unbound: judged and rebound */
			bad++;
		close(fd);
	}
	printf("errno %s\n", bad ? "changed" : "kept");
	return bad != 0;
}

static int cmd_deny_usable(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[128];
	int fd;

	if (argc != 2)
		return 2;
	len = addr(argv[0], argv[1], &ss);
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (bind(fd, (struct sockaddr *)&ss, len) == 0) {
		printf("first allowed %s\n", local(fd, buf, sizeof(buf)));
		return 1;
	}
	printf("first %s\n", strerrorname_np(errno));
	len = addr(ss.ss_family == AF_INET ? "127.0.0.1" : "::1", "0", &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0)
		return fail("second");
	printf("second %s\n", local(fd, buf, sizeof(buf)));
	return 0;
}

static int cmd_unspec(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_UNSPEC};
	char buf[128];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (argc != 1)
		return 2;
	sin.sin_port = htons((uint16_t)atoi(argv[0]));
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return fail("bind");
	printf("bound %s\n", local(fd, buf, sizeof(buf)));
	return 0;
}

static int cmd_unix(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (argc != 1 || strlen(argv[0]) >= sizeof(sun.sun_path))
		return 2;
	strcpy(sun.sun_path, argv[0]);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 1) < 0)
		return fail("bind");
	printf("bound unix %s\n", argv[0]);
	return 0;
}

static int cmd_raw_syscall(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[128];
	int fd;

	if (argc != 2)
		return 2;
	len = addr(argv[0], argv[1], &ss);
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (syscall(SYS_bind, fd, (struct sockaddr *)&ss, len) < 0)
		return fail("bind");
	printf("bound %s\n", local(fd, buf, sizeof(buf)));
	return 0;
}

static int cmd_mapped(int argc, char **argv)
{
	char buf[128];
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(AF_INET6, SOCK_STREAM, 0), zero = 0;

	if (argc != 1)
		return 2;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	len = addr("::ffff:0.0.0.0", argv[0], &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return fail("bind");
	printf("bound %s\n", local(fd, buf, sizeof(buf)));
	return 0;
}

/* Listens on fd and prints where the kernel put it. */
static void listen_and_say(const char *what, int fd)
{
	char buf[128];

	if (listen(fd, 1) < 0)
		printf("%s error %s\n", what, strerrorname_np(errno));
	else
		printf("%s %s\n", what, local(fd, buf, sizeof(buf)));
}

static int cmd_reuse(void)
{
	struct sockaddr_storage ss;
	socklen_t len = addr("127.0.0.1", "0", &ss);
	int a = socket(AF_INET, SOCK_STREAM, 0), b, u;

	/* a bound, closed; the same number comes back from socket() unbound */
	bind(a, (struct sockaddr *)&ss, len);
	close(a);
	b = socket(AF_INET, SOCK_STREAM, 0);
	printf("same-number %s\n", a == b ? "yes" : "no");
	listen_and_say("reused", b);
	/* b is bound now; an unbound socket is dup2()ed over it */
	u = socket(AF_INET, SOCK_STREAM, 0);
	dup2(u, b);
	listen_and_say("dup2", b);
	/* and dup() of an unbound socket */
	listen_and_say("dup", dup(socket(AF_INET, SOCK_STREAM, 0)));
	/* a bound socket closed by close_range(); an unbound one put on its number by
	 * fcntl(F_DUPFD), which no hook sees */
	u = socket(AF_INET, SOCK_STREAM, 0);
	a = socket(AF_INET, SOCK_STREAM, 0);
	bind(a, (struct sockaddr *)&ss, len);
	close_range((unsigned)a, (unsigned)a, 0);
	b = fcntl(u, F_DUPFD, a);
	printf("close_range-same-number %s\n", a == b ? "yes" : "no");
	listen_and_say("close_range", b);
	return 0;
}

static int cmd_io_uring(void)
{
	unsigned char params[120] = {0};	/* struct io_uring_params */
	long fd = syscall(__NR_io_uring_setup, 4, params);

	if (fd < 0)
		return fail("io_uring_setup");
	printf("io_uring ok\n");
	return 0;
}

static int cmd_seccomp_listener(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {1, &allow};

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
		    &prog) < 0)
		return fail("seccomp");
	printf("listener ok\n");
	return 0;
}

static int cmd_int80(void)
{
#ifdef __x86_64__
	long ret;

	/* getpid (20) through the i386 entry: another syscall table */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	printf("int80 returned %ld\n", ret);
	return 0;
#else
	printf("int80 not on this architecture\n");
	return 0;
#endif
}

int main(int argc, char **argv)
{
	const char *cmd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "bind"))
		return cmd_bind(argc, argv);
	if (!strcmp(cmd, "listen-unbound"))
		return cmd_listen_unbound(argc, argv);
	if (!strcmp(cmd, "port0"))
		return cmd_port0(argc, argv);
	if (!strcmp(cmd, "client"))
		return cmd_client(argc, argv);
	if (!strcmp(cmd, "echo"))
		return cmd_echo(argc, argv);
	if (!strcmp(cmd, "threads"))
		return cmd_threads(argc, argv);
	if (!strcmp(cmd, "errno"))
		return cmd_errno();
	if (!strcmp(cmd, "deny-usable"))
		return cmd_deny_usable(argc, argv);
	if (!strcmp(cmd, "unspec"))
		return cmd_unspec(argc, argv);
	if (!strcmp(cmd, "unix"))
		return cmd_unix(argc, argv);
	if (!strcmp(cmd, "raw-syscall"))
		return cmd_raw_syscall(argc, argv);
	if (!strcmp(cmd, "mapped"))
		return cmd_mapped(argc, argv);
	if (!strcmp(cmd, "reuse"))
		return cmd_reuse();
	if (!strcmp(cmd, "io-uring"))
		return cmd_io_uring();
	if (!strcmp(cmd, "seccomp-listener"))
		return cmd_seccomp_listener();
	if (!strcmp(cmd, "int80"))
		return cmd_int80();
	return 2;
}
