/*
 * libFuzzer target: the shim's bind() and listen() hooks, linked into this program
 * (so they interpose libc's here), on arbitrary socket kinds, address bytes and
 * lengths.
 *
 * BS_FUZZ_MODE=allow (a policy that allows everything and logs it): every call
 * must return what the raw syscall returns, with the same errno and, on success,
 * the same address. BS_FUZZ_MODE=loopback: no listening TCP socket and no bound UDP
 * socket may be left on a non-loopback address (a TCP socket that does not listen
 * receives nothing: a port-0 bind keeps its address until it listens).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int allow_mode;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char path[512], dir[512];
	const char *mode = getenv("BS_FUZZ_MODE"), *tmp = getenv("TMPDIR");
	int fd;

	snprintf(path, sizeof(path), "%s/bindshim-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	snprintf(dir, sizeof(dir), "%s/bindshim-fuzz-dir-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);

	(void)argc;
	(void)argv;
	allow_mode = !mode || strcmp(mode, "loopback");
	if (allow_mode) {
		dprintf(fd, "version = 1;\nlog = { allowed = true; };\n");
		setenv("BINDSHIM_POLICY", path, 1);
	} else {
		setenv("BINDSHIM_BUILTIN", "loopback", 1);
	}
	close(fd);
	setenv("BINDSHIM_LOG", "/dev/null", 1);
	/* AF_UNIX binds create files: keep them in a directory of our own. */
	if (!mkdtemp(dir) || chdir(dir))
		abort();
	return 0;
}

static const int domains[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK};
static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};

/* Tells whether fd, if an inet stream or datagram socket bound to a port, sits on
 * loopback. Raw sockets and other families are not judged, by design. */
static int on_loopback(int fd, int type)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if ((type != SOCK_STREAM && type != SOCK_DGRAM) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 1;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&ss;

		return !s->sin_port || ntohl(s->sin_addr.s_addr) >> 24 == 127;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&ss;
		const struct in6_addr *a = &s->sin6_addr;

		return !s->sin6_port || IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 1;
}

/* Removes the file an AF_UNIX bind of buf may have made. */
static void unlink_unix(const uint8_t *buf, socklen_t len)
{
	char path[120];
	size_t n = len > 2 ? len - 2 : 0;

	if (n == 0 || buf[2] == 0)
		return;
	if (n > sizeof(path) - 1)
		n = sizeof(path) - 1;
	memcpy(path, buf + 2, n);
	path[n] = '\0';
	unlink(path);
}

/* Local address of fd as bytes, for comparing two sockets. */
static socklen_t local(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	return getsockname(fd, (struct sockaddr *)ss, &len) < 0 ? 0 : len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[300];
	int domain, type, a, b, ra, rb, ea, eb, do_listen, fd_override;
	socklen_t len;
	struct sockaddr_storage la, lb;

	if (size < 4)
		return 0;
	domain = domains[data[0] & 3];
	type = types[data[0] >> 2 & 3];
	do_listen = data[0] >> 4 & 1;
	fd_override = data[0] >> 5 & 3;	/* 1: -1, 2: stdin, 3: a closed fd */
	len = data[1] | (data[2] & 1) << 8;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, data + 3, size - 3 < sizeof(buf) ? size - 3 : sizeof(buf));
	a = socket(domain, type, 0);
	if (fd_override) {
		if (a >= 0)
			close(a);
		a = fd_override == 1 ? -1 : fd_override == 2 ? 0 : a;
	}
	ra = (int)syscall(SYS_bind, a, len > sizeof(buf) ? NULL : buf, len);
	ea = errno;
	if (do_listen)
		syscall(SYS_listen, a, 1);
	local(a, &la);
	if (a > 2)
		close(a);
	if (domain == AF_UNIX)
		unlink_unix(buf, len);
	b = socket(domain, type, 0);
	if (fd_override) {
		if (b >= 0)
			close(b);
		b = fd_override == 1 ? -1 : fd_override == 2 ? 0 : b;
	}
	errno = 12345;
	rb = bind(b, len > sizeof(buf) ? NULL : (struct sockaddr *)buf, len);
	eb = errno;
	if (do_listen)
		listen(b, 1);
	local(b, &lb);
	if (allow_mode) {
		if (ra != rb || (ra < 0 && ea != eb) || (ra == 0 && eb != 12345))
			__builtin_trap();
		/* The same address (ports differ when the kernel picks them). */
		if (ra == 0 && la.ss_family == AF_INET &&
		    ((struct sockaddr_in *)&la)->sin_addr.s_addr != ((struct sockaddr_in *)&lb)->sin_addr.s_addr)
			__builtin_trap();
	} else if (b > 2 && (type == SOCK_DGRAM || do_listen) && !on_loopback(b, type)) {
		__builtin_trap();
	}
	if (b > 2)
		close(b);
	if (domain == AF_UNIX)
		unlink_unix(buf, len);
	return 0;
}
