/*
 * What the supervisor learns about the thread a notification came from, from
 * /proc: read once per notification from /proc/PID/status (three syscalls), with
 * the program name (argv[0]'s base name, as the shim takes it) cached per process
 * and command name, so a server's many binds read its command line once. Nothing
 * here trusts the target's memory: /proc is the kernel's word.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim/launcher/sup.h"

/* pidfd_open's PIDFD_THREAD (Linux 6.9, = O_EXCL): a pidfd for one thread, whose
 * descriptor table pidfd_getfd then reads. */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* Reads a whole small /proc file into buf (NUL-terminated); returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

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

int bs_caller_open(const struct bs_sup *s, pid_t tid, struct bs_caller *t)
{
	const struct bs_layers *l = s->e->layers;
	char path[64], st[4096], comm[16] = "";
	ssize_t n;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->pidfd = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (slurp(path, st, sizeof(st)) <= 0 || parse_status(st, t, comm, sizeof(comm)) < 0)
		return -1;
	t->pidfd = pidfd_open(tid, PIDFD_THREAD);
	if (t->pidfd < 0)
		t->pidfd = pidfd_open(t->tgid, 0);
	if (t->pidfd < 0)
		return -1;
	program_of(t, comm);
	if ((l->user && (l->user->needs & BS_NEED_EXE)) ||
	    (l->system && (l->system->needs & BS_NEED_EXE))) {
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->tgid);
		n = readlink(path, t->exe, sizeof(t->exe) - 1);
		t->exe[n > 0 ? n : 0] = '\0';
	}
	user_name(t->uid, t->user, sizeof(t->user));
	return 0;
}

void bs_caller_close(struct bs_caller *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
}

bool bs_caller_capable(const struct bs_caller *t, int cap)
{
	return (t->capeff >> cap) & 1;
}

/* Tells whether two paths are the same file. */
static bool same_file(const char *a, const char *b)
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
	       !strcmp(t->groups, me->groups);
}

bool bs_caller_same_userns(const struct bs_caller *t)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)t->tid);
	return same_file(path, "/proc/self/ns/user");
}

bool bs_in_initial_userns(void)
{
	struct stat st;

	/* The initial user namespace's inode number (PROC_USER_INIT_INO), as the shim
	 * tells it (shim/lib/who.c). */
	return stat("/proc/self/ns/user", &st) == 0 && st.st_ino == 0xEFFFFFFDu;
}

bool bs_caller_same_fs(const struct bs_caller *t)
{
	const struct bs_caller *me = self();
	char path[64], a[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)t->tid);
	snprintf(a, sizeof(a), "/proc/%d/root", (int)t->tid);
	return t->fsuid == me->fsuid && t->fsgid == me->fsgid && !strcmp(t->groups, me->groups) &&
	       same_file(path, "/proc/self/ns/mnt") && same_file(a, "/");
}

int bs_caller_read(const struct bs_caller *t, unsigned long long addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};

	if (len == 0)
		return 0;
	return process_vm_readv(t->tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}
