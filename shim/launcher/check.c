/* bindshim check FILE...: validate policy files, every problem as FILE:LINE: message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "shim/launcher/launcher.h"

int bs_cmd_check(int argc, char **argv)
{
	char *err;
	int status = 0, first = 1;

	if (argc > 1 && !strcmp(argv[1], "--"))
		first = 2;
	else if (argc > 1 && argv[1][0] == '-' && argv[1][1]) {
		fprintf(stderr, "bindshim check: unknown option \"%s\"\n", argv[1]);
		bs_usage();
		return BS_EXIT_USAGE;
	}
	if (argc <= first) {
		fprintf(stderr, "bindshim check: no policy file given\n");
		bs_usage();
		return BS_EXIT_USAGE;
	}
	err = malloc(BS_ERRBUF);
	if (!err) {
		perror("bindshim check");
		return BS_EXIT_USAGE;
	}
	for (int i = first; i < argc; i++) {
		struct bs_policy *p = NULL;

		if (bs_policy_load(argv[i], &p, err, BS_ERRBUF)) {
			fputs(err, stderr);
			status = 1;
		}
		bs_policy_free(p);
	}
	free(err);
	return status;
}
