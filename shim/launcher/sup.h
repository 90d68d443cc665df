/* The supervisor's insides (supervise.c, notify.c, proc.c): one notification at a
 * time, from a process of the supervised tree. */
#ifndef BS_SUP_H
#define BS_SUP_H

#include <linux/seccomp.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "shim/launcher/enforce.h"

struct bs_sup {
	const struct bs_enforce *e;
	int listener;
	struct seccomp_notif_sizes sizes;
	bool privileged;		/* the supervisor has capabilities: it must not
					 * lend them to a command that lacks them */
	unsigned unpriv_port;		/* net.ipv4.ip_unprivileged_port_start */
	bool uid_known;			/* /proc shows real uids: the supervisor is in
					 * the initial user namespace */
	bool warned_foreign;		/* the 32-bit refusal was said once */
};

/* The thread a notification came from, as the policy and the records see it. Only
 * tid and pidfd are there from the start; the rest is read from /proc/TID/status
 * by bs_caller_know, when a decision or a record needs it. */
struct bs_caller {
	const struct bs_sup *s;
	pid_t tid, tgid;
	int pidfd;			/* the thread's (or its process's) pidfd */
	bool cached;			/* pidfd is the cache's (proc.c), not ours */
	bool known;			/* the fields below are filled */
	uid_t uid, euid, suid, fsuid;	/* as this process's user namespace sees them */
	gid_t gid, egid, sgid, fsgid;
	unsigned long long capeff;
	unsigned umask;
	char groups[256];		/* "Groups:" of /proc/PID/status, as is */
	char program[64];		/* as the shim names it: argv[0]'s base name */
	char user[64];
	char exe[4096];			/* only when a rule matches on exe */
};

/* proc.c */
/* Prepares t for thread tid: its pidfd (cached per thread); 0, or -1 if it is gone. */
int bs_caller_open(const struct bs_sup *s, pid_t tid, struct bs_caller *t);
/* Fills the rest of t (status, program name, user, exe) once; 0, or -1 if it is gone.
 * The bs_caller_same_* and bs_caller_capable calls need it done. */
int bs_caller_know(struct bs_caller *t);
/* The target's descriptor fd, taken into the supervisor (pidfd_getfd), or -errno. */
int bs_caller_getfd(struct bs_caller *t, int fd);
void bs_caller_close(struct bs_caller *t);
/* Tells whether t has capability cap over socket sock's network namespace: in
 * its effective set, and in a user namespace that owns it or an ancestor's. */
bool bs_caller_capable(const struct bs_caller *t, int cap, int sock);
/* Tells whether t resolves paths and creates files as the supervisor does (same
 * mount namespace, root, fs uid, gid and groups). */
bool bs_caller_same_fs(const struct bs_caller *t);
/* Tells whether t has the supervisor's own credentials and capabilities, in its
 * user namespace. */
bool bs_caller_same_creds(const struct bs_caller *t);
/* Tells whether t is in the supervisor's user namespace. */
bool bs_caller_same_userns(const struct bs_caller *t);

/* impersonate.c */
/* Binds sock to buf as t would, from a child process: in t's mount namespace,
 * root, working directory and umask (fs), with t's credentials and capabilities
 * (creds). A target in a user namespace of its own is always bound from there, as
 * its own uid with its own capabilities: nothing of the supervisor's is lent.
 * Returns 0 or -errno. */
int bs_bind_as_caller(const struct bs_caller *t, int sock, const void *buf, socklen_t len,
		      bool fs, bool creds);
/* Copies len bytes at addr in t into buf; 0 or -1. */
int bs_caller_read(const struct bs_caller *t, unsigned long long addr, void *buf, size_t len);

/* supervise.c: the watchdog. A step that can wait on the command (a copy out of
 * its memory, a /proc file, a child acting for it) is marked; one that lasts
 * BS_STALL_SECONDS gets every process of the tree killed (a page of the command's
 * memory whose faults nobody serves, a FUSE file system of its own, would stop
 * the supervisor for good: every bind of the tree would wait, and the launcher).
 * Not nested. */
#define BS_STALL_SECONDS 5
void bs_stall_begin(void);
/* A wait a signal ends (a lingering close): after BS_STALL_SECONDS the main thread
 * is only interrupted, nothing is killed. */
void bs_stall_begin_interruptible(void);
void bs_stall_end(void);
/* Closes the supervisor's copy of a socket of the command's; carries: it may
 * hold descriptors in flight (AF_UNIX, or of a kind unknown), whose release can
 * wait on the command for good, so the closer makes the last close (supervise.c). */
void bs_close_socket(int fd, bool carries);

/* notify.c */
/* Answers one notification (req received, resp to fill). */
void bs_notify_answer(struct bs_sup *s, const struct seccomp_notif *req,
		      struct seccomp_notif_resp *resp);

#endif
