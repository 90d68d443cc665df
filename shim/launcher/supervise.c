/*
 * The supervisor of `bindshim run --enforce`.
 *
 * The child installs the filter (filter.c), hands the listener to us, and execs the
 * command. Every bind and listen of the command and its descendants then waits for
 * our answer. For an inet socket we never answer "continue" (the kernel would read
 * the address again, after the program could have changed it, and look the
 * descriptor up again, after the program could have swapped it): we copy the
 * address out of the target (process_vm_readv), take the socket itself
 * (pidfd_getfd), decide with the same engine as the shim, and bind or listen on our
 * copy of the socket, answering with that result. Sockets of other families are not
 * judged and get "continue".
 *
 * Calls the in-process shim makes come from its own syscall instruction
 * (shim/lib/rawsys.c): it judged and logged them already, so we let them through.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/common/sock.h"
#include "shim/common/verdict.h"
#include "shim/launcher/enforce.h"
#include "shim/launcher/launcher.h"

struct sup {
	const struct bs_enforce *e;
	int listener;
	struct seccomp_notif_sizes sizes;
};

/* The process a notification came from. */
struct target {
	pid_t tid, tgid;
	int pidfd;
	uid_t uid;
	char program[64];
	char user[64];
	char exe[4096];
};

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* Reads "Tgid:" and the real "Uid:" of thread tid. */
static int read_status(struct target *t)
{
	char path[64], line[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)t->tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long v;

		if (sscanf(line, "Tgid: %lu", &v) == 1) {
			t->tgid = (pid_t)v;
			found |= 1;
		} else if (sscanf(line, "Uid: %lu", &v) == 1) {
			t->uid = (uid_t)v;
			found |= 2;
		}
	}
	fclose(f);
	return found == 3 ? 0 : -1;
}

/* The program name as the shim sees it: base name of argv[0], else comm. */
static void read_program(struct target *t)
{
	char path[64], buf[4096];
	const char *base;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)t->tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = '\0';
		base = strrchr(buf, '/');
		base = base ? base + 1 : buf;
		snprintf(t->program, sizeof(t->program), "%.*s", (int)sizeof(t->program) - 1, base);
		if (t->program[0])
			return;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)t->tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, t->program, sizeof(t->program) - 1) : -1;
	if (fd >= 0)
		close(fd);
	t->program[n > 0 ? n : 0] = '\0';
	t->program[strcspn(t->program, "\n")] = '\0';
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

/* Fills t for thread tid; returns 0 or -1 if it is gone. */
static int target_open(const struct sup *s, pid_t tid, struct target *t)
{
	char path[64];
	ssize_t n;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->pidfd = -1;
	if (read_status(t) < 0)
		return -1;
	t->pidfd = pidfd_open(t->tgid, 0);
	if (t->pidfd < 0)
		return -1;
	read_program(t);
	if ((s->e->layers->user && (s->e->layers->user->needs & BS_NEED_EXE)) ||
	    (s->e->layers->system && (s->e->layers->system->needs & BS_NEED_EXE))) {
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->tgid);
		n = readlink(path, t->exe, sizeof(t->exe) - 1);
		t->exe[n > 0 ? n : 0] = '\0';
	}
	user_name(t->uid, t->user, sizeof(t->user));
	return 0;
}

static void target_close(struct target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
}

/* Tells whether the call was made from the shim's own code in the target: the
 * instruction pointer lies in an executable mapping of the shim we preloaded. */
static bool from_shim(const struct sup *s, const struct seccomp_notif *req)
{
	char path[64], line[4352];
	unsigned long long ip = req->data.instruction_pointer;
	bool ours = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)req->pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		char perms[8], file[4096] = "";

		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %4095[^\n]", &lo, &hi, perms, file) < 3)
			continue;
		if (ip < lo || ip >= hi)
			continue;
		ours = perms[2] == 'x' && !strcmp(file, s->e->shim);
		break;
	}
	if (f)
		fclose(f);
	return ours;
}

/* Copies len bytes at addr in the target into buf; returns 0 or -1. */
static int read_target(const struct target *t, unsigned long long addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};

	if (len == 0)
		return 0;
	return process_vm_readv(t->tgid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/* Tells whether the notification is still pending (the target did not die and its
 * call was not interrupted): checked after reading from the target. */
static bool still_valid(const struct sup *s, __u64 id)
{
	return ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Writes a record for a call of t, as the shim would, marked via seccomp. */
static void record(const struct sup *s, const struct target *t, const char *call,
		   unsigned proto, const struct sockaddr_storage *from,
		   const struct bs_outcome *o, const char *event, const char *action)
{
	struct bs_who who = {t->tgid, t->program, t->uid, t->user[0] ? t->user : NULL};
	struct bs_record r = {
		.who = &who, .call = call, .event = event, .action = action, .proto = proto,
		.from = from, .policy = o->policy, .d = &o->d, .err = o->err, .via = "seccomp",
	};

	if (o->d.action == BS_REWRITE && !o->err)
		r.to = &o->to;
	bs_log(&s->e->set->logger, &r);
}

/* Decides from (asked by t on a socket of proto) and logs it, as the shim does. */
static enum bs_verdict judge(const struct sup *s, const struct target *t, const char *call,
			     unsigned proto, const struct sockaddr_storage *from,
			     struct bs_outcome *o)
{
	struct bs_query q = {.proto = proto, .program = t->program[0] ? t->program : NULL,
			     .exe = t->exe[0] ? t->exe : NULL, .uid = t->uid};
	const char *event, *action;
	enum bs_verdict v;

	bs_query_set_sockaddr(&q, from);
	bs_resolve_layered(s->e->layers->system, s->e->layers->user, &q, from, o);
	v = bs_verdict_of(o, s->e->set, false, &event, &action);
	if (event)
		record(s, t, call, proto, from, o, event, action);
	return v;
}

/* bind(2) on our copy of the socket; returns 0 or -errno. */
static int do_bind(int fd, const void *addr, socklen_t len)
{
	return bind(fd, addr, len) < 0 ? -errno : 0;
}

/* Decides and performs bind(buf, len) on sock (family domain, type) for t. */
static int bind_for(const struct sup *s, const struct target *t, int sock, int domain,
		    int type, const unsigned char *buf, socklen_t len)
{
	struct sockaddr_storage from;
	struct bs_outcome o;
	unsigned proto = type == SOCK_STREAM ? BS_PROTO_TCP : BS_PROTO_UDP;
	int rc = bs_sockaddr_copy_for((const struct sockaddr *)buf, len, domain, &from);

	/* Nothing to judge: let the kernel give its own answer, on our copy. */
	if (rc || from.ss_family != domain || (type != SOCK_STREAM && type != SOCK_DGRAM))
		return do_bind(sock, buf, len);
	switch (judge(s, t, "bind", proto, &from, &o)) {
	case BS_FAIL:
		return -o.err;
	case BS_USE_TO:
		return do_bind(sock, &o.to, bs_sockaddr_len(&o.to));
	case BS_PASS:
		break;
	}
	return do_bind(sock, buf, len);
}

/* Answers a notified bind. */
static void on_bind(const struct sup *s, const struct seccomp_notif *req,
		    struct seccomp_notif_resp *resp, const struct target *t, int sock)
{
	unsigned long long addr = req->data.args[1], len = req->data.args[2];
	unsigned char buf[sizeof(struct sockaddr_storage)];
	int domain, type, rc = bs_sock_kind(sock, &domain, &type);

	if (rc) {
		resp->error = rc;
	} else if (domain != AF_INET && domain != AF_INET6) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else if (len > sizeof(buf) || (int)len < 0) {
		resp->error = -EINVAL;	/* the kernel refuses more than a sockaddr_storage */
	} else if (read_target(t, addr, buf, (size_t)len) < 0) {
		resp->error = -EFAULT;
	} else if (still_valid(s, req->id)) {
		resp->error = bind_for(s, t, sock, domain, type, buf, (socklen_t)len);
	}
}

/* Answers a notified listen: a never-bound inet socket is bound per policy first. */
static void on_listen(const struct sup *s, const struct seccomp_notif *req,
		      struct seccomp_notif_resp *resp, const struct target *t, int sock)
{
	struct sockaddr_storage from;
	struct bs_query q;
	struct bs_outcome o;
	socklen_t len = sizeof(from);
	int domain, type, rc = bs_sock_kind(sock, &domain, &type), backlog = (int)req->data.args[1];

	if (rc) {
		resp->error = rc;
		return;
	}
	if ((domain != AF_INET && domain != AF_INET6) || getsockname(sock, (void *)&from, &len) < 0) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		return;
	}
	bs_query_set_sockaddr(&q, &from);
	if (q.port == 0 && type == SOCK_STREAM && still_valid(s, req->id)) {
		switch (judge(s, t, "listen", BS_PROTO_TCP, &from, &o)) {
		case BS_FAIL:
			resp->error = -o.err;
			return;
		case BS_USE_TO:
			rc = do_bind(sock, &o.to, bs_sockaddr_len(&o.to));
			if (rc) {
				resp->error = rc;
				return;
			}
			break;
		case BS_PASS:
			break;
		}
	}
	/* On our copy: the descriptor cannot be swapped for another socket meanwhile. */
	resp->error = listen(sock, backlog) < 0 ? -errno : 0;
}

/* Receives one notification and answers it. */
static void handle(struct sup *s, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	struct target t;
	int sock;

	memset(req, 0, s->sizes.seccomp_notif);
	if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return;		/* the target died meanwhile */
	memset(resp, 0, s->sizes.seccomp_notif_resp);
	resp->id = req->id;
	if (from_shim(s, req)) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else if (target_open(s, req->pid, &t) < 0) {
		resp->error = -ESRCH;
	} else {
		sock = pidfd_getfd(t.pidfd, (int)req->data.args[0], 0);
		if (sock < 0)
			resp->error = errno == EBADF ? -EBADF : -EPERM;
		else if (req->data.nr == __NR_bind)
			on_bind(s, req, resp, &t, sock);
		else
			on_listen(s, req, resp, &t, sock);
		if (sock >= 0)
			close(sock);
		target_close(&t);
	}
	ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
}

/* Child side: filter, hand the listener over, wait for the go, exec. */
static void child(const struct bs_enforce *e, int sock, const sigset_t *old, const char *path,
		  char **argv)
{
	char go;
	int listener;

	sigprocmask(SIG_SETMASK, old, NULL);
	listener = bs_filter_install(e->io_uring_errno);
	if (listener < 0) {
		fprintf(stderr, "bindshim run --enforce: cannot install the seccomp filter: %s\n",
			strerror(-listener));
		_exit(BS_EXIT_RUN_FAIL);
	}
	if (bs_send_fd(sock, listener) < 0 || read(sock, &go, 1) != 1)
		_exit(BS_EXIT_RUN_FAIL);
	close(listener);
	close(sock);
	_exit(bs_exec_command(path, argv));
}

/* Forwards a signal to the command, unless the terminal sent it to both of us. */
static void forward(pid_t pid, const struct signalfd_siginfo *si)
{
	if (si->ssi_code == SI_KERNEL)
		return;
	kill(pid, (int)si->ssi_signo);
}

/* Reaps every exited child (we are their subreaper); returns true when pid is done,
 * with its status in *status. */
static bool reap(pid_t pid, int *status)
{
	bool done = false;
	pid_t w;
	int st;

	while ((w = waitpid(-1, &st, WNOHANG)) > 0)
		if (w == pid) {
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			done = true;
		}
	return done;
}

/* The supervisor's loop: notifications, signals, children; returns pid's status. */
static int supervise(struct sup *s, pid_t pid, int sigfd)
{
	struct seccomp_notif *req = malloc(s->sizes.seccomp_notif);
	struct seccomp_notif_resp *resp = malloc(s->sizes.seccomp_notif_resp);
	struct pollfd fds[2] = {{s->listener, POLLIN, 0}, {sigfd, POLLIN, 0}};
	int status = BS_EXIT_RUN_FAIL;

	if (!req || !resp) {
		kill(pid, SIGKILL);
		fds[0].fd = -1;
	}
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].revents & POLLIN)
			handle(s, req, resp);
		else if (fds[0].revents)
			fds[0].fd = -1;	/* no filtered process left */
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo != SIGCHLD)
				forward(pid, &si);
			else if (reap(pid, &status))
				break;
		}
	}
	free(req);
	free(resp);
	return status;
}

int bs_enforce_run(const struct bs_enforce *e, const char *path, char **argv)
{
	struct sup s = {.e = e};
	sigset_t mask, old;
	int sv[2], sigfd, status;
	pid_t pid;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s.sizes) < 0) {
		fprintf(stderr, "bindshim run --enforce: seccomp user notification is not "
			"available: %s\n", strerror(errno));
		return BS_EXIT_RUN_FAIL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return BS_EXIT_RUN_FAIL;
	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&mask, forwarded[i]);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old);
	/* Orphans of the command become ours to reap: no zombies. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = fork();
	if (pid < 0)
		return BS_EXIT_RUN_FAIL;
	if (pid == 0) {
		close(sv[0]);
		child(e, sv[1], &old, path, argv);
	}
	close(sv[1]);
	/* A log record to a closed pipe must not kill the supervisor (in the parent
	 * only: an ignored signal would stay ignored across the command's exec). */
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	s.listener = bs_recv_fd(sv[0]);
	if (s.listener < 0 || sigfd < 0 || write(sv[0], "g", 1) != 1) {
		close(sv[0]);
		waitpid(pid, &status, 0);
		return WIFEXITED(status) ? WEXITSTATUS(status) : BS_EXIT_RUN_FAIL;
	}
	close(sv[0]);
	status = supervise(&s, pid, sigfd);
	close(s.listener);
	return status;
}
