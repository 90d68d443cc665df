/*
 * What the supervisor learns about the thread a notification came from. Per
 * notification it needs only the thread's pidfd, to take the socket: pidfds are
 * cached per thread, since a pidfd names one thread for its whole life (its number,
 * reused later, is another thread's, which the old pidfd does not reach:
 * pidfd_getfd then fails, and a fresh one is opened). /proc/TID/status (three
 * syscalls) is read only when a decision or a record needs what it says (who,
 * which program, which capabilities), and then afresh: credentials change with
 * setuid and the program with exec. The program name (argv[0]'s base name, as the
 * shim takes it) is cached per process and command name, so a server's many binds
 * read its command line once. Nothing here trusts the target's memory: /proc is the
 * kernel's word.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sockios.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim/common/userns.h"
#include "shim/launcher/launcher.h"
#include "shim/launcher/sup.h"

/* pidfd_open's PIDFD_THREAD (Linux 6.9, = O_EXCL): a pidfd for one thread, whose
 * descriptor table pidfd_getfd then reads. */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* Reads a whole small /proc file into buf (NUL-terminated); returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
	int fd;
	ssize_t n;

	/* /proc/PID/cmdline is read out of the process's memory. */
	bs_stall_begin();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, len - 1);
	bs_stall_end();
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* Returns the value after "\nKey:" in a status text, or NULL. */
static const char *field(const char *status, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = status; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, k) && p[k] == ':')
			return p + k + 1;
	}
	return NULL;
}

/* Parses the fields of /proc/TID/status the supervisor needs; 0 or -1. */
static int parse_status(const char *st, struct bs_caller *t, char *comm, size_t clen)
{
	const char *v;
	unsigned long a, b, c, d;

	if (!(v = field(st, "Tgid")) || sscanf(v, "%lu", &a) != 1)
		return -1;
	t->tgid = (pid_t)a;
	if (!(v = field(st, "Uid")) || sscanf(v, "%lu %lu %lu %lu", &a, &b, &c, &d) != 4)
		return -1;
	t->uid = (uid_t)a;
	t->euid = (uid_t)b;
	t->suid = (uid_t)c;
	t->fsuid = (uid_t)d;
	if (!(v = field(st, "Gid")) || sscanf(v, "%lu %lu %lu %lu", &a, &b, &c, &d) != 4)
		return -1;
	t->gid = (gid_t)a;
	t->egid = (gid_t)b;
	t->sgid = (gid_t)c;
	t->fsgid = (gid_t)d;
	if ((v = field(st, "CapEff")))
		t->capeff = strtoull(v, NULL, 16);
	if ((v = field(st, "Umask")))
		t->umask = (unsigned)strtoul(v, NULL, 8);
	if ((v = field(st, "Groups")))
		snprintf(t->groups, sizeof(t->groups), "%.*s", (int)strcspn(v, "\n"), v);
	if ((v = field(st, "Name")))
		snprintf(comm, clen, "%.*s", (int)strcspn(v + strspn(v, "\t "), "\n"),
			 v + strspn(v, "\t "));
	return 0;
}

/* The program name of t: argv[0]'s base name, else the command name. Cached per
 * (process, command name): the name changes only with exec, and exec changes the
 * command name too, except between programs of the same base name. */
static void program_of(struct bs_caller *t, const char *comm)
{
	static struct {
		pid_t tgid;
		char comm[16];
		char program[64];
	} cache[64];
	static unsigned next;
	char path[64], buf[4096];
	const char *base;

	for (size_t i = 0; i < sizeof(cache) / sizeof(cache[0]); i++)
		if (cache[i].tgid == t->tgid && !strcmp(cache[i].comm, comm)) {
			memcpy(t->program, cache[i].program, sizeof(t->program));
			return;
		}
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)t->tgid);
	if (slurp(path, buf, sizeof(buf)) > 0 && buf[0]) {
		base = strrchr(buf, '/');
		snprintf(t->program, sizeof(t->program), "%.*s", (int)sizeof(t->program) - 1,
			 base ? base + 1 : buf);
	}
	/* No argv[0]: the command name, raw (status escapes it), cut at a newline as
	 * the shim cuts it. */
	if (!t->program[0]) {
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)t->tgid);
		if (slurp(path, buf, sizeof(buf)) > 0)
			snprintf(t->program, sizeof(t->program), "%.*s", (int)strcspn(buf, "\n"), buf);
	}
	cache[next].tgid = t->tgid;
	snprintf(cache[next].comm, sizeof(cache[next].comm), "%s", comm);
	memcpy(cache[next].program, t->program, sizeof(t->program));
	next = (next + 1) % (sizeof(cache) / sizeof(cache[0]));
}

/* The name of uid, looked up once per uid (a lookup reads the user database). */
static void user_name(uid_t uid, char *out, size_t len)
{
	static struct {
		uid_t uid;
		char name[64];
	} cache[16];
	static size_t n;
	struct passwd pw, *res = NULL;
	char buf[2048];

	for (size_t i = 0; i < n; i++)
		if (cache[i].uid == uid) {
			snprintf(out, len, "%s", cache[i].name);
			return;
		}
	out[0] = '\0';
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(out, len, "%s", res->pw_name);
	if (n < sizeof(cache) / sizeof(cache[0])) {
		cache[n].uid = uid;
		snprintf(cache[n].name, sizeof(cache[n].name), "%s", out);
		n++;
	}
}

/* Thread pidfds, direct-mapped by thread id; tid 0: an empty slot. */
#define BS_PIDFDS 64
static struct {
	pid_t tid;
	int pidfd;
} pidfds[BS_PIDFDS];

/* Opens t's pidfd. A thread's own pidfd (Linux 6.9) is cached; the process pidfd
 * older kernels give is not: its thread's number could come back as another
 * process's, which that pidfd would not tell. 0 or -1. */
static int fresh_pidfd(struct bs_caller *t)
{
	int fd = pidfd_open(t->tid, PIDFD_THREAD);

	if (fd >= 0) {
		if (pidfds[t->tid % BS_PIDFDS].tid)
			close(pidfds[t->tid % BS_PIDFDS].pidfd);
		pidfds[t->tid % BS_PIDFDS].tid = t->tid;
		pidfds[t->tid % BS_PIDFDS].pidfd = fd;
		t->pidfd = fd;
		t->cached = true;
		return 0;
	}
	if (bs_caller_know(t) < 0)
		return -1;
	t->pidfd = pidfd_open(t->tgid, 0);
	t->cached = false;
	return t->pidfd < 0 ? -1 : 0;
}

/* Forgets the cached pidfd of t's thread (it names a thread that is gone). */
static void drop_pidfd(struct bs_caller *t)
{
	if (pidfds[t->tid % BS_PIDFDS].tid == t->tid) {
		close(pidfds[t->tid % BS_PIDFDS].pidfd);
		pidfds[t->tid % BS_PIDFDS].tid = 0;
	}
	t->pidfd = -1;
	t->cached = false;
}

int bs_caller_open(const struct bs_sup *s, pid_t tid, struct bs_caller *t)
{
	memset(t, 0, sizeof(*t));
	t->s = s;
	t->tid = tid;
	t->pidfd = -1;
	if (tid <= 0)
		return -1;
	if (pidfds[tid % BS_PIDFDS].tid == tid) {
		t->pidfd = pidfds[tid % BS_PIDFDS].pidfd;
		t->cached = true;
		return 0;
	}
	return fresh_pidfd(t);
}

int bs_caller_getfd(struct bs_caller *t, int fd)
{
	int sock = (int)syscall(SYS_pidfd_getfd, t->pidfd, fd, 0);

	/* A cached pidfd of a thread that is gone: the number is another's now. */
	if (sock < 0 && errno != EBADF && t->cached) {
		drop_pidfd(t);
		if (fresh_pidfd(t) < 0)
			return -ESRCH;
		sock = (int)syscall(SYS_pidfd_getfd, t->pidfd, fd, 0);
	}
	return sock < 0 ? -errno : sock;
}

int bs_caller_know(struct bs_caller *t)
{
	const struct bs_layers *l = t->s->e->layers;
	char path[64], st[4096], comm[16] = "";
	ssize_t n;

	if (t->known)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)t->tid);
	if (slurp(path, st, sizeof(st)) <= 0 || parse_status(st, t, comm, sizeof(comm)) < 0)
		return -1;
	program_of(t, comm);
	if ((l->user && (l->user->needs & BS_NEED_EXE)) ||
	    (l->system && (l->system->needs & BS_NEED_EXE))) {
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->tgid);
		n = readlink(path, t->exe, sizeof(t->exe) - 1);
		t->exe[n > 0 ? n : 0] = '\0';
	}
	user_name(t->uid, t->user, sizeof(t->user));
	t->known = true;
	return 0;
}

void bs_caller_close(struct bs_caller *t)
{
	if (t->pidfd >= 0 && !t->cached)
		close(t->pidfd);
	t->pidfd = -1;
}

/* Tells whether user namespace fd ns is the one at path (both are closed/kept:
 * ns is the caller's). */
static bool is_ns(int ns, const struct stat *want)
{
	struct stat st;

	return fstat(ns, &st) == 0 && st.st_ino == want->st_ino && st.st_dev == want->st_dev;
}

bool bs_caller_capable(const struct bs_caller *t, int cap, int sock)
{
	struct stat mine;
	char path[64];
	int ns, up;
	bool found = false;

	if (!((t->capeff >> cap) & 1))
		return false;
	/* CapEff counts in t's own user namespace. It is worth something for sock only
	 * where that namespace owns sock's network namespace, or is an ancestor of
	 * the one that does: not for a command that made a user namespace of its own
	 * and binds a socket of the machine's network namespace. */
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)t->tid);
	if (stat(path, &mine) < 0 || (ns = ioctl(sock, SIOCGSKNS)) < 0)
		return false;
	up = ioctl(ns, NS_GET_USERNS);
	close(ns);
	while (up >= 0 && !(found = is_ns(up, &mine))) {
		int parent = ioctl(up, NS_GET_PARENT);

		close(up);
		up = parent;
	}
	if (up >= 0)
		close(up);
	return found;
}

bool bs_same_file(const char *a, const char *b)
{
	struct stat x, y;

	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* The supervisor's own status, parsed once (its credentials do not change). */
static const struct bs_caller *self(void)
{
	static struct bs_caller me;
	static bool have;
	char st[4096], comm[16];

	if (!have && slurp("/proc/self/status", st, sizeof(st)) > 0 &&
	    parse_status(st, &me, comm, sizeof(comm)) == 0)
		have = true;
	return &me;
}

bool bs_caller_same_creds(const struct bs_caller *t)
{
	const struct bs_caller *me = self();

	return t->uid == me->uid && t->euid == me->euid && t->suid == me->suid &&
	       t->fsuid == me->fsuid && t->gid == me->gid && t->egid == me->egid &&
	       t->sgid == me->sgid && t->fsgid == me->fsgid && t->capeff == me->capeff &&
	       !strcmp(t->groups, me->groups) && bs_caller_same_userns(t);
}

bool bs_caller_same_userns(const struct bs_caller *t)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)t->tid);
	return bs_same_file(path, "/proc/self/ns/user");
}

bool bs_caller_same_fs(const struct bs_caller *t)
{
	const struct bs_caller *me = self();
	char path[64], a[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)t->tid);
	snprintf(a, sizeof(a), "/proc/%d/root", (int)t->tid);
	/* Capabilities too (CAP_DAC_OVERRIDE, CAP_FOWNER...), in the same user
	 * namespace: a root target that dropped some must not borrow ours. */
	return t->fsuid == me->fsuid && t->fsgid == me->fsgid && !strcmp(t->groups, me->groups) &&
	       t->capeff == me->capeff && bs_caller_same_userns(t) &&
	       bs_same_file(path, "/proc/self/ns/mnt") && bs_same_file(a, "/");
}

int bs_caller_read(const struct bs_caller *t, unsigned long long addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
	ssize_t n;

	if (len == 0)
		return 0;
	bs_stall_begin();
	n = process_vm_readv(t->tid, &local, 1, &remote, 1, 0);
	bs_stall_end();
	return n == (ssize_t)len ? 0 : -1;
}

pid_t bs_proc_stat(pid_t pid, unsigned long long *start, char *state)
{
	char path[64], st[1024], *p;
	ssize_t n;
	int fd, field = 4;

	*start = 0;
	*state = '?';
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, st, sizeof(st) - 1);
	close(fd);
	st[n > 0 ? n : 0] = '\0';
	/* The fields after the command name's last ')': state (3), parent (4)... */
	if (!(p = strrchr(st, ')')) || p[1] != ' ' || !p[2])
		return -1;
	*state = p[2];
	for (char *f = p + 4; *f && field < 22; f++)
		if (*f == ' ' && ++field == 22)
			*start = strtoull(f + 1, NULL, 10);
	return (pid_t)atoi(p + 4);
}
