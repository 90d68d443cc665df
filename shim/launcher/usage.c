/* Each verb's synopsis and help, and the one-line usage errors. The texts mirror
 * the SYNOPSIS and options of bindshim(1). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shim/common/env.h"
#include "shim/launcher/launcher.h"

struct verb_help {
	const char *verb;
	const char *synopsis;	/* after "bindshim " */
	const char *what;
	const char *options;
	int usage_status;
};

static const struct verb_help verbs[] = {
	{"run", "run [options] [--] COMMAND [ARG...]",
	 "Run COMMAND with libbindshim.so preloaded, under a bind policy. A TARGET is\n"
	 "loopback, an IP address or interface:NAME.",
	 " -p, --policy FILE          policy file (see bindshim.cfg(5))\n"
	 " -l, --loopback             built-in policy: non-loopback binds go to loopback\n"
	 " -t, --to TARGET            built-in policy: wildcard binds go to TARGET\n"
	 "     --log DEST             where records go: stderr (default), syslog or a FILE\n"
	 "     --log-format FORMAT    text (default) or json\n"
	 "     --dry-run              decide and log, but let every call proceed unchanged\n"
	 "     --enforce              refuse to run unless every descendant is supervised\n"
	 "     --preload-only         no supervisor: the shim alone\n"
	 "     --io-uring-errno NAME  the errno io_uring_setup fails with when supervised\n"
	 " -h, --help                 display this help\n",
	 BS_EXIT_RUN_FAIL},
	{"check", "check [-q] [--] FILE...",
	 "Validate policy files: every problem as FILE:LINE: message, FILE: ok if valid.",
	 " -q, --quiet                print problems and warnings only, not FILE: ok\n"
	 " -h, --help                 display this help\n",
	 BS_EXIT_USAGE},
	{"explain", "explain [options] ENDPOINT",
	 "Print what the shim would do with bind(ENDPOINT): ENDPOINT is ADDRESS:PORT,\n"
	 "IPv6 in brackets (0.0.0.0:8000, [::]:8000).",
	 " -p, --policy FILE          policy file (see bindshim.cfg(5))\n"
	 " -l, --loopback             built-in policy: non-loopback binds go to loopback\n"
	 " -t, --to TARGET            built-in policy: wildcard binds go to TARGET\n"
	 "     --udp                  judge a UDP socket (default: TCP)\n"
	 "     --program NAME         the program name rules see (default: none)\n"
	 "     --uid N                the user ID rules see (default: yours)\n"
	 "     --v6only               an IPv6 socket with IPV6_V6ONLY set (default:\n"
	 "                            dual-stack, as Linux makes them)\n"
	 "     --kernel               what the kernel program would do (bindshim system)\n"
	 " -h, --help                 display this help\n",
	 BS_EXIT_USAGE},
	{"audit", "audit [options]",
	 "List what listens in this network namespace, who owns it, whether it is exposed\n"
	 "and what the policy would do with it; exit 1 when something is exposed.",
	 " -p, --policy FILE          policy file (see bindshim.cfg(5))\n"
	 " -l, --loopback             built-in policy: non-loopback binds go to loopback\n"
	 " -t, --to TARGET            built-in policy: wildcard binds go to TARGET\n"
	 "     --json                 print a JSON array\n"
	 " -h, --help                 display this help\n",
	 BS_EXIT_USAGE},
	{"system", "system enable|reload|disable|status|watch [options]",
	 "Apply a policy to every process of a cgroup in the kernel (cgroup bind4/bind6\n"
	 "BPF programs), record what they do, or undo it.",
	 " -p, --policy FILE          policy file (default: /etc/bindshim/policy.cfg)\n"
	 "     --cgroup PATH          cgroup v2 directory (default: the root cgroup)\n"
	 "     --pin DIR              bpffs directory (default: /sys/fs/bpf/bindshim)\n"
	 "     --no-lsm               no BPF LSM program for listen()\n"
	 "     --record-rate N        enable, reload: records a second per uid (default\n"
	 "                            200; 0: no limit); more are counted and summed up\n"
	 "     --subuid FILE          enable, reload: subordinate uids, counted as their\n"
	 "                            owner's (default: /etc/subuid)\n"
	 "     --log DEST             watch: stderr (default), syslog or a FILE\n"
	 "     --log-format FORMAT    watch: text (default) or json\n"
	 " -h, --help                 display this help\n",
	 BS_EXIT_USAGE},
};

const char *bs_verb = "";

static const struct verb_help *find(const char *verb)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].verb, verb))
			return &verbs[i];
	return NULL;
}

void bs_usage(void)
{
	fputs("Usage:\n", stdout);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		printf(" bindshim %s\n", verbs[i].synopsis);
	fputs(" bindshim --help | --version\n\n"
	      "Decide where network servers may listen.\n\n"
	      "Run 'bindshim VERB --help' for a verb's options. See bindshim(1) and\n"
	      "bindshim.cfg(5).\n", stdout);
}

void bs_help(const char *verb)
{
	const struct verb_help *h = find(verb);

	if (!h) {
		bs_usage();
		return;
	}
	printf("Usage:\n bindshim %s\n\n%s\n\nOptions:\n%s\nSee bindshim(1).\n", h->synopsis,
	       h->what, h->options);
}

int bs_try_help(const char *verb)
{
	const struct verb_help *h = find(verb);

	fprintf(stderr, "Try 'bindshim%s%s --help'.\n", h ? " " : "", h ? verb : "");
	return h ? h->usage_status : BS_EXIT_USAGE;
}

int bs_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bindshim%s%s: ", *verb ? " " : "", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return bs_try_help(verb);
}
