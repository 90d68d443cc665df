/*
 * attack: what a hostile program does to get a listener past bindshim. Each command
 * tries one way out and prints where its socket really ended (getsockname), so the
 * tests can assert that it held, under the shim alone and under the supervisor.
 * It is built dynamically (the shim sees its libc calls) and statically (only the
 * supervisor sees anything). Every loop is bounded.
 *
 *   attack restore-listen PORT PEER PEERPORT [unspec]
 *        bind 0.0.0.0:PORT, connect to PEER (which refuses), [connect AF_UNSPEC],
 *        then listen: "listening ADDR PORT"
 *   attack udp-restore PORT PEER PEERPORT
 *        bind UDP 0.0.0.0:PORT, send to PEER, then wait 3 s for a datagram:
 *        "bound ADDR PORT", then "received" or "nothing"
 *   attack port-range PORT [raw]
 *        IP_LOCAL_PORT_RANGE PORT-PORT on an unbound UDP socket (raw: by syscall),
 *        then send to 198.51.100.8:9: "setsockopt ERRNO|ok", "autobound ADDR PORT"
 *   attack steal PORT
 *        take the supervisor's seccomp listener from the parent process
 *        (pidfd_getfd, /proc/PPID/fd, ptrace); if it gets one, answer CONTINUE for
 *        its own raw bind(0.0.0.0:PORT) + listen: "steal ...", "listening ADDR PORT"
 *   attack toctou PORT N
 *        N binds of 127.0.0.1:PORT+i while a thread flips the buffer to 0.0.0.0:
 *        "escaped E of N"
 *   attack reuse
 *        bound descriptors closed behind libc (closefrom, raw close_range) and
 *        their numbers reused (fcntl F_DUPFD, raw dup3) by unbound sockets that
 *        listen: one "NAME ADDR PORT" line each
 *   attack resvport
 *        bindresvport(TCP) + listen, rresvport + listen, bindresvport(UDP):
 *        one "NAME ADDR PORT" line each
 *   attack env-dup SHIM PORT | attack env-huge PORT
 *        exec this program again with LD_PRELOAD=SHIM followed by LD_PRELOAD=, or
 *        with 70,000 environment entries and no LD_PRELOAD; the child binds
 *        0.0.0.0:PORT: "child bound ADDR PORT"
 *   attack sendmmsg PEER PORT
 *        UDP bind 0.0.0.0:0, then sendmmsg to 127.0.0.1:9 and to PEER:PORT:
 *        "sent N"
 *   attack unix-race PORT N
 *        N binds of a descriptor another thread swaps between an AF_UNIX and an
 *        inet socket, with a buffer flipping between a unix path and
 *        0.0.0.0:PORT: "escaped E of N"
 *   attack sctp
 *        SCTP sockets (which bind with setsockopt too): "seqpacket ERRNO",
 *        "sctp ERRNO"
 *   attack rexec | rcmd
 *        rexec() or rcmd() (root: it binds a reserved port) with a stderr channel,
 *        to a daemon thread of its own on loopback: glibc listens for that channel
 *        from inside itself. "NAME listened on ADDR" (from /proc/net/tcp, as the
 *        daemon learns the port), then "NAME ok", or "NAME ERRNO" if refused
 *   attack listen-race ROUNDS [6]
 *        a TCP socket whose non-blocking connect to a closed loopback port was
 *        refused (getsockname still says 127.0.0.1) listens while another thread
 *        calls connect(AF_UNSPEC), which unbinds it: "escaped N of ROUNDS" counts
 *        the listens that ended on the wildcard
 *   attack mptcp
 *        an MPTCP socket connects to a closed loopback port, then listens (the
 *        kernel binds the wildcard while getsockname still says 127.0.0.1):
 *        "mptcp ERRNO" if the socket is refused, else "mptcp ADDR PORT"
 *   attack kind-dup2 PORT | kind-vfork PORT | kind-clone PORT
 *        make a TCP socket sit on a descriptor number the shim once saw hold an
 *        AF_UNIX socket, behind its hooks (glibc's __dup2; a vfork child, which
 *        shares the shim's memory but not the descriptor table; a clone with
 *        CLONE_FILES, which shares the table but not the memory); then bind
 *        0.0.0.0:PORT and listen: "listening ADDR PORT" (or the error)
 *   attack outside PID
 *        ptrace, /proc/PID/mem and pidfd_getfd on a process outside the tree:
 *        "outside ptrace ERRNO|ok", "outside mem ...", "outside pidfd_getfd ..."
 *   attack caps
 *        the effective capabilities: "caps HEX"
 *   attack child-bind PORT     (the exec target of env-dup / env-huge)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/helpers/report.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

extern char **environ;

/* The local address of fd as "ADDR PORT" (local(), in one static buffer). */
static const char *where(int fd)
{
	static char buf[128];

	return local(fd, buf, sizeof(buf));
}

static struct sockaddr_in v4(const char *ip, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

static int restore_listen(int argc, char **argv)
{
	struct sockaddr_in me = v4("0.0.0.0", atoi(argv[0])), peer = v4(argv[1], atoi(argv[2]));
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0)
		printf("bind %s\n", ename(errno));
	if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0)
		printf("connect %s\n", ename(errno));
	if (argc > 3 && connect(fd, &unspec, sizeof(unspec)) < 0)
		printf("unspec %s\n", ename(errno));
	if (listen(fd, 8) < 0)
		printf("listen %s\n", ename(errno));
	else
		printf("listening %s\n", where(fd));
	fflush(stdout);
	sleep(3);		/* the test connects from the peer meanwhile */
	return 0;
}

static int udp_restore(char **argv)
{
	struct sockaddr_in me = v4("0.0.0.0", atoi(argv[0])), peer = v4(argv[1], atoi(argv[2]));
	struct pollfd p;
	char buf[64];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	bind(fd, (struct sockaddr *)&me, sizeof(me));
	if (sendto(fd, "x", 1, 0, (struct sockaddr *)&peer, sizeof(peer)) < 0)
		printf("sendto %s\n", ename(errno));
	printf("bound %s\n", where(fd));
	fflush(stdout);
	p.fd = fd;
	p.events = POLLIN;
	printf("%s\n", poll(&p, 1, 3000) == 1 && recv(fd, buf, sizeof(buf), 0) > 0 ? "received"
									       : "nothing");
	return 0;
}

static int port_range(int argc, char **argv)
{
	uint32_t range = (uint32_t)atoi(argv[0]) | (uint32_t)atoi(argv[0]) << 16;
	struct sockaddr_in peer = v4("198.51.100.8", 9);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	long rc;

	if (argc > 1)
		rc = syscall(SYS_setsockopt, fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
	else
		rc = setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
	printf("setsockopt %s\n", rc < 0 ? ename(errno) : "ok");
	sendto(fd, "x", 1, 0, (struct sockaddr *)&peer, sizeof(peer));
	printf("autobound %s\n", where(fd));
	return 0;
}

/* Answers every notification of listener with CONTINUE (what a thief would do). */
static void *rubber_stamp(void *arg)
{
	int listener = *(int *)arg;

	for (int i = 0; i < 100; i++) {
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;

		memset(&req, 0, sizeof(req));
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
			continue;
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	return NULL;
}

/* Tries to take a seccomp listener from process pid; returns it or -1. */
static int take_listener(pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), found = -1;
	char path[64], target[128];

	if (pidfd < 0) {
		printf("steal pidfd_open %s\n", ename(errno));
		return -1;
	}
	for (int n = 0; n < 256 && found < 0; n++) {
		int fd = (int)syscall(SYS_pidfd_getfd, pidfd, n, 0);
		ssize_t len;

		if (fd < 0) {
			if (errno != EBADF) {
				printf("steal pidfd_getfd %s\n", ename(errno));
				break;
			}
			continue;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		if (strstr(target, "seccomp"))
			found = fd;
		else
			close(fd);
	}
	close(pidfd);
	return found;
}

static int steal(char **argv)
{
	struct sockaddr_in any = v4("0.0.0.0", atoi(argv[0]));
	pid_t parent = getppid();
	char path[64];
	int listener = take_listener(parent), fd;
	pthread_t t;

	/* The other doors: ptrace, the descriptor table and memory in /proc. */
	if (ptrace(PTRACE_ATTACH, parent, 0, 0) == 0) {
		printf("steal ptrace ok\n");
		ptrace(PTRACE_DETACH, parent, 0, 0);
	} else {
		printf("steal ptrace %s\n", ename(errno));
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)parent);
	fd = open(path, O_RDWR);
	printf("steal mem %s\n", fd < 0 ? ename(errno) : "ok");
	if (listener < 0) {
		printf("steal no listener\n");
	} else {
		printf("steal got a listener\n");
		pthread_create(&t, NULL, rubber_stamp, &listener);
		usleep(100000);
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (syscall(SYS_bind, fd, &any, sizeof(any)) < 0 || syscall(SYS_listen, fd, 8) < 0)
		printf("bind %s\n", ename(errno));
	printf("listening %s\n", where(fd));
	fflush(stdout);
	_exit(0);
}

static _Atomic int flipping;

/* Flips *arg between 127.0.0.1 and 0.0.0.0 until told to stop. */
static void *flipper(void *arg)
{
	volatile struct sockaddr_in *sin = arg;

	while (atomic_load(&flipping)) {
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	}
	return NULL;
}

static int toctou(char **argv)
{
	static struct sockaddr_in sin;
	int base = atoi(argv[0]), n = atoi(argv[1]), escaped = 0;
	pthread_t t;

	sin.sin_family = AF_INET;
	atomic_store(&flipping, 1);
	pthread_create(&t, NULL, flipper, &sin);
	for (int i = 0; i < n && i < 20000; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		sin.sin_port = htons((uint16_t)(base + i % 50));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    !strncmp(where(fd), "0.0.0.0 ", 8))
			escaped++;
		close(fd);
	}
	atomic_store(&flipping, 0);
	pthread_join(t, NULL);
	printf("escaped %d of %d\n", escaped, n);
	return 0;
}

/* Listens on fd and prints where: "NAME ADDR PORT". */
static void listen_say(const char *name, int fd)
{
	if (listen(fd, 8) < 0)
		printf("%s listen %s\n", name, ename(errno));
	else
		printf("%s %s\n", name, where(fd));
}

static int reuse(void)
{
	struct sockaddr_in lo = v4("127.0.0.1", 0);
	int a, u, b;

	/* closefrom(): libc closes a bound socket without close() */
	a = socket(AF_INET, SOCK_STREAM, 0);
	bind(a, (struct sockaddr *)&lo, sizeof(lo));
	dup2(a, 100);
	close(a);
	closefrom(100);
	u = socket(AF_INET, SOCK_STREAM, 0);
	b = fcntl(u, F_DUPFD, 100);
	printf("closefrom-same-number %s\n", b == 100 ? "yes" : "no");
	listen_say("closefrom", b);
	/* a raw close_range, then a raw dup3 of an unbound socket onto the number */
	u = socket(AF_INET, SOCK_STREAM, 0);
	a = socket(AF_INET, SOCK_STREAM, 0);
	bind(a, (struct sockaddr *)&lo, sizeof(lo));
	syscall(SYS_close_range, a, a, 0);
	b = (int)syscall(SYS_dup3, u, a, 0);
	listen_say("close_range", b);
	return 0;
}

static int resvport(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 1023;

	if (bindresvport(fd, NULL) < 0)
		printf("bindresvport %s\n", ename(errno));
	listen_say("bindresvport", fd);
	fd = rresvport(&port);
	if (fd < 0)
		printf("rresvport %s\n", ename(errno));
	else
		listen_say("rresvport", fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (bindresvport(fd, NULL) < 0)
		printf("bindresvport-udp %s\n", ename(errno));
	printf("bindresvport-udp %s\n", where(fd));
	return 0;
}

static int child_bind(char **argv)
{
	struct sockaddr_in any = v4("0.0.0.0", atoi(argv[0]));
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0 || listen(fd, 8) < 0)
		printf("child %s\n", ename(errno));
	printf("child bound %s\n", where(fd));
	return 0;
}

/* execs this program's child-bind with env. */
static int exec_child(const char *self, const char *port, char **env)
{
	char *args[] = {(char *)self, "child-bind", (char *)port, NULL};
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execve("/proc/self/exe", args, env);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return 0;
}

static int env_dup(char **argv, const char *self)
{
	char first[4200];
	char *env[] = {first, "LD_PRELOAD=", "PATH=/usr/bin:/bin", NULL};

	snprintf(first, sizeof(first), "LD_PRELOAD=%s", argv[0]);
	return exec_child(self, argv[1], env);
}

static int env_huge(char **argv, const char *self)
{
	size_t n = 70000;
	char **env = calloc(n + 2, sizeof(char *));

	for (size_t i = 0; i < n; i++) {
		env[i] = malloc(16);
		snprintf(env[i], 16, "V%zu=x", i);
	}
	env[n] = "LD_PRELOAD=";
	return exec_child(self, argv[0], env);
}

static int send_mmsg(char **argv)
{
	struct sockaddr_in any = v4("0.0.0.0", 0), lo = v4("127.0.0.1", 9);
	struct sockaddr_in peer = v4(argv[0], atoi(argv[1]));
	struct iovec iov = {"x", 1};
	struct mmsghdr m[2];
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n;

	bind(fd, (struct sockaddr *)&any, sizeof(any));
	memset(m, 0, sizeof(m));
	m[0].msg_hdr.msg_name = &lo;
	m[1].msg_hdr.msg_name = &peer;
	for (int i = 0; i < 2; i++) {
		m[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	n = sendmmsg(fd, m, 2, 0);
	printf("sent %d\n", n);
	return 0;
}

static int swap_fd, swap_unix, swap_inet;
static union {
	struct sockaddr_un un;
	struct sockaddr_in in;
} swap_buf;

/* Swaps swap_fd between the unix and the inet socket, and the buffer with it. */
static void *swapper(void *arg)
{
	(void)arg;
	while (atomic_load(&flipping)) {
		dup2(swap_unix, swap_fd);
		swap_buf.un.sun_family = AF_UNIX;
		dup2(swap_inet, swap_fd);
		swap_buf.in.sin_family = AF_INET;
	}
	return NULL;
}

static int unix_race(char **argv)
{
	int port = atoi(argv[0]), n = atoi(argv[1]), escaped = 0;
	const char *tmp = getenv("TMPDIR");
	char dir[64], wild[32];
	pthread_t t;

	/* Short enough for a sun_path with a file name. */
	if (!tmp || !*tmp || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/attack-unix-XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		/* TMPDIR may be closed to the user this runs as. */
		snprintf(dir, sizeof(dir), "/tmp/attack-unix-XXXXXX");
		if (!mkdtemp(dir))
			return 1;
	}
	swap_fd = 100;
	atomic_store(&flipping, 1);
	for (int i = 0; i < n && i < 2000 && !escaped; i++) {
		swap_unix = socket(AF_UNIX, SOCK_STREAM, 0);
		swap_inet = socket(AF_INET, SOCK_DGRAM, 0);
		memset(&swap_buf, 0, sizeof(swap_buf));
		/* The inet view: 0.0.0.0:PORT in the first bytes; the unix view: a path. */
		snprintf(swap_buf.un.sun_path, sizeof(swap_buf.un.sun_path), "%s/s%d", dir, i);
		swap_buf.in.sin_port = htons((uint16_t)port);
		swap_buf.in.sin_addr.s_addr = 0;
		pthread_create(&t, NULL, swapper, NULL);
		syscall(SYS_bind, swap_fd, &swap_buf, (socklen_t)sizeof(swap_buf.un));
		atomic_store(&flipping, 0);
		pthread_join(t, NULL);
		atomic_store(&flipping, 1);
		snprintf(wild, sizeof(wild), "0.0.0.0 %d", port);
		if (!strcmp(where(swap_inet), wild))
			escaped++;
		close(swap_unix);
		close(swap_inet);
		unlink(swap_buf.un.sun_path);
	}
	rmdir(dir);
	printf("escaped %d of %d\n", escaped, n);
	return 0;
}

static int sctp(void)
{
	int a = socket(AF_INET, SOCK_SEQPACKET, 0), e1 = errno;
	int b = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP), e2 = errno;

	printf("seqpacket %s\nsctp %s\n", a < 0 ? ename(e1) : "ok", b < 0 ? ename(e2) : "ok");
	return 0;
}

static int race_fd;
static atomic_int race_go, race_done;
static volatile unsigned race_delay;

/* Disconnects race_fd each time it is told to, after a varying spin. */
static void *disconnector(void *arg)
{
	struct sockaddr un = {.sa_family = AF_UNSPEC};

	(void)arg;
	for (;;) {
		while (!atomic_load(&race_go))
			;
		atomic_store(&race_go, 0);
		for (volatile unsigned i = 0; i < race_delay; i++)
			;
		connect(race_fd, &un, sizeof(un));
		atomic_store(&race_done, 1);
	}
	return NULL;
}

/* A socket whose connect to a closed loopback port was refused. */
static int refused(int family)
{
	struct sockaddr_in a = v4("127.0.0.1", 1);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(1),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd p = {fd, POLLOUT, 0};

	if (family == AF_INET)
		connect(fd, (struct sockaddr *)&a, sizeof(a));
	else
		connect(fd, (struct sockaddr *)&a6, sizeof(a6));
	poll(&p, 1, 1000);
	return fd;
}

/* Tells whether fd listens on a wildcard address. */
static bool listens_on_wildcard(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int on = 0;
	socklen_t ol = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) < 0 || !on ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

static int listen_race(char **args)
{
	int family = args[1] && args[1][0] == '6' ? AF_INET6 : AF_INET;
	long rounds = atol(args[0]), escaped = 0;
	pthread_t t;

	pthread_create(&t, NULL, disconnector, NULL);
	srand((unsigned)getpid());
	for (long r = 0; r < rounds; r++) {
		int rc;

		race_fd = refused(family);
		race_delay = (unsigned)rand() % 20000;
		atomic_store(&race_done, 0);
		atomic_store(&race_go, 1);
		rc = listen(race_fd, 8);
		while (!atomic_load(&race_done))
			;
		if (rc == 0 && listens_on_wildcard(race_fd))
			escaped++;
		close(race_fd);
	}
	printf("escaped %ld of %ld\n", escaped, rounds);
	return 0;
}

static int rexecd_srv;

/* Reads a NUL-terminated string from fd into buf. */
static void read_str(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (n + 1 < len && read(fd, &c, 1) == 1 && c)
		buf[n++] = c;
	buf[n] = '\0';
}

/* The rexecd: learns the stderr port, says where it listens, connects to it, and
 * answers the request. */
/* The daemon: learns the stderr port, says where it listens, connects to it (from
 * a reserved port, as rcmd wants, where it may), and answers the request. */
static void *rexecd(void *arg)
{
	const char *name = arg;
	char port[32], skip[128], line[256];
	int c = accept(rexecd_srv, NULL, NULL), back;
	unsigned a, p, st;
	struct sockaddr_in to, from;
	FILE *f;

	read_str(c, port, sizeof(port));
	f = fopen("/proc/net/tcp", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %x:%x %*x:%*x %x", &a, &p, &st) == 3 && st == 0x0A &&
		    p == (unsigned)atoi(port)) {
			struct in_addr in = {a};

			printf("%s listened on %s\n", name, inet_ntoa(in));
		}
	if (f)
		fclose(f);
	to = v4("127.0.0.1", atoi(port));
	back = socket(AF_INET, SOCK_STREAM, 0);
	for (int rp = 1023; rp >= 600; rp--) {
		from = v4("127.0.0.1", rp);
		if (bind(back, (struct sockaddr *)&from, sizeof(from)) == 0 || errno != EADDRINUSE)
			break;
	}
	if (connect(back, (struct sockaddr *)&to, sizeof(to)) < 0)
		printf("%sd: connect back %s\n", name, ename(errno));
	for (int i = 0; i < 3; i++)
		read_str(c, skip, sizeof(skip));
	if (write(c, "", 1) < 0)
		(void)0;
	return NULL;
}

/* rexec() or rcmd() (name) with a stderr channel, to the daemon above. */
static int remote_command(const char *name)
{
	struct sockaddr_in lo = v4("127.0.0.1", 0);
	socklen_t len = sizeof(lo);
	char *host = "127.0.0.1";
	pthread_t t;
	int fd2 = -1, s;

	rexecd_srv = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(rexecd_srv, (struct sockaddr *)&lo, sizeof(lo)) < 0 || listen(rexecd_srv, 4) < 0 ||
	    getsockname(rexecd_srv, (struct sockaddr *)&lo, &len) < 0)
		return 1;
	pthread_create(&t, NULL, rexecd, (void *)name);
	alarm(10);
	setenv("HOME", "/nonexistent", 1);	/* no ~/.netrc */
	if (!strcmp(name, "rcmd"))
		s = rcmd(&host, lo.sin_port, "root", "root", "cmd", &fd2);
	else
		s = rexec(&host, lo.sin_port, "user", "pass", "cmd", &fd2);
	if (s < 0) {
		printf("%s %s\n", name, ename(errno));
		return 0;
	}
	pthread_join(t, NULL);
	printf("%s ok\n", name);
	return 0;
}

static int mptcp(void)
{
	struct sockaddr_in closed = v4("127.0.0.1", 1);
	int fd = socket(AF_INET, SOCK_STREAM, 262 /* IPPROTO_MPTCP */);

	if (fd < 0) {
		printf("mptcp %s\n", ename(errno));
		return 0;
	}
	if (connect(fd, (struct sockaddr *)&closed, sizeof(closed)) == 0)
		printf("mptcp connected to a closed port?\n");
	listen_say("mptcp", fd);
	return 0;
}

extern int __dup2(int, int);

/* Binds fd to 0.0.0.0:port, listens, and says where it is. */
static int bind_listen_say(int fd, int port)
{
	struct sockaddr_in any = v4("0.0.0.0", port);
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
		printf("bind %s\n", ename(errno));
	else if (listen(fd, 8) < 0)
		printf("listen %s\n", ename(errno));
	else
		printf("listening %s\n", where(fd));
	return 0;
}

/* A first judged bind: whatever tables the shim keeps exist from here on. */
static void warm_up(void)
{
	struct sockaddr_in z = v4("0.0.0.0", 0);
	int u = socket(AF_INET, SOCK_DGRAM, 0);

	bind(u, (struct sockaddr *)&z, sizeof(z));
	close(u);
}

static int kind_dup2(char **argv)
{
	int n, t;

	warm_up();
	n = socket(AF_UNIX, SOCK_STREAM, 0);
	t = socket(AF_INET, SOCK_STREAM, 0);
	__dup2(t, n);
	return bind_listen_say(n, atoi(argv[0]));
}

static int kind_vfork(char **argv)
{
	int t;
	pid_t pid;

	warm_up();
	t = socket(AF_INET, SOCK_STREAM, 0);
	pid = vfork();
	if (pid == 0) {
		close(t);
		socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return bind_listen_say(t, atoi(argv[0]));
}

static int clone_target;

static int clone_child(void *arg)
{
	int t = socket(AF_INET, SOCK_STREAM, 0);

	(void)arg;
	dup2(t, clone_target);
	close(t);
	return 0;
}

static int kind_clone(char **argv)
{
	static char stack[64 * 1024];
	pid_t pid;

	warm_up();
	clone_target = socket(AF_UNIX, SOCK_STREAM, 0);
	pid = clone(clone_child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
	if (pid < 0 || waitpid(pid, NULL, 0) < 0)
		return 1;
	return bind_listen_say(clone_target, atoi(argv[0]));
}

static int outside(char **argv)
{
	pid_t pid = (pid_t)atoi(argv[0]);
	char path[64];
	int fd, pidfd;

	if (ptrace(PTRACE_ATTACH, pid, 0, 0) == 0) {
		printf("outside ptrace ok\n");
		ptrace(PTRACE_DETACH, pid, 0, 0);
	} else {
		printf("outside ptrace %s\n", ename(errno));
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR);
	printf("outside mem %s\n", fd < 0 ? ename(errno) : "ok");
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	fd = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, 0, 0);
	printf("outside pidfd_getfd %s\n", fd < 0 ? ename(errno) : "ok");
	return 0;
}

static int caps(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			printf("caps %s", line + 7 + strspn(line + 7, "\t "));
	if (f)
		fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "restore-listen") && argc >= 5)
		return restore_listen(argc - 2, argv + 2);
	if (!strcmp(cmd, "udp-restore") && argc >= 5)
		return udp_restore(argv + 2);
	if (!strcmp(cmd, "port-range") && argc >= 3)
		return port_range(argc - 2, argv + 2);
	if (!strcmp(cmd, "steal") && argc >= 3)
		return steal(argv + 2);
	if (!strcmp(cmd, "toctou") && argc >= 4)
		return toctou(argv + 2);
	if (!strcmp(cmd, "reuse"))
		return reuse();
	if (!strcmp(cmd, "resvport"))
		return resvport();
	if (!strcmp(cmd, "child-bind") && argc >= 3)
		return child_bind(argv + 2);
	if (!strcmp(cmd, "env-dup") && argc >= 4)
		return env_dup(argv + 2, argv[0]);
	if (!strcmp(cmd, "env-huge") && argc >= 3)
		return env_huge(argv + 2, argv[0]);
	if (!strcmp(cmd, "sendmmsg") && argc >= 4)
		return send_mmsg(argv + 2);
	if (!strcmp(cmd, "unix-race") && argc >= 4)
		return unix_race(argv + 2);
	if (!strcmp(cmd, "sctp"))
		return sctp();
	if (!strcmp(cmd, "mptcp"))
		return mptcp();
	if (!strcmp(cmd, "listen-race") && argc >= 3)
		return listen_race(argv + 2);
	if (!strcmp(cmd, "rexec") || !strcmp(cmd, "rcmd"))
		return remote_command(cmd);
	if (!strcmp(cmd, "kind-dup2") && argc >= 3)
		return kind_dup2(argv + 2);
	if (!strcmp(cmd, "kind-vfork") && argc >= 3)
		return kind_vfork(argv + 2);
	if (!strcmp(cmd, "kind-clone") && argc >= 3)
		return kind_clone(argv + 2);
	if (!strcmp(cmd, "outside") && argc >= 3)
		return outside(argv + 2);
	if (!strcmp(cmd, "caps"))
		return caps();
	fprintf(stderr, "attack: unknown command (see the comment at the top)\n");
	return 2;
}
