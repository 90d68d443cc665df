/*
 * The supervisor's answer to one notification: a bind or listen of the supervised
 * tree, or a system call of a foreign ABI.
 *
 * Nothing the command controls decides anything here. The supervisor takes the
 * socket itself (pidfd_getfd), copies the address out of the target once
 * (process_vm_readv), decides from its own copy of the policy, and binds or
 * listens on its own copy of the socket, answering with that result: the kernel
 * never reads the target's buffer or descriptor table again, so no other thread
 * can swap either in between. The shim in the target (if any) is just part of the
 * program: what it did before the call reaches us (a rewrite it made) is judged
 * like anything else; an address the policy itself gives a wildcard bind is kept
 * (bs_resolve_bind), so an honest shim's rewrite is not undone.
 *
 * Other families are bound on our copy too (abstract and autobound AF_UNIX,
 * netlink...). Where doing it here would not be doing it as the target (an
 * AF_UNIX path in another mount namespace, root or with other credentials; a
 * family whose bind checks capabilities the supervisor has and the target lacks),
 * a child of the supervisor takes the target's place first (impersonate.c). No
 * call is ever answered "continue": the kernel would read the descriptor and the
 * address again, after another thread could have swapped in an inet socket.
 *
 * listen() judges where the socket really is (getsockname on our copy): never
 * bound, it is bound per policy first; bound by a decision of ours (remembered by
 * socket inode), it listens; bound in any other way (a TCP bind to port 0, kept for
 * a client until now), it is judged as it is bound, and moved (a fresh socket put
 * in its place with SECCOMP_IOCTL_NOTIF_ADDFD) or refused if the policy would not
 * leave it there.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim/common/sock.h"
#include "shim/common/sockopt.h"
#include "shim/common/verdict.h"
#include "shim/launcher/raw.h"
#include "shim/launcher/sup.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* One notification being answered. */
struct call {
	struct bs_sup *s;
	const struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	struct bs_caller t;
	int sock;			/* our copy of the target's socket */
	int domain, type;
	unsigned proto;			/* BS_PROTO_*; 0: a type we do not judge */
};

/* Sockets bound by a decision of ours, by inode: listen() keeps that decision.
 * Direct-mapped; a socket pushed out is judged again at listen (same answer,
 * unless a policy rewrites a rewrite's output, which `check` warns about). */
#define BS_MARKS 4096
static struct {
	unsigned long ino;
	uint32_t hash;
} marks[BS_MARKS];

static unsigned long inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

static void mark(int fd, const struct sockaddr_storage *bound)
{
	unsigned long ino = inode_of(fd);

	if (!ino)
		return;
	marks[ino % BS_MARKS].ino = ino;
	marks[ino % BS_MARKS].hash = bs_sockaddr_hash(bound);
}

static bool marked(int fd, const struct sockaddr_storage *bound)
{
	unsigned long ino = inode_of(fd);

	return ino && marks[ino % BS_MARKS].ino == ino &&
	       marks[ino % BS_MARKS].hash == bs_sockaddr_hash(bound);
}

/* Tells whether the notification is still pending (the target did not die). */
static bool still_valid(const struct call *c)
{
	__u64 id = c->req->id;

	return ioctl(c->s->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Writes a record for a call of the target, as the shim would, marked via seccomp. */
static void record(struct call *c, const char *call, const struct sockaddr_storage *from,
		   const struct bs_outcome *o, const char *event, const char *action)
{
	struct bs_who who;
	struct bs_record r = {
		.who = &who, .call = call, .event = event, .action = action, .proto = c->proto,
		.from = from, .policy = o->policy, .d = &o->d, .err = o->err, .via = "seccomp",
	};

	/* Who: read now (a thread that died meanwhile is named by its id). */
	if (bs_caller_know(&c->t) < 0)
		c->t.tgid = c->t.tid;
	who = (struct bs_who){c->t.tgid, c->t.program, c->t.uid, c->t.user[0] ? c->t.user : NULL};
	if (o->d.action == BS_REWRITE && !o->err)
		r.to = &o->to;
	bs_log(&c->s->e->set->logger, &r);
}

/* Decides from for the target, as the shim does (bs_judge): what the target is
 * (its status) is read only if the policy looks at it, and IPV6_V6ONLY only where
 * it changes the answer. Says what to record in *event and *action (NULL: none);
 * a target gone meanwhile fails with ESRCH. */
static enum bs_verdict decide(struct call *c, const struct sockaddr_storage *from,
			      struct bs_outcome *o, const char **event, const char **action)
{
	const struct bs_layers *l = c->s->e->layers;
	unsigned needs = (l->user ? l->user->needs : 0) | (l->system ? l->system->needs : 0);
	struct bs_query q = {.proto = c->proto};

	if (needs & (BS_NEED_UID | BS_NEED_PROGRAM | BS_NEED_EXE)) {
		if (bs_caller_know(&c->t) < 0) {
			memset(o, 0, sizeof(*o));
			o->err = ESRCH;
			*event = *action = NULL;
			return BS_FAIL;
		}
		q.program = c->t.program[0] ? c->t.program : NULL;
		q.exe = c->t.exe[0] ? c->t.exe : NULL;
		/* In a user namespace (a rootless container) the supervisor sees its
		 * uids, not the real ones: rules on uid match nothing, as in the shim. */
		q.uid = c->s->uid_known ? c->t.uid : (uid_t)-1;
	}
	bs_query_set_sockaddr(&q, from);
	bs_decide_bind(l->system, l->user, &q, from, c->sock, o);
	return bs_verdict_of(o, c->s->e->set, false, event, action);
}

/* Tells whether outcome o of a bind of from waits for listen(): a TCP port-0
 * rewrite (a client's bind, or a server's that will listen). */
static bool waits(const struct call *c, const struct sockaddr_storage *from,
		  const struct bs_outcome *o)
{
	return c->proto == BS_PROTO_TCP && o->d.action == BS_REWRITE && !o->err &&
	       !bs_sockaddr_port(from) && !bs_sockaddr_port(&o->to);
}

/* Decides from for the target and logs it. defer: what waits for listen() is let
 * through unrecorded. */
static enum bs_verdict judge(struct call *c, const char *call,
			     const struct sockaddr_storage *from, bool defer, struct bs_outcome *o)
{
	const char *event, *action;
	enum bs_verdict v = decide(c, from, o, &event, &action);

	if (defer && waits(c, from, o))
		return BS_PASS;
	if (event)
		record(c, call, from, o, event, action);
	return v;
}

/* bind(2) of fd, as the target could do it: a supervisor with privileges lends
 * none (a low port needs the target's own CAP_NET_BIND_SERVICE). 0 or -errno. */
static int bind_as(struct call *c, int fd, const void *addr, socklen_t len)
{
	const struct sockaddr_storage *ss = addr;

	if (c->s->privileged && (ss->ss_family == AF_INET || ss->ss_family == AF_INET6) &&
	    bs_sockaddr_port(ss) && bs_sockaddr_port(ss) < c->s->unpriv_port &&
	    (bs_caller_know(&c->t) < 0 || !bs_caller_capable(&c->t, CAP_NET_BIND_SERVICE, fd)))
		return -EACCES;
	return bs_raw_bind(fd, addr, len) < 0 ? -errno : 0;
}

/* Binds our copy where the decision says; marks it if it got a port. */
static int bind_decided(struct call *c, const struct sockaddr_storage *ss)
{
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);
	int rc = bind_as(c, c->sock, ss, bs_sockaddr_len(ss));

	/* Marked with the port it got: listen() then knows it was bound here, by a
	 * bind the kernel holds it to. */
	if (!rc && bs_sockaddr_port(ss))
		mark(c->sock, ss);
	else if (!rc && getsockname(c->sock, (struct sockaddr *)&got, &len) == 0)
		mark(c->sock, &got);
	return rc;
}

/* A bind of an inet socket: judged, and done on our copy. */
static int inet_bind(struct call *c, const unsigned char *buf, socklen_t len)
{
	struct sockaddr_storage from;
	struct bs_outcome o;

	/* Nothing to judge (a bad length or family): the kernel's own answer. */
	if (bs_sockaddr_copy_for((const struct sockaddr *)buf, len, c->domain, &from) ||
	    from.ss_family != c->domain || !c->proto)
		return bind_as(c, c->sock, buf, len);
	switch (judge(c, "bind", &from, true, &o)) {
	case BS_FAIL:
		return -o.err;
	case BS_USE_TO:
		return bind_decided(c, &o.to);
	case BS_PASS:
		break;
	}
	/* Left for listen() to judge: not marked as put here by a decision. */
	if (waits(c, &from, &o))
		return bind_as(c, c->sock, &from, bs_sockaddr_len(&from));
	return bind_decided(c, &from);
}

/* A bind of any other family; 0 or -errno. Nothing is left to the kernel to read
 * again ("continue"): where the supervisor is not in the target's place, a child
 * of it takes that place first (impersonate.c). */
static int other_bind(struct call *c, const unsigned char *buf, socklen_t len)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)buf;
	bool creds;

	if (bs_caller_know(&c->t) < 0)
		return -ESRCH;
	creds = bs_caller_same_creds(&c->t);

	if (c->domain == AF_UNIX) {
		/* Autobind and the abstract namespace live in the socket's own network
		 * namespace and check nothing: nothing of ours is lent. */
		if (len <= sizeof(sa_family_t) || !sun->sun_path[0])
			return bs_raw_bind(c->sock, (const struct sockaddr *)buf, len) < 0 ? -errno : 0;
		/* From a child always, as t would (working directory, umask): the path's
		 * lookup may wait on a file system the command serves, for good, and the
		 * watchdog ends a child (a descendant), never this thread's wait. Nothing
		 * of ours is lent where t resolves paths as we do. */
		return bs_bind_as_caller(&c->t, c->sock, buf, len, true,
					 !bs_caller_same_fs(&c->t) && !creds && c->s->privileged);
	}
	if (creds || (!c->s->privileged && bs_caller_same_userns(&c->t)))
		return bs_raw_bind(c->sock, (const struct sockaddr *)buf, len) < 0 ? -errno : 0;
	return bs_bind_as_caller(&c->t, c->sock, buf, len, false, c->s->privileged);
}

/* Copies a bind's address out of the caller into buf; 0 or -errno. Done before
 * the socket is taken: while the copy may wait on the command (a page nobody
 * serves), the supervisor holds nothing of the command's (a descriptor in flight
 * on that socket, /dev/fuse, would keep the page's server alive past the tree). */
static int bind_address(const struct call *c, unsigned char buf[sizeof(struct sockaddr_storage)])
{
	unsigned long long addr = c->req->data.args[1], len = c->req->data.args[2];

	/* The kernel refuses more than a sockaddr_storage before reading anything. */
	if (len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	memset(buf, 0, sizeof(struct sockaddr_storage));
	return bs_caller_read(&c->t, addr, buf, (size_t)len) < 0 ? -EFAULT : 0;
}

/* Answers a bind, its address in buf. */
static void on_bind(struct call *c, const unsigned char *buf)
{
	unsigned long long len = c->req->data.args[2];

	if (!still_valid(c))
		return;
	if (c->domain == AF_INET || c->domain == AF_INET6) {
		c->resp->error = inet_bind(c, buf, (socklen_t)len);
		return;
	}
	c->resp->error = other_bind(c, buf, (socklen_t)len);
}

/* The close-on-exec flag of the target's descriptor fd, from /proc. */
static bool target_cloexec(const struct call *c, int fd)
{
	char path[96], buf[512];
	const char *f;
	ssize_t n;
	int pfd;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)c->t.tid, fd);
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	n = pfd < 0 ? -1 : read(pfd, buf, sizeof(buf) - 1);
	if (pfd >= 0)
		close(pfd);
	buf[n > 0 ? n : 0] = '\0';
	f = strstr(buf, "flags:");
	return f && (strtoul(f + 6, NULL, 8) & O_CLOEXEC);
}

/* Tells whether two sockets live in the same network namespace. */
static bool same_netns(int a, int b)
{
	unsigned long long x = 0, y = 0;
	socklen_t lx = sizeof(x), ly = sizeof(y);

	if (getsockopt(a, SOL_SOCKET, SO_NETNS_COOKIE, &x, &lx) < 0 ||
	    getsockopt(b, SOL_SOCKET, SO_NETNS_COOKIE, &y, &ly) < 0)
		return errno == ENOPROTOOPT;	/* before 5.14: assume so */
	return x == y;
}

/* Puts a fresh socket bound to to and listening in place of the target's bound
 * socket; 0 or -errno. */
static int move(struct call *c, const struct sockaddr_storage *to, int backlog)
{
	static const int one = 1, zero = 0;
	int fd = (int)c->req->data.args[0], protocol = 0, flags, fresh, reuse = 0, rc, old_fsuid;
	socklen_t ol = sizeof(protocol);
	struct seccomp_notif_addfd add = {.id = c->req->id, .flags = SECCOMP_ADDFD_FLAG_SETFD,
					  .newfd = (__u32)fd};

	getsockopt(c->sock, SOL_SOCKET, SO_PROTOCOL, &protocol, &ol);
	if (bs_caller_know(&c->t) < 0)
		return -ESRCH;
	/* Owned by the target's uid, as a socket it made would be: a root supervisor's
	 * socket could join root's SO_REUSEPORT groups. */
	old_fsuid = setfsuid(c->t.fsuid);
	fresh = socket(c->domain, c->type | SOCK_CLOEXEC, protocol);
	setfsuid((uid_t)old_fsuid);
	if (fresh < 0)
		return -errno;
	/* Made here, it lives in our network namespace: it must be the target's. */
	rc = same_netns(c->sock, fresh) ? 0 : -EADDRNOTAVAIL;
	if (!rc) {
		bs_sockopt_copy(c->sock, fresh, c->domain, c->type);
		if ((flags = fcntl(c->sock, F_GETFL)) >= 0)
			fcntl(fresh, F_SETFL, flags);
		ol = sizeof(reuse);
		getsockopt(fresh, SOL_SOCKET, SO_REUSEADDR, &reuse, &ol);
		/* Bound beside the old socket (which does not listen), so that nobody
		 * else takes the port in between; the program's own SO_REUSEADDR is
		 * back once it listens. */
		setsockopt(c->sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fresh, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		rc = bind_as(c, fresh, to, bs_sockaddr_len(to));
		/* listen() checks the port again: the old socket still holds it. */
		if (!rc && bs_raw_listen(fresh, backlog) < 0)
			rc = -errno;
		if (!reuse)
			setsockopt(fresh, SOL_SOCKET, SO_REUSEADDR, &zero, sizeof(zero));
	}
	if (!rc) {
		add.srcfd = (__u32)fresh;
		add.newfd_flags = target_cloexec(c, fd) ? O_CLOEXEC : 0;
		if (ioctl(c->s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0)
			rc = errno == EINVAL || errno == ENOTTY ? -EADDRNOTAVAIL : -errno;
	}
	if (!rc)
		mark(fresh, to);
	close(fresh);
	return rc;
}

/* Answers a listen. */
static void on_listen(struct call *c)
{
	struct sockaddr_storage from;
	struct bs_outcome o;
	socklen_t len = sizeof(from);
	int backlog = (int)c->req->data.args[1];

	const char *event, *action;
	enum bs_verdict v;

	if (!still_valid(c))
		return;
	/* Every path listens on our copy: the descriptor cannot be swapped meanwhile. */
	if ((c->domain != AF_INET && c->domain != AF_INET6) || c->proto != BS_PROTO_TCP ||
	    getsockname(c->sock, (struct sockaddr *)&from, &len) < 0)
		goto listen;
	/* Bound here by a bind of ours, the kernel holds it where it is. (Listening
	 * already: only a socket from outside the tree, which is not ours to move.) */
	if (bs_sockaddr_port(&from) &&
	    (marked(c->sock, &from) || bs_sock_int(c->sock, SOL_SOCKET, SO_ACCEPTCONN)))
		goto listen;
	v = decide(c, &from, &o, &event, &action);
	if (event)
		record(c, "listen", &from, &o, event, action);
	if (v == BS_FAIL) {
		c->resp->error = -o.err;
		return;
	}
	/* Anything else may be where getsockname() says only for now: a socket that
	 * a failed connect() left with its source address is unbound again by
	 * another thread's connect(AF_UNSPEC), and listen() then binds the wildcard.
	 * So it listens only once bound for good, by a bind of ours: never bound,
	 * bound now; bound, replaced by a fresh socket bound there. */
	if (v == BS_PASS)
		o.to = from;
	if (!bs_sockaddr_port(&from)) {
		if ((c->resp->error = bind_decided(c, &o.to)))
			return;
	} else {
		c->resp->error = move(c, &o.to, backlog);
		return;
	}
listen:
	c->resp->error = bs_raw_listen(c->sock, backlog) < 0 ? -errno : 0;
}

/* A system call through another ABI (a 32-bit program, x32, int $0x80): our filter
 * cannot read it, so the process is stopped, and told why once. */
static void on_foreign(struct call *c)
{
	if (!c->s->warned_foreign) {
		fprintf(stderr, "bindshim run: process %d (%s) made a 32-bit system call: its "
			"binds cannot be supervised, so it was stopped; run 32-bit programs "
			"with --preload-only\n", (int)c->t.tgid, c->t.program);
		c->s->warned_foreign = true;
	}
	if (syscall(SYS_pidfd_send_signal, c->t.pidfd, SIGKILL, NULL, 0) < 0)
		kill(c->t.tgid, SIGKILL);
	c->resp->error = -ENOSYS;
}

/* Tells whether a notification is of this machine's native ABI. */
static bool native(const struct seccomp_notif *req)
{
#if defined(__x86_64__)
	return req->data.arch == AUDIT_ARCH_X86_64 && !(req->data.nr & __X32_SYSCALL_BIT);
#elif defined(__aarch64__)
	return req->data.arch == AUDIT_ARCH_AARCH64;
#endif
}

void bs_notify_answer(struct bs_sup *s, const struct seccomp_notif *req,
		      struct seccomp_notif_resp *resp)
{
	struct call c = {.s = s, .req = req, .resp = resp, .sock = -1};
	unsigned char addr[sizeof(struct sockaddr_storage)];
	int fd = (int)req->data.args[0];

	if (bs_caller_open(s, (pid_t)req->pid, &c.t) < 0) {
		resp->error = -ESRCH;
		return;
	}
	if (!native(req)) {
		if (bs_caller_know(&c.t) < 0)
			c.t.tgid = c.t.tid;	/* never 0: kill(0) is our own group */
		on_foreign(&c);
		goto out;
	}
	if (req->data.nr == __NR_bind && (resp->error = bind_address(&c, addr)))
		goto out;
	c.sock = bs_caller_getfd(&c.t, fd);
	if (c.sock < 0) {
		resp->error = c.sock == -EBADF ? -EBADF : -EPERM;
		c.sock = -1;
		goto out;
	}
	if ((resp->error = bs_sock_kind(c.sock, &c.domain, &c.type)))
		goto out;
	c.proto = bs_sock_proto_of(c.type);
	if (req->data.nr == __NR_bind)
		on_bind(&c, addr);
	else
		on_listen(&c);
out:
	bs_close_socket(c.sock, c.domain != AF_INET && c.domain != AF_INET6);
	bs_caller_close(&c.t);
}
