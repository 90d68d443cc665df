/* Decision tables over fixture policies, formatted as `bindshim explain` prints them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

struct row {
	const char *endpoint;
	unsigned proto;
	const char *program, *exe;
	uid_t uid;
	const char *want;		/* "line1\nline2" */
};

/* Formats the decision for r the way explain does. */
static void explain(const struct bs_policy *p, const struct row *r, char *out, size_t len)
{
	struct sockaddr_storage ss, to;
	struct bs_query q = {.proto = r->proto ? r->proto : BS_PROTO_TCP, .program = r->program,
			     .exe = r->exe, .uid = r->uid};
	struct bs_decision d;
	char from[BS_ENDPOINT_MAX], tos[BS_ENDPOINT_MAX], src[512], first[256];

	cr_assert_eq(bs_endpoint_parse(r->endpoint, &ss), 0, "%s", r->endpoint);
	bs_query_set_sockaddr(&q, &ss);
	bs_decide(p, &q, &d);
	bs_endpoint_format(&ss, from, sizeof(from));
	if (d.action == BS_DENY)
		snprintf(first, sizeof(first), "deny %s %s", from, bs_errno_name(d.err));
	else if (d.action == BS_REWRITE) {
		/* The table's IPv6 sockets are V6ONLY ([::] -> [::1]); dual_stack below
		 * has the other kind. */
		int rc = bs_rewrite(d.rule, &ss, true, &to);

		if (rc)
			snprintf(first, sizeof(first), "deny %s %s", from, bs_errno_name(-rc));
		else
			snprintf(first, sizeof(first), "rewrite %s -> %s", from,
				 bs_endpoint_format(&to, tos, sizeof(tos)));
	} else
		snprintf(first, sizeof(first), "%s %s", d.action == BS_LOG ? "log" : "allow", from);
	if (d.rule)
		snprintf(src, sizeof(src), "%s", d.rule->name);
	else
		snprintf(src, sizeof(src), "%s", p->builtin ? "builtin" : "default");
	snprintf(out, len, "%s\n%s", first, src);
}

static struct bs_policy *load(const char *name)
{
	char path[4096], err[4096];
	const char *src = getenv("BS_SRC");
	struct bs_policy *p = NULL;

	snprintf(path, sizeof(path), "%s/tests/fixtures/valid/%s", src ? src : ".", name);
	cr_assert_eq(bs_policy_load(path, &p, err, sizeof(err)), 0, "%s", err);
	return p;
}

static void run_table(const struct bs_policy *p, const struct row *rows, size_t n)
{
	char got[1024];

	for (size_t i = 0; i < n; i++) {
		explain(p, &rows[i], got, sizeof(got));
		cr_expect_str_eq(got, rows[i].want, "row %zu: %s", i, rows[i].endpoint);
	}
}

#define TCP BS_PROTO_TCP
#define UDP BS_PROTO_UDP

Test(decide, fixture_table)
{
	static const struct row rows[] = {
		/* CIDR edges /32 and /128, and first match before "ssh" */
		{"127.0.0.1:22", 0, NULL, NULL, 500, "allow 127.0.0.1:22\nloop4-32"},
		{"127.0.0.2:22", 0, NULL, NULL, 500, "deny 127.0.0.2:22 EPERM\nssh"},
		{"[::1]:22", 0, NULL, NULL, 500, "allow [::1]:22\nloop6-128"},
		{"[::2]:22", 0, NULL, NULL, 500, "deny [::2]:22 EPERM\nssh"},
		/* proto */
		{"0.0.0.0:53", UDP, NULL, NULL, 500, "allow 0.0.0.0:53\ndns-udp"},
		{"0.0.0.0:53", TCP, NULL, NULL, 500, "deny 0.0.0.0:53 ECONNREFUSED\ndns-tcp"},
		/* port lists and ranges, wildcard in each family */
		{"0.0.0.0:80", 0, NULL, NULL, 500, "rewrite 0.0.0.0:80 -> 127.0.0.1:80\nweb"},
		{"[::]:8000", 0, NULL, NULL, 500, "rewrite [::]:8000 -> [::1]:8000\nweb"},
		{"[::ffff:0.0.0.0]:8099", 0, NULL, NULL, 500,
		 "rewrite [::ffff:0.0.0.0]:8099 -> [::ffff:127.0.0.1]:8099\nweb"},
		{"0.0.0.0:8100", 0, NULL, NULL, 500, "deny 0.0.0.0:8100 EACCES\ndefault"},
		{"0.0.0.0:79", 0, NULL, NULL, 500, "deny 0.0.0.0:79 EACCES\ndefault"},
		{"10.0.0.1:8050", 0, NULL, NULL, 500, "deny 10.0.0.1:8050 EACCES\ndefault"},
		/* address lists, v4-mapped matching an IPv4 CIDR */
		{"198.51.100.99:5", 0, NULL, NULL, 500, "allow 198.51.100.99:5\nlab"},
		{"[::ffff:198.51.100.5]:5", 0, NULL, NULL, 500, "allow [::ffff:198.51.100.5]:5\nlab"},
		{"[2001:db8:ffff::1]:5", 0, NULL, NULL, 500, "allow [2001:db8:ffff::1]:5\nlab"},
		{"[2001:db9::1]:5", 0, NULL, NULL, 500, "deny [2001:db9::1]:5 EACCES\ndefault"},
		{"198.51.101.1:5", 0, NULL, NULL, 500, "deny 198.51.101.1:5 EACCES\ndefault"},
		/* program globs and family, to + to_port, IPv4 target on a mapped socket */
		{"0.0.0.0:5000", 0, "python3", NULL, 500, "rewrite 0.0.0.0:5000 -> 192.0.2.1:9999\npy"},
		{"[::]:5000", 0, "python3", NULL, 500, "deny [::]:5000 EACCES\ndefault"},
		{"[::ffff:0.0.0.0]:5000", 0, "node", NULL, 500,
		 "rewrite [::ffff:0.0.0.0]:5000 -> [::ffff:192.0.2.1]:9999\npy"},
		{"0.0.0.0:5000", 0, "nodejs", NULL, 500, "deny 0.0.0.0:5000 EACCES\ndefault"},
		{"0.0.0.0:5000", 0, NULL, NULL, 500, "deny 0.0.0.0:5000 EACCES\ndefault"},
		/* exe */
		{"0.0.0.0:5000", 0, NULL, "/usr/bin/foo", 500, "log 0.0.0.0:5000\nusr-bin"},
		{"0.0.0.0:5000", 0, NULL, "/usr/local/bin/foo", 500, "deny 0.0.0.0:5000 EACCES\ndefault"},
		/* uid lists, interface target in each family */
		{"0.0.0.0:5000", 0, NULL, NULL, 1001, "rewrite 0.0.0.0:5000 -> 127.0.0.1:5000\nusers"},
		{"[::]:5000", 0, NULL, NULL, 1000, "rewrite [::]:5000 -> [::1]:5000\nusers"},
		/* family with a port range */
		{"[::]:9500", 0, NULL, NULL, 500, "rewrite [::]:9500 -> [::1]:9500\nv6fam"},
		{"0.0.0.0:9500", 0, NULL, NULL, 500, "deny 0.0.0.0:9500 EACCES\ndefault"},
		/* /0 in each family; 0.0.0.0 as an exact IP is only the IPv4 wildcard */
		{"203.0.113.9:7000", 0, NULL, NULL, 500, "allow 203.0.113.9:7000\nall-v4"},
		{"[2001:db9::1]:7000", 0, NULL, NULL, 500, "log [2001:db9::1]:7000\nall-v6"},
		{"[::ffff:203.0.113.9]:7000", 0, NULL, NULL, 500, "allow [::ffff:203.0.113.9]:7000\nall-v4"},
		{"0.0.0.0:7001", 0, NULL, NULL, 500, "allow 0.0.0.0:7001\nexact-wild"},
		{"0.0.0.1:7001", 0, NULL, NULL, 500, "deny 0.0.0.1:7001 EACCES\ndefault"},
		{"[::]:7001", 0, NULL, NULL, 500, "deny [::]:7001 EACCES\ndefault"},
		{"[::ffff:0.0.0.0]:7001", 0, NULL, NULL, 500, "allow [::ffff:0.0.0.0]:7001\nexact-wild"},
		{"[fe80::1]:7002", 0, NULL, NULL, 500, "allow [fe80::1]:7002\nany-7002"},
		/* a v4-mapped CIDR is matched as the IPv4 network it contains */
		{"203.0.113.77:7003", 0, NULL, NULL, 500, "allow 203.0.113.77:7003\nmapped-net"},
		{"203.0.114.1:7003", 0, NULL, NULL, 500, "deny 203.0.114.1:7003 EACCES\ndefault"},
		/* user resolved to a uid at load */
		{"0.0.0.0:7004", 0, NULL, NULL, 0, "allow 0.0.0.0:7004\nroot-user"},
		{"0.0.0.0:7004", 0, NULL, NULL, 500, "deny 0.0.0.0:7004 EACCES\ndefault"},
		/* port 0 (ephemeral); :: as target of an IPv4 socket is its wildcard */
		{"127.0.0.5:0", 0, NULL, NULL, 500, "rewrite 127.0.0.5:0 -> 0.0.0.0:0\nport0"},
		{"[2001:db9::5]:0", 0, NULL, NULL, 500, "rewrite [2001:db9::5]:0 -> [::]:0\nport0"},
	};
	struct bs_policy *p = load("decide.cfg");

	run_table(p, rows, sizeof(rows) / sizeof(rows[0]));
	bs_policy_free(p);
}

Test(decide, default_allow)
{
	static const struct row rows[] = {
		{"1.2.3.4:1", 0, NULL, NULL, 0, "deny 1.2.3.4:1 EACCES\nonly"},
		{"1.2.3.4:2", 0, NULL, NULL, 0, "allow 1.2.3.4:2\ndefault"},
	};
	struct bs_policy *p = load("allow-default.cfg");

	run_table(p, rows, 2);
	bs_policy_free(p);
}

Test(decide, builtin_loopback)
{
	static const struct row rows[] = {
		{"0.0.0.0:80", 0, NULL, NULL, 0, "rewrite 0.0.0.0:80 -> 127.0.0.1:80\nnot-loopback"},
		{"127.9.9.9:80", 0, NULL, NULL, 0, "allow 127.9.9.9:80\nloopback"},
		{"[::]:80", 0, NULL, NULL, 0, "rewrite [::]:80 -> [::1]:80\nnot-loopback"},
		{"[::1]:80", 0, NULL, NULL, 0, "allow [::1]:80\nloopback"},
		{"[::ffff:127.0.0.1]:80", 0, NULL, NULL, 0, "allow [::ffff:127.0.0.1]:80\nloopback"},
		{"[::ffff:0.0.0.0]:80", 0, NULL, NULL, 0,
		 "rewrite [::ffff:0.0.0.0]:80 -> [::ffff:127.0.0.1]:80\nnot-loopback"},
	};
	struct bs_policy *p = NULL;

	cr_assert_eq(bs_policy_builtin_loopback(&p), 0);
	cr_expect(p->builtin);
	run_table(p, rows, 6);
	bs_policy_free(p);
	/* The constant copy, used while the shim starts, decides the same. */
	run_table(bs_policy_static_loopback(), rows, 6);
}

Test(decide, builtin_to)
{
	static const struct row rows[] = {
		{"0.0.0.0:80", 0, NULL, NULL, 0, "rewrite 0.0.0.0:80 -> 192.0.2.7:80\nwildcard to 192.0.2.7"},
		{"[::]:80", 0, NULL, NULL, 0, "rewrite [::]:80 -> [::ffff:192.0.2.7]:80\nwildcard to 192.0.2.7"},
		{"192.0.2.9:80", 0, NULL, NULL, 0, "allow 192.0.2.9:80\nbuiltin"},
	};
	struct bs_policy *p = NULL;
	char err[256];

	cr_assert_eq(bs_policy_builtin_to("192.0.2.7", &p, err, sizeof(err)), 0);
	run_table(p, rows, 3);
	bs_policy_free(p);
	cr_expect_neq(bs_policy_builtin_to("10.0.0.0/8", &p, err, sizeof(err)), 0);
	cr_expect(strstr(err, "bad target \"10.0.0.0/8\""), "%s", err);
}

/* One layered outcome, as "deny ERRNO" / "rewrite TO" / "allow", then the rule. */
static void expect_layered(const struct bs_policy *sys, const struct bs_policy *usr,
			   const char *endpoint, const char *want)
{
	struct sockaddr_storage ss;
	struct bs_query q = {.proto = BS_PROTO_TCP};
	struct bs_outcome o;
	char got[256], to[BS_ENDPOINT_MAX];

	cr_assert_eq(bs_endpoint_parse(endpoint, &ss), 0);
	bs_query_set_sockaddr(&q, &ss);
	bs_resolve_layered(sys, usr, &q, &ss, &o);
	if (o.err)
		snprintf(got, sizeof(got), "deny %s %s%s", bs_errno_name(o.err),
			 o.d.rule ? o.d.rule->name : "default", o.refused ? " refused" : "");
	else if (o.d.action == BS_REWRITE)
		snprintf(got, sizeof(got), "rewrite %s %s", bs_endpoint_format(&o.to, to, sizeof(to)),
			 o.d.rule->name);
	else
		snprintf(got, sizeof(got), "allow %s", o.d.rule ? o.d.rule->name : "default");
	cr_expect_str_eq(got, want, "%s", endpoint);
}

Test(decide, locked_system_policy_over_a_users)
{
	struct bs_policy *sys = load("locked-system.cfg"), *usr = load("user.cfg");

	cr_expect(sys->locked);
	/* The system decides first: its denials stand; where it rewrites to, the
	 * user's policy may still deny, or move within what the system allows. */
	expect_layered(sys, usr, "0.0.0.0:22", "deny EACCES no-ssh");
	expect_layered(sys, usr, "0.0.0.0:8002", "deny EPERM no-8002");
	expect_layered(sys, usr, "0.0.0.0:8003", "rewrite 127.0.0.1:9003 move");
	expect_layered(sys, usr, "0.0.0.0:8005", "rewrite 127.0.0.1:8005 to-loopback");
	expect_layered(sys, usr, "0.0.0.0:8000", "deny EACCES open-up refused");
	/* Allowed unchanged by the system: the user's policy may restrict... */
	expect_layered(sys, usr, "127.0.0.1:8002", "deny EPERM no-8002");
	expect_layered(sys, usr, "127.0.0.1:8003", "rewrite 127.0.0.1:9003 move");
	/* ...but a rewrite must land where the system allows unchanged. */
	expect_layered(sys, usr, "127.0.0.1:8000", "deny EACCES open-up refused");
	expect_layered(sys, usr, "127.0.0.1:8001", "rewrite 198.51.100.7:8001 to-lab");
	expect_layered(sys, usr, "127.0.0.1:8004", "allow default");
	/* No user policy: the system alone. Not locked: the user's alone. */
	expect_layered(sys, NULL, "127.0.0.1:8000", "allow loopback");
	expect_layered(NULL, usr, "127.0.0.1:8000", "rewrite 0.0.0.0:8000 open-up");
	bs_policy_free(sys);
	bs_policy_free(usr);
}

/* Decides endpoint for program under p with bs_resolve_bind, as explain prints it. */
static void expect_bind(const struct bs_policy *p, const char *endpoint, const char *program,
			bool v6only, const char *want)
{
	struct sockaddr_storage ss;
	struct bs_query q = {.proto = BS_PROTO_TCP, .program = program, .v6only = v6only};
	struct bs_outcome o;
	char got[256], to[BS_ENDPOINT_MAX];

	cr_assert_eq(bs_endpoint_parse(endpoint, &ss), 0);
	bs_query_set_sockaddr(&q, &ss);
	bs_resolve_bind(NULL, p, &q, &ss, &o);
	if (o.err)
		snprintf(got, sizeof(got), "deny %s", bs_errno_name(o.err));
	else if (o.d.action == BS_REWRITE)
		snprintf(got, sizeof(got), "rewrite %s", bs_endpoint_format(&o.to, to, sizeof(to)));
	else
		snprintf(got, sizeof(got), "allow%s", o.kept ? " kept" : "");
	snprintf(got + strlen(got), sizeof(got) - strlen(got), " %s",
		 o.d.rule ? o.d.rule->name : "default");
	cr_expect_str_eq(got, want, "%s %s", endpoint, program ? program : "");
}

Test(decide, dual_stack_wildcard_goes_to_mapped_loopback)
{
	struct bs_policy *p = NULL;

	cr_assert_eq(bs_policy_builtin_loopback(&p), 0);
	/* A dual-stack [::] takes IPv4 too: ::ffff:127.0.0.1 keeps it reachable as
	 * 127.0.0.1 and as localhost; a V6ONLY one gets ::1. */
	expect_bind(p, "[::]:80", NULL, false, "rewrite [::ffff:127.0.0.1]:80 not-loopback");
	expect_bind(p, "[::]:80", NULL, true, "rewrite [::1]:80 not-loopback");
	expect_bind(p, "[::ffff:0.0.0.0]:80", NULL, true,
		    "rewrite [::ffff:127.0.0.1]:80 not-loopback");
	expect_bind(p, "[2001:db8::7]:80", NULL, false, "rewrite [::1]:80 not-loopback");
	bs_policy_free(p);
}

Test(decide, a_rewrite_output_is_kept)
{
	struct bs_policy *p = load("chained.cfg");

	/* The README's sample: "dev" sends python3's wildcard binds to loopback, and
	 * "containers" sends 127.0.0.1 to 0.0.0.0. One decision: the address "dev"
	 * gave (by getaddrinfo, or the shim's own rewrite) is kept, not rewritten
	 * again into the wildcard. */
	expect_bind(p, "0.0.0.0:8000", "python3", false, "rewrite 127.0.0.1:8000 dev");
	expect_bind(p, "127.0.0.1:8000", "python3", false, "allow kept dev");
	expect_bind(p, "[::1]:8000", "python3", true, "allow default");
	expect_bind(p, "[::ffff:127.0.0.1]:8000", "python3", false, "allow kept dev");
	/* Not what "dev" gives: judged as it is. */
	expect_bind(p, "127.0.0.1:8000", "nginx", false, "rewrite 0.0.0.0:8000 containers");
	expect_bind(p, "127.0.0.1:7000", "python3", false, "rewrite 0.0.0.0:7000 containers");
	expect_bind(p, "127.0.0.2:8000", "python3", false, "rewrite 0.0.0.0:8000 containers");
	/* A deny of the output is overridden the same way: the wildcard lands there. */
	expect_bind(p, "127.0.0.1:8022", "python3", false, "allow kept dev");
	expect_bind(p, "127.0.0.1:8022", "nginx", false, "deny EACCES no-8022");
	bs_policy_free(p);
}
