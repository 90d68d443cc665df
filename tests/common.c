/* Test helpers: bounded process runs, /proc/net inspection, probes. */
#include "tests/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char slots[8][4096];
static int slot;

static const char *join(const char *env, const char *fallback, const char *rel)
{
	const char *base = getenv(env);
	char *s = slots[slot++ % 8];

	snprintf(s, sizeof(slots[0]), "%s/%s", base && *base ? base : fallback, rel);
	return s;
}

const char *bs_build(const char *rel)
{
	return join("BS_BUILD", "build", rel);
}

const char *bs_src(const char *rel)
{
	return join("BS_SRC", ".", rel);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads what is available on fd into buf at *len; returns false on EOF. */
static bool drain(int fd, char *buf, size_t *len)
{
	ssize_t n;

	if (*len + 1 >= BS_OUT_MAX) {
		char junk[4096];

		return read(fd, junk, sizeof(junk)) > 0;
	}
	n = read(fd, buf + *len, BS_OUT_MAX - 1 - *len);
	if (n <= 0)
		return false;
	*len += (size_t)n;
	buf[*len] = '\0';
	return true;
}

int bs_sh(struct bs_proc *p, int timeout_s, const char *fmt, ...)
{
	char cmd[16384];
	int o[2], e[2], st;
	size_t ol = 0, el = 0;
	bool oo = true, eo = true;
	long long deadline = now_ms() + timeout_s * 1000LL;
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	memset(p, 0, sizeof(*p));
	if (pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC))
		return p->status = -1;
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	while (oo || eo) {
		struct pollfd fds[2] = {{oo ? o[0] : -1, POLLIN, 0}, {eo ? e[0] : -1, POLLIN, 0}};
		long long left = deadline - now_ms();

		if (left <= 0) {
			p->timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(fds, 2, (int)left) <= 0)
			continue;
		if (fds[0].revents && !drain(o[0], p->out, &ol))
			oo = false;
		if (fds[1].revents && !drain(e[0], p->err, &el))
			eo = false;
	}
	close(o[0]);
	close(e[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* Leave no grandchildren behind. */
	kill(-pid, SIGKILL);
	p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return p->status;
}

pid_t bs_spawn(const char *log, const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pid = fork();
	if (pid == 0) {
		int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);

		setpgid(0, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

void bs_stop(pid_t pid)
{
	long long deadline = now_ms() + 3000;

	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	while (now_ms() < deadline) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			kill(-pid, SIGKILL);
			return;
		}
		usleep(20000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Decodes a /proc/net hex address ("0100007F" or 32 hex digits) into text. */
static void decode_addr(const char *hex, char *out, size_t len)
{
	unsigned char b[16];
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n && i < 16; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		b[i] = (unsigned char)v;
	}
	/* /proc/net prints each 32-bit word of the address in host (little-endian) order. */
	unsigned char c[16];

	for (size_t w = 0; w < n / 4; w++)
		for (int k = 0; k < 4; k++)
			c[w * 4 + k] = b[w * 4 + 3 - k];
	inet_ntop(n == 4 ? AF_INET : AF_INET6, c, out, (socklen_t)len);
}

/* Calls fn for each socket in /proc/net/<proto>{,6} on port in the wanted state. */
static int scan(const char *proto, unsigned port, char *out, size_t len)
{
	static const char *suffix[] = {"", "6"};
	unsigned long seen[256];
	int found = 0;

	if (len)
		out[0] = '\0';
	for (int s = 0; s < 2; s++) {
		char path[64], line[512];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/net/%s%s", proto, suffix[s]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char local[64], addr[64];
			unsigned p, state;
			unsigned long ino;
			int k = 0;

			if (sscanf(line, " %*d: %63[0-9A-F]:%x %*[0-9A-F]:%*x %x %*x:%*x %*x:%*x %*x %*u "
				   "%*d %lu", local, &p, &state, &ino) != 4)
				continue;
			/* TCP_LISTEN is 0x0A; a bound UDP socket shows TCP_CLOSE (0x07). */
			if (p != port || state != (strcmp(proto, "tcp") ? 0x07u : 0x0Au))
				continue;
			/* A socket added while the file is read in pieces can make the kernel
			 * show another line twice: one socket, one inode, counted once. */
			while (k < found && seen[k] != ino)
				k++;
			if (k < found || found == (int)(sizeof(seen) / sizeof(seen[0])))
				continue;
			seen[found] = ino;
			decode_addr(local, addr, sizeof(addr));
			if (len) {
				size_t used = strlen(out);

				snprintf(out + used, len - used, "%s%s", used ? "," : "", addr);
			}
			found++;
		}
		fclose(f);
	}
	return found;
}

bool bs_wait_port(const char *proto, unsigned port, int timeout_ms, char *addr, size_t len)
{
	long long deadline = now_ms() + timeout_ms;

	do {
		if (scan(proto, port, addr, len))
			return true;
		usleep(20000);
	} while (now_ms() < deadline);
	return false;
}

void bs_port_addrs(const char *proto, unsigned port, char *out, size_t len)
{
	scan(proto, port, out, len);
}

/* Fills ss from ip and port; returns its length or 0. */
static socklen_t make_addr(const char *ip, unsigned port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1 ? sizeof(*s6) : 0;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &s4->sin_addr) == 1 ? sizeof(*s4) : 0;
}

int bs_tcp_connect(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(ip, port, &ss), el = sizeof(int);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	struct pollfd pfd;

	if (!len || fd < 0)
		return EINVAL;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		err = errno;
		if (err == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			err = poll(&pfd, 1, 2000) == 1 ? 0 : ETIMEDOUT;
			if (!err)
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		}
	}
	close(fd);
	return err;
}

int bs_udp_echo(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(ip, port, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;
	struct pollfd pfd;
	char buf[64];

	if (!len || fd < 0)
		return EINVAL;
	/* connect() makes ICMP "port unreachable" come back as ECONNREFUSED. */
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 || send(fd, "ping", 4, 0) < 0) {
		err = errno;
	} else {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 2000) != 1)
			err = ETIMEDOUT;
		else if (recv(fd, buf, sizeof(buf), 0) < 0)
			err = errno;
	}
	close(fd);
	return err;
}

const char *bs_as_supervised(void)
{
	/* The capabilities the supervisor takes from a root command (supervise.c). */
	return geteuid() ? "" : "setpriv --bounding-set=-sys_ptrace,-sys_admin,-net_admin,-net_raw,"
				"-bpf,-perfmon,-sys_module,-sys_rawio ";
}

bool bs_real_root(void)
{
	struct stat st;

	/* The initial user namespace's inode number (PROC_USER_INIT_INO). */
	return geteuid() == 0 && stat("/proc/self/ns/user", &st) == 0 && st.st_ino == 0xEFFFFFFDu;
}

bool bs_can_switch_user(void)
{
	static int can = -1;
	struct bs_proc p;

	if (can < 0)
		can = bs_sh(&p, 10, BS_AS_NOBODY " true") == 0;
	return can;
}

bool bs_can_make_userns(void)
{
	static int can = -1;
	struct bs_proc p;

	if (can < 0)
		can = bs_sh(&p, 10, "unshare -Ur true") == 0;
	return can;
}

const char *bs_tmpdir(void)
{
	/* A ring of its own, not bs_build's slots: tests keep a directory across many
	 * bs_build() calls, and no test makes 32 of them. */
	static char dirs[32][512];
	static int n;
	char *s = dirs[n++ % 32];
	const char *base = getenv("TMPDIR");

	snprintf(s, sizeof(dirs[0]), "%s/bindshim-test.XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(s) ? s : "/tmp";
}

const char *bs_open_tmpdir(void)
{
	const char *d = bs_tmpdir();

	chmod(d, 0755);
	return d;
}

const char *bs_put(const char *dir, const char *name, const char *text, mode_t mode)
{
	static char paths[8][512];
	static int n;
	char *p = paths[n++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	bs_write_file(p, text);
	chmod(p, mode);
	return p;
}

const char *bs_write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(content, f);
		fclose(f);
	}
	return path;
}

long bs_read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		buf[0] = '\0';
		return -1;
	}
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (long)n;
}

const char *bs_sh_overlay(const char *target, const char *dir)
{
	static char cmds[8][2048];
	static int n;
	char *s = cmds[n++ % 8];

	/* Any failure ends the script: what follows must never run on the real files. */
	snprintf(s, sizeof(cmds[0]), "{ mkdir -p %s/ov && mount -t tmpfs bs-overlay %s/ov && "
		 "mkdir %s/ov/u %s/ov/w && mount -t overlay overlay "
		 "-o lowerdir=%s,upperdir=%s/ov/u,workdir=%s/ov/w %s && "
		 "[ \"$(stat -f -c %%T %s)\" = overlayfs ]; } || exit 99",
		 dir, dir, dir, dir, target, dir, dir, target, target);
	return s;
}

int bs_count(const char *hay, const char *needle)
{
	int n = 0;
	size_t k = strlen(needle);

	for (const char *s = strstr(hay, needle); s; s = strstr(s + k, needle))
		n++;
	return n;
}
