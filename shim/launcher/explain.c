/* bindshim explain: print the decision the shim would take for bind(ENDPOINT),
 * through the very engine and rewrite code the shim uses. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/common/escape.h"
#include "shim/common/userns.h"
#include "shim/launcher/policyopt.h"
#include "shim/launcher/system.h"

/* Prints the two lines for outcome o of query endpoint ss. */
static void print_outcome(const struct bs_outcome *o, const struct sockaddr_storage *ss)
{
	char from[BS_ENDPOINT_MAX], to[BS_ENDPOINT_MAX], src[512], line[BS_ESCAPE_PER_BYTE * 512];

	bs_endpoint_format(ss, from, sizeof(from));
	if (o->err)
		printf("deny %s %s\n", from, bs_errno_name(o->err));
	else if (o->d.action == BS_REWRITE)
		printf("rewrite %s -> %s\n", from, bs_endpoint_format(&o->to, to, sizeof(to)));
	else
		printf("allow %s\n", from);
	/* The second line names a built-in policy as just "builtin"; a rule name or
	 * a file name with a newline must not add a line. */
	if (o->policy->builtin)
		snprintf(src, sizeof(src), "builtin");
	else
		bs_decision_source(o->policy, &o->d, src, sizeof(src));
	bs_text_escape(line, sizeof(line), src);
	printf("%s%s%s\n", line,
	       o->refused ? " (refused: the locked system policy does not allow the target)" : "",
	       o->kept ? " (the address it gives a wildcard bind: kept)" : "");
}

int bs_cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"loopback", no_argument, NULL, 'l'},
		{"to", required_argument, NULL, 't'},
		{"udp", no_argument, NULL, 'u'},
		{"program", required_argument, NULL, 'P'},
		{"uid", required_argument, NULL, 'U'},
		{"kernel", no_argument, NULL, 'K'},
		{"v6only", no_argument, NULL, '6'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct bs_policyopt po = {0};
	bool kernel = false;
	/* Without --uid, the caller's, as the shim would see it: unknown inside a user
	 * namespace, where uid 0 is not root. */
	struct bs_query q = {.proto = BS_PROTO_TCP,
			     .uid = bs_in_initial_userns() ? getuid() : (uid_t)-1};
	struct sockaddr_storage ss;
	struct bs_outcome o;
	struct bs_layers layers;
	long uid;
	int c;

	while ((c = getopt_long(argc, argv, "p:lt:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'l':
		case 't':
			if (bs_policyopt_take(&po, c, optarg))
				return BS_EXIT_USAGE;
			break;
		case 'u':
			q.proto = BS_PROTO_UDP;
			break;
		case 'P':
			q.program = optarg;
			break;
		case '6':
			q.v6only = true;
			break;
		case 'U':
			if (bs_parse_long(optarg, 0, 4294967294L, &uid))
				return bs_usage_error("explain", "bad uid \"%s\" (0-4294967294)",
						      optarg);
			q.uid = (uid_t)uid;
			break;
		case 'K':
			kernel = true;
			break;
		case 'h':
			bs_help("explain");
			return 0;
		default:
			return bs_try_help("explain");
		}
	}
	if (optind != argc - 1)
		return bs_usage_error("explain", "%s", optind == argc ? "no ENDPOINT given" :
				      "give exactly one ENDPOINT");
	if (bs_endpoint_parse(argv[optind], &ss))
		return bs_usage_error("explain", "bad endpoint \"%s\" (expected ADDRESS:PORT, "
				      "IPv6 in brackets: 0.0.0.0:8000, [::]:8000)", argv[optind]);
	if (kernel) {
		bs_query_set_sockaddr(&q, &ss);
		return bs_kexplain(&po, &q, &ss, q.v6only);
	}
	bs_policyopt_finish(&po);
	if (bs_policyopt_load(&po, &layers))
		return 1;
	bs_query_set_sockaddr(&q, &ss);
	bs_resolve_bind(layers.system, layers.user, &q, &ss, &o);
	print_outcome(&o, &ss);
	bs_layers_free(&layers);
	return 0;
}
