/* bindshim check [-q] FILE...: validate policy files, every problem as
 * FILE:LINE: message, warnings about rules that cannot act as written, and
 * FILE: ok for each valid file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "shim/launcher/launcher.h"

/* Checks one file; returns 0 if valid, 1 if not. */
static int check_one(const char *file, bool quiet, char *buf)
{
	struct bs_policy *p = NULL;

	if (bs_policy_load(file, &p, buf, BS_ERRBUF)) {
		fputs(buf, stderr);
		return 1;
	}
	if (bs_policy_lint(p, buf, BS_ERRBUF) > 0)
		fputs(buf, stderr);
	bs_policy_free(p);
	if (!quiet)
		printf("%s: ok\n", file);
	return 0;
}

int bs_cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool quiet = false;
	int c, status = 0;
	char *buf;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		if (c == 'q') {
			quiet = true;
		} else if (c == 'h') {
			bs_help("check");
			return 0;
		} else {
			return bs_try_help("check");
		}
	}
	if (optind >= argc)
		return bs_usage_error("check", "no policy file given");
	buf = malloc(BS_ERRBUF);
	if (!buf) {
		fprintf(stderr, "bindshim check: out of memory\n");
		return BS_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		status |= check_one(argv[i], quiet, buf);
	free(buf);
	return status;
}
