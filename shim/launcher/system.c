/*
 * bindshim system enable|reload|disable|status|watch: kernel mode (kernel/), and
 * what `explain --kernel` and `audit` ask of it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/kernel.h"
#include "shim/common/env.h"
#include "shim/launcher/policyopt.h"
#include "shim/launcher/system.h"

/* The pin directory: --pin, else $BINDSHIM_PIN, else the default. */
static const char *pin_dir(const char *opt)
{
	const char *env = getenv(BS_ENV_KPIN);

	return opt ? opt : env && *env ? env : BS_KPIN_DIR;
}

/* path made absolute in buf (the working directory before it, symlinks left as
 * they are); path itself if it is absolute or cannot be made so. */
static const char *absolute(const char *path, char *buf, size_t len)
{
	size_t n;

	if (path[0] == '/' || !getcwd(buf, len))
		return path;
	n = strlen(buf);
	if ((size_t)snprintf(buf + n, len - n, "/%s", path) >= len - n)
		return path;
	return buf;
}

int bs_cmd_system(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"cgroup", required_argument, NULL, 'c'},
		{"pin", required_argument, NULL, 'P'},
		{"no-lsm", no_argument, NULL, 'N'},
		{"log", required_argument, NULL, 'L'},
		{"log-format", required_argument, NULL, 'F'},
		{"record-rate", required_argument, NULL, 'R'},
		{"subuid", required_argument, NULL, 'U'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct bs_kopts o = {.policy = BS_SYSTEM_POLICY, .rate = -1};
	char policy[PATH_MAX], subuid[PATH_MAX];
	const char *verb = argc > 1 ? argv[1] : "";
	int c;

	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		bs_help("system");
		return 0;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.policy = optarg;
			break;
		case 'c':
			o.cgroup = optarg;
			break;
		case 'P':
			o.pin = optarg;
			break;
		case 'N':
			o.no_lsm = true;
			break;
		case 'L':
			o.log = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return bs_usage_error("system", "bad --log-format \"%s\"", optarg);
			o.log_format = optarg;
			break;
		case 'R':
			if (bs_parse_long(optarg, 0, 1000000, &o.rate))
				return bs_usage_error("system", "bad --record-rate \"%s\" (records a "
						      "second per uid, 0 to 1000000; 0: no limit)",
						      optarg);
			break;
		case 'U':
			o.subuid = optarg;
			break;
		case 'h':
			bs_help("system");
			return 0;
		default:
			return bs_try_help("system");
		}
	}
	if (optind != argc)
		return bs_usage_error("system", "unexpected argument \"%s\"", argv[optind]);
	o.pin = pin_dir(o.pin);
	/* Files kept for later (status, watch, a plain reload) are kept absolute: those
	 * run from elsewhere. One that cannot be resolved fails where it is read. */
	o.policy = absolute(o.policy, policy, sizeof(policy));
	if (o.subuid)
		o.subuid = absolute(o.subuid, subuid, sizeof(subuid));
	if (o.rate >= 0 && strcmp(verb, "enable") && strcmp(verb, "reload"))
		return bs_usage_error("system", "--record-rate is for enable and reload");
	if (o.subuid && strcmp(verb, "enable") && strcmp(verb, "reload"))
		return bs_usage_error("system", "--subuid is for enable and reload");
	if (!strcmp(verb, "enable"))
		return bs_ksystem_enable(&o);
	if (!strcmp(verb, "reload"))
		return bs_ksystem_reload(&o);
	if (!strcmp(verb, "disable"))
		return bs_ksystem_disable(&o);
	if (!strcmp(verb, "status"))
		return bs_ksystem_status(&o);
	if (!strcmp(verb, "watch"))
		return bs_ksystem_watch(&o);
	return bs_usage_error("system", "expected enable, reload, disable, status or watch");
}

/* The tables explain --kernel uses: the given policy file compiled now, or else
 * the live tables, or else the system policy compiled now. */
static int explain_tables(const struct bs_policyopt *po, struct bs_ktables *t, char *file,
			  size_t len)
{
	struct bs_policy *p = NULL;
	char *err;
	int rc = po->given ? 0 : bs_ksystem_tables(pin_dir(NULL), t, file, len);

	if (!po->given && rc == 0)
		return 0;
	if (!po->given && bs_kpins_unusable(rc))
		fprintf(stderr, "bindshim explain --kernel: the live tables at %s cannot be read "
			"(%s); explaining the system policy instead\n", pin_dir(NULL),
			bs_kpins_unusable(rc));
	if (po->given && po->sel.kind != BS_SRC_FILE) {
		fprintf(stderr, "bindshim explain --kernel: the kernel applies a policy file: give "
			"-p FILE\n");
		return -1;
	}
	snprintf(file, len, "%s", po->given ? po->sel.arg : BS_SYSTEM_POLICY);
	err = malloc(BS_ERRBUF);
	if (!err)
		return -1;
	err[0] = '\0';
	rc = bs_policy_load(file, &p, err, BS_ERRBUF);
	if (!rc && (rc = bs_kcompile(p, t, err, BS_ERRBUF)))
		fprintf(stderr, "%s: ", file);
	if (rc)
		fputs(err, stderr);
	bs_policy_free(p);
	free(err);
	return rc ? -1 : 0;
}

int bs_kexplain(const struct bs_policyopt *po, const struct bs_query *q,
		const struct sockaddr_storage *ss, int v6only)
{
	struct bs_ktables t;
	struct bs_kquery kq = {.proto = (__u8)q->proto, .uid = (__u32)q->uid};
	struct bs_ksa from;
	struct bs_kout o;
	struct sockaddr_storage to;
	char file[256], a[BS_ENDPOINT_MAX], b[BS_ENDPOINT_MAX];
	const struct bs_kinfo *in;

	if (explain_tables(po, &t, file, sizeof(file)))
		return 1;
	/* The kernel sees comm: the first 15 characters of the program name. */
	if (q->program)
		snprintf(kq.comm, sizeof(kq.comm), "%s", q->program);
	bs_ksa_from(&from, ss);
	bs_kjudge(&t, &kq, &from, v6only, &o);
	bs_endpoint_format(ss, a, sizeof(a));
	if (o.err) {
		printf("deny %s %s\n", a, bs_errno_name(o.err));
	} else if (o.action == BS_REWRITE && from.port == 0 && t.nrules) {
		bs_ksa_to(&to, &o.to);
		printf("rewrite %s -> %s (with BPF LSM: left as it is at bind; listen() is "
		       "refused with EADDRNOTAVAIL)\n", a, bs_endpoint_format(&to, b, sizeof(b)));
	} else if (o.action == BS_REWRITE) {
		bs_ksa_to(&to, &o.to);
		printf("rewrite %s -> %s\n", a, bs_endpoint_format(&to, b, sizeof(b)));
	} else {
		printf("allow %s\n", a);
	}
	in = o.rule >= 0 ? &t.info[o.rule] : NULL;
	if (in)
		printf("rule \"%s\" %s:%u%s (kernel)\n", in->name, file, in->line,
		       o.once ? ": a wildcard bind is rewritten to exactly this address, which "
		       "stays" : "");
	else
		printf("default (kernel)\n");
	bs_ktables_free(&t);
	return 0;
}

void bs_kaudit(void)
{
	bs_kaudit_print(pin_dir(NULL));
}
