/*
 * bind and listen as raw syscalls from an instruction of this library's own.
 *
 * Under `bindshim run --enforce` every bind and listen reaches the supervisor. The
 * shim has judged and logged its own already, so it makes them from here, and the
 * supervisor recognizes them by the instruction pointer (inside libbindshim.so's
 * code) and lets them through without judging or logging them again. libc's
 * wrappers would not do: every program's own syscalls come from there too.
 */
#include <errno.h>
#include <sys/syscall.h>

#include "shim/lib/shim.h"

/* Makes syscall nr with three arguments; returns the kernel's answer (-errno). */
static long raw3(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;

	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
#else
	/* Elsewhere the supervisor cannot tell these apart and judges them again:
	 * still correct for idempotent policies, only logged twice. */
	long ret = syscall(nr, a, b, c);

	return ret < 0 ? -errno : ret;
#endif
}

/* Turns a raw answer into the libc convention. */
static int libc_style(long ret)
{
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}

int bs_raw_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return libc_style(raw3(SYS_bind, fd, (long)addr, len));
}

int bs_raw_listen(int fd, int backlog)
{
	return libc_style(raw3(SYS_listen, fd, backlog, 0));
}
