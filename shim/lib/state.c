/*
 * Lazy, once-only start of the shim: select and load the policy on the first judged
 * call, so processes that never bind pay only the dynamic load. A policy that cannot
 * be loaded gives one error record and the built-in loopback-only policy: never fail
 * open, never exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/sys.h"
#include "shim/common/env.h"
#include "shim/common/select.h"
#include "shim/common/userns.h"
#include "shim/lib/shim.h"

static struct bs_state S;
static atomic_int ready;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t forks = PTHREAD_ONCE_INIT;
/* The program name, taken at start. In .data, not .bss: that page is written by the
 * loader's relocations anyway, so taking the name costs no page fault of its own. */
static char program[64] __attribute__((section(".data")));

/* fork() waits for a load in progress, so a child never inherits half a state. */
static void prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void child(void)
{
	pthread_mutex_init(&lock, NULL);
	bs_who_forget();
}

/* Registers the fork handlers, at the first judged call rather than at start: a
 * process that never binds has no lock to protect and no pid cached. */
static void watch_forks(void)
{
	pthread_atfork(prepare, parent, child);
}

/* Copies the program name: the base name of arg0, or (none, or empty)
 * /proc/self/comm. */
static void take_program(const char *arg0)
{
	size_t i = 0;
	ssize_t n;
	int fd;

	if (arg0 && *arg0) {
		const char *base = arg0;

		/* Plain loops: this runs in every process at start. */
		for (const char *p = arg0; *p; p++)
			if (*p == '/')
				base = p + 1;
		for (; base[i] && i < sizeof(program) - 1; i++)
			program[i] = base[i];
		program[i] = '\0';
		return;
	}
	fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, program, sizeof(program) - 1);
	if (fd >= 0)
		bs_sys_close(fd);
	program[n > 0 ? n : 0] = '\0';
	program[strcspn(program, "\n")] = '\0';
}

/* argv[0] from /proc/self/cmdline, for a judged call made before our constructor
 * ran (another library's constructor): what the program was started with, as the
 * constructor would have seen it. */
static void take_program_late(void)
{
	char buf[256];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		bs_sys_close(fd);
	buf[n > 0 ? n : 0] = '\0';
	take_program(buf);
}

/* nginx and others rewrite argv[0] in place later, so take the name early, and note
 * what exec must carry before the program can change its environment. Nothing else
 * happens here: the rest waits for the first judged call. glibc hands every
 * constructor main's argc and argv (so no symbol of libc's is looked up for them). */
__attribute__((constructor)) static void bs_start(int argc, char **argv)
{
	if (!program[0])
		take_program(argc > 0 ? argv[0] : NULL);
	bs_exec_capture();
}

/* Logs one error record for a policy that could not be loaded. */
static void report_failure(const struct bs_selection *sel, const char *err, int rc)
{
	const char *instead = S.system ? "the locked system policy stays in force"
				       : "using the built-in loopback-only policy";
	char msg[1024];
	struct bs_who who;
	struct bs_record r = {.who = &who, .call = "bind", .event = "error", .message = msg};
	/* The first problem ends at the first newline after the file name, which may
	 * hold newlines itself (the record escapes them). */
	size_t skip = sel->arg && !strncmp(err, sel->arg, strlen(sel->arg)) ? strlen(sel->arg) : 0;
	size_t n = skip + strcspn(err + skip, "\n");

	bs_self(&S, &who);

	if (n)
		snprintf(msg, sizeof(msg), "%.*s; %s", (int)n, err, instead);
	else
		snprintf(msg, sizeof(msg), "%s: %s; %s", sel->arg ? sel->arg : "policy",
			 strerror(-rc), instead);
	bs_log(&S.set.logger, &r);
}

static void load(void)
{
	struct bs_selection sel;
	struct bs_layers layers;
	struct bs_policy *p = NULL;
	static char err[4096];
	int rc;

	if (!program[0])
		take_program_late();
	S.program = program;
	bs_select_env(&sel, secure_getenv(BS_ENV_BUILTIN), secure_getenv(BS_ENV_POLICY));
	/* On failure a locked system layer stays in layers.system. */
	rc = bs_layers_load(&sel, &layers, err, sizeof(err));
	p = layers.user;
	S.system = layers.system;
	bs_settings_from(&S.set, &layers, secure_getenv(BS_ENV_LOG),
			 secure_getenv(BS_ENV_LOG_FORMAT), secure_getenv(BS_ENV_DRY_RUN));
	bs_log_inherit(&S.set.logger, secure_getenv(BS_ENV_LOG_FD));
	S.supervised = secure_getenv(BS_ENV_SUPERVISED) != NULL;
	bs_real_init();
	bs_log_open(&S.set.logger);
	if (rc) {
		report_failure(&sel, err, rc);
		/* Loopback-only, or the locked system policy alone; without memory even
		 * for the built-in policy, deny rather than allow. */
		if (!S.system && bs_policy_builtin_loopback(&p))
			p = NULL;
	}
	S.needs = (p ? p->needs : 0) | (S.system ? S.system->needs : 0);
	S.uid_known = !(S.needs & BS_NEED_UID) || bs_in_initial_userns();
	if (S.needs & BS_NEED_EXE) {
		ssize_t n = readlink("/proc/self/exe", S.exe, sizeof(S.exe) - 1);

		S.exe[n > 0 ? n : 0] = '\0';
	}
	S.policy = p;
}

const struct bs_state *bs_state(void)
{
	int saved;

	if (atomic_load_explicit(&ready, memory_order_acquire))
		return &S;
	saved = errno;
	bs_busy++;
	pthread_once(&forks, watch_forks);
	pthread_mutex_lock(&lock);
	if (!atomic_load_explicit(&ready, memory_order_relaxed)) {
		load();
		atomic_store_explicit(&ready, 1, memory_order_release);
	}
	pthread_mutex_unlock(&lock);
	bs_busy--;
	errno = saved;
	return &S;
}
