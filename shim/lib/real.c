/* The next definitions of the hooked calls, found with dlsym(RTLD_NEXT) on the first
 * hooked call, so a process that never calls one pays nothing. No lock and no
 * pthread_once: a fork() in the middle cannot leave a child waiting forever. Two
 * threads may both resolve; they store the same values. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/lib/shim.h"

struct bs_real bs_real;
__thread int bs_busy __attribute__((tls_model("initial-exec")));

static atomic_int resolved;

/* closefrom(3) for a libc without it: close_range(2), or nothing to do. */
static void closefrom_syscall(int lowfd)
{
	syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0);
}

#define BS_RESOLVE(name) \
	do { \
		union { void *p; __typeof__(bs_real.name) f; } u_ = {dlsym(RTLD_NEXT, #name)}; \
		__atomic_store_n(&bs_real.name, u_.f, __ATOMIC_RELAXED); \
	} while (0)

void bs_real_init(void)
{
	if (atomic_load_explicit(&resolved, memory_order_acquire))
		return;
	BS_RESOLVE(bind);
	BS_RESOLVE(listen);
	BS_RESOLVE(connect);
	BS_RESOLVE(sendto);
	BS_RESOLVE(sendmsg);
	BS_RESOLVE(sendmmsg);
	BS_RESOLVE(getaddrinfo);
	BS_RESOLVE(socket);
	BS_RESOLVE(close);
	BS_RESOLVE(dup);
	BS_RESOLVE(dup2);
	BS_RESOLVE(dup3);
	BS_RESOLVE(close_range);
	BS_RESOLVE(closefrom);
	if (!bs_real.closefrom)		/* glibc before 2.34 has none to hide */
		__atomic_store_n(&bs_real.closefrom, closefrom_syscall, __ATOMIC_RELAXED);
	BS_RESOLVE(setsockopt);
	BS_RESOLVE(setuid);
	BS_RESOLVE(setreuid);
	BS_RESOLVE(setresuid);
	BS_RESOLVE(execve);
	BS_RESOLVE(execveat);
	BS_RESOLVE(fexecve);
	BS_RESOLVE(execvpe);
	BS_RESOLVE(posix_spawn);
	BS_RESOLVE(posix_spawnp);
	atomic_store_explicit(&resolved, 1, memory_order_release);
}

int bs_kernel_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int rc;

	while ((rc = bs_real.bind(fd, sa, len)) < 0 && errno == EINTR)
		;
	return rc;
}

int bs_kernel_listen(int fd, int backlog)
{
	int rc;

	while ((rc = bs_real.listen(fd, backlog)) < 0 && errno == EINTR)
		;
	return rc;
}
