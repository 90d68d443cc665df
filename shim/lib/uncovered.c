/*
 * Without a supervisor, a program that starts a static, Go, setuid or
 * file-capability executable hands it a preload that never sees its binds. The
 * exec hooks ask here first, and such a start leaves one warning record ("not
 * covered: /usr/bin/hugo is a Go program") through the ordinary log path, once per
 * executable in each process. A vfork child (what dash, posix_spawn and Python's
 * subprocess use) shares its parent's memory, so a loop of theirs says it once; a
 * fork child inherits what its parent said before the fork.
 *
 * Looking costs a few syscalls per exec and allocates nothing: an exec hook may run
 * in a vfork child, which shares the caller's memory but not its descriptors. So
 * the record is written by a short-lived fork, which may load the policy and open
 * the log destination in memory of its own, and is waited for before the exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/common/elf.h"
#include "shim/lib/shim.h"

/* Executables named so far, as nonzero keys. */
#define BS_NAMED_MAX 256
/* Where execvp looks when PATH is unset (glibc's default). */
#define BS_DEFAULT_PATH "/bin:/usr/bin"

static _Atomic uint64_t named[BS_NAMED_MAX];

/* Tells whether the executable f has not been named yet, and notes it. With the
 * table full, every start is named. */
static bool first_time(const struct bs_exe_facts *f)
{
	uint64_t key = ((uint64_t)f->dev * 0x9E3779B97F4A7C15u) ^ (uint64_t)f->ino;

	key = key ? key : 1;
	/* Every thread fills the slots in the same order, so two that race for a key
	 * meet at the same slot. */
	for (size_t i = 0; i < BS_NAMED_MAX; i++) {
		uint64_t seen = 0;

		if (atomic_compare_exchange_strong(&named[i], &seen, key))
			return true;
		if (seen == key)
			return false;
	}
	return true;
}

/* Finds file in the caller's PATH as execvp would; returns path (filled) or NULL. */
static const char *search(const char *file, char *path, size_t len)
{
	const char *dirs = getenv("PATH");
	struct stat st;

	if (strchr(file, '/'))
		return file;
	for (const char *d = dirs ? dirs : BS_DEFAULT_PATH; ; d++) {
		size_t n = strcspn(d, ":");
		int w = snprintf(path, len, "%.*s%s%s", (int)n, d, n ? "/" : "", file);

		if (w > 0 && (size_t)w < len && access(path, X_OK) == 0 && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode))
			return path;
		d += n;
		if (!*d)
			return NULL;
	}
}

/* Writes the warning record for path as process pid; runs in the helper. */
static void record(pid_t pid, const char *path, const char *why)
{
	const struct bs_state *st = bs_state();
	char shown[PATH_MAX], msg[PATH_MAX + 64];
	struct bs_who who;
	struct bs_record r = {.who = &who, .call = "exec", .event = "warning", .message = msg,
			      .exe = shown};

	/* A relative name or a descriptor's link says little in a record. */
	if (path[0] == '/' && strncmp(path, "/proc/self/fd/", 14))
		snprintf(shown, sizeof(shown), "%s", path);
	else if (!realpath(path, shown))
		snprintf(shown, sizeof(shown), "%s", path);
	snprintf(msg, sizeof(msg), "not covered: %s %s", shown, why);
	bs_self(st, &who);
	who.pid = pid;
	bs_log(&st->set.logger, &r);
}

/* Has a fork of this process write the record, and waits for it; a SIGCHLD it
 * raises is taken back, so the program sees no child it did not start. */
static void report(const char *path, const char *why)
{
	static const struct timespec now;
	sigset_t chld, old, pending;
	pid_t self = getpid(), pid;
	int was_pending, saved = errno;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &old);
	pid = fork();
	if (pid == 0) {
		record(self, path, why);
		_exit(0);
	}
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (!was_pending)
			sigtimedwait(&chld, NULL, &now);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
}

void bs_uncovered(int dirfd, const char *path, int flags, bool search_path)
{
	char buf[PATH_MAX];
	struct bs_exe_facts f;
	const char *why;
	int saved = errno;

	if (!path)
		return;
	/* execveat and fexecve: the file through the descriptor's link. */
	if ((flags & AT_EMPTY_PATH) && !*path) {
		snprintf(buf, sizeof(buf), "/proc/self/fd/%d", dirfd);
		path = buf;
	} else if (dirfd != AT_FDCWD && path[0] != '/') {
		snprintf(buf, sizeof(buf), "/proc/self/fd/%d/%s", dirfd, path);
		path = buf;
	} else if (search_path) {
		path = search(path, buf, sizeof(buf));
	}
	if (path && bs_exe_inspect(path, &f) == 0 && (why = bs_exe_unreachable(&f)) &&
	    first_time(&f))
		report(path, why);
	errno = saved;
}
