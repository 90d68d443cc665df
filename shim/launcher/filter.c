/*
 * The seccomp filter of `bindshim run`, installed in the child before it execs the
 * command, and inherited by everything the command starts:
 *
 *   foreign architecture, x32 ABI       notify the supervisor, which stops the
 *                                       process (a second syscall table would be a
 *                                       way around the numbers below)
 *   bind, listen                        notify the supervisor
 *   io_uring_setup                      fail with the chosen errno: io_uring can
 *                                       bind and listen (IORING_OP_BIND/LISTEN)
 *                                       where no filter sees the call; programs
 *                                       fall back to ordinary syscalls
 *   seccomp(SET_MODE_FILTER, NEW_LISTENER)  fail with EPERM: a later filter's
 *                                       listener would take the notifications
 *   setsockopt(IPPROTO_IP, IP_LOCAL_PORT_RANGE)  fail with ENOPROTOOPT: it would
 *                                       let a program choose the port the kernel
 *                                       binds an unbound socket to as it sends
 *   socket(AF_INET/AF_INET6, SCTP)      fail as on a kernel without SCTP: SCTP
 *                                       binds addresses with setsockopt
 *                                       (sctp_bindx), not only with bind
 *   socket(AF_INET/AF_INET6, MPTCP)     fail as on a kernel without MPTCP: after a
 *                                       failed connect an MPTCP socket still
 *                                       reports its old address, and listen()
 *                                       then binds the wildcard (programs, Go's
 *                                       listeners among them, fall back to TCP)
 *   userfaultfd,                        fail with EPERM, as where userfaultfd is
 *   ioctl(USERFAULTFD_IOC_NEW)          not allowed: a bind's address on a page
 *                                       whose faults nobody resolves would stall
 *                                       the supervisor as it copies the address
 *                                       (process_vm_readv), and every bind of
 *                                       the tree with it
 *   anything else                       allow
 *
 * The kernel's action cache skips the program for every other syscall, so a
 * process that never binds pays what any seccomp filter costs (ioctl now runs
 * the program: its request is looked at).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/common/sock.h"
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
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((unsigned)(e) & SECCOMP_RET_DATA))
/* /dev/userfaultfd's request for a new userfaultfd (Linux 6.1) */
#ifdef USERFAULTFD_IOC_NEW
#define BS_USERFAULTFD_IOC_NEW USERFAULTFD_IOC_NEW
#else
#define BS_USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

int bs_filter_install(int io_uring_errno)
{
	/* Arguments are compared in their low 32 bits (both architectures are
	 * little-endian): every value tested here fits. */
	struct sock_filter f[] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BS_AUDIT_ARCH, 1, 0),
		RET(SECCOMP_RET_USER_NOTIF),
		LOAD(nr),
#ifdef __x86_64__
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
		RET(SECCOMP_RET_USER_NOTIF),
#endif
		IF_EQ_RET(__NR_bind, SECCOMP_RET_USER_NOTIF),
		IF_EQ_RET(__NR_listen, SECCOMP_RET_USER_NOTIF),
		IF_EQ_RET(__NR_io_uring_setup, ERRNO(io_uring_errno)),
		IF_EQ_RET(__NR_userfaultfd, ERRNO(EPERM)),
		/* ioctl(2): 5 instructions */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 4),
		LOAD(args[1]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BS_USERFAULTFD_IOC_NEW, 0, 1),
		RET(ERRNO(EPERM)),
		RET(SECCOMP_RET_ALLOW),
		/* seccomp(2): 6 instructions */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 0, 6),
		LOAD(args[0]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_SET_MODE_FILTER, 0, 3),
		LOAD(args[1]),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0, 1),
		RET(ERRNO(EPERM)),
		RET(SECCOMP_RET_ALLOW),
		/* setsockopt(2): 6 instructions */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setsockopt, 0, 6),
		LOAD(args[1]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_IP, 0, 3),
		LOAD(args[2]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BS_IP_LOCAL_PORT_RANGE, 0, 1),
		RET(ERRNO(ENOPROTOOPT)),
		RET(SECCOMP_RET_ALLOW),
		/* socket(2): 13 instructions */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 13),
		LOAD(args[0]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0),
		RET(SECCOMP_RET_ALLOW),
		LOAD(args[2]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_SCTP, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BS_IPPROTO_MPTCP, 0, 1),
		RET(ERRNO(EPROTONOSUPPORT)),
		LOAD(args[1]),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_SEQPACKET, 0, 1),
		RET(ERRNO(ESOCKTNOSUPPORT)),
		RET(SECCOMP_RET_ALLOW),
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
