/* bindshim lives inside other people's processes: hostile calls, stress, fork and
 * exec chains, setuid, broken policies, signals, failing log destinations,
 * memcheck. Ports 22xxx. */
#include <stdio.h>
#include <unistd.h>

#include "tests/integration/support.h"

Test(reliability, hostile_calls_get_the_same_answers_as_without_the_shim)
{
	const char *dir = bs_open_tmpdir();
	char native[BS_OUT_MAX], allow[256];
	struct bs_proc p;

	bs_sh(&p, 30, "%s%s", bs_as_supervised(), HELPER("hostile"));
	cr_assert_eq(p.status, 0);
	cr_assert_geq(bs_count(p.out, "\n"), 45, "%s", p.out);
	snprintf(native, sizeof(native), "%s", p.out);
	bs_sh(&p, 30, "%s run -l -- %s", BINDSHIM, HELPER("hostile"));
	cr_expect_str_eq(p.out, native, "loopback policy");
	snprintf(allow, sizeof(allow), "%s/allow.cfg", dir);
	bs_write_file(allow, "version = 1;\nlog = { allowed = true; };\n");
	bs_sh(&p, 30, "%s run -p %s -- %s", BINDSHIM, allow, HELPER("hostile"));
	cr_expect_str_eq(p.out, native, "allow-all policy that logs every call");
	cr_expect(strstr(p.err, "allow tcp [::1]:0 (default)"), "%s", p.err);
}

Test(reliability, stress_64_threads_1000_binds_while_forking)
{
	struct bs_proc p;

	bs_sh(&p, 120, "%s run -l --log /dev/null -- %s 64 1000 2", BINDSHIM, HELPER("stress"));
	cr_expect(!p.timed_out, "deadlock: no answer in 120 s");
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "binds 64000 escaped 0 failed 0 "), "%s", p.out);
	cr_expect(strstr(p.out, " bad 0 fds "), "%s", p.out);
}

Test(reliability, five_level_chain_by_fork_posix_spawn_and_vfork)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -l -- %s 5", BINDSHIM, HELPER("chain"));
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect_str_eq(p.out, "level 5 127.0.0.1\nlevel 4 127.0.0.1\nlevel 3 127.0.0.1\n"
			 "level 2 127.0.0.1\nlevel 1 127.0.0.1\n", "%s", p.err);
	cr_expect(strstr(p.err, "by fork") && strstr(p.err, "by posix_spawn") &&
		  strstr(p.err, "by vfork"), "%s", p.err);
}

Test(reliability, children_started_with_a_cleaned_environment_stay_under_policy)
{
	static const char *const hows[] = {"execve", "execle", "execvpe", "clearenv-execv",
					   "unsetenv-execlp", "clearenv-execl", "posix_spawn",
					   "posix_spawnp", "fexecve", "execveat"};
	struct bs_proc p;

	for (size_t i = 0; i < sizeof(hows) / sizeof(hows[0]); i++) {
		char want[64];

		snprintf(want, sizeof(want), "bound 127.0.0.1 %zu\n", 22400 + i);
		bs_sh(&p, 30, "%s run -l -- %s %s %s %zu", BINDSHIM, HELPER("cleanenv"), hows[i],
		      PROBE, 22400 + i);
		cr_expect_str_eq(p.out, want, "%s: %s", hows[i], p.err);
	}
	bs_sh(&p, 30, "%s run -l -- env -i %s bind 0.0.0.0 22420", BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 22420\n", "env -i: %s", p.err);
	/* The settings travel too: a policy file's rules, not just the preload. */
	{
		const char *d = bs_open_tmpdir();
		char pol[256];

		snprintf(pol, sizeof(pol), "%s/t.cfg", d);
		bs_write_file(pol, "version = 1;\nrules = ( { name = \"t\"; match = { port = 22411; };"
			      " action = \"deny\"; errno = \"EPERM\"; } );\n");
		bs_sh(&p, 30, "%s run -p %s -- python3 -c \"import subprocess; "
		      "subprocess.run(['%s', 'bind', '0.0.0.0', '22411'], env={})\"", BINDSHIM, pol, PROBE);
		cr_expect_str_eq(p.out, "error bind EPERM\n", "%s", p.err);
	}
}

Test(reliability, binds_from_signal_handlers)
{
	struct bs_proc p;

	/* The shim's own reentrancy: a timer every 200 us. */
	bs_sh(&p, 60, "%s run --preload-only -l --log /dev/null -- %s 20000", BINDSHIM,
	      HELPER("sigbind"));
	cr_expect(!p.timed_out);
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "main 20000 bad 0 handler ") && strstr(p.out, " bad 0\n"), "%s", p.out);
	/* Under the supervisor too (a gentler timer: each bind waits for it). A signal
	 * while a bind waits would make it fail with EINTR, which bind never does
	 * natively: the shim tries it again. */
	bs_sh(&p, 60, "%s run -l --log /dev/null -- %s 1000 2000", BINDSHIM, HELPER("sigbind"));
	cr_expect(!p.timed_out);
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "main 1000 bad 0 handler ") && strstr(p.out, " bad 0\n"), "%s", p.out);
}

Test(reliability, signal_handler_binds_while_the_policy_loads)
{
	const char *d = bs_open_tmpdir();
	struct bs_proc p;

	/* 30,000 rules make the first bind's policy load slow while an interval timer
	 * fires every 200 us: handlers bind while their own thread holds the start lock. */
	bs_sh(&p, 120, "cd %s && python3 -c \"print('version = 1;\\nrules = (')\n"
	      "for i in range(30000): print('{ match = { address = \\\"192.0.2.1\\\"; port = %%d; }; "
	      "action = \\\"deny\\\"; },' %% (i + 1))\n"
	      "print('{ action = \\\"rewrite\\\"; to = \\\"loopback\\\"; } );')\" > big.cfg && "
	      "%s run --preload-only -p big.cfg --log /dev/null -- %s 200 200 early", d, BINDSHIM,
	      HELPER("sigbind"));
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "main 200 bad 0 handler ") && strstr(p.out, " bad 0\n"), "%s", p.out);
}

/* In a fresh directory holding the program at path, a setuid-root copy of it
 * (suid-NAME) and the shim, named in /etc/ld.so.preload (the loader ignores
 * LD_PRELOAD for setuid programs) in an overlay of this test's own mount
 * namespace: runs `export ENV && ./NAME ARGS && echo setuid: && ./suid-NAME ARGS`
 * as nobody, after the shell setup in that directory. Skips without another user. */
static void plain_and_setuid(struct bs_proc *p, const char *path, const char *setup,
			     const char *env, const char *args)
{
	const char *d = bs_open_tmpdir(), *name = strrchr(path, '/') + 1;

	if (!bs_can_switch_user())
		cr_skip_test("a setuid program needs another user to run it: " BS_NO_OTHER_USER);
	bs_sh(p, 60, "cd %s && cp %s %s . && cp %s suid-%s && chmod 4755 suid-%s && %s && "
	      "chmod 644 libbindshim.so && unshare --mount --propagation private sh -c '%s && "
	      "echo %s/libbindshim.so > /etc/ld.so.preload && export %s && "
	      BS_AS_NOBODY " ./%s %s && echo setuid: && " BS_AS_NOBODY " ./suid-%s %s'",
	      d, path, bs_build("libbindshim.so"), name, name, name, setup,
	      bs_sh_overlay("/etc", d), d, env, name, args, name, args);
	cr_expect(access("/etc/ld.so.preload", F_OK) != 0, "the real /etc was touched");
}

/* Run as nobody, the setuid-root copy must not read BINDSHIM_POLICY; the plain copy
 * must. */
Test(reliability, setuid_programs_ignore_bindshim_variables)
{
	struct bs_proc p;

	plain_and_setuid(&p, PROBE, "printf 'version = 1;\\n' > allow.cfg && chmod 644 allow.cfg",
			 "BINDSHIM_POLICY=$PWD/allow.cfg", "bind 0.0.0.0 22001");
	cr_expect_str_eq(p.out, "bound 0.0.0.0 22001\nsetuid:\nbound 127.0.0.1 22001\n", "%s",
			 p.err);
}

/* Nor does a setuid program carry them into a child it starts with an empty
 * environment: run as nobody, the plain copy of cleanenv gives its child (a script
 * that prints its environment) BINDSHIM_BUILTIN; the setuid-root copy must not. */
Test(reliability, setuid_programs_carry_no_bindshim_variables)
{
	struct bs_proc p;
	const char *plain, *suid;

	plain_and_setuid(&p, HELPER("cleanenv"), "printf '#!/bin/sh\\nenv\\n' > show && chmod 755 show",
			 "BINDSHIM_BUILTIN=loopback", "execve ./show 0");
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	suid = strstr(p.out, "setuid:\n");
	cr_assert(suid, "%s", p.out);
	plain = strstr(p.out, "BINDSHIM_BUILTIN=loopback\n");
	cr_expect(plain && plain < suid, "not carried at all: %s", p.out);
	cr_expect(!strstr(suid, "BINDSHIM_"), "a setuid program carried: %s", suid);
}

/* The shim keeps the real uid it judges by, and asks again after a setuid-family
 * call: a server that binds as root and then drops to nobody is judged as nobody
 * from then on. */
Test(reliability, a_uid_change_is_followed)
{
	const char *d = bs_open_tmpdir();
	struct bs_proc p;

	if (!bs_real_root() || !bs_can_switch_user())
		cr_skip_test("changing uid needs root of the machine and another user");
	bs_sh(&p, 30, "printf 'version = 1;\\nrules = ( { name = \"nobody-binds-nothing\"; "
	      "match = { uid = 65534; }; action = \"deny\"; } );\\n' > %s/uid.cfg && "
	      "BINDSHIM_POLICY=%s/uid.cfg LD_PRELOAD=%s python3 -c 'import os, socket\n"
	      "a = socket.socket(); a.bind((\"0.0.0.0\", 22510)); print(a.getsockname()[0])\n"
	      "os.setresgid(65534, 65534, 65534); os.setuid(65534)\n"
	      "try:\n    socket.socket().bind((\"0.0.0.0\", 22511)); print(\"bound\")\n"
	      "except OSError as e:\n    print(e.errno == 13)'",
	      d, d, bs_build("libbindshim.so"));
	cr_expect_str_eq(p.out, "0.0.0.0\nTrue\n", "%s", p.err);
	cr_expect(strstr(p.err, "deny tcp 0.0.0.0:22511 EACCES (rule \"nobody-binds-nothing\""),
		  "%s", p.err);
}

/* Runs the threads probe under raw LD_PRELOAD with BINDSHIM_POLICY=policy; it must
 * keep running under the fail-safe policy with exactly one error record. */
static void expect_fail_safe(const char *policy, const char *as)
{
	struct bs_proc p;

	bs_sh(&p, 60, "%s env LD_PRELOAD=%s BINDSHIM_POLICY=%s %s threads 2 22100", as,
	      bs_build("libbindshim.so"), policy, PROBE);
	cr_expect_str_eq(p.out, "threads 2 binds 8 escaped 0 failed 0\n", "%s: %s", policy, p.err);
	cr_expect_eq(bs_count(p.err, ": error "), 1, "%s: %s", policy, p.err);
	cr_expect(strstr(p.err, "using the built-in loopback-only policy"), "%s: %s", policy, p.err);
}

Test(reliability, broken_policies_at_run_time)
{
	const char *d = bs_open_tmpdir();
	char path[512];
	struct bs_proc p;

	expect_fail_safe(d, "");	/* a directory */
	snprintf(path, sizeof(path), "%s/empty.cfg", d);
	expect_fail_safe(bs_write_file(path, ""), "");
	bs_sh(&p, 30, "cd %s && head -c 10485760 /dev/urandom > big.cfg && "
	      "python3 -c \"print('version = 1;\\na = ' + '{ a = ' * 100000 + '}' * 100000 + ';')\" "
	      "> deep.cfg && printf 'version = 1;\\n\\377\\376 = 1;\\n' > utf8.cfg && "
	      "printf 'version = 1;\\n' > secret.cfg && chmod 000 secret.cfg", d);
	snprintf(path, sizeof(path), "%s/big.cfg", d);
	expect_fail_safe(path, "");
	snprintf(path, sizeof(path), "%s/deep.cfg", d);
	expect_fail_safe(path, "");
	snprintf(path, sizeof(path), "%s/utf8.cfg", d);
	expect_fail_safe(path, "");
	snprintf(path, sizeof(path), "%s/secret.cfg", d);
	/* Read by a user who may not: nobody, or where there is no other user, uid 0
	 * without the capabilities that read any file. */
	expect_fail_safe(path, bs_can_switch_user() ? BS_AS_NOBODY :
			 "setpriv --bounding-set=-dac_override,-dac_read_search");
}

Test(reliability, fifo_as_policy_fails_fast)
{
	const char *d = bs_open_tmpdir();
	struct bs_proc p;

	/* Nobody writes the FIFO: opening it for reading would block the program. */
	bs_sh(&p, 10, "mkfifo %s/fifo && BINDSHIM_POLICY=%s/fifo LD_PRELOAD=%s %s bind 0.0.0.0 22110",
	      d, d, bs_build("libbindshim.so"), PROBE);
	cr_expect(!p.timed_out, "the program hung on the FIFO");
	cr_expect_str_eq(p.out, "bound 127.0.0.1 22110\n", "%s", p.err);
	cr_expect_eq(bs_count(p.err, ": error "), 1, "%s", p.err);
	cr_expect(strstr(p.err, "/fifo: not a regular file; using the built-in loopback-only policy"),
		  "%s", p.err);
	expect_fail_safe("/dev/null", "");	/* a character device */
}

Test(reliability, invalid_utf8_in_names_keeps_json_valid)
{
	const char *d = bs_open_tmpdir();
	struct bs_proc p;

	bs_sh(&p, 30, "cd %s && printf 'version = 1;\\nlog = { format = \"json\"; };\\nrules = ( { "
	      "name = \"bad\\377\\376name\"; match = { port = 22200; }; action = \"deny\"; } );\\n' > p.cfg && "
	      "%s run -p p.cfg -- %s bind 0.0.0.0 22200 2>&1 >/dev/null | "
	      "python3 -c 'import json, sys; r = json.loads(sys.stdin.read()); print(r[\"rule\"])'",
	      d, BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bad\xef\xbf\xbd\xef\xbf\xbdname\n", "%s", p.err);
}

Test(reliability, failing_log_destinations_change_nothing)
{
	const char *d = bs_open_tmpdir();
	struct bs_proc p;

	/* The launcher refuses a destination it cannot use (logging.c); the shim on its
	 * own (preloaded by hand) must still bind as the policy says. */
	bs_sh(&p, 60, "cd %s && mkdir ro full && unshare --mount --propagation private sh -c '"
	      "mount -t tmpfs -o ro none ro && mount -t tmpfs -o size=16k none full && "
	      "touch full/x.log && (head -c 1048576 /dev/zero > full/fill || true) && "
	      "LD_PRELOAD=%s BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=%s/ro/x.log %s bind 0.0.0.0 22201 && "
	      "%s run -l --log %s/full/x.log -- %s bind 0.0.0.0 22202 && "
	      "mount -t tmpfs none /dev && "
	      "LD_PRELOAD=%s BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=syslog %s bind 0.0.0.0 22203'",
	      d, bs_build("libbindshim.so"), d, PROBE, BINDSHIM, d, PROBE, bs_build("libbindshim.so"),
	      PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 22201\nbound 127.0.0.1 22202\nbound 127.0.0.1 22203\n",
			 "%s", p.err);
	cr_expect_eq(p.status, 0);
}

Test(reliability, log_to_a_pipe_nobody_reads_never_kills_or_hangs_the_program)
{
	const char *d = bs_open_tmpdir();
	struct bs_proc p;

	/* stderr is a pipe whose reader is gone: the record must not raise SIGPIPE in
	 * a program that never writes to stderr itself (the probe dies of SIGPIPE). */
	cr_expect_str_eq(bind_with_dead_stderr("-l", PROBE, 22500),
			 "bound 127.0.0.1 22500\nstatus 0\n");
	/* A FIFO nobody reads as the log file: no hang in the first bind (the launcher
	 * refuses it up front; preloaded by hand, the shim must not hang on it). */
	bs_sh(&p, 30, "mkfifo %s/fifo && LD_PRELOAD=%s BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=%s/fifo "
	      "%s bind 0.0.0.0 22501", d, bs_build("libbindshim.so"), d, PROBE);
	cr_expect(!p.timed_out, "the program hung opening the log");
	cr_expect_str_eq(p.out, "bound 127.0.0.1 22501\n");
	cr_expect_eq(bs_sh(&p, 30, "%s run -l --log %s/fifo -- %s bind 0.0.0.0 22501", BINDSHIM, d,
			   PROBE), 125);
	cr_expect(!p.timed_out, "the launcher hung opening the log");
}

Test(reliability, memcheck_clean_under_a_real_server_and_a_client)
{
	const char *d = bs_open_tmpdir();
	char log[512], body[BS_OUT_MAX];
	struct bs_proc p;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/vg.log", d);
	/* socat has memcheck errors of its own (natively too): none may involve a
	 * frame of ours, which --fullpath-after= shows with our source path. */
	pid = bs_spawn(log, "exec %s run -l -- valgrind --fullpath-after= --leak-check=full "
		       "--errors-for-leak-kinds=definite socat TCP-LISTEN:22300,reuseaddr SYSTEM:'echo hi'",
		       BINDSHIM);
	cr_assert(bs_wait_port("tcp", 22300, 30000, NULL, 0), "socat did not start");
	cr_expect_eq(bs_tcp_connect("127.0.0.1", 22300), 0);
	for (int i = 0; i < 300 && !strstr(body, "ERROR SUMMARY"); i++) {
		usleep(100000);
		bs_read_file(log, body, sizeof(body));
	}
	bs_stop(pid);
	cr_expect(strstr(body, "ERROR SUMMARY: "), "%s", body);
	cr_expect(strstr(body, "rewrite tcp 0.0.0.0:22300 -> 127.0.0.1:22300"), "%s", body);
	bs_sh(&p, 30, "python3 -c \"import re, sys\n"
	      "blocks = re.split(r'==\\d+== \\n', open(sys.argv[1]).read())\n"
	      "ours = [b for b in blocks if sys.argv[2] in b and re.search("
	      "r'Invalid|uninitialised|definitely lost|Conditional jump|Syscall param|Mismatched|overlap', b)]\n"
	      "print(len(ours)); print(*ours)\" %s %s", log, bs_src(""));
	cr_expect(!strncmp(p.out, "0\n", 2), "errors in the shim:\n%s", p.out);
	/* The client path: a rewritten UDP socket made a client's again. */
	pid = bs_spawn(NULL, "exec %s echo udp " LAB4 " 22301 1", PROBE);
	bs_wait_port("udp", 22301, 5000, NULL, 0);
	bs_sh(&p, 120, IN_PEER "%s run -l -- valgrind --error-exitcode=99 --leak-check=full "
	      "--errors-for-leak-kinds=definite %s client udp " LAB4 " 22301 --bind 0.0.0.0 0",
	      BINDSHIM, PROBE);
	bs_stop(pid);
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.err, "ERROR SUMMARY: 0 errors"), "%s", p.err);
	cr_expect(strstr(p.err, "in sendto() to " LAB4 ":22301"), "%s", p.err);
}
