/* The cases existing shims get wrong. Ports 19xxx. */
#include <stdio.h>
#include <unistd.h>

#include "tests/integration/support.h"

/* Runs the probe under `bindshim run ARGS`; returns its output in p. */
#define RUN_PROBE(p, args, probe_args) \
	bs_sh((p), 30, "%s run %s -- %s %s", BINDSHIM, args, PROBE, probe_args)

Test(hard, listen_without_bind_ipv4)
{
	char out[128];
	struct bs_proc p;

	RUN_PROBE(&p, "-l", "listen-unbound");
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_assert(sscanf(p.out, "listening %127s", out) == 1, "%s", p.out);
	cr_expect_str_eq(out, "127.0.0.1");
	cr_expect(strstr(p.err, "rewrite tcp 0.0.0.0:0 -> 127.0.0.1:0 (rule \"not-loopback\" "
			 "builtin) in listen()"), "%s", p.err);
}

Test(hard, listen_without_bind_ipv6_really_listens_on_loopback)
{
	char log[256], body[4096];
	unsigned port;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	pid = bs_spawn(log, "exec %s run -l -- %s listen-unbound --v6 --hold 10", BINDSHIM, PROBE);
	for (int i = 0; i < 200 && !strstr(body, "listening"); i++) {
		usleep(25000);
		bs_read_file(log, body, sizeof(body));
	}
	/* The kernel would listen on a dual-stack [::]: loopback, reachable as
	 * 127.0.0.1 too. */
	cr_assert(sscanf(strstr(body, "listening") ? strstr(body, "listening") : "",
			 "listening ::ffff:127.0.0.1 %u", &port) == 1, "%s", body);
	cr_expect_str_eq(assert_tcp_loopback_only(port, log), "::ffff:127.0.0.1");
	bs_stop(pid);
}

Test(hard, port_zero_then_getsockname_then_listen)
{
	char log[256], body[4096] = "", *s;
	unsigned read_port = 0, served = 0;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	pid = bs_spawn(log, "exec %s run -l -- %s port0 --hold 10", BINDSHIM, PROBE);
	for (int i = 0; i < 200 && !strstr(body, "serving"); i++) {
		usleep(25000);
		bs_read_file(log, body, sizeof(body));
	}
	s = strstr(body, "read ");
	cr_assert(s && sscanf(s, "read 127.0.0.1 %u\nserving 127.0.0.1 %u", &read_port, &served) == 2,
		  "%s", body);
	cr_expect_eq(read_port, served, "read port %u, serving %u", read_port, served);
	assert_tcp_loopback_only(read_port, log);
	bs_stop(pid);
}

/* A client in the "remote host" namespace binds wildcard:0 and talks to a server on
 * 198.51.100.7, which is not local to it: only a socket with a real address gets
 * there, so a naive loopback rewrite fails this. The bind is rewritten like any
 * other; the socket becomes a client's again when it connects or sends to another
 * host. */
static void client_in_mode(const char *mode, const char *how, unsigned port, const char *bind_ip)
{
	bool udp = !strncmp(how, "udp", 3);
	const char *proto = udp ? "udp" : "tcp";
	struct bs_proc p;
	pid_t server = bs_spawn(NULL, "exec %s echo %s " LAB4 " %u 1", PROBE, proto, port);
	char expect[128];

	cr_assert(bs_wait_port(proto, port, 5000, NULL, 0));
	bs_sh(&p, 30, IN_PEER "%s run %s -l -- %s client %s " LAB4 " %u --bind %s 0", BINDSHIM,
	      mode, PROBE, how, port, bind_ip);
	bs_stop(server);
	cr_assert_eq(p.status, 0, "client failed: %s\n%s", p.out, p.err);
	cr_expect(strstr(p.out, "bound 127.0.0.1 "), "the bind was not rewritten: %s", p.out);
	/* An unconnected UDP socket reports the wildcard it is bound to. */
	cr_expect(strstr(p.out, udp ? "reply ping from 0.0.0.0 " : "reply ping from 198.51.100.8 "),
		  "%s", p.out);
	snprintf(expect, sizeof(expect), "in %s() to " LAB4 ":%u", udp ? "sendto" : "connect", port);
	cr_expect(strstr(p.err, expect), "no client record: %s", p.err);
}

/* The same with the shim alone and under the supervisor (port + 100). */
static void client_reaches_peer(const char *how, unsigned port, const char *bind_ip)
{
	client_in_mode("--preload-only", how, port, bind_ip);
	client_in_mode("", how, port + 100, bind_ip);
}

Test(hard, tcp_client_bound_to_wildcard_reaches_remote_peer)
{
	client_reaches_peer("tcp", 19010, "0.0.0.0");
}

Test(hard, udp_client_bound_to_wildcard_reaches_remote_peer)
{
	client_reaches_peer("udp", 19011, "0.0.0.0");
}

Test(hard, udp_clients_using_sendmsg_and_sendmmsg_reach_remote_peers)
{
	client_reaches_peer("udp-sendmsg", 19014, "0.0.0.0");
	client_reaches_peer("udp-sendmmsg", 19015, "0.0.0.0");
}

Test(hard, tcp_client_bound_to_its_own_address_reaches_remote_peer)
{
	client_reaches_peer("tcp", 19012, "198.51.100.8");
}

Test(hard, client_talking_to_loopback_stays_on_loopback)
{
	struct bs_proc p;
	pid_t server = bs_spawn(NULL, IN_PEER "%s echo tcp 127.0.0.1 19013 1", PROBE);

	usleep(300000);
	bs_sh(&p, 30, IN_PEER "%s run -l -- %s client tcp 127.0.0.1 19013 --bind 0.0.0.0 0",
	      BINDSHIM, PROBE);
	bs_stop(server);
	cr_assert_eq(p.status, 0, "%s\n%s", p.out, p.err);
	cr_expect(strstr(p.out, "reply ping from 127.0.0.1 "), "%s", p.out);
	cr_expect(!strstr(p.err, "in connect()"), "%s", p.err);
}

Test(hard, getaddrinfo_rewrites_passive_and_wildcard_lookups_only)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -l -- python3 -c \"import socket\n"
	      "def show(node, flags):\n"
	      "    print(sorted({a[4][0] for a in socket.getaddrinfo(node, 80, type=socket.SOCK_STREAM, flags=flags)}))\n"
	      "show(None, socket.AI_PASSIVE)\n"
	      "show('0.0.0.0', 0)\n"
	      "show('::', 0)\n"
	      "show(None, 0)\n"
	      "show('192.0.2.9', socket.AI_PASSIVE)\"", BINDSHIM);
	cr_expect_str_eq(p.out, "['127.0.0.1', '::1']\n['127.0.0.1']\n['::1']\n['127.0.0.1', '::1']\n"
			 "['192.0.2.9']\n", "%s", p.err);
	/* A lookup alone changes where nothing listens: the record comes with the
	 * bind of a result (below). */
	cr_expect_str_eq(p.err, "");
}

Test(hard, getaddrinfo_then_bind_is_one_decision_and_one_record)
{
	struct bs_proc p;

	/* The bind of a rewritten result continues the lookup's decision: one record,
	 * "in getaddrinfo()", with the socket's real protocol (a UDP entry of the
	 * same lookup does not make a TCP listener "udp"). */
	bs_sh(&p, 30, "%s run -l -- python3 -c \"import socket\n"
	      "ai = socket.getaddrinfo(None, 19030, socket.AF_INET, 0, 0, socket.AI_PASSIVE)\n"
	      "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
	      "s.bind([a for a in ai if a[1] == socket.SOCK_STREAM][0][4])\n"
	      "s.listen()\n"
	      "print(s.getsockname())\"", BINDSHIM);
	cr_expect_str_eq(p.out, "('127.0.0.1', 19030)\n", "%s", p.err);
	cr_expect(!strncmp(p.err, "bindshim[", 9), "%s", p.err);
	cr_expect_eq(bs_count(p.err, "\n"), 1, "one record: %s", p.err);
	cr_expect(strstr(p.err, "rewrite tcp 0.0.0.0:19030 -> 127.0.0.1:19030 (rule \"not-loopback\" "
			 "builtin) in getaddrinfo()\n"), "%s", p.err);
}

Test(hard, dual_stack_wildcard_stays_reachable_as_127_0_0_1)
{
	char log[256];
	struct bs_proc p;
	pid_t pid;

	/* Dual-stack [::] took IPv4 too: ::ffff:127.0.0.1, reachable as 127.0.0.1 (and
	 * as localhost); a V6ONLY one goes to ::1. */
	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	pid = bs_spawn(log, "exec %s run -l -- %s bind --v6only 0 --listen --hold 10 :: 19020",
		       BINDSHIM, PROBE);
	cr_expect_str_eq(assert_tcp_loopback_only(19020, log), "::ffff:127.0.0.1");
	bs_stop(pid);
	RUN_PROBE(&p, "-l", "bind --v6only 1 --listen :: 19027");
	cr_expect_str_eq(p.out, "bound ::1 19027\n", "%s", p.err);
}

Test(hard, v4_mapped_wildcard_goes_to_v4_mapped_loopback)
{
	struct bs_proc p;

	RUN_PROBE(&p, "-l", "mapped 19021");
	cr_expect_str_eq(p.out, "bound ::ffff:127.0.0.1 19021\n", "%s", p.err);
	cr_expect(strstr(p.err, "rewrite tcp [::ffff:0.0.0.0]:19021 -> [::ffff:127.0.0.1]:19021"),
		  "%s", p.err);
}

Test(hard, af_unspec_bind_is_judged)
{
	struct bs_proc p;

	RUN_PROBE(&p, "-l", "unspec 19022");
	cr_expect_str_eq(p.out, "bound 127.0.0.1 19022\n", "%s", p.err);
}

Test(hard, errno_untouched_on_success)
{
	struct bs_proc p;

	RUN_PROBE(&p, "-l", "errno");
	cr_expect_str_eq(p.out, "errno kept\n", "%s", p.err);
}

Test(hard, deny_leaves_socket_usable)
{
	struct bs_proc p;
	char args[1024], pol[512];

	snprintf(pol, sizeof(pol), "%s/deny.cfg", bs_tmpdir());
	bs_write_file(pol, "version = 1;\nrules = ( { match = { port = 19023; }; action = \"deny\"; } );\n");

	snprintf(args, sizeof(args), "-p %s", pol);
	RUN_PROBE(&p, args, "deny-usable 0.0.0.0 19023");
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "first EACCES\nsecond 127.0.0.1 "), "%s", p.out);
	cr_expect(strstr(p.err, "deny tcp 0.0.0.0:19023 EACCES (rule \"rule 1\" "), "%s", p.err);
}

Test(hard, other_families_pass_through)
{
	const char *dir = bs_tmpdir();
	char args[512], pol[256], sock[256];
	struct bs_proc p;

	snprintf(pol, sizeof(pol), "%s/deny-all.cfg", dir);
	bs_write_file(pol, "version = 1;\ndefault = \"deny\";\n");
	snprintf(args, sizeof(args), "-p %s", pol);
	snprintf(sock, sizeof(sock), "unix %s/s", dir);
	RUN_PROBE(&p, args, sock);
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "bound unix"), "%s", p.out);
	cr_expect_str_eq(p.err, "");
	/* The same policy does deny inet binds. */
	RUN_PROBE(&p, args, "bind 127.0.0.1 19025");
	cr_expect_str_eq(p.out, "error bind EACCES\n");
}

Test(hard, bind_from_another_library_constructor_before_ours)
{
	struct bs_proc p;
	const char *a, *b;

	bs_sh(&p, 30, "BS_EARLY_PORT=19024 LD_DEBUG=files %s run -l -- %s", BINDSHIM, HELPER("early"));
	cr_expect_str_eq(p.out, "early 127.0.0.1 19024\n", "%s", p.err);
	/* Prove the scenario: libearly's constructor ran before libbindshim's. */
	a = strstr(p.err, "libearly.so\n");
	b = strstr(p.err, "libbindshim.so\n");
	cr_expect(a && b && a < b, "init order not as expected:\n%s", p.err);
}

Test(hard, reused_descriptors_are_judged_again)
{
	struct bs_proc p;

	/* listen() skips its check for sockets bound through the shim: a descriptor
	 * number that changed hands must lose that mark. */
	RUN_PROBE(&p, "-l", "reuse");
	cr_expect(strstr(p.out, "same-number yes\nreused 127.0.0.1 "), "%s", p.out);
	cr_expect(strstr(p.out, "\ndup2 127.0.0.1 "), "%s", p.out);
	cr_expect(strstr(p.out, "\ndup 127.0.0.1 "), "%s", p.out);
	cr_expect(strstr(p.out, "\nclose_range-same-number yes\nclose_range 127.0.0.1 "), "%s", p.out);
	cr_expect_eq(bs_count(p.err, "in listen()"), 4, "%s", p.err);
}

Test(hard, sixteen_threads_bind_concurrently)
{
	struct bs_proc p;

	RUN_PROBE(&p, "-l --log /dev/null", "threads 16 19100");
	cr_expect(!p.timed_out, "deadlock: no answer in 30 s");
	cr_expect_str_eq(p.out, "threads 16 binds 64 escaped 0 failed 0\n", "%s", p.err);
}
