/* bindshim: run a command under a bind policy, check policies, explain decisions,
 * audit what listens. One file per verb; usage.c holds their help texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/common/env.h"
#include "shim/launcher/launcher.h"
#include "shim/launcher/system.h"

const char *bs_progname = "bindshim";

static const struct {
	const char *name;
	const char *argv0;	/* what getopt's own messages start with */
	int (*fn)(int, char **);
} verbs[] = {
	{"run", "bindshim run", bs_cmd_run},
	{"check", "bindshim check", bs_cmd_check},
	{"explain", "bindshim explain", bs_cmd_explain},
	{"audit", "bindshim audit", bs_cmd_audit},
	{"system", "bindshim system", bs_cmd_system},
};

/* Tells whether name is an executable file found in PATH. */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH");

	if (!path || strchr(name, '/'))
		return false;
	while (*path) {
		size_t n = strcspn(path, ":");
		char cand[4096];
		struct stat st;

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, path, name);
		if (n && stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* Prints arg for a shell: as it is when it is plain, else in single quotes. */
static void print_word(const char *arg)
{
	if (*arg && !arg[strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"0123456789-_./=:,+@%")]) {
		fputs(arg, stderr);
		return;
	}
	fputc('\'', stderr);
	for (; *arg; arg++)
		fputs(*arg == '\'' ? "'\\''" : (char[]){*arg, '\0'}, stderr);
	fputc('\'', stderr);
}

/* An unknown verb: suggests `bindshim run --` when it names a program. */
static int unknown_verb(int argc, char **argv)
{
	if (!on_path(argv[1]))
		return bs_usage_error("", "unknown command \"%s\"", argv[1]);
	fprintf(stderr, "bindshim: unknown command \"%s\"; did you mean 'bindshim run --", argv[1]);
	for (int i = 1; i < argc; i++) {
		fputc(' ', stderr);
		print_word(argv[i]);
	}
	fputs("'?\n", stderr);
	return BS_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return bs_usage_error("", "no command given");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name)) {
			bs_verb = verbs[i].name;
			argv[1] = (char *)verbs[i].argv0;
			return verbs[i].fn(argc - 1, argv + 1);
		}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		bs_usage();
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("bindshim %s\n", BS_VERSION);
		return 0;
	}
	if (argv[1][0] == '-')
		return bs_usage_error("", "unknown option \"%s\"", argv[1]);
	return unknown_verb(argc, argv);
}
