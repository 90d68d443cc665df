/* The next definitions of the hooked calls, found with dlsym(RTLD_NEXT) on the first
 * hooked call, so a process that never calls one pays nothing. No lock and no
 * pthread_once: a fork() in the middle cannot leave a child waiting forever. Two
 * threads may both resolve; they store the same values. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "shim/common/env.h"
#include "shim/lib/shim.h"

struct bs_real bs_real;
__thread int bs_busy __attribute__((tls_model("initial-exec")));

static atomic_int resolved;

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
	/* Under the enforcing supervisor, the shim's own binds and listens must come
	 * from its own code, so that they are not judged a second time. */
	if (secure_getenv(BS_ENV_ENFORCED)) {
		__atomic_store_n(&bs_real.bind, bs_raw_bind, __ATOMIC_RELAXED);
		__atomic_store_n(&bs_real.listen, bs_raw_listen, __ATOMIC_RELAXED);
	}
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
	BS_RESOLVE(execve);
	BS_RESOLVE(execveat);
	BS_RESOLVE(fexecve);
	BS_RESOLVE(execvpe);
	BS_RESOLVE(posix_spawn);
	BS_RESOLVE(posix_spawnp);
	atomic_store_explicit(&resolved, 1, memory_order_release);
}
