/*
 * `bindshim run` under a supervisor: three processes.
 *
 *     launcher ──fork── supervisor ──fork── command ── everything it starts
 *
 * The launcher is the process the shell waits for. It forwards signals to the
 * command and exits with the command's status, which the supervisor reports
 * through a pipe as soon as the command exits.
 *
 * The supervisor answers every notification of the seccomp filter (filter.c,
 * notify.c). It is a child subreaper, so every process of the tree, orphans
 * included, stays its descendant: that keeps its ptrace access to them
 * (pidfd_getfd, process_vm_readv) under Yama ptrace_scope 1. It is not dumpable,
 * so the command, which runs as the same user, can neither ptrace it nor read its
 * memory nor take its descriptors (the seccomp listener among them); a command run
 * as root is started without CAP_SYS_PTRACE, which would override that, nor the
 * capabilities that reconfigure the network (drop_caps), and in a mount namespace
 * of its own where /proc/sys is read-only (freeze_sysctls). The command's tree is
 * a Landlock domain where the kernel has one, so it cannot take over processes
 * outside it either (confine). The supervisor ignores the terminal's signals and
 * keeps answering while any process of the tree lives:
 * a server that daemonizes stays covered and its records still reach the
 * launcher's stderr, while the shell gets its prompt back when the command exits.
 * If the supervisor dies anyway, every bind and listen of the tree fails with
 * ENOSYS: it fails closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim/common/userns.h"
#include "shim/launcher/launcher.h"
#include "shim/launcher/sup.h"

/* Linux 6.6: the kernel switches between a notifying task and the supervisor on the
 * same CPU instead of waking the other across CPUs (what gVisor asked it for). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

/* Signals the launcher passes on to the command (the terminal's own reach the
 * command directly), and that the supervisor ignores. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* Fills set with the forwarded signals. */
static void forwarded_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
}

/* Capabilities a command run as root does not keep: with them it could reach the
 * supervisor (CAP_SYS_PTRACE), or reconfigure the network around any bind policy:
 * NAT, sk_lookup and socket steering, raw and packet sockets, BPF and kernel
 * tracing programs, kernel modules, raw memory. */
static const int dropped_caps[] = {CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW,
				   CAP_BPF, CAP_PERFMON, CAP_SYS_MODULE, CAP_SYS_RAWIO};

/* Takes dropped_caps away from this process and everything it will start. */
static void drop_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	for (size_t i = 0; i < sizeof(dropped_caps) / sizeof(dropped_caps[0]); i++) {
		prctl(PR_CAPBSET_DROP, dropped_caps[i], 0, 0, 0);	/* needs CAP_SETPCAP */
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, dropped_caps[i], 0, 0);
	}
	if (syscall(SYS_capget, &h, d) < 0)
		return;
	for (size_t i = 0; i < sizeof(dropped_caps) / sizeof(dropped_caps[0]); i++) {
		const unsigned bit = 1u << (dropped_caps[i] % 32);
		struct __user_cap_data_struct *w = &d[dropped_caps[i] / 32];

		w->effective &= ~bit;
		w->permitted &= ~bit;
		w->inheritable &= ~bit;
	}
	syscall(SYS_capset, &h, d);
}

/* Landlock (Linux 6.12, ABI 6): a domain whose only restriction is on signals out
 * of it. Being in a Landlock domain is what matters: its processes can no longer
 * ptrace, read or write the memory of, or take descriptors from any process outside
 * it (the user's shell, editor, other servers), which they could otherwise make
 * bind for them. Older kernels: Yama ptrace_scope 1 does the same for processes
 * that are not descendants; without either, README "What still escapes" says so. */
#define BS_LANDLOCK_SCOPE_SIGNAL (1ULL << 1)

struct bs_landlock_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;
	__u64 scoped;
};

static void confine(void)
{
	struct bs_landlock_attr attr = {.scoped = BS_LANDLOCK_SCOPE_SIGNAL};
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* VERSION */);
	int fd;

	if (abi < 6)
		return;
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return;
	syscall(SYS_landlock_restrict_self, fd, 0);
	close(fd);
}

/* uid 0 writes the network namespace's sysctls without any capability: pinning
 * ip_local_port_range to one port puts its next autobound UDP socket exactly there,
 * route_localnet lets the link reach loopback listeners. A command that can have a
 * mount namespace of its own (it is privileged) gets one where /proc/sys is
 * read-only; it keeps no CAP_SYS_ADMIN to undo that, and the host's mounts still
 * reach it. Returns 0, or -errno when a privileged command cannot be held to it. */
static int freeze_sysctls(void)
{
	const unsigned long ro = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if (unshare(CLONE_NEWNS) < 0)
		return errno == EPERM ? 0 : -errno;	/* unprivileged: nothing to write them */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
	    mount("/proc/sys", "/proc/sys", NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    mount(NULL, "/proc/sys", NULL, ro, NULL) < 0)
		return -errno;
	return 0;
}

/* Command side: filter, hand the listener over, wait for the go, exec. */
static void command(const struct bs_enforce *e, int sock, const sigset_t *old, const char *path,
		    char **argv)
{
	char go;
	int listener;

	sigprocmask(SIG_SETMASK, old, NULL);
	if ((listener = freeze_sysctls()) < 0) {
		fprintf(stderr, "bindshim run: cannot make /proc/sys read-only for the command: %s\n",
			strerror(-listener));
		_exit(BS_EXIT_RUN_FAIL);
	}
	drop_caps();
	listener = bs_filter_install(e->io_uring_errno);
	/* After no_new_privs (which the filter set), as Landlock wants. */
	if (listener >= 0)
		confine();
	if (listener < 0) {
		fprintf(stderr, "bindshim run: cannot install the seccomp filter: %s\n",
			strerror(-listener));
		_exit(BS_EXIT_RUN_FAIL);
	}
	if (bs_send_fd(sock, listener) < 0 || read(sock, &go, 1) != 1)
		_exit(BS_EXIT_RUN_FAIL);
	close(listener);
	close(sock);
	_exit(bs_exec_command(path, argv));
}

/* The watchdog (sup.h). A marked step of the supervisor's main thread, or of the
 * closer (below): when it began, and whether a signal ends it. Both live in a
 * mapping the closer shares (stalls_map); until it is made, this process's own. */
struct stall {
	_Atomic long long since;	/* CLOCK_MONOTONIC ns the step began, or 0 */
	atomic_bool interruptible;	/* it ends on a signal: kill nothing */
};
enum { BS_STALL_MAIN, BS_STALL_CLOSER, BS_STALLERS };
static struct stall local_stalls[BS_STALLERS], *stalls = local_stalls;
static struct stall *mine = &local_stalls[BS_STALL_MAIN];

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Marks the start of a step of this process's (interruptible: one a signal ends). */
static void stall_begin(bool interruptible)
{
	atomic_store(&mine->interruptible, interruptible);
	atomic_store(&mine->since, now_ns());
}

void bs_stall_begin(void)
{
	stall_begin(false);
}

void bs_stall_begin_interruptible(void)
{
	stall_begin(true);
}

void bs_stall_end(void)
{
	atomic_store(&mine->since, 0);
}

/* Maps the marks the closer shares, before the watchdog starts (which reads them)
 * and after the command is forked (never the command's). */
static void stalls_map(void)
{
	void *m = mmap(NULL, sizeof(local_stalls), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return;
	stalls = m;
	mine = &stalls[BS_STALL_MAIN];
}

/* FUSE file systems mounted before the command started (the user's own), by
 * connection (the minor of their anonymous device): never aborted. */
static unsigned fuse_before[4096];
static size_t nfuse_before;

/* Aborts FUSE connection minor (fusectl) unless it was mounted before the command
 * started, or is not ours to abort. */
static void abort_conn(unsigned minor)
{
	char path[64];
	int fd;

	for (size_t i = 0; i < nfuse_before; i++)
		if (fuse_before[i] == minor)
			return;
	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort", minor);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return;
	if (write(fd, "1", 1) < 0)
		(void)0;	/* not ours to abort: it stays */
	close(fd);
}

/* Calls take on each line of the file at path, read a buffer at a time; a line
 * longer than the buffer is skipped whole. Plain syscalls, no allocation. */
static void each_line(const char *path, void (*take)(const char *line))
{
	char buf[8192];
	size_t have = 0;
	ssize_t n;
	bool skipping = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *line = buf, *nl;

		have += (size_t)n;
		buf[have] = '\0';
		for (; (nl = strchr(line, '\n')); line = nl + 1) {
			*nl = '\0';
			if (!skipping)
				take(line);
			skipping = false;
		}
		if (line == buf && have == sizeof(buf) - 1) {
			skipping = true;	/* no end in a whole buffer: the rest goes too */
			have = 0;
			continue;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
	}
	close(fd);
}

/* Whether a mountinfo line ("ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - TYPE ...") is
 * a FUSE mount's; its connection (the minor of its anonymous device) in *minor. */
static bool fuse_mount(const char *line, unsigned *minor)
{
	unsigned major;
	const char *type = strstr(line, " - ");

	return type && !strncmp(type + 3, "fuse", 4) &&
	       sscanf(line, "%*s %*s %u:%u", &major, minor) == 2 && major == 0;
}

/* A FUSE mount of a mountinfo line: aborted. */
static void abort_mounted(const char *line)
{
	unsigned minor;

	if (fuse_mount(line, &minor))
		abort_conn(minor);
}

/* A FUSE mount of a mountinfo line: noted as mounted before the command started. */
static void note_mounted(const char *line)
{
	unsigned minor;

	if (nfuse_before < 4096 && fuse_mount(line, &minor))
		fuse_before[nfuse_before++] = minor;
}

/* Notes the FUSE file systems of our mount namespace, before the command starts. */
static void note_fuse_mounts(void)
{
	each_line("/proc/self/mountinfo", note_mounted);
}

/* The file of a maps line ("ADDRESSES PERMS OFFSET MAJ:MIN INODE PATH", the device
 * in hexadecimal): its connection aborted, if it is a FUSE file's. A mapping alone
 * keeps a file: a process killed writes its dirty pages back as it unmaps them,
 * before its descriptors go (red team: /dev/fuse kept, the mount detached). */
static void abort_mapped(const char *line)
{
	unsigned major, minor;
	unsigned long inode;

	if (sscanf(line, "%*s %*s %*s %x:%x %lu", &major, &minor, &inode) == 3 && inode &&
	    major == 0)
		abort_conn(minor);
}

/* Calls take(dir, name, ctx) for each entry of the directory at path whose name
 * starts with a digit (/proc's processes, /proc/PID/fd's descriptors). Plain
 * syscalls, no allocation. */
static void each_entry(const char *path, void (*take)(int dir, const char *name, void *ctx),
		       void *ctx)
{
	char buf[8192];
	long got;
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return;
	while ((got = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0)
		for (long off = 0; off < got;) {
			struct {
				unsigned long long ino;
				long long off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);

			off += d->reclen;
			if (d->name[0] >= '0' && d->name[0] <= '9')
				take(dir, d->name, ctx);
		}
	close(dir);
}

/* An open file (entry name of /proc/PID/fd, dir): its FUSE connection aborted. */
static void abort_open(int dir, const char *name, void *unused)
{
	struct statx st;

	(void)unused;
	if (statx(dir, name, AT_STATX_DONT_SYNC, STATX_TYPE, &st) == 0 && st.stx_dev_major == 0)
		abort_conn(st.stx_dev_minor);
}

/* Aborts (fusectl) the FUSE connections of the files process pid holds open or
 * mapped, but those of file systems mounted before the command started: a FUSE file
 * system of the command's own can keep its processes from dying (a close writing
 * a dirty page back that it never answers) and the closer's close of a socket
 * with its files in flight, so killing the tree would not end the tree. Attributes
 * are the ones cached (AT_STATX_DONT_SYNC): no request to the file system. Plain
 * syscalls, no allocation (kill_tree's context). */
static void abort_fuse_of(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	each_entry(path, abort_open, NULL);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	each_line(path, abort_mapped);
	/* The mounts of its namespace, which a process stuck in its exit still has;
	 * not of ours: those are everybody's, not the command's. */
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	if (!bs_same_file(path, "/proc/self/ns/mnt")) {
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
		each_line(path, abort_mounted);
	}
}

/* The processes of /proc, with their parents and start times, and which are the
 * tree's (kill_tree; the watchdog's alone). */
static struct procs {
	pid_t pids[65536], parents[65536];
	unsigned long long starts[65536];
	bool ours[65536];
	size_t n;
} procs;

/* A process of /proc (an entry name): noted in ctx, a struct procs. */
static void note_proc(int dir, const char *name, void *ctx)
{
	struct procs *t = ctx;
	char state;

	(void)dir;
	if (t->n >= 65536 || name[0] == '0')
		return;
	t->pids[t->n] = (pid_t)atoi(name);
	t->parents[t->n] = bs_proc_stat(t->pids[t->n], &t->starts[t->n], &state);
	t->ours[t->n] = false;
	t->n++;
}

/* The processes a stall's first kill signalled (pid, start time): those still
 * there, and not zombies, BS_STALL_SECONDS later cannot be ended (give_up). */
static struct victim {
	pid_t pid;
	unsigned long long start;
} victims[4096];
static size_t nvictims;

/* How many of the victims are still there, other than as zombies. */
static size_t survivors(void)
{
	size_t left = 0;

	for (size_t i = 0; i < nvictims; i++) {
		unsigned long long start;
		char state;

		if (bs_proc_stat(victims[i].pid, &start, &state) >= 0 && start == victims[i].start &&
		    state != 'Z')
			left++;
	}
	return left;
}

/* SIGKILLs every descendant of the supervisor (all of the command's tree: the
 * supervisor is its subreaper), and aborts the FUSE connections of the files they
 * hold; returns how many were killed. */
static int kill_tree(bool note)
{
	struct procs *t = &procs;
	size_t n;
	pid_t self = getpid();
	int killed = 0;
	bool more = true;

	t->n = 0;
	if (note)
		nvictims = 0;
	each_entry("/proc", note_proc, t);
	n = t->n;
	/* Descendants: a parent that is the supervisor or one of its own, to a fixed
	 * point. */
	while (more) {
		more = false;
		for (size_t i = 0; i < n; i++)
			if (!t->ours[i] && t->parents[i] > 0) {
				bool child = t->parents[i] == self;

				for (size_t j = 0; !child && j < n; j++)
					child = t->ours[j] && t->pids[j] == t->parents[i];
				if (child)
					t->ours[i] = more = true;
			}
	}
	/* Through a pidfd, taken before the start time is looked at again: never a
	 * process that took a number of the tree's meanwhile (a process of the tree
	 * whose parent died meanwhile is still one). */
	for (size_t i = 0; i < n; i++) {
		unsigned long long start;
		char state;
		int pidfd;

		if (!t->ours[i] || (pidfd = (int)syscall(SYS_pidfd_open, t->pids[i], 0)) < 0)
			continue;
		/* Its FUSE connections first: a process killed lets go of its files. */
		if (bs_proc_stat(t->pids[i], &start, &state) >= 0 && start == t->starts[i]) {
			abort_fuse_of(t->pids[i]);
			killed += syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0;
			if (note && nvictims < sizeof(victims) / sizeof(victims[0]))
				victims[nvictims++] = (struct victim){t->pids[i], start};
		}
		close(pidfd);
	}
	return killed;
}

static pthread_t main_thread;

/* The closer: a process of its own, with nothing else open, that makes the last
 * close of the command's AF_UNIX sockets for the supervisor. That close releases
 * whatever is in flight on the socket, a file of a FUSE file system the command
 * serves among it, whose release (writing a dirty page back) waits on the command
 * uninterruptibly (red team: the supervisor's close of its copy stopped it for
 * good, and with it every bind of the tree and the launcher). A close stuck there
 * stops nothing else; the watchdog kills the tree when one has lasted
 * BS_STALL_SECONDS. The closer is the launcher's child (CLONE_PARENT), not the
 * supervisor's: not part of the tree, and never waited for. */
static int closer = -1;			/* our end of its socket */
static unsigned long closes_sent, closes_done;	/* handed over, and said done */

/* How long a bind's answer waits for the closer to say its copy is closed: as
 * before the closer, the command's own close is then the socket's last (an
 * abstract name is free again at once, a peer sees the end at once). */
#define BS_CLOSE_WAIT_MS 200

/* The closer's loop: receives descriptors, closes each and says so, until the
 * supervisor is gone. */
static void closer_loop(int sock)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Nothing of the supervisor's stays open here (the launcher's stderr above
	 * all: a close stuck for good must not keep it). */
	for (int i = 0; i < 3; i++)
		dup2(null, i);
	dup2(sock, 3);
	syscall(SYS_close_range, 4, ~0U, 0);
	mine = &stalls[BS_STALL_CLOSER];
	for (;;) {
		int fd;

		errno = 0;
		if ((fd = bs_recv_fd(3)) < 0) {
			if (errno == EINTR)
				continue;
			_exit(0);	/* the supervisor is gone */
		}
		bs_stall_begin();
		close(fd);
		bs_stall_end();
		if (write(3, "c", 1) < 0)
			_exit(0);
	}
}

/* Starts the closer (again, if one is gone); 0 or -1. */
static int closer_start(void)
{
	int sv[2];
	pid_t pid;

	if (closer >= 0)
		close(closer);
	closer = -1;
	closes_sent = closes_done = 0;
	/* Without a mapping to share, its stalls would go unseen: none. */
	if (stalls == local_stalls || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	/* No exit signal: nobody waits for it. */
	pid = (pid_t)syscall(SYS_clone, CLONE_PARENT, 0, NULL, NULL, 0);
	if (pid == 0) {
		close(sv[0]);
		closer_loop(sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	closer = sv[0];
	return 0;
}

/* Hands fd to the closer (ours is then not its last reference); 0, or -1 when
 * the closer is gone or its queue is full. */
static int hand_over(int fd)
{
	int rc;

	if (closer < 0 && closer_start() < 0)
		return -1;
	rc = bs_send_fd(closer, fd);
	/* Gone (killed, say): a new one. Full (a close stuck there): not here. */
	if (rc < 0 && rc != -EAGAIN && closer_start() == 0)
		rc = bs_send_fd(closer, fd);
	if (rc < 0)
		return -1;
	closes_sent++;
	close(fd);
	return 0;
}

/* Waits (BS_CLOSE_WAIT_MS at most) until the closer has said every close handed
 * over done. */
static void closes_wait(void)
{
	long long deadline = now_ns() + BS_CLOSE_WAIT_MS * 1000000LL;
	char acks[64];

	while (closes_done < closes_sent && now_ns() < deadline) {
		struct pollfd p = {closer, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, (int)((deadline - now_ns()) / 1000000) + 1) <= 0)
			break;
		if ((n = recv(closer, acks, sizeof(acks), MSG_DONTWAIT)) <= 0)
			break;
		closes_done += (unsigned long)n;
	}
}

void bs_close_socket(int fd, bool carries)
{
	if (fd < 0)
		return;
	if (carries) {
		/* A send that fails keeps the copy open rather than close it here: the
		 * queue is full only while a close in the closer is stuck, which the
		 * watchdog ends. */
		if (hand_over(fd) == 0)
			closes_wait();
		return;
	}
	/* The last reference to an inet socket lingering with unsent data waits in
	 * close (SO_LINGER): a wait on the command, which the watchdog interrupts. */
	bs_stall_begin_interruptible();
	close(fd);
	bs_stall_end();
}

/* The signal that interrupts the main thread's interruptible waits (a lingering
 * close, a write): a handler that does nothing, without SA_RESTART. */
#define BS_WAKE_SIGNAL SIGRTMAX

static void on_wake(int sig)
{
	(void)sig;
}

/* Whether say_killed is saying it: the supervisor's exit waits for it (a second
 * at most), or the tree's end could cut it off. */
static atomic_int saying;

/* Writes message to stderr, from a thread of its own: stderr may be a terminal
 * the command stopped (tcflow), and the watchdog must not wait on it. */
static void *say_it(void *message)
{
	dprintf(2, "%s", (const char *)message);
	atomic_fetch_sub(&saying, 1);
	return NULL;
}

/* Says message without waiting on stderr (say_it); let_it_be_said waits. */
static void say(const char *message)
{
	pthread_t t;

	atomic_fetch_add(&saying, 1);
	if (pthread_create(&t, NULL, say_it, (void *)message) == 0)
		pthread_detach(t);
	else
		atomic_fetch_sub(&saying, 1);
}

/* Lets say_it finish, for a second at most. */
static void let_it_be_said(void)
{
	for (int i = 0; i < 100 && atomic_load(&saying) > 0; i++)
		nanosleep(&(struct timespec){0, 10000000}, NULL);
}

/* Where the command's status goes to the launcher (the report pipe), until told. */
static atomic_int report_fd = -1;

/* Tells the launcher the command's status, once: the main loop when the command
 * ends, or the watchdog giving up. */
static void report_status(int status)
{
	int fd = atomic_exchange(&report_fd, -1);

	if (fd < 0)
		return;
	if (write(fd, &status, sizeof(status)) < 0)
		(void)0;	/* the launcher is gone: nobody to tell */
	close(fd);
}

#define BS_STR(x) #x
#define BS_XSTR(x) BS_STR(x)

/* Processes of the tree left BS_STALL_SECONDS after they were killed are stuck
 * where no signal reaches (a file system of their own whose connection the
 * watchdog could not find to abort: a file in flight on a socket, a mount owned
 * by another uid). They are the command's doing; the launcher must not wait for
 * them: it is told the command was killed, and the supervisor ends. */
static void give_up(void)
{
	report_status(128 + SIGKILL);
	say("bindshim run: processes of the command cannot be ended (stuck on a file system "
	    "of their own, " BS_XSTR(BS_STALL_SECONDS) " s after they were killed): the "
	    "supervisor leaves them\n");
	let_it_be_said();
	_exit(BS_EXIT_RUN_FAIL);
}

/* Every quarter of a second: a marked step that has lasted BS_STALL_SECONDS gets
 * the main thread interrupted and the tree killed (again while it lasts: processes
 * started meanwhile), which ends the wait (the page's server, or the helper, was
 * in the tree). */
static void *watchdog(void *unused)
{
	long long said = 0, killed = 0;

	(void)unused;
	for (;;) {
		struct timespec tick = {0, 250000000};
		long long since = 0;

		nanosleep(&tick, NULL);
		/* Processes the kill did not end a while after: not ours to wait for. */
		if (killed && now_ns() - killed >= BS_STALL_SECONDS * 1000000000LL) {
			if (survivors())
				give_up();
			killed = 0;
		}
		for (int i = 0; i < BS_STALLERS; i++) {
			long long t = atomic_load(&stalls[i].since);

			if (!t || now_ns() - t < BS_STALL_SECONDS * 1000000000LL)
				continue;
			if (i == BS_STALL_MAIN)
				pthread_kill(main_thread, BS_WAKE_SIGNAL);
			if (!atomic_load(&stalls[i].interruptible))
				since = t;
		}
		if (!since)
			continue;
		if (since != said)
			say("bindshim run: the supervisor waited " BS_XSTR(BS_STALL_SECONDS) " s on "
			    "the command (for its memory or a file it serves): its processes are "
			    "killed\n");
		said = since;
		if (kill_tree(!killed) && !killed)
			killed = now_ns();
	}
	return NULL;
}

/* Reaps every exited child; returns true (status in *status) when pid is one. */
static bool reap(pid_t pid, int *status, bool *none_left)
{
	bool done = false;
	pid_t w;
	int st;

	while ((w = waitpid(-1, &st, WNOHANG)) > 0)
		if (w == pid) {
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			done = true;
		}
	*none_left = w < 0 && errno == ECHILD;
	return done;
}

/* Receives one notification and answers it. */
static void handle(struct bs_sup *s, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	memset(req, 0, s->sizes.seccomp_notif);
	if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return;		/* the target died meanwhile */
	memset(resp, 0, s->sizes.seccomp_notif_resp);
	resp->id = req->id;
	bs_notify_answer(s, req, resp);
	ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
}

/* The supervisor's loop: notifications and children, until no process of the tree
 * is left. The command's status goes to the launcher through report_status. */
static void supervise(struct bs_sup *s, pid_t pid, int sigfd)
{
	struct seccomp_notif *req = malloc(s->sizes.seccomp_notif);
	struct seccomp_notif_resp *resp = malloc(s->sizes.seccomp_notif_resp);
	struct pollfd fds[2] = {{s->listener, POLLIN, 0}, {sigfd, POLLIN, 0}};
	bool none_left = false, hup = false;
	pthread_t dog;
	int status;

	/* Without the watchdog, a stall is only a hang (it fails closed): go on. */
	main_thread = pthread_self();
	stalls_map();
	sigaction(BS_WAKE_SIGNAL, &(struct sigaction){.sa_handler = on_wake}, NULL);
	if (pthread_create(&dog, NULL, watchdog, NULL) == 0)
		pthread_detach(dog);
	if (!req || !resp) {
		kill(pid, SIGKILL);
		fds[0].fd = -1;
	}
	while (!none_left) {
		/* After a hang-up, which poll() reports at once every time, the listener
		 * is looked at every 100 ms instead: polled with the signals, it made
		 * this loop spin (a wait4 each turn) until the last process was reaped. */
		if (poll(hup ? &fds[1] : fds, hup ? 1 : 2, hup ? 100 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (hup && poll(fds, 1, 0) < 0)
			fds[0].revents = 0;
		if (fds[0].revents & POLLIN)
			handle(s, req, resp);
		/* POLLHUP says the filter has no users left; it has been seen while
		 * one still waited for an answer, so the listener stays watched until
		 * no process of the tree is left. */
		hup = (fds[0].revents & (POLLIN | POLLHUP)) == POLLHUP;
		/* Children are reaped when one ends (SIGCHLD, through sigfd), or when
		 * the filter has no users left: not at every notification. */
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
		} else if (!hup && fds[0].fd >= 0) {
			continue;
		}
		if (reap(pid, &status, &none_left))
			report_status(status);
	}
	free(req);
	free(resp);
}

/* The supervisor's own signals, once the command is started: the terminal's are
 * the command's business (the launcher forwards the rest); a closed log pipe must
 * not kill it. */
static void ignore_signals(void)
{
	static const int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
				      SIGWINCH, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
}

/* Lets go of the terminal's input and output, which the command has: a pipe the
 * supervisor held would not end when the command's output does. Its stderr stays:
 * records go there. */
static void release_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	close(fd);
}

/* Supervisor side: start the command, tell the launcher its pid, then supervise.
 * Exits when the whole tree is gone. */
static void supervisor(const struct bs_enforce *e, int report, const sigset_t *old,
		       const char *path, char **argv)
{
	struct bs_sup s = {.e = e, .privileged = geteuid() == 0, .unpriv_port = 1024,
			   .uid_known = bs_in_initial_userns()};
	sigset_t chld;
	int sv[2], sigfd;
	pid_t pid;
	FILE *f;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	note_fuse_mounts();
	if ((f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re"))) {
		if (fscanf(f, "%u", &s.unpriv_port) != 1)
			s.unpriv_port = 1024;
		fclose(f);
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s.sizes) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		_exit(BS_EXIT_RUN_FAIL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	pid = fork();
	if (pid < 0)
		_exit(BS_EXIT_RUN_FAIL);
	if (pid == 0) {
		close(report);
		close(sv[0]);
		command(e, sv[1], old, path, argv);
	}
	close(sv[1]);
	ignore_signals();
	sigfd = signalfd(-1, &chld, SFD_CLOEXEC);
	s.listener = bs_recv_fd(sv[0]);
	if (s.listener < 0 || sigfd < 0 || write(sv[0], "g", 1) != 1) {
		int status;

		close(sv[0]);
		waitpid(pid, &status, 0);
		status = WIFEXITED(status) ? WEXITSTATUS(status) : BS_EXIT_RUN_FAIL;
		if (write(report, &pid, sizeof(pid)) < 0 || write(report, &status, sizeof(status)) < 0)
			(void)0;
		_exit(status);
	}
	close(sv[0]);
	/* Where the kernel has it: a notification's round trip stays on one CPU.
	 * Without it (EINVAL), answers are the same, only slower. */
	if (ioctl(s.listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (__u64)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		(void)0;
	if (write(report, &pid, sizeof(pid)) != sizeof(pid))
		(void)0;	/* the launcher is gone: supervise all the same */
	release_stdio();
	atomic_store(&report_fd, report);
	supervise(&s, pid, sigfd);
	let_it_be_said();
	_exit(0);
}

/* Launcher side: forward signals to the command until the supervisor reports its
 * status; returns it. */
static int await(pid_t sup, int report, int sigfd)
{
	struct pollfd fds[2] = {{report, POLLIN, 0}, {sigfd, POLLIN, 0}};
	pid_t pid = 0;
	int status = BS_EXIT_RUN_FAIL;

	if (read(report, &pid, sizeof(pid)) != sizeof(pid)) {
		/* The supervisor could not start the command; it said why. */
		waitpid(sup, &status, 0);
		return WIFEXITED(status) ? WEXITSTATUS(status) : BS_EXIT_RUN_FAIL;
	}
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			/* Not when the terminal sent it to the whole group, command included. */
			if (read(sigfd, &si, sizeof(si)) == sizeof(si) && si.ssi_code != SI_KERNEL)
				kill(pid, (int)si.ssi_signo);
		}
		if (fds[0].revents) {
			if (read(report, &status, sizeof(status)) != sizeof(status)) {
				fprintf(stderr, "bindshim run: the supervisor died\n");
				status = BS_EXIT_RUN_FAIL;
			}
			break;
		}
	}
	return status;
}

int bs_enforce_run(const struct bs_enforce *e, const char *path, char **argv)
{
	sigset_t mask, old;
	int report[2], sigfd, status;
	pid_t sup;

	/* Nothing of the tree may read this process's memory either. */
	prctl(PR_SET_DUMPABLE, 0);
	if (pipe2(report, O_CLOEXEC) < 0)
		return BS_EXIT_RUN_FAIL;
	forwarded_set(&mask);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sup = fork();
	if (sup < 0)
		return BS_EXIT_RUN_FAIL;
	if (sup == 0) {
		close(report[0]);
		supervisor(e, report[1], &old, path, argv);
	}
	close(report[1]);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	status = await(sup, report[0], sigfd);
	close(report[0]);
	/* Reap the supervisor if it is already done (no daemon left behind). */
	waitpid(sup, NULL, WNOHANG);
	return status;
}

int bs_supervise_probe(char *why, size_t len)
{
	struct seccomp_notif_sizes sizes;
	int sv[2], pidfd, fd = -1, err = 0, listener, theirs;
	char byte = 0;
	pid_t pid;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
		snprintf(why, len, "seccomp user notification is not available: %s",
			 strerror(errno));
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(why, len, "socketpair: %s", strerror(errno));
		return -1;
	}
	/* A child installs the filter for real, and the parent takes a descriptor of
	 * it: what the supervisor will do with every process of the tree. */
	theirs = sv[1];
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		listener = bs_filter_install(ENOSYS);
		byte = listener < 0 ? (char)-listener : 0;
		if (write(sv[1], &byte, 1) == 1 && read(sv[1], &byte, 1) == 1)
			_exit(0);
		_exit(1);
	}
	close(sv[1]);
	if (pid < 0 || read(sv[0], &byte, 1) != 1) {
		err = pid < 0 ? errno : EIO;
		snprintf(why, len, "cannot start a probe: %s", strerror(err));
	} else if (byte) {
		err = byte;
		snprintf(why, len, "cannot install a seccomp filter: %s", strerror(err));
	} else if ((pidfd = pidfd_open(pid, 0)) < 0) {
		err = errno;
		snprintf(why, len, "pidfd_open: %s", strerror(err));
	} else {
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, theirs, 0);
		if (fd < 0) {
			err = errno;
			snprintf(why, len, "cannot take descriptors of its own children: "
				 "pidfd_getfd: %s, is Yama ptrace_scope 2 or 3?", strerror(err));
		}
		close(pidfd);
	}
	if (fd >= 0)
		close(fd);
	if (write(sv[0], &byte, 1) < 0)
		(void)0;
	close(sv[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return err ? -1 : 0;
}
