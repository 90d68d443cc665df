/*
 * Binding a socket as the target thread would, when the supervisor is not
 * already in the target's place: an AF_UNIX path looked up in another mount
 * namespace or root, or created with other credentials; a bind whose permission
 * checks would see capabilities the supervisor has and the target lacks.
 *
 * The supervisor never lets the kernel do such a call on the target's behalf
 * ("continue"): the kernel would read the descriptor and the address again, and
 * another thread of the target could have swapped an inet socket and an inet
 * address in meanwhile. Instead a child of the supervisor enters the target's user
 * and mount namespaces, root and working directory, takes its umask, its
 * credentials and its capabilities, and binds the supervisor's own copy of the
 * socket there. The supervisor itself is untouched, and nothing is read twice.
 *
 * A target in a user namespace of its own is entered as the target would be seen
 * from outside: its uid and no capability first, then setns(), which gives what
 * that uid owns there; a root supervisor entering it as root would create files
 * as root and pass checks the target never could.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/launcher/raw.h"
#include "shim/launcher/sup.h"

/* Opens /proc/TID/what (O_PATH); -1 if it cannot. */
static int proc_open(pid_t tid, const char *what, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, what);
	return open(path, flags | O_CLOEXEC);
}

/* Tells whether namespace fd ns is the one this process is in (path: own link). */
static bool ours(int ns, const char *own)
{
	struct stat a, b;

	return fstat(ns, &a) == 0 && stat(own, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

/* Parses a "Groups:" value into list; returns the count, or -1. */
static int parse_groups(const char *s, gid_t *list, int max)
{
	int n = 0;
	char *end;

	while (*s && n < max) {
		unsigned long g = strtoul(s, &end, 10);

		if (end == s)
			break;
		list[n++] = (gid_t)g;
		s = end;
	}
	return n;
}

/* Tells whether this process's supplementary groups are list (as a set): then
 * there is no setgroups() to make, which a user namespace whose setgroups is
 * "deny" (made by an unprivileged user: rootless containers) would refuse. */
static bool same_groups(const gid_t *list, int n)
{
	gid_t mine[256];
	int m = getgroups(256, mine);

	if (m != n)
		return false;
	for (int i = 0; i < n; i++) {
		int j = 0;

		while (j < m && mine[j] != list[i])
			j++;
		if (j == m)
			return false;
	}
	return true;
}

/* Takes t's ids, as this process's user namespace sees them; keeps the
 * capabilities for keep_caps with keep, drops them all (a uid change does) without. */
static int take_ids(const struct bs_caller *t, bool keep)
{
	gid_t groups[256];
	int n = parse_groups(t->groups, groups, 256);

	if (n < 0 || (!same_groups(groups, n) && setgroups((size_t)n, groups) < 0) ||
	    setresgid(t->gid, t->egid, t->sgid) < 0 ||
	    (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) ||
	    setresuid(t->uid, t->euid, t->suid) < 0)
		return -errno;
	/* setfs*id answer the old value, not an error. */
	setfsgid(t->fsgid);
	setfsuid(t->fsuid);
	return 0;
}

/* Keeps only t's capabilities, counted in the user namespace this process is in. */
static int keep_caps(const struct bs_caller *t)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (__u32)t->capeff;
	d[1].effective = d[1].permitted = (__u32)(t->capeff >> 32);
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* The child: enters, becomes, binds; exits with the errno (0: bound). */
static void child(const struct bs_caller *t, int sock, const void *buf, socklen_t len,
		  int user, int mnt, int root, int cwd, bool creds)
{
	int rc = 0;
	bool other = !ours(user, "/proc/self/ns/user");

	/* Its mount namespace, root and working directory first, while this child
	 * still may (the namespace may belong to ours, not to t's user namespace). */
	if (mnt >= 0 && !ours(mnt, "/proc/self/ns/mnt") && setns(mnt, CLONE_NEWNS) < 0)
		_exit(errno);
	if (root >= 0 && !ours(root, "/") && (fchdir(root) < 0 || chroot(".") < 0))
		_exit(errno);
	if (cwd >= 0 && fchdir(cwd) < 0)
		_exit(errno);
	umask((mode_t)t->umask);
	/* t in a user namespace of its own: its ids as seen from here, no capability,
	 * then setns() gives what t's owner has there (or fails: fail closed). */
	if (other && ((rc = take_ids(t, false)) || setns(user, CLONE_NEWUSER) < 0))
		_exit(rc ? -rc : errno);
	if (!other && creds && (rc = take_ids(t, true)))
		_exit(-rc);
	if ((other || creds) && (rc = keep_caps(t)))
		_exit(-rc);
	_exit(bs_raw_bind(sock, buf, len) < 0 ? errno : 0);
}

int bs_bind_as_caller(const struct bs_caller *t, int sock, const void *buf, socklen_t len,
		      bool fs, bool creds)
{
	int user = -1, mnt = -1, root = -1, cwd = -1, st, rc;
	pid_t pid;

	user = proc_open(t->tid, "ns/user", O_RDONLY);
	if (fs) {
		mnt = proc_open(t->tid, "ns/mnt", O_RDONLY);
		root = proc_open(t->tid, "root", O_PATH | O_DIRECTORY);
		cwd = proc_open(t->tid, "cwd", O_PATH | O_DIRECTORY);
	}
	if (user < 0 || (fs && (mnt < 0 || root < 0 || cwd < 0))) {
		rc = -EACCES;
		goto out;
	}
	pid = fork();
	if (pid == 0)
		child(t, sock, buf, len, user, mnt, root, cwd, creds);
	/* A path on a file system the command serves may never answer. */
	bs_stall_begin();
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		bs_stall_end();
		rc = -EAGAIN;
		goto out;
	}
	bs_stall_end();
	rc = WIFEXITED(st) ? -WEXITSTATUS(st) : -EIO;
out:
	if (user >= 0)
		close(user);
	if (mnt >= 0)
		close(mnt);
	if (root >= 0)
		close(root);
	if (cwd >= 0)
		close(cwd);
	return rc;
}
