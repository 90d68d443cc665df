/* bindshim: run a command under a bind policy, check policies, explain decisions. */
#include <stdio.h>
#include <string.h>

#include "shim/common/env.h"
#include "shim/launcher/launcher.h"
#include "shim/launcher/system.h"

const char *bs_progname = "bindshim";

void bs_usage(void)
{
	fprintf(stderr,
		"usage: bindshim run [-p FILE | -l | -t TARGET] [--log DEST] [--log-format text|json]\n"
		"                    [--dry-run] [--enforce [--io-uring-errno NAME]]\n"
		"                    [--] COMMAND [ARG...]\n"
		"       bindshim check FILE...\n"
		"       bindshim explain [-p FILE | -l | -t TARGET] [--udp] [--program NAME]\n"
		"                        [--uid N] [--kernel [--v6only]] ENDPOINT\n"
		"       bindshim audit [-p FILE | -l | -t TARGET] [--json]\n"
		"       bindshim system enable|reload|disable|status|watch [-p FILE]\n"
		"                       [--cgroup PATH] [--pin DIR] [--no-lsm]\n"
		"                       [--log DEST] [--log-format text|json]\n"
		"       bindshim --help | --version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		bs_usage();
		return BS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "run"))
		return bs_cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return bs_cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "explain"))
		return bs_cmd_explain(argc - 1, argv + 1);
	if (!strcmp(argv[1], "audit"))
		return bs_cmd_audit(argc - 1, argv + 1);
	if (!strcmp(argv[1], "system"))
		return bs_cmd_system(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		bs_usage();
		fprintf(stderr, "\nSee bindshim(1) and bindshim.cfg(5).\n");
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("bindshim %s\n", BS_VERSION);
		return 0;
	}
	fprintf(stderr, "bindshim: unknown command \"%s\"\n", argv[1]);
	bs_usage();
	return BS_EXIT_USAGE;
}
