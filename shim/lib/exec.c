/*
 * The exec family and posix_spawn: a program that starts another with a cleaned
 * environment (env -i, subprocess with env={}, a service wrapper) would drop the
 * preload for it. The shim notes at start its LD_PRELOAD entry and the BINDSHIM_*
 * values it was given, and adds back whatever a new environment lacks: LD_PRELOAD
 * gets the shim first (other entries kept); a missing BINDSHIM_* variable gets its
 * start value; variables the new environment does set are left as they are. A shim
 * loaded from /etc/ld.so.preload is in every child anyway and adds no LD_PRELOAD.
 *
 * ld.so uses the last LD_PRELOAD entry of an environment, so that is the one that
 * must name the shim: an environment with several is given exactly one.
 *
 * The new environment is built only when something is missing, sized exactly, on
 * the stack (with mmap for very large ones): these calls run in vfork() children,
 * where malloc is not allowed.
 *
 * Without a supervisor, each start is first looked at for what the preload cannot
 * reach (uncovered.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/common/env.h"
#include "shim/lib/shim.h"

/* Values longer than this are not carried; environments whose copy would take
 * more than BS_STACK_MAX bytes are built in an anonymous mapping. */
#define BS_CARRY_MAX 4096
#define BS_STACK_MAX 65536
/* An execl call with more arguments than this fails with E2BIG. */
#define BS_ARGS_MAX 65536

extern char **environ;

static const char *const carried_names[] = {BS_ENV_POLICY, BS_ENV_LOG, BS_ENV_LOG_FORMAT,
					     BS_ENV_BUILTIN, BS_ENV_DRY_RUN, BS_ENV_SUPERVISED,
					     BS_ENV_LOG_FD};
#define NCARRIED (sizeof(carried_names) / sizeof(carried_names[0]))
/* "NAME=value" as the shim started, "" if unset; and this library's path. */
static char carried[NCARRIED][BS_CARRY_MAX];
static char self[BS_CARRY_MAX];

/* Copies the absolute LD_PRELOAD entry named libbindshim.so into self, if any
 * (plain loops: this runs in every process at start, see copy_entry). */
static void find_self(const char *preload)
{
	static const char name[] = "/" BS_SHIM_NAME;
	const size_t k = sizeof(name) - 1;

	while (*preload) {
		size_t n = 0, j = 0;

		while (preload[n] && preload[n] != ':' && preload[n] != ' ')
			n++;
		if (preload[0] == '/' && n >= k && n < sizeof(self))
			while (j < k && preload[n - k + j] == name[j])
				j++;
		if (j == k) {
			for (size_t i = 0; i < n; i++)
				self[i] = preload[i];
			self[n] = '\0';
			return;
		}
		preload += n;
		while (*preload == ':' || *preload == ' ')
			preload++;
	}
}

/* Copies a whole "NAME=value" entry into dst if it fits; plain loops, because this
 * runs in every process at start, where each first libc call costs a lookup. */
static void copy_entry(char *dst, const char *entry)
{
	size_t n = 0;

	while (entry[n] && n < BS_CARRY_MAX - 1)
		n++;
	if (entry[n])
		return;		/* too long to carry */
	for (size_t i = 0; i <= n; i++)
		dst[i] = entry[i];
}

/* Tells whether entry is "NAME=..." for name; returns the value or NULL. */
static const char *value_of(const char *entry, const char *name)
{
	while (*name && *entry == *name) {
		entry++;
		name++;
	}
	return !*name && *entry == '=' ? entry + 1 : NULL;
}

void bs_exec_capture(void)
{
	/* Taken even in a setuid program, which trusted() then keeps from use. */
	if (!environ)
		return;
	for (char **e = environ; *e; e++) {
		const char *v;

		/* Only LD_PRELOAD and BINDSHIM_* matter: cheap first-letter filter. */
		if ((*e)[0] != 'L' && (*e)[0] != 'B')
			continue;
		if ((v = value_of(*e, "LD_PRELOAD"))) {
			find_self(v);
			continue;
		}
		for (size_t i = 0; i < NCARRIED; i++)
			if (value_of(*e, carried_names[i]))
				copy_entry(carried[i], *e);
	}
}

/* Tells whether what bs_exec_capture took may be used: not in a setuid (AT_SECURE)
 * program, whose environment is neither ours to trust nor to carry. Asked here, at
 * exec, and not at start: a process that never starts another never pays
 * getauxval's first, lazily bound, call. */
static bool trusted(void)
{
	return !getauxval(AT_SECURE);
}

/* Tells whether starts are looked at for what the preload cannot reach: the shim
 * came by LD_PRELOAD (not /etc/ld.so.preload, system-wide mode, whose coverage
 * `bindshim audit` shows) and no supervisor covers this process
 * (BINDSHIM_SUPERVISED at start). */
static bool looking(void)
{
	if (!self[0] || !trusted())
		return false;
	for (size_t i = 0; i < NCARRIED; i++)
		if (value_of(carried[i], BS_ENV_SUPERVISED))
			return false;
	return true;
}

/* Warns about what the preload cannot reach, when that matters. */
static void look(int dirfd, const char *path, int flags, bool search)
{
	if (looking())
		bs_uncovered(dirfd, path, flags, search);
}

/* Returns the "NAME=..." entry of env, or NULL. */
static char *find(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, len) && env[i][len] == '=')
			return env[i];
	return NULL;
}

/* Tells whether an LD_PRELOAD value names this library. */
static bool preloads_self(const char *value)
{
	size_t n = strlen(self);

	for (const char *p = value; (p = strstr(p, self)); p += n)
		if ((p == value || p[-1] == ':' || p[-1] == ' ') && (!p[n] || p[n] == ':' || p[n] == ' '))
			return true;
	return false;
}

/* What env lacks, and the sizes a fixed copy needs. */
struct plan {
	char *pre;			/* env's last LD_PRELOAD entry (ld.so's), or NULL */
	bool fix_pre;			/* give env one LD_PRELOAD entry, naming the shim */
	bool add[NCARRIED];
	size_t entries;			/* pointers in the new vector, NULL included */
	size_t prelen;			/* bytes for the new LD_PRELOAD entry */
};

/* Fills pl; returns false when env can be passed on as it is. */
static bool plan(char *const *env, struct plan *pl)
{
	size_t n = 0, npre = 0;
	bool any;

	memset(pl, 0, sizeof(*pl));
	if (!trusted())
		return false;
	for (; env && env[n]; n++)
		if (!strncmp(env[n], "LD_PRELOAD=", 11)) {
			pl->pre = env[n];
			npre++;
		}
	pl->fix_pre = self[0] && (npre > 1 || !(pl->pre && preloads_self(pl->pre + 11)));
	any = pl->fix_pre;
	for (size_t i = 0; i < NCARRIED; i++) {
		pl->add[i] = carried[i][0] && !find(env, carried_names[i]);
		any |= pl->add[i];
	}
	if (!any)
		return false;
	pl->entries = n + NCARRIED + 2;
	pl->prelen = strlen(self) + (pl->pre ? strlen(pl->pre) : 0) + 16;
	return true;
}

/* Bytes build() needs. */
static size_t plan_bytes(const struct plan *pl)
{
	return pl->entries * sizeof(char *) + pl->prelen;
}

/* Builds the fixed environment in mem (plan_bytes long); returns it. */
static char *const *build(char *const *env, const struct plan *pl, void *mem)
{
	char **vec = mem, *prebuf = (char *)mem + pl->entries * sizeof(char *);
	size_t k = 0;

	for (size_t i = 0; env && env[i]; i++)
		if (!(pl->fix_pre && !strncmp(env[i], "LD_PRELOAD=", 11)))
			vec[k++] = env[i];
	if (pl->fix_pre) {
		if (pl->pre && preloads_self(pl->pre + 11))
			snprintf(prebuf, pl->prelen, "%s", pl->pre);
		else if (pl->pre && pl->pre[11])
			snprintf(prebuf, pl->prelen, "LD_PRELOAD=%s:%s", self, pl->pre + 11);
		else
			snprintf(prebuf, pl->prelen, "LD_PRELOAD=%s", self);
		vec[k++] = prebuf;
	}
	for (size_t i = 0; i < NCARRIED; i++)
		if (pl->add[i])
			vec[k++] = carried[i];
	vec[k] = NULL;
	return vec;
}

/* Runs CALL with FIXED bound to envp, or to a fixed copy of it on this stack frame
 * (in a mapping when large); keeps CALL's result and errno. */
#define WITH_FIXED_ENV(envp, fixed, call) \
	do { \
		struct plan pl_; \
		bs_real_init(); \
		if (!plan((envp), &pl_)) { \
			char *const *fixed = (envp); \
			return call; \
		} \
		size_t bytes_ = plan_bytes(&pl_); \
		bool big_ = bytes_ > BS_STACK_MAX; \
		_Alignas(char *) char stack_[big_ ? 1 : bytes_]; \
		void *mem_ = big_ ? mmap(NULL, bytes_, PROT_READ | PROT_WRITE, \
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : stack_; \
		if (mem_ == MAP_FAILED) { \
			errno = ENOMEM; \
			return -1; \
		} \
		char *const *fixed = build((envp), &pl_, mem_); \
		int rc_ = call, err_ = errno; \
		if (big_) \
			munmap(mem_, bytes_); \
		errno = err_; \
		return rc_; \
	} while (0)

/* The two calls the environ-based forms lead to (internal code calls no hook). */
static int fixed_execve(const char *path, char *const argv[], char *const envp[])
{
	look(AT_FDCWD, path, 0, false);
	WITH_FIXED_ENV(envp, env, bs_real.execve(path, argv, env));
}

static int fixed_execvpe(const char *file, char *const argv[], char *const envp[])
{
	look(AT_FDCWD, file, 0, true);
	WITH_FIXED_ENV(envp, env, bs_real.execvpe(file, argv, env));
}

BS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return fixed_execve(path, argv, envp);
}

BS_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
		       int flags)
{
	look(dirfd, path, flags, false);
	WITH_FIXED_ENV(envp, env, bs_real.execveat(dirfd, path, argv, env, flags));
}

BS_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	look(fd, "", AT_EMPTY_PATH, false);
	WITH_FIXED_ENV(envp, env, bs_real.fexecve(fd, argv, env));
}

BS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return fixed_execvpe(file, argv, envp);
}

BS_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	look(AT_FDCWD, path, 0, false);
	WITH_FIXED_ENV(envp, env, bs_real.posix_spawn(pid, path, fa, attr, argv, env));
}

BS_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	look(AT_FDCWD, file, 0, true);
	WITH_FIXED_ENV(envp, env, bs_real.posix_spawnp(pid, file, fa, attr, argv, env));
}

/* execv, execvp and the execl family use environ, which the program may have
 * cleared (clearenv) or stripped (unsetenv): the same repair applies. */
BS_EXPORT int execv(const char *path, char *const argv[])
{
	return fixed_execve(path, argv, environ);
}

BS_EXPORT int execvp(const char *file, char *const argv[])
{
	return fixed_execvpe(file, argv, environ);
}

/* Counts the arguments of an execl call after arg (up to the NULL). */
static size_t count_args(const char *arg, va_list ap)
{
	size_t n = arg ? 1 : 0;

	while (arg && va_arg(ap, char *) && n < BS_ARGS_MAX)
		n++;
	return n;
}

/* Collects arg and the following arguments into argv (n + 1 slots). */
static void collect_args(char **argv, size_t n, const char *arg, va_list ap)
{
	if (n)
		argv[0] = (char *)arg;
	for (size_t i = 1; i < n; i++)
		argv[i] = va_arg(ap, char *);
	argv[n] = NULL;
}

/* The execl family: count, then copy the arguments into an exact array. */
#define EXECL_ARGV(argv, arg, last) \
	va_list ap_, cp_; \
	size_t n_; \
	va_start(ap_, last); \
	va_copy(cp_, ap_); \
	n_ = count_args(arg, cp_); \
	va_end(cp_); \
	if (n_ >= BS_ARGS_MAX) { \
		va_end(ap_); \
		errno = E2BIG; \
		return -1; \
	} \
	char *argv[n_ + 1]; \
	collect_args(argv, n_, arg, ap_)

BS_EXPORT int execl(const char *path, const char *arg, ...)
{
	EXECL_ARGV(argv, arg, arg);
	va_end(ap_);
	return fixed_execve(path, argv, environ);
}

BS_EXPORT int execlp(const char *file, const char *arg, ...)
{
	EXECL_ARGV(argv, arg, arg);
	va_end(ap_);
	return fixed_execvpe(file, argv, environ);
}

BS_EXPORT int execle(const char *path, const char *arg, ...)
{
	char *const *envp;

	EXECL_ARGV(argv, arg, arg);
	/* After the NULL that ends the arguments comes the environment. */
	if (n_)
		(void)va_arg(ap_, char *);
	envp = va_arg(ap_, char *const *);
	va_end(ap_);
	return fixed_execve(path, argv, envp);
}
