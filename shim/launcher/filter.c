/*
 * The seccomp filter of `bindshim run --enforce`, installed in the child before it
 * execs the command, and inherited by everything the command starts:
 *
 *   foreign architecture, x32 ABI       kill the process (a second syscall table
 *                                       would be a way around the numbers below)
 *   bind, listen                        notify the supervisor
 *   io_uring_setup                      fail with the chosen errno: io_uring can
 *                                       bind and listen (IORING_OP_BIND/LISTEN)
 *                                       where no filter sees the call; programs
 *                                       fall back to ordinary syscalls
 *   seccomp(SET_MODE_FILTER, NEW_LISTENER)  fail with EPERM: a later filter's
 *                                       listener would take the notifications
 *   anything else                       allow
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/launcher/enforce.h"

#if defined(__x86_64__)
#define BS_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define BS_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "bindshim --enforce: add this architecture's AUDIT_ARCH"
#endif

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
/* If the accumulator equals k, return v; else go on. */
#define IF_EQ_RET(k, v) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), 0, 1), RET(v)

int bs_filter_install(int io_uring_errno)
{
	struct sock_filter f[] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BS_AUDIT_ARCH, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LOAD(nr),
#ifdef __x86_64__
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
		RET(SECCOMP_RET_KILL_PROCESS),
#endif
		IF_EQ_RET(__NR_bind, SECCOMP_RET_USER_NOTIF),
		IF_EQ_RET(__NR_listen, SECCOMP_RET_USER_NOTIF),
		IF_EQ_RET(__NR_io_uring_setup,
			  SECCOMP_RET_ERRNO | ((unsigned)io_uring_errno & SECCOMP_RET_DATA)),
		/* seccomp(): refuse SET_MODE_FILTER with NEW_LISTENER (low words: the
		 * arguments are small, and both architectures are little-endian). */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 0, 5),
		LOAD(args[0]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_SET_MODE_FILTER, 0, 3),
		LOAD(args[1]),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0, 1),
		RET(SECCOMP_RET_ERRNO | EPERM),
		RET(SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	long fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* WAIT_KILLABLE_RECV (5.19): once the supervisor has a call, a signal cannot
	 * interrupt and restart it behind the supervisor's back. */
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		     SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
	if (fd < 0 && errno == EINVAL)
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	return fd < 0 ? -errno : (int)fd;
}

int bs_send_fd(int sock, int fd)
{
	char byte = 'L', ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

int bs_recv_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}
