/* Coverage, as a user meets it: what the shim alone says about the programs it
 * cannot reach, a Go server started through a shell script, under the supervisor
 * and without it. Ports 29xxx. */
#include <stdio.h>

#include "tests/integration/support.h"

#define GOSERVER HELPER("goserver")
#define NOT_COVERED "warning not covered: "

/* Skips the test unless it runs as root of the machine: set-id copies owned by
 * nobody and runs as nobody need it (uid 0 of a user namespace of its own, as
 * tests/netns.sh makes for a user, maps no nobody). */
static void need_root(void)
{
	if (!bs_real_root())
		cr_skip_test("not root of the machine: set-id copies and runs as nobody need it");
}

/* Writes a file (mode 0755) in dir; returns its path. */
#define put(dir, name, text) bs_put((dir), (name), (text), 0755)

/* The serve.sh of the issue: a script that becomes a Go server on port. */
static const char *serve_script(const char *dir, unsigned port)
{
	char text[1024];

	snprintf(text, sizeof(text), "#!/bin/sh\necho starting on %u\nexec %s serve %u\n", port,
		 GOSERVER, port);
	return put(dir, "serve.sh", text);
}

/* Starts `bindshim run OPTS -- SCRIPT`, waits for its listener on port, and returns
 * everything bindshim and the script wrote, also in dir/log (the server still runs:
 * *pid). */
static const char *serve(const char *dir, const char *opts, const char *script, unsigned port,
			 pid_t *pid)
{
	static char body[8192];
	char log[512];

	snprintf(log, sizeof(log), "%s/log", dir);
	*pid = bs_spawn(log, "exec %s run %s -- %s", BINDSHIM, opts, script);
	cr_assert(bs_wait_port("tcp", port, 10000, NULL, 0), "nothing listens on %u", port);
	/* The warning comes before the exec: it is in the log by now. */
	bs_read_file(log, body, sizeof(body));
	return body;
}

/* The shim alone cannot reach a Go server: the script's exec of it leaves exactly
 * one warning record, and the server is indeed reachable from the network, as the
 * warning says. */
Test(cover, preload_only_names_a_go_server_a_script_starts)
{
	const char *dir = bs_open_tmpdir();
	char want[1024];
	const char *log;
	pid_t pid;

	log = serve(dir, "--preload-only", serve_script(dir, 29001), 29001, &pid);
	snprintf(want, sizeof(want), "] sh: " NOT_COVERED "%s is a Go program\n", GOSERVER);
	cr_expect(strstr(log, want), "%s", log);
	cr_expect_eq(bs_count(log, "not covered"), 1, "%s", log);
	cr_expect_eq(bs_tcp_connect(LAB4, 29001), 0, "the Go server is not covered");
	bs_stop(pid);
}

Test(cover, preload_only_warning_in_json)
{
	const char *dir = bs_open_tmpdir();
	char want[1024];
	const char *log;
	struct bs_proc p;
	pid_t pid;

	log = serve(dir, "--preload-only --log-format json", serve_script(dir, 29002), 29002, &pid);
	bs_stop(pid);
	snprintf(want, sizeof(want), "\"program\":\"sh\",\"call\":\"exec\",\"event\":\"warning\","
		 "\"message\":\"not covered: %s is a Go program\",\"exe\":\"%s\"}\n", GOSERVER,
		 GOSERVER);
	cr_expect(strstr(log, want), "%s", log);
	cr_expect_eq(bs_count(log, "\"event\":\"warning\""), 1, "%s", log);
	/* Every record of it (the script and the server print a line each) is a JSON
	 * object. */
	bs_sh(&p, 30, "python3 -c 'import json, sys\nfor l in open(sys.argv[1]):\n"
	      "    l.startswith((\"listening \", \"starting \")) or print(json.loads(l)[\"event\"])' "
	      "%s/log", dir);
	cr_expect_str_eq(p.out, "warning\n", "%s", p.err);
}

/* Under the supervisor (the default) the same script's Go server ends on loopback,
 * its bind recorded via seccomp, and nothing warns. */
Test(cover, supervised_go_server_through_a_script_ends_on_loopback)
{
	const char *dir = bs_open_tmpdir();
	const char *log;
	pid_t pid;

	log = serve(dir, "", serve_script(dir, 29003), 29003, &pid);
	cr_expect_str_eq(assert_tcp_loopback_only(29003, NULL), "::ffff:127.0.0.1");
	bs_stop(pid);
	cr_expect(strstr(log, "goserver: rewrite tcp [::]:29003 -> [::ffff:127.0.0.1]:29003 "
			 "(rule \"not-loopback\" builtin) via seccomp\n"), "%s", log);
	cr_expect(!strstr(log, "not covered") && !strstr(log, "warning"), "%s", log);
}

/* Runs `bindshim run --preload-only -- python3 -c CODE` with $G the Go program and
 * PATH leading to its directory; returns the run's stderr. */
static const char *preload_python(const char *code)
{
	static struct bs_proc p;

	bs_sh(&p, 30, "G=%s PATH=%s:$PATH %s run --preload-only -- python3 -c '%s'", GOSERVER,
	      bs_build("tests/helpers"), BINDSHIM, code);
	cr_expect_eq(p.status, 0, "%s: %s%s", code, p.out, p.err);
	return p.err;
}

/* Each way a program starts another is looked at: execve from a vfork child
 * (Python's subprocess) and from fork children, posix_spawn, posix_spawnp and
 * execvp with a PATH search, fexecve. Once per executable in a process, however
 * often it starts: a vfork child counts as its parent, a fork child for itself
 * (with what its parent said before the fork). */
Test(cover, every_way_of_starting_is_looked_at)
{
	static const struct {
		const char *code;
		const char *program;
		int records;
	} ways[] = {
		{"import os, subprocess\nfor i in range(3): subprocess.run([os.environ[\"G\"], \"x\", \"0\"])",
		 "python3", 1},
		{"import os\ng = os.environ[\"G\"]\nfor i in range(3):\n    pid = os.fork()\n"
		 "    if pid == 0: os.execv(g, [g, \"x\", \"0\"])\n    os.waitpid(pid, 0)", "python3", 3},
		{"import os\ng = os.environ[\"G\"]\nos.waitpid(os.posix_spawn(g, [g, \"x\", \"0\"], os.environ), 0)\n"
		 "for i in range(2):\n    pid = os.fork()\n"
		 "    if pid == 0: os.execv(g, [g, \"x\", \"0\"])\n    os.waitpid(pid, 0)", "python3", 1},
		{"import os\nos.waitpid(os.posix_spawnp(\"goserver\", [\"goserver\", \"x\", \"0\"], os.environ), 0)",
		 "python3", 1},
		{"import os\nos.execvp(\"env\", [\"env\", \"goserver\", \"x\", \"0\"])", "env", 1},
		{"import os\nfd = os.open(os.environ[\"G\"], os.O_RDONLY)\nos.execve(fd, [\"g\", \"x\", \"0\"], os.environ)",
		 "python3", 1},
	};
	char want[1024];

	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		const char *err = preload_python(ways[i].code);

		snprintf(want, sizeof(want), "] %s: " NOT_COVERED "%s is a Go program\n",
			 ways[i].program, GOSERVER);
		cr_expect(strstr(err, want) && bs_count(err, "not covered") == ways[i].records,
			  "%d records expected:\n%s:\n%s", ways[i].records, ways[i].code, err);
	}
	/* A program the preload reaches, started every way, is not named. */
	cr_expect_str_eq(preload_python("import subprocess, os\nsubprocess.run([\"true\"])\n"
					"os.waitpid(os.posix_spawnp(\"true\", [\"true\"], os.environ), 0)"),
			 "");
}

/* The record is written by a short-lived fork of the program, which it never sees:
 * one SIGCHLD for the one child it started. */
Test(cover, the_program_sees_no_child_it_did_not_start)
{
	const char *err = preload_python("import os, signal, sys, time\nn = [0]\n"
		"signal.signal(signal.SIGCHLD, lambda *a: n.__setitem__(0, n[0] + 1))\n"
		"pid = os.posix_spawn(os.environ[\"G\"], [\"g\", \"x\", \"0\"], os.environ)\n"
		"time.sleep(0.3)\nos.waitpid(pid, 0)\nprint(\"SIGCHLD\", n[0], file=sys.stderr)");

	cr_expect(strstr(err, NOT_COVERED) && strstr(err, "SIGCHLD 1\n"), "%s", err);
}

/* A set-id program is out of reach only when the exec changes the caller's ids
 * (a nosuid mount ignores the bits), one with file capabilities only when the
 * caller is not root: what the warning says is what really happens to the bind. */
Test(cover, set_id_and_capability_programs_as_the_kernel_runs_them)
{
	const char *dir = bs_open_tmpdir();
	struct bs_proc p;

	need_root();
	need_tool("setcap", "libcap2-bin");
	bs_sh(&p, 60, "cd %s && cp %s other && chown nobody other && chmod 4755 other && "
	      "cp %s mine && chmod 4755 mine && cp %s cap && setcap cap_net_bind_service+ep cap && "
	      "unshare --mount --propagation private sh -c 'mkdir ns && mount -t tmpfs -o nosuid "
	      "bs-nosuid ns && cp other ns/ && chmod 4755 ns/other && "
	      "%s run --preload-only -- sh -c \"./other bind 0.0.0.0 29011; ./mine bind 0.0.0.0 29012; "
	      "ns/other bind 0.0.0.0 29013; ./cap bind 0.0.0.0 29014\"'",
	      dir, PROBE, PROBE, PROBE, BINDSHIM);
	cr_expect_str_eq(p.out, "bound 0.0.0.0 29011\nbound 127.0.0.1 29012\nbound 127.0.0.1 29013\n"
			 "bound 127.0.0.1 29014\n", "%s", p.err);
	cr_expect(strstr(p.err, NOT_COVERED) && strstr(p.err, "/other is setuid or setgid\n") &&
		  bs_count(p.err, "not covered") == 1, "%s", p.err);
	bs_sh(&p, 60, "cd %s && " BS_AS_NOBODY " %s run --preload-only -- sh -c './cap bind 0.0.0.0 "
	      "29015; ./mine bind 0.0.0.0 29016'", dir, BINDSHIM);
	cr_expect_str_eq(p.out, "bound 0.0.0.0 29015\nbound 0.0.0.0 29016\n", "%s", p.err);
	cr_expect(strstr(p.err, "/cap has file capabilities\n") &&
		  strstr(p.err, "/mine is setuid or setgid\n") && bs_count(p.err, "not covered") == 2,
		  "%s", p.err);
}

/* Python that puts itself under a seccomp filter of its own (allow everything,
 * with no_new_privs), then listens on 127.0.0.1:PORT (argv[1]) for 20 s. */
#define SANDBOXED_PY \
	"import ctypes, socket, struct, sys, time\n" \
	"libc = ctypes.CDLL(None, use_errno=True)\n" \
	"allow = ctypes.create_string_buffer(struct.pack('HBBI', 6, 0, 0, 0x7fff0000))\n" \
	"class Prog(ctypes.Structure):\n" \
	"    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]\n" \
	"prog = Prog(1, ctypes.addressof(allow))\n" \
	"assert libc.prctl(38, 1, 0, 0, 0) == 0 and libc.prctl(22, 2, ctypes.byref(prog)) == 0\n" \
	"s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n" \
	"time.sleep(20)\n"

/* What covers each listener, as root and as the user who runs them (nobody): the
 * supervisor and its launcher are not dumpable, so to that user their executable
 * link is closed; coverage must not depend on it. A daemon outlives its launcher
 * and stays supervised; a seccomp filter that is not the supervisor's is none,
 * under --preload-only too. */
Test(cover, audit_tells_who_is_covered_as_root_and_as_the_user)
{
	const char *dir = bs_open_tmpdir();
	struct bs_proc p;
	char script[4096];

	need_root();
	put(dir, "sandboxed.py", SANDBOXED_PY);
	put(dir, "fields.py", "import json, sys\n"
	    "for s in sorted(json.load(sys.stdin), key=lambda s: s['local']):\n"
	    "    if s['local'].startswith('127.0.0.1:290'):\n"
	    "        print(sys.argv[1], s['local'], s['program'],\n"
	    "              '?' if s['coverage'] is None else '+'.join(s['coverage']) or 'none')\n");
	snprintf(script, sizeof(script),
		 "B=%s; P=%s; S=%s; D=%s\n"
		 "U='" BS_AS_NOBODY "'\n"
		 /* a python3 of the system's, which nobody may run */
		 "PY=$(PATH=/usr/local/bin:/usr/bin:/bin command -v python3)\n"
		 "H='bind --listen --hold 20 127.0.0.1'\n"
		 "$U $B run --log /dev/null -- $P $H 29021 &\n"
		 "$U $B run --log /dev/null -- $S $H 29022 &\n"
		 "$U $B run --preload-only --log /dev/null -- $P $H 29023 &\n"
		 "$U $P $H 29024 &\n"
		 "$U $B run --log /dev/null -- sh -c \"(sleep 0.3; exec $S $H 29025) & exit 0\"\n"
		 "$U $PY $D/sandboxed.py 29026 &\n"
		 "$U $B run --preload-only --log /dev/null -- $PY $D/sandboxed.py 29027 &\n"
		 "i=0; while [ $(ss -Htln 'sport >= 29021 and sport <= 29027' | wc -l) -lt 7 ] && "
		 "[ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done\n"
		 "$B audit --json | python3 $D/fields.py root\n"
		 "$U $B audit --json | python3 $D/fields.py nobody\n",
		 BINDSHIM, PROBE, STATIC_PROBE, dir);
	put(dir, "audit.sh", script);
	bs_sh(&p, 60, "sh %s/audit.sh > %s/out 2>&1 < /dev/null; cat %s/out", dir, dir, dir);
	for (int who = 0; who < 2; who++) {
		static const char *const rows[] = {
			"127.0.0.1:29021 probe shim+supervised",
			"127.0.0.1:29022 probe-static supervised",
			"127.0.0.1:29023 probe shim",
			"127.0.0.1:29024 probe none",
			"127.0.0.1:29025 probe-static supervised",
			"127.0.0.1:29026 python3 none",
			"127.0.0.1:29027 python3 shim",
		};

		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			char want[256];

			snprintf(want, sizeof(want), "%s %s\n", who ? "nobody" : "root", rows[i]);
			cr_expect(strstr(p.out, want), "no \"%s\" in:\n%s", want, p.out);
		}
	}
}

/* A Python server that daemonizes the classic way after a short wait: fork, setsid,
 * fork again, stdio on /dev/null, then binds 0.0.0.0:PORT (argv[1]), writes its pid
 * into argv[2] and serves for 10 s. */
#define DAEMON_PY \
	"import os, socket, sys, time\n" \
	"if os.fork(): sys.exit(0)\n" \
	"os.setsid()\n" \
	"if os.fork(): os._exit(0)\n" \
	"null = os.open('/dev/null', os.O_RDWR)\n" \
	"for fd in (0, 1, 2): os.dup2(null, fd)\n" \
	"time.sleep(0.5)\n" \
	"s = socket.socket(); s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen()\n" \
	"open(sys.argv[2], 'w').write(str(os.getpid()))\n" \
	"time.sleep(10)\n"

/* Runs `bindshim run OPTS -- CMD` with its stderr in dir/err, out of the test's
 * process group, and expects it back at once with status 0: the daemon binds
 * after bindshim has returned. Returns after the daemon listens on loopback only
 * (port), with dir/err read into err. */
static void daemon_run(const char *dir, const char *opts, const char *cmd, unsigned port,
		       char *err, size_t len)
{
	char path[512];
	struct bs_proc p;

	snprintf(path, sizeof(path), "%s/err", dir);
	cr_expect_eq(bs_sh(&p, 30, "setsid -w %s run %s -- %s 2> %s", BINDSHIM, opts, cmd, path), 0,
		     "%s", p.out);
	assert_tcp_loopback_only(port, path);
	bs_read_file(path, err, len);
}

/* Kills the daemon whose pid is in dir/NAMEi.pid (written once it listens). */
static void stop_daemon(const char *dir, const char *name, unsigned i)
{
	struct bs_proc p;

	bs_sh(&p, 10, "f=%s/%s%u.pid; i=0; while [ ! -s $f ] && [ $i -lt 100 ]; do sleep 0.05; "
	      "i=$((i + 1)); done; kill $(cat $f)", dir, name, i);
}

/* Servers that daemonize (double fork and setsid, or redis's own) bind after
 * bindshim has returned to the shell: they stay on loopback, and their records
 * still reach bindshim's stderr, from the shim, supervised (the default) or not,
 * or from the supervisor for a static one. */
Test(cover, daemonizing_servers_stay_on_loopback_and_keep_their_records)
{
	static const char *const modes[] = {"", "--preload-only"};
	const char *dir = bs_open_tmpdir();
	char cmd[1024], want[256], err[8192];

	put(dir, "daemon.py", DAEMON_PY);
	for (unsigned i = 0; i < 2; i++) {
		unsigned port = 29031 + i;

		snprintf(cmd, sizeof(cmd), "python3 %s/daemon.py %u %s/py%u.pid", dir, port, dir, i);
		daemon_run(dir, modes[i], cmd, port, err, sizeof(err));
		snprintf(want, sizeof(want), "python3: rewrite tcp 0.0.0.0:%u -> 127.0.0.1:%u (rule "
			 "\"not-loopback\" builtin)\n", port, port);
		cr_expect(strstr(err, want), "%s: %s", modes[i], err);
		stop_daemon(dir, "py", i);
	}
	/* A static one in a session of its own: the supervisor's record. */
	snprintf(cmd, sizeof(cmd), "sh -c '(setsid sh -c \"sleep 0.5; exec %s bind --listen "
		 "--hold 3 0.0.0.0 29035\" < /dev/null > /dev/null 2>&1 &); exit 0'", STATIC_PROBE);
	daemon_run(dir, "", cmd, 29035, err, sizeof(err));
	cr_expect(strstr(err, "probe-static: rewrite tcp 0.0.0.0:29035 -> 127.0.0.1:29035 (rule "
			 "\"not-loopback\" builtin) via seccomp\n"), "%s", err);
	need_tool("redis-server", "redis-server");
	for (unsigned i = 0; i < 2; i++) {
		unsigned port = 29033 + i;

		snprintf(cmd, sizeof(cmd), "redis-server --port %u --bind 0.0.0.0 --daemonize yes "
			 "--save '' --appendonly no --protected-mode no --dir %s --pidfile %s/redis%u.pid",
			 port, dir, dir, i);
		daemon_run(dir, modes[i], cmd, port, err, sizeof(err));
		/* (redis asks getaddrinfo first: "... builtin) in getaddrinfo()") */
		snprintf(want, sizeof(want), "redis-server: rewrite tcp 0.0.0.0:%u -> 127.0.0.1:%u "
			 "(rule \"not-loopback\" builtin)", port, port);
		cr_expect(strstr(err, want), "%s: %s", modes[i], err);
		stop_daemon(dir, "redis", i);
	}
}
