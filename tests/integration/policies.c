/* Policies applied to real programs: targets, errno injection, port rewrite, the
 * container case, chains, dry runs, raw LD_PRELOAD and the fail-safe. Ports 20xxx. */
#include <stdio.h>
#include <unistd.h>

#include "tests/integration/support.h"

/* Writes a policy into a fresh temp dir; returns its path (static per slot). */
static const char *policy(const char *text)
{
	static char paths[4][256];
	static int n;
	char *path = paths[n++ % 4];

	snprintf(path, sizeof(paths[0]), "%s/policy.cfg", bs_tmpdir());
	return bs_write_file(path, text);
}

Test(policies, to_interface_puts_server_on_its_address)
{
	char addr[64];
	pid_t pid = bs_spawn(NULL, "exec %s run --to interface:bs0 -- python3 -m http.server "
			     "20001 --bind 0.0.0.0 --directory /tmp", BINDSHIM);

	cr_assert(bs_wait_port("tcp", 20001, 10000, addr, sizeof(addr)));
	cr_expect_str_eq(addr, LAB4);
	cr_expect_eq(bs_tcp_connect(LAB4, 20001), 0);
	cr_expect_eq(bs_tcp_connect("127.0.0.1", 20001), ECONNREFUSED);
	bs_stop(pid);
}

Test(policies, to_interface_ipv6)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run --to interface:bs0 -- %s bind --v6only 1 :: 20002", BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bound 2001:db8::7 20002\n", "%s", p.err);
}

Test(policies, interface_without_address_fails_with_eaddrnotavail)
{
	const char *pol = policy("version = 1;\nrules = ( { name = \"lab\"; match = { address = "
				 "\"wildcard\"; }; action = \"rewrite\"; to = \"interface:nosuch0\"; } );\n");
	struct bs_proc p;

	/* -t names an interface now: it must exist, or nothing runs. */
	cr_expect_eq(bs_sh(&p, 30, "%s run --to interface:nosuch0 -- %s bind 0.0.0.0 20003",
			   BINDSHIM, PROBE), 125);
	cr_expect_str_eq(p.out, "");
	cr_expect_str_eq(p.err, "bindshim run: -t: no interface \"nosuch0\"\n");
	/* A policy's may come up later: a warning, then binds fail until it does, and
	 * the record says which interface. */
	bs_sh(&p, 30, "%s run -p %s -- %s bind 0.0.0.0 20003", BINDSHIM, pol, PROBE);
	cr_expect_str_eq(p.out, "error bind EADDRNOTAVAIL\n");
	cr_expect(strstr(p.err, "warning: rule \"lab\" (") && strstr(p.err, "rewrites to interface "
		  "nosuch0, which does not exist"), "%s", p.err);
	cr_expect(strstr(p.err, "deny tcp 0.0.0.0:20003 EADDRNOTAVAIL (rule \"lab\" ") &&
		  strstr(p.err, ":2: interface nosuch0 has no address of this family)\n"), "%s", p.err);
}

Test(policies, deny_with_eaddrinuse_reaches_python_as_98)
{
	const char *pol = policy("version = 1;\nrules = ( { name = \"busy\"; match = { port = 20004; };"
				 " action = \"deny\"; errno = \"EADDRINUSE\"; } );\n");
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -p %s -- python3 -c \"import socket\n"
	      "try:\n    socket.socket().bind(('0.0.0.0', 20004))\n"
	      "except OSError as e:\n    print('errno', e.errno)\"", BINDSHIM, pol);
	cr_expect_str_eq(p.out, "errno 98\n", "%s", p.err);
	cr_expect(strstr(p.err, "python3: deny tcp 0.0.0.0:20004 EADDRINUSE (rule \"busy\" "),
		  "%s", p.err);
}

Test(policies, to_port_moves_the_server)
{
	const char *pol = policy("version = 1;\nrules = ( { match = { port = 20005; };"
				 " action = \"rewrite\"; to = \"loopback\"; to_port = 20006; } );\n");
	char addr[64];
	pid_t pid = bs_spawn(NULL, "exec %s run -p %s -- python3 -m http.server 20005 "
			     "--bind 0.0.0.0 --directory /tmp", BINDSHIM, pol);

	cr_assert(bs_wait_port("tcp", 20006, 10000, addr, sizeof(addr)));
	cr_expect_str_eq(addr, "127.0.0.1");
	cr_expect(!bs_wait_port("tcp", 20005, 100, NULL, 0), "still on the asked port");
	bs_stop(pid);
}

Test(policies, container_case_loopback_to_wildcard)
{
	const char *pol = policy("version = 1;\nrules = (\n"
				 "  { match = { address = \"127.0.0.1\"; }; action = \"rewrite\"; to = \"0.0.0.0\"; },\n"
				 "  { match = { address = \"::1\"; }; action = \"rewrite\"; to = \"::\"; }\n);\n");
	char addr[64];
	pid_t pid = bs_spawn(NULL, "exec %s run -p %s -- python3 -m http.server 20007 "
			     "--bind 127.0.0.1 --directory /tmp", BINDSHIM, pol);

	cr_assert(bs_wait_port("tcp", 20007, 10000, addr, sizeof(addr)));
	cr_expect_str_eq(addr, "0.0.0.0");
	cr_expect_eq(bs_tcp_connect(LAB4, 20007), 0, "unreachable from outside");
	bs_stop(pid);
}

Test(policies, shell_shell_server_chain_stays_under_policy)
{
	pid_t pid = bs_spawn(NULL, "exec %s run -l -- sh -c 'sh -c \"python3 -m http.server "
			     "20008 --bind 0.0.0.0 --directory /tmp\"'", BINDSHIM);

	assert_tcp_loopback_only(20008, NULL);
	bs_stop(pid);
}

Test(policies, dry_run_logs_and_changes_nothing)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -l --dry-run -- %s bind 0.0.0.0 20009", BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bound 0.0.0.0 20009\n");
	cr_expect(strstr(p.err, "probe: dry-run rewrite tcp 0.0.0.0:20009 -> 127.0.0.1:20009 "
			 "(rule \"not-loopback\" builtin)"), "%s", p.err);
}

Test(policies, log_allowed_and_log_action)
{
	const char *pol = policy("version = 1;\nlog = { allowed = true; };\nrules = (\n"
				 "  { name = \"watch\"; match = { port = 20011; }; action = \"log\"; }\n);\n");
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -p %s -- %s bind 127.0.0.1 20010", BINDSHIM, pol, PROBE);
	cr_expect(strstr(p.err, "probe: allow tcp 127.0.0.1:20010 (default)"), "%s", p.err);
	bs_sh(&p, 30, "%s run -p %s -- %s bind 0.0.0.0 20011", BINDSHIM, pol, PROBE);
	cr_expect_str_eq(p.out, "bound 0.0.0.0 20011\n");
	cr_expect(strstr(p.err, "probe: log tcp 0.0.0.0:20011 (rule \"watch\" "), "%s", p.err);
}

Test(policies, allowed_binds_are_silent_by_default)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -l -- %s bind 127.0.0.1 20012", BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 20012\n");
	cr_expect_str_eq(p.err, "");
}

Test(policies, raw_ld_preload_with_bindshim_policy)
{
	const char *pol = policy("version = 1;\nrules = ( { match = { address = \"wildcard\"; };"
				 " action = \"rewrite\"; to = \"interface:bs0\"; } );\n");
	struct bs_proc p;

	bs_sh(&p, 30, "LD_PRELOAD=%s BINDSHIM_POLICY=%s %s bind 0.0.0.0 20013",
	      bs_build("libbindshim.so"), pol, PROBE);
	cr_expect_str_eq(p.out, "bound " LAB4 " 20013\n", "%s", p.err);
}

Test(policies, unloadable_policy_fails_safe_with_one_error_record)
{
	const char *bad = policy("version = 1;\nrules = ( { action = \"jump\"; } );\n");
	struct bs_proc p;

	bs_sh(&p, 30, "LD_PRELOAD=%s BINDSHIM_POLICY=%s %s threads 2 20020",
	      bs_build("libbindshim.so"), bad, PROBE);
	cr_expect_str_eq(p.out, "threads 2 binds 8 escaped 0 failed 0\n", "%s", p.err);
	cr_expect_eq(bs_count(p.err, ": error "), 1, "%s", p.err);
	cr_expect(strstr(p.err, "policy.cfg:2: bad action \"jump\""), "%s", p.err);
	bs_sh(&p, 30, "LD_PRELOAD=%s BINDSHIM_POLICY=/nonexistent/policy.cfg %s bind 0.0.0.0 20030",
	      bs_build("libbindshim.so"), PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 20030\n");
	cr_expect(strstr(p.err, "error /nonexistent/policy.cfg: cannot open: No such file"),
		  "%s", p.err);
}

Test(policies, program_and_proto_rules)
{
	const char *pol = policy("version = 1;\nrules = (\n"
				 "  { match = { program = \"pro*\"; proto = \"udp\"; }; action = \"deny\"; errno = \"EPERM\"; }\n);\n");
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -p %s -- %s bind --udp 0.0.0.0 20031", BINDSHIM, pol, PROBE);
	cr_expect_str_eq(p.out, "error bind EPERM\n");
	bs_sh(&p, 30, "%s run -p %s -- %s bind 0.0.0.0 20031", BINDSHIM, pol, PROBE);
	cr_expect_str_eq(p.out, "bound 0.0.0.0 20031\n", "tcp must be allowed");
}
