/* bindshim run --enforce: static and Go programs, raw syscalls, the filter's other
 * duties, the supervisor's process handling. Ports 24xxx. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/integration/support.h"

#define ENFORCE BINDSHIM, "run --enforce"

Test(enforce, static_server_ends_on_loopback)
{
	char log[256];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	pid = bs_spawn(log, "exec %s run --enforce -l -- %s bind --listen --hold 20 0.0.0.0 24001",
		       BINDSHIM, STATIC_PROBE);
	assert_tcp_loopback_only(24001, log);
	bs_stop(pid);
}

Test(enforce, static_bind_is_logged_via_seccomp)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run --enforce -l -- %s bind 0.0.0.0 24002", BINDSHIM, STATIC_PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 24002\n", "%s", p.err);
	cr_expect(strstr(p.err, "probe-static: rewrite tcp 0.0.0.0:24002 -> 127.0.0.1:24002 "
			 "(rule \"not-loopback\" builtin) via seccomp\n"), "%s", p.err);
	bs_sh(&p, 30, "%s run --enforce -l --log-format json -- %s bind 0.0.0.0 24003", BINDSHIM,
	      STATIC_PROBE);
	cr_expect(strstr(p.err, "\"source\":\"builtin\",\"via\":\"seccomp\"}"), "%s", p.err);
}

Test(enforce, go_http_server_ends_on_loopback)
{
	char log[256];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	pid = bs_spawn(log, "exec %s run --enforce -l -- %s serve 24004", BINDSHIM, HELPER("goserver"));
	/* Go listens on a dual-stack [::]: it stays reachable as 127.0.0.1. */
	cr_expect_str_eq(assert_tcp_loopback_only(24004, log), "::ffff:127.0.0.1");
	bs_stop(pid);
}

Test(enforce, busybox_httpd_ends_on_loopback)
{
	const char *dir = bs_tmpdir();
	char log[256];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", dir);
	pid = bs_spawn(log, "exec %s run --enforce -l -- busybox httpd -f -p 24005 -h %s", BINDSHIM, dir);
	assert_tcp_loopback_only(24005, log);
	bs_stop(pid);
}

Test(enforce, raw_syscall_bind_is_caught)
{
	struct bs_proc p;

	/* Without the supervisor the raw syscall escapes the preload (the limit)... */
	bs_sh(&p, 30, "%s run --preload-only -l -- %s raw-syscall 0.0.0.0 24006", BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bound 0.0.0.0 24006\n");
	/* ...with it, it does not. */
	bs_sh(&p, 30, "%s run --enforce -l -- %s raw-syscall 0.0.0.0 24007", BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 24007\n", "%s", p.err);
}

Test(enforce, go_program_that_execs_or_spawns_another)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run --enforce -l -- %s exec %s bind 0.0.0.0 24008", BINDSHIM,
	      HELPER("goserver"), STATIC_PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 24008\n", "%s", p.err);
	bs_sh(&p, 30, "%s run --enforce -l -- %s spawn %s bind 0.0.0.0 24009", BINDSHIM,
	      HELPER("goserver"), STATIC_PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 24009\n", "%s", p.err);
}

Test(enforce, deny_and_rewrite_rules_apply)
{
	const char *dir = bs_tmpdir();
	char pol[256];
	struct bs_proc p;

	snprintf(pol, sizeof(pol), "%s/p.cfg", dir);
	bs_write_file(pol, "version = 1;\nrules = (\n"
		      "  { name = \"busy\"; match = { port = 24010; }; action = \"deny\"; errno = \"EADDRINUSE\"; },\n"
		      "  { name = \"move\"; match = { port = 24011; }; action = \"rewrite\"; to = \"loopback\"; to_port = 24012; },\n"
		      "  { name = \"lab\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"interface:bs0\"; }\n);\n");
	bs_sh(&p, 30, "%s run --enforce -p %s -- %s bind 0.0.0.0 24010; "
	      "%s run --enforce -p %s -- %s bind 0.0.0.0 24011; "
	      "%s run --enforce -p %s -- %s bind 0.0.0.0 24013; "
	      "%s run --enforce -p %s --dry-run -- %s bind 0.0.0.0 24014",
	      BINDSHIM, pol, STATIC_PROBE, BINDSHIM, pol, STATIC_PROBE, BINDSHIM, pol, STATIC_PROBE,
	      BINDSHIM, pol, STATIC_PROBE);
	cr_expect_str_eq(p.out, "error bind EADDRINUSE\nbound 127.0.0.1 24012\nbound " LAB4 " 24013\n"
			 "bound 0.0.0.0 24014\n", "%s", p.err);
	cr_expect(strstr(p.err, "deny tcp 0.0.0.0:24010 EADDRINUSE (rule \"busy\" "), "%s", p.err);
	cr_expect(strstr(p.err, "dry-run rewrite tcp 0.0.0.0:24014 -> " LAB4 ":24014"), "%s", p.err);
}

Test(enforce, listen_without_bind_in_a_static_program)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run --enforce -l -- %s listen-unbound --v6", BINDSHIM, STATIC_PROBE);
	cr_expect(!strncmp(p.out, "listening ::ffff:127.0.0.1 ", 27), "%s%s", p.out, p.err);
	cr_expect(strstr(p.err, "in listen() via seccomp"), "%s", p.err);
}

Test(enforce, shim_handled_calls_are_not_judged_twice)
{
	struct bs_proc p;

	/* A dynamic program: the shim judges and logs; the supervisor lets it through. */
	bs_sh(&p, 30, "%s run --enforce -l -- %s bind 0.0.0.0 24015", BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 24015\n");
	cr_expect_eq(bs_count(p.err, "rewrite tcp 0.0.0.0:24015"), 1, "%s", p.err);
	cr_expect(!strstr(p.err, "via seccomp"), "%s", p.err);
	/* The same for the hostile calls: identical to no shim at all. */
	bs_sh(&p, 30, "cd %s && %s%s > native && %s run --enforce -l -- %s > enforced && "
	      "diff native enforced && echo same", bs_tmpdir(), bs_as_supervised(), HELPER("hostile"),
	      BINDSHIM, HELPER("hostile"));
	cr_expect_str_eq(p.out, "same\n", "%s%s", p.out, p.err);
}

Test(enforce, hostile_calls_from_a_static_program)
{
	struct bs_proc p;

	/* Bad descriptors, non-sockets, bad lengths and families: the supervisor gives
	 * the kernel's own answers. */
	bs_sh(&p, 30, "cd %s && gcc -static -O2 -o hostile-static %s 2>/dev/null && "
	      "%s./hostile-static > native && %s run --enforce -l -- ./hostile-static > enforced && "
	      "diff native enforced && echo same", bs_tmpdir(), bs_src("tests/helpers/hostile.c"),
	      bs_as_supervised(), BINDSHIM);
	cr_expect_str_eq(p.out, "same\n", "%s%s", p.out, p.err);
}

Test(enforce, io_uring_and_new_listeners_are_refused)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run --enforce -l -- %s io-uring; %s run --enforce -l --io-uring-errno EPERM -- "
	      "%s io-uring; %s run --enforce -l -- %s seccomp-listener; %s seccomp-listener",
	      BINDSHIM, STATIC_PROBE, BINDSHIM, STATIC_PROBE, BINDSHIM, STATIC_PROBE, STATIC_PROBE);
	cr_expect_str_eq(p.out, "error io_uring_setup ENOSYS\nerror io_uring_setup EPERM\n"
			 "error seccomp EPERM\nlistener ok\n", "%s", p.err);
	cr_expect_eq(bs_sh(&p, 30, "%s run -l --preload-only --io-uring-errno EPERM -- true",
			   BINDSHIM), 125, "--io-uring-errno without the supervisor");
	cr_expect_eq(bs_sh(&p, 30, "%s run --enforce --io-uring-errno ENOPE -- true", BINDSHIM), 125);
}

/* Where the kernel will not let it supervise (here: inside another supervised run,
 * where no second listener can be had), run says why, once, and runs the shim
 * alone; --enforce runs nothing. */
Test(enforce, no_supervisor_means_the_shim_alone_and_says_why)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -l -- %s run -l -- %s bind 0.0.0.0 24040", BINDSHIM, BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 24040\n", "%s", p.err);
	cr_expect_eq(bs_count(p.err, "bindshim run: no supervisor here (cannot install a seccomp "
			      "filter: Operation not permitted): running with the preloaded shim "
			      "alone, which does not cover static or Go programs, raw system calls "
			      "or setuid programs\n"), 1, "%s", p.err);
	/* The shim alone judged it: no record via seccomp. */
	cr_expect(strstr(p.err, "rewrite tcp 0.0.0.0:24040 -> 127.0.0.1:24040 (rule \"not-loopback\" "
			 "builtin)\n"), "%s", p.err);
	cr_expect_eq(bs_sh(&p, 30, "%s run -l -- %s run --enforce -l -- %s bind 0.0.0.0 24041",
			   BINDSHIM, BINDSHIM, PROBE), 125);
	cr_expect_str_eq(p.out, "");
	cr_expect(strstr(p.err, "--enforce: no supervisor here: cannot install a seccomp filter: "
			 "Operation not permitted; nothing was run"), "%s", p.err);
	/* --preload-only asks for it: nothing to say. */
	bs_sh(&p, 30, "%s run --preload-only -l -- %s bind 0.0.0.0 24042", BINDSHIM, PROBE);
	cr_expect(!strstr(p.err, "supervisor"), "%s", p.err);
}

Test(enforce, foreign_abi_syscalls_kill_the_process)
{
	struct bs_proc p;

	/* First natively: without 32-bit emulation (CONFIG_IA32_EMULATION unset, or
	 * ia32_emulation=0 on the kernel command line) `int $0x80` is a general
	 * protection fault (SIGSEGV), there is no second syscall table to close, and
	 * the filter has nothing to prove. */
	bs_sh(&p, 30, "%s int80", STATIC_PROBE);
	if (strstr(p.out, "not on this architecture"))
		cr_skip_test("int $0x80 is an x86-64 test; this is another architecture");
	if (p.status == 128 + SIGSEGV)
		cr_skip_test("this kernel has no 32-bit syscall entry (int $0x80 faults natively: "
			"CONFIG_IA32_EMULATION off or ia32_emulation=0), so there is nothing "
			"to kill");
	cr_assert_eq(p.status, 0, "natively: %s%s", p.out, p.err);
	cr_assert(!strncmp(p.out, "int80 returned ", 15) && atoi(p.out + 15) > 0,
		  "natively, int $0x80 getpid returns a pid: %s", p.out);
	cr_expect_eq(bs_sh(&p, 30, "%s run --enforce -l -- %s int80", BINDSHIM, STATIC_PROBE),
		     128 + SIGKILL, "%s%s", p.out, p.err);
	cr_expect(strstr(p.err, "made a 32-bit system call: its binds cannot be supervised, so it "
			 "was stopped"), "%s", p.err);
}

Test(enforce, threads_forks_and_exec_chains)
{
	struct bs_proc p;

	bs_sh(&p, 120, "%s run --enforce -l --log /dev/null -- %s 64 200 2", BINDSHIM,
	      HELPER("stress-static"));
	cr_expect(!p.timed_out, "deadlock");
	cr_expect(strstr(p.out, "binds 12800 escaped 0 failed 0 ") && strstr(p.out, " bad 0 "),
		  "%s%s", p.out, p.err);
	bs_sh(&p, 60, "%s run --enforce -l -- %s 5", BINDSHIM, HELPER("chain-static"));
	cr_expect_str_eq(p.out, "level 5 127.0.0.1\nlevel 4 127.0.0.1\nlevel 3 127.0.0.1\n"
			 "level 2 127.0.0.1\nlevel 1 127.0.0.1\n", "%s", p.err);
}

Test(enforce, exit_status_signals_and_zombies)
{
	char log[256], body[4096];
	struct bs_proc p;
	pid_t pid;

	cr_expect_eq(bs_sh(&p, 30, "%s run --enforce -- sh -c 'exit 7'", BINDSHIM), 7);
	cr_expect_eq(bs_sh(&p, 30, "%s run --enforce -- sh -c 'kill -KILL $$'", BINDSHIM), 128 + 9);
	cr_expect_eq(bs_sh(&p, 30, "%s run --enforce -- /nonexistent", BINDSHIM), 127);
	/* SIGTERM to the supervisor reaches the command, which says so and exits. */
	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	pid = bs_spawn(log, "%s run --enforce -- sh -c 'trap \"echo got TERM; exit 3\" TERM; "
		       "echo ready; while :; do sleep 0.05; done'; echo status $?", BINDSHIM);
	for (int i = 0; i < 200 && !strstr(body, "ready"); i++) {
		usleep(25000);
		bs_read_file(log, body, sizeof(body));
	}
	bs_sh(&p, 10, "pkill -TERM -f '^%s run --enforce -- sh -c trap'", BINDSHIM);
	for (int i = 0; i < 200 && !strstr(body, "status"); i++) {
		usleep(25000);
		bs_read_file(log, body, sizeof(body));
	}
	bs_stop(pid);
	cr_expect(strstr(body, "got TERM\nstatus 3\n"), "%s", body);
	/* An orphan of the command is reaped by the supervisor: no zombie meanwhile. */
	bs_sh(&p, 30, "%s run --enforce -- sh -c '(sleep 0.1 &); sleep 0.6; "
	      "ps -o stat= --ppid $PPID | grep -c Z || true'", BINDSHIM);
	cr_expect_str_eq(p.out, "0\n", "%s", p.err);
}

Test(enforce, dynamic_client_sockets_still_reach_remote_peers)
{
	struct bs_proc p;
	pid_t server = bs_spawn(NULL, "exec %s echo tcp " LAB4 " 24020 1", PROBE);

	cr_assert(bs_wait_port("tcp", 24020, 5000, NULL, 0));
	bs_sh(&p, 30, IN_PEER "%s run --enforce -l -- %s client tcp " LAB4 " 24020 --bind 0.0.0.0 0",
	      BINDSHIM, PROBE);
	bs_stop(server);
	cr_expect(strstr(p.out, "reply ping from 198.51.100.8 "), "%s%s", p.out, p.err);
	cr_expect(!strstr(p.err, "via seccomp"), "the shim handled it all: %s", p.err);
}

Test(enforce, supervisor_survives_a_closed_log_pipe)
{
	/* The supervisor's stderr (its log) is a pipe nobody reads: writing a record
	 * must not kill it, or the command's binds would fail with ENOSYS. */
	cr_expect_str_eq(bind_with_dead_stderr("--enforce -l", STATIC_PROBE, 24030),
			 "bound 127.0.0.1 24030\nstatus 0\n");
}

/* The supervisor's copy of an AF_UNIX socket is closed before the bind is answered
 * (by the closer, which says so): when the command then closes its own, the name
 * is free at once. Review: answered first, 3,000 binds of one abstract name, each
 * socket closed after, failed 18 to 45 times with EADDRINUSE (0 before the closer,
 * and without bindshim). */
Test(enforce, an_abstract_name_closed_is_free_again_at_once)
{
	struct bs_proc p;

	bs_sh(&p, 120, "%s run -l -- python3 -c 'import socket\n"
	      "bad = 0\n"
	      "for i in range(3000):\n"
	      "    s = socket.socket(socket.AF_UNIX)\n"
	      "    try: s.bind(\"\\0bs-abstract-%d\")\n"
	      "    except OSError: bad += 1\n"
	      "    s.close()\n"
	      "print(\"bad\", bad)'", BINDSHIM, (int)getpid());
	cr_expect_str_eq(p.out, "bad 0\n", "%s", p.err);
}

/* The closer (the launcher's child beside the supervisor, which makes the last
 * close of the command's AF_UNIX sockets) killed (the command cannot: Landlock
 * keeps its signals inside its own tree; the out-of-memory killer can): the next
 * close starts a new one. Before, every later copy stayed open in the supervisor,
 * and each name the command closed stayed bound. */
Test(enforce, a_killed_closer_is_started_again)
{
	const char *d = bs_tmpdir();
	struct bs_proc p;

	if (geteuid() != 0)
		cr_skip("killing the closer (the launcher's child) needs root");
	bs_sh(&p, 60, "%s run -l -- python3 -c 'import os, socket, sys, time\n"
	      "name = \"\\0bs-closer-%d\"\n"
	      "s = socket.socket(socket.AF_UNIX); s.bind(name); s.close()\n"
	      "print(os.getppid(), flush=True)\n"
	      "while not os.path.exists(sys.argv[1]): time.sleep(0.05)\n"
	      "bad = 0\n"
	      "for i in range(200):\n"
	      "    s = socket.socket(socket.AF_UNIX)\n"
	      "    try: s.bind(name)\n"
	      "    except OSError: bad += 1\n"
	      "    s.close()\n"
	      "print(\"bad\", bad)' %s/go >%s/out & l=$!\n"
	      "while [ ! -s %s/out ]; do sleep 0.05; done\n"
	      "sup=$(cat %s/out); n=0\n"
	      "for k in $(cat /proc/$l/task/$l/children); do\n"
	      "  [ \"$k\" != \"$sup\" ] && kill -KILL $k && n=$((n + 1))\n"
	      "done\n"
	      "touch %s/go; wait $l; echo killed $n; tail -1 %s/out",
	      BINDSHIM, (int)getpid(), d, d, d, d, d, d);
	cr_expect_str_eq(p.out, "killed 1\nbad 0\n", "%s", p.err);
}
