/* The next definitions of the hooked calls, found with dlsym(RTLD_NEXT). */
#include <dlfcn.h>
#include <pthread.h>

#include "shim.h"

struct bs_real bs_real;
__thread int bs_busy __attribute__((tls_model("initial-exec")));

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* dlsym returns void *; converting through a union keeps -Wpedantic quiet. */
#define BS_RESOLVE(name) \
	do { \
		union { void *p; __typeof__(bs_real.name) f; } u_ = {dlsym(RTLD_NEXT, #name)}; \
		bs_real.name = u_.f; \
	} while (0)

static void resolve(void)
{
	BS_RESOLVE(bind);
	BS_RESOLVE(listen);
	BS_RESOLVE(connect);
	BS_RESOLVE(sendto);
	BS_RESOLVE(sendmsg);
	BS_RESOLVE(sendmmsg);
	BS_RESOLVE(getaddrinfo);
}

void bs_real_init(void)
{
	pthread_once(&once, resolve);
}
