/* Helpers for the CLI and integration tests: run programs with bounded time,
 * capture their output, watch what really listens. */
#ifndef BS_TESTS_COMMON_H
#define BS_TESTS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define BS_OUT_MAX 65536

struct bs_proc {
	int status;			/* exit code, or 128 + signal */
	bool timed_out;
	char out[BS_OUT_MAX];		/* stdout */
	char err[BS_OUT_MAX];		/* stderr */
};

/* Path of something in the build directory (BS_BUILD) or the source tree (BS_SRC);
 * returns a static buffer per slot (0..7, rotating). */
const char *bs_build(const char *rel);
const char *bs_src(const char *rel);

/* Runs `sh -c cmd` with a time limit, capturing stdout and stderr; returns p->status. */
int bs_sh(struct bs_proc *p, int timeout_s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Starts `sh -c cmd` in its own process group with output to log (or /dev/null);
 * returns its pid. */
pid_t bs_spawn(const char *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Kills a spawned process group and reaps it. */
void bs_stop(pid_t pid);

/* Waits up to timeout_ms for a socket on port in /proc/net ("tcp": listening, "udp":
 * bound); fills addr with its local address ("127.0.0.1", "::1") and returns true. */
bool bs_wait_port(const char *proto, unsigned port, int timeout_ms, char *addr, size_t len);
/* Lists every local address bound on port, comma-separated, into out. */
void bs_port_addrs(const char *proto, unsigned port, char *out, size_t len);

/* Connects to ip:port (TCP, 2 s limit); returns 0 or the errno (ECONNREFUSED...). */
int bs_tcp_connect(const char *ip, unsigned port);
/* Sends one datagram to ip:port and waits up to 2 s for the reply; 0 or errno. */
int bs_udp_echo(const char *ip, unsigned port);

/* Makes a fresh temporary directory; returns its path (valid for the whole test). */
const char *bs_tmpdir(void);
/* The same, open to every user (mode 0755: some tests run programs as nobody). */
const char *bs_open_tmpdir(void);
/* A prefix for a command run natively that leaves it the capabilities a supervised
 * command keeps, to compare answers with ("" unless root). */
const char *bs_as_supervised(void);
/* Tells whether the tests run as the machine's root: uid 0 of the initial user
 * namespace, not the uid 0 of a user namespace that tests/netns.sh made for an
 * unprivileged user (which owns no file of the machine). */
bool bs_real_root(void);
/* Tells whether a command can run as another user (setpriv to nobody, tried once):
 * not in a user namespace that maps only its own uid 0. */
bool bs_can_switch_user(void);
/* Tells whether a user namespace can be made here (unshare -Ur, tried once): not in
 * a chroot (tests/overlay-root.sh), nor where seccomp (a container's) or a sysctl
 * forbids it. */
bool bs_can_make_userns(void);
/* The prefix that runs a command as nobody (uid and gid 65534), as
 * bs_can_switch_user() tries it. */
#define BS_AS_NOBODY "setpriv --reuid=65534 --regid=65534 --clear-groups"
/* Why bs_can_switch_user() is false, for a skip's message. */
#define BS_NO_OTHER_USER "no other user here (a user namespace made by an unprivileged user " \
	"maps only its uid 0)"
/* Writes a file; returns path. */
const char *bs_write_file(const char *path, const char *content);
/* Writes dir/name with text and mode; returns its path (one of 8 static slots). */
const char *bs_put(const char *dir, const char *name, const char *text, mode_t mode);
/* Reads a whole file into buf (NUL-terminated); returns bytes read or -1. */
long bs_read_file(const char *path, char *buf, size_t len);
/* A shell command (no single quotes in it, for use inside sh -c '...') that mounts
 * an overlay on target, for a test's private mount namespace, or exits the script
 * with status 99 if it cannot. Its upper and work directories are on a tmpfs
 * mounted at dir/ov: the upper directory of an overlay cannot itself be on
 * overlayfs, the root filesystem of most containers. Returns a static buffer
 * (eight slots, rotating: one call may use several). */
const char *bs_sh_overlay(const char *target, const char *dir);
/* Counts non-overlapping occurrences of needle in hay. */
int bs_count(const char *hay, const char *needle);

#endif
