/* bindshim run: validate the policy, preload the shim into COMMAND, exec it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/common/env.h"
#include "shim/launcher/enforce.h"
#include "shim/launcher/policyopt.h"
#include "shim/launcher/raw.h"

#ifndef BS_LIBDIR
#define BS_LIBDIR "/usr/local/lib/bindshim"
#endif

struct run_opts {
	struct bs_policyopt po;
	const char *log, *log_format;
	bool dry_run;
	bool enforce;			/* refuse to run without a supervisor */
	bool preload_only;		/* no supervisor */
	int io_uring_errno;
};

/* Makes path absolute against the current directory; returns a malloc'd string. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

/* Finds libbindshim.so relative to this executable, wherever it was installed or
 * moved: next to it (the build tree), then in ../lib/bindshim/ (PREFIX/bin and
 * PREFIX/lib/bindshim, for any PREFIX or DESTDIR), last in BS_LIBDIR, the PREFIX it
 * was built for. Returns a malloc'd path, or NULL. */
static char *find_shim(void)
{
	static const char *const rel[] = {"", "/../lib/bindshim"};
	char self[PATH_MAX], *slash, *out;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		for (size_t i = 0; slash && i < sizeof(rel) / sizeof(rel[0]); i++) {
			if (asprintf(&out, "%.*s%s/%s", (int)(slash - self), self, rel[i],
				     BS_SHIM_NAME) < 0)
				return NULL;
			if (access(out, R_OK) == 0)
				return out;
			free(out);
		}
	}
	if (access(BS_LIBDIR "/" BS_SHIM_NAME, R_OK) == 0)
		return strdup(BS_LIBDIR "/" BS_SHIM_NAME);
	return NULL;
}

/* Tells whether an LD_PRELOAD entry of length n names some libbindshim.so. */
static bool is_shim_entry(const char *e, size_t n)
{
	size_t k = strlen(BS_SHIM_NAME);

	return n >= k && !memcmp(e + n - k, BS_SHIM_NAME, k) && (n == k || e[n - k - 1] == '/');
}

/* Returns "shim:rest" where rest is old without any libbindshim.so entry; malloc'd. */
static char *preload_value(const char *shim, const char *old)
{
	size_t cap = strlen(shim) + (old ? strlen(old) : 0) + 2, len;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	len = (size_t)snprintf(out, cap, "%s", shim);
	while (old && *old) {
		size_t n = strcspn(old, ": ");

		if (n && !is_shim_entry(old, n)) {
			out[len++] = ':';
			memcpy(out + len, old, n);
			len += n;
		}
		old += n;
		old += strspn(old, ": ");
	}
	out[len] = '\0';
	return out;
}

/* Puts the user's choice into the environment the shim reads, a file as an
 * absolute path (the program may change directory); 0 or -1. */
static int export_policy(const struct bs_selection *sel)
{
	char *v = NULL;
	int rc = 0;

	switch (sel->kind) {
	case BS_SRC_FILE:
		v = absolute(sel->arg);
		rc = v ? setenv(BS_ENV_POLICY, v, 1) | unsetenv(BS_ENV_BUILTIN) : -1;
		break;
	case BS_SRC_TO:
		if (asprintf(&v, "%s%s", BS_BUILTIN_TO_PREFIX, sel->arg) < 0)
			return -1;
		rc = setenv(BS_ENV_BUILTIN, v, 1);
		break;
	case BS_SRC_LOOPBACK:
		rc = setenv(BS_ENV_BUILTIN, "loopback", 1);
		break;
	case BS_SRC_NONE:	/* the shim finds the system policy or loopback-only itself */
		break;
	}
	free(v);
	return rc;
}

/* Puts the log options into the environment; 0, or -1 after printing why. */
static int export_log(const struct run_opts *o)
{
	char *abs;
	int rc;

	if (o->log_format && strcmp(o->log_format, "text") && strcmp(o->log_format, "json")) {
		fprintf(stderr, "bindshim run: bad --log-format \"%s\" (text or json)\n", o->log_format);
		return -1;
	}
	if (o->log_format && setenv(BS_ENV_LOG_FORMAT, o->log_format, 1))
		return -1;
	if (o->dry_run && setenv(BS_ENV_DRY_RUN, "1", 1))
		return -1;
	if (!o->log)
		return 0;
	if (!*o->log) {
		fprintf(stderr, "bindshim run: --log needs stderr, syslog or a file path\n");
		return -1;
	}
	if (!strcmp(o->log, "stderr") || !strcmp(o->log, "syslog"))
		return setenv(BS_ENV_LOG, o->log, 1);
	abs = absolute(o->log);
	rc = abs ? setenv(BS_ENV_LOG, abs, 1) : -1;
	free(abs);
	return rc;
}

/* Sets LD_PRELOAD so the shim comes first, once; returns the shim's path
 * (malloc'd), or NULL after printing why. */
static char *export_preload(void)
{
	char *shim = find_shim(), *real, *v;
	int rc;

	if (!shim) {
		fprintf(stderr, "bindshim run: cannot find %s next to bindshim or in %s\n",
			BS_SHIM_NAME, BS_LIBDIR);
		return NULL;
	}
	/* The canonical path: the supervisor compares it with /proc/PID/maps. */
	real = realpath(shim, NULL);
	free(shim);
	if (!real)
		return NULL;
	if (strpbrk(real, ": ")) {
		fprintf(stderr, "bindshim run: %s: LD_PRELOAD cannot hold a path with ':' or ' '\n",
			real);
		free(real);
		return NULL;
	}
	v = preload_value(real, getenv("LD_PRELOAD"));
	rc = v ? setenv("LD_PRELOAD", v, 1) : -1;
	free(v);
	if (rc) {
		free(real);
		return NULL;
	}
	return real;
}

/* Finds cmd like execvp would; returns a malloc'd path, or NULL with errno set. */
static char *find_command(const char *cmd)
{
	const char *path = getenv("PATH");
	int saved = ENOENT;

	if (strchr(cmd, '/'))
		return access(cmd, F_OK) == 0 ? strdup(cmd) : NULL;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char *cand;
		struct stat st;

		if (asprintf(&cand, "%.*s%s%s", (int)n, path, n ? "/" : "", cmd) < 0)
			return NULL;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0)
				return cand;
			saved = EACCES;
		}
		free(cand);
		path += n + (path[n] == ':');
	}
	errno = saved;
	return NULL;
}

/* Parses run's options into o; returns the index of COMMAND, or -1 on a usage error. */
static int parse_run(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"loopback", no_argument, NULL, 'l'},
		{"to", required_argument, NULL, 't'},
		{"log", required_argument, NULL, 'L'},
		{"log-format", required_argument, NULL, 'F'},
		{"dry-run", no_argument, NULL, 'n'},
		{"enforce", no_argument, NULL, 'E'},
		{"preload-only", no_argument, NULL, 'P'},
		{"io-uring-errno", required_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "+p:lt:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'l':
		case 't':
			if (bs_policyopt_take(&o->po, c, optarg))
				return -1;
			break;
		case 'L':
			o->log = optarg;
			break;
		case 'F':
			o->log_format = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'E':
			o->enforce = true;
			break;
		case 'P':
			o->preload_only = true;
			break;
		case 'I':
			o->io_uring_errno = bs_errno_from_name(optarg);
			if (!o->io_uring_errno) {
				fprintf(stderr, "bindshim run: --io-uring-errno: unknown errno name "
					"\"%s\"\n", optarg);
				return -1;
			}
			break;
		case 'h':
			bs_help("run");
			exit(0);
		default:
			bs_try_help("run");
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "bindshim run: no COMMAND given\n");
		bs_try_help("run");
		return -1;
	}
	return optind;
}

/* Runs path under the supervisor; returns the command's status. */
static int run_supervised(const struct run_opts *o, struct bs_layers *layers,
			  struct bs_settings *set, const char *path, char **argv)
{
	struct bs_enforce e = {.layers = layers, .set = set,
			       .io_uring_errno = o->io_uring_errno ? o->io_uring_errno : ENOSYS};

	if (setenv(BS_ENV_SUPERVISED, "1", 1))
		return BS_EXIT_RUN_FAIL;
	bs_log_open(&set->logger);
	return bs_enforce_run(&e, path, argv);
}

/* Decides between the supervisor and the shim alone; returns true to supervise, or
 * -1 (as a failure: --enforce without a supervisor, after saying why). */
static int choose_mode(const struct run_opts *o)
{
	char why[256];

	if (o->preload_only)
		return 0;
	if (bs_supervise_probe(why, sizeof(why)) == 0)
		return 1;
	if (o->enforce) {
		fprintf(stderr, "bindshim run: --enforce: no supervisor here: %s; nothing was run\n",
			why);
		return -1;
	}
	fprintf(stderr, "bindshim run: no supervisor here (%s): running with the preloaded shim "
		"alone, which does not cover static or Go programs, raw system calls or setuid "
		"programs\n", why);
	return 0;
}

/* Checks that interface targets exist: a -t one must (exit 125 otherwise); for a
 * policy file's rules, a warning (an interface may come up later). */
static int check_interfaces(const struct bs_policyopt *po, const struct bs_layers *l)
{
	const struct bs_policy *ps[2] = {l->system, l->user};
	int rc = 0;

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; ps[k] && i < ps[k]->nrules; i++) {
			const struct bs_rule *r = &ps[k]->rules[i];

			if (r->action != BS_REWRITE || r->to.kind != BS_TO_IFACE ||
			    if_nametoindex(r->to.ifname))
				continue;
			if (ps[k]->builtin && po->sel.kind == BS_SRC_TO) {
				fprintf(stderr, "bindshim run: -t: no interface \"%s\"\n", r->to.ifname);
				rc = -1;
			} else {
				fprintf(stderr, "bindshim run: warning: rule \"%s\" (%s:%u) rewrites to "
					"interface %s, which does not exist: its binds fail with "
					"EADDRNOTAVAIL until it does\n", r->name,
					ps[k]->file ? ps[k]->file : "builtin", r->line, r->to.ifname);
			}
		}
	return rc;
}

/* Checks the log destination before anything runs, and gives the shim the
 * launcher's stderr as an inherited descriptor; 0, or -1 after saying why. */
static int check_log(struct bs_settings *set)
{
	char value[64];
	struct stat st;
	struct rlimit rl;
	int fd, high = 1023;

	switch (set->logger.to) {
	case BS_LOG_FILE:
		fd = open(set->logger.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
			  0644);
		if (fd < 0) {
			fprintf(stderr, "bindshim run: log file %s: %s; nothing was run\n",
				set->logger.path, strerror(errno));
			return -1;
		}
		close(fd);
		return 0;
	case BS_LOG_SYSLOG:
		if (bs_log_probe_syslog() < 0) {
			fprintf(stderr, "bindshim run: syslog: cannot reach %s: %s; nothing was run\n",
				BS_SYSLOG_PATH, strerror(errno));
			return -1;
		}
		return 0;
	case BS_LOG_STDERR:
		break;
	}
	/* A descriptor high up, where programs that close or reuse the first few
	 * leave it alone; the shim checks it is still this file before using it. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
		high = rl.rlim_cur > 16 ? (int)rl.rlim_cur - 1 : 3;
	if (fstat(2, &st) < 0 || (fd = fcntl(2, F_DUPFD, high)) < 0) {
		fprintf(stderr, "bindshim run: no stderr for the records; give --log\n");
		return -1;
	}
	snprintf(value, sizeof(value), "%d:%lu:%lu", fd, (unsigned long)st.st_dev,
		 (unsigned long)st.st_ino);
	return setenv(BS_ENV_LOG_FD, value, 1);
}

int bs_exec_command(const char *path, char **argv)
{
	const char *name = argv[0];
	int err;

	bs_raw_execve(path, argv, environ);
	if (errno == ENOEXEC) {
		/* Like execvp: a file without #! or ELF header is a shell script. */
		argv[-1] = (char *)"sh";
		argv[0] = (char *)path;
		bs_raw_execve("/bin/sh", argv - 1, environ);
	}
	err = errno;
	fprintf(stderr, "bindshim run: %s: %s\n", name, strerror(err));
	return err == ENOENT ? BS_EXIT_NOTFOUND : BS_EXIT_NOEXEC;
}

int bs_cmd_run(int argc, char **argv)
{
	struct run_opts o = {0};
	struct bs_layers layers;
	struct bs_settings set;
	char *path = NULL, *shim = NULL;
	int rc = BS_EXIT_RUN_FAIL, cmd = parse_run(argc, argv, &o), supervised;

	if (cmd < 0)
		return BS_EXIT_RUN_FAIL;
	if (o.enforce && o.preload_only) {
		fprintf(stderr, "bindshim run: --enforce and --preload-only contradict each other\n");
		return BS_EXIT_RUN_FAIL;
	}
	if (o.io_uring_errno && o.preload_only) {
		fprintf(stderr, "bindshim run: --io-uring-errno needs the supervisor\n");
		return BS_EXIT_RUN_FAIL;
	}
	bs_policyopt_finish(&o.po);
	if (bs_policyopt_load(&o.po, &layers)) {
		fprintf(stderr, "bindshim run: invalid policy; nothing was run\n");
		return BS_EXIT_RUN_FAIL;
	}
	if (check_interfaces(&o.po, &layers) || export_policy(&o.po.sel) || export_log(&o))
		goto out;
	/* Records go where the shim would send them, with the environment just set. */
	bs_settings_from(&set, &layers, getenv(BS_ENV_LOG), getenv(BS_ENV_LOG_FORMAT),
			 getenv(BS_ENV_DRY_RUN));
	if (check_log(&set) || !(shim = export_preload()))
		goto out;
	path = find_command(argv[cmd]);
	if (!path) {
		fprintf(stderr, "bindshim run: %s: %s\n", argv[cmd], strerror(errno));
		rc = errno == EACCES ? BS_EXIT_NOEXEC : BS_EXIT_NOTFOUND;
		goto out;
	}
	if ((supervised = choose_mode(&o)) < 0)
		goto out;
	if (bs_warn_unreachable(path, supervised)) {
		rc = BS_EXIT_NOEXEC;
		goto out;
	}
	if (supervised) {
		rc = run_supervised(&o, &layers, &set, path, argv + cmd);
		goto out;
	}
	/* The shim loads its own copy of the policy in the command. */
	bs_layers_free(&layers);
	rc = bs_exec_command(path, argv + cmd);
	free(shim);
	free(path);
	return rc;
out:
	bs_layers_free(&layers);
	free(shim);
	free(path);
	return rc;
}
