/* Log records: formats, destinations, atomicity across processes. Ports 21xxx. */
#include <stdio.h>
#include <unistd.h>

#include "tests/integration/support.h"

Test(logging, json_from_many_processes_into_one_file_all_parse)
{
	char log[256];
	struct bs_proc p;

	snprintf(log, sizeof(log), "%s/records.json", bs_tmpdir());
	/* 8 processes x 8 threads x 4 binds, all at once, all appending to one file. */
	bs_sh(&p, 60, "for i in 0 1 2 3 4 5 6 7; do "
	      "%s run -l --log %s --log-format json -- %s threads 8 $((21100 + i * 40)) & done; wait",
	      BINDSHIM, log, PROBE);
	cr_assert(!p.timed_out);
	bs_sh(&p, 30, "python3 -c \"import json, sys\n"
	      "n = 0\n"
	      "for line in open(sys.argv[1]):\n"
	      "    r = json.loads(line)\n"
	      "    assert r['event'] == 'rewrite' and r['call'] == 'bind', r\n"
	      "    assert set(r) >= {'time', 'pid', 'program', 'proto', 'from', 'to', 'rule', 'source'}, r\n"
	      "    assert r['time'].endswith('Z') and r['source'] == 'builtin', r\n"
	      "    n += 1\n"
	      "print(n)\" %s", log);
	cr_expect_str_eq(p.out, "256\n", "%s", p.err);
}

Test(logging, text_record_to_file_is_exact)
{
	char log[256], body[4096];
	struct bs_proc p;

	snprintf(log, sizeof(log), "%s/records.log", bs_tmpdir());
	bs_sh(&p, 30, "%s run -l --log %s -- %s bind 0.0.0.0 21010", BINDSHIM, log, PROBE);
	cr_assert_str_eq(p.out, "bound 127.0.0.1 21010\n");
	cr_expect_str_eq(p.err, "", "records must go to the file only");
	bs_read_file(log, body, sizeof(body));
	cr_expect(!strncmp(body, "bindshim[", 9) &&
		  strstr(body, "] probe: rewrite tcp 0.0.0.0:21010 -> 127.0.0.1:21010 (rule "
			 "\"not-loopback\" builtin)\n") &&
		  body[strlen(body) - 1] == '\n' && bs_count(body, "\n") == 1, "%s", body);
}

Test(logging, json_record_fields)
{
	const char *dir = bs_tmpdir();
	char pol[256], log[256], body[4096];
	struct bs_proc p;

	snprintf(pol, sizeof(pol), "%s/p.cfg", dir);
	snprintf(log, sizeof(log), "%s/r.json", dir);
	bs_write_file(pol, "version = 1;\nlog = { format = \"json\"; };\n"
		      "rules = ( { name = \"no-ssh\"; match = { port = 21011; }; action = \"deny\"; } );\n");
	bs_sh(&p, 30, "%s run -p %s --log %s -- %s bind 0.0.0.0 21011", BINDSHIM, pol, log, PROBE);
	bs_read_file(log, body, sizeof(body));
	cr_expect(strstr(body, "\"program\":\"probe\",\"call\":\"bind\",\"event\":\"deny\","
			 "\"proto\":\"tcp\",\"from\":\"0.0.0.0:21011\",\"errno\":\"EACCES\","
			 "\"rule\":\"no-ssh\",\"source\":\""), "%s", body);
	cr_expect(strstr(body, "p.cfg:3\"}\n"), "%s", body);
}

Test(logging, syslog_destination)
{
	const char *dir = bs_tmpdir();
	struct bs_proc p;

	/* A private /dev (tmpfs, this test's own mount namespace) holds a fake syslogd. */
	bs_sh(&p, 30, "unshare --mount --propagation private sh -c '"
	      "mount -t tmpfs none /dev && "
	      "python3 -c \"import socket, sys\n"
	      "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(\\\"/dev/log\\\")\n"
	      "open(sys.argv[1], \\\"w\\\").close()\n"
	      "s.settimeout(10); print(s.recv(4096).decode())\" %s/ready & "
	      "while [ ! -e %s/ready ]; do sleep 0.05; done; "
	      "%s run -l --log syslog -- %s bind 0.0.0.0 21012 >/dev/null; wait'",
	      dir, dir, BINDSHIM, PROBE);
	cr_expect(strstr(p.out, "<13>bindshim["), "%s %s", p.out, p.err);
	/* The audit trail: who (real uid and name), which program, where. */
	cr_expect(strstr(p.out, "]: user=root uid=0 probe: rewrite tcp 0.0.0.0:21012 -> "
			 "127.0.0.1:21012 (rule \"not-loopback\" builtin)"), "%s %s", p.out, p.err);
}

Test(logging, unusable_destinations_are_refused_before_anything_runs)
{
	struct bs_proc p;

	/* Records must not vanish: the launcher checks the destination first. */
	cr_expect_eq(bs_sh(&p, 30, "%s run -l --log /nonexistent-dir/x.log -- %s bind 0.0.0.0 21013",
			   BINDSHIM, PROBE), 125);
	cr_expect_str_eq(p.out, "", "nothing ran");
	cr_expect_str_eq(p.err, "bindshim run: log file /nonexistent-dir/x.log: No such file or "
			 "directory; nothing was run\n");
	/* No syslog here (a private, empty /dev/log directory): the same. */
	cr_expect_eq(bs_sh(&p, 30, "unshare --mount --propagation private sh -c 'mount -t tmpfs "
			   "none /dev && %s run -l --log syslog -- %s bind 0.0.0.0 21013'",
			   BINDSHIM, PROBE), 125, "%s", p.err);
	cr_expect_str_eq(p.out, "", "nothing ran");
	cr_expect(strstr(p.err, "bindshim run: syslog: cannot reach /dev/log: No such file or "
			 "directory; nothing was run\n"), "%s", p.err);
}

Test(logging, records_go_to_stderr_never_stdout)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -l -- %s bind 0.0.0.0 21014", BINDSHIM, PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 21014\n");
	cr_expect(strstr(p.err, "rewrite tcp 0.0.0.0:21014"), "%s", p.err);
}

/* Records go through a descriptor the command inherits from run. A program that
 * closes it (closerange over everything but stdio) loses the records after that,
 * and is told so once, on its own stderr; before a first record, the shim sees the
 * descriptor is gone and writes to fd 2. */
Test(logging, a_closed_record_descriptor_is_said_once)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s run -l -- python3 -c 'import os, socket\n"
	      "a = socket.socket(); a.bind((\"0.0.0.0\", 21101)); a.detach()\n"
	      "os.closerange(3, 1024)\n"
	      "b = socket.socket(); b.bind((\"0.0.0.0\", 21102))\n"
	      "c = socket.socket(); c.bind((\"0.0.0.0\", 21103)); print(c.getsockname()[0])'",
	      BINDSHIM);
	cr_expect_str_eq(p.out, "127.0.0.1\n", "%s", p.err);
	cr_expect(strstr(p.err, "rewrite tcp 0.0.0.0:21101 -> 127.0.0.1:21101"), "%s", p.err);
	cr_expect(!strstr(p.err, "21102") && !strstr(p.err, "21103"), "%s", p.err);
	cr_expect_eq(bs_count(p.err, "was closed by the program: records are lost from here on\n"), 1,
		     "%s", p.err);
	bs_sh(&p, 30, "%s run -l -- python3 -c 'import os, socket\nos.closerange(3, 1024)\n"
	      "socket.socket().bind((\"0.0.0.0\", 21104))'", BINDSHIM);
	cr_expect(strstr(p.err, "rewrite tcp 0.0.0.0:21104 -> 127.0.0.1:21104"), "%s", p.err);
}

/* BINDSHIM_LOG_FD names a descriptor by number, device and inode. A descriptor with
 * that number that is some other file (a program that closed run's and opened its
 * own there, or a forged variable) gets no record: they go to fd 2. */
Test(logging, a_record_descriptor_that_is_not_the_one_named_gets_nothing)
{
	char file[256], body[4096];
	struct bs_proc p;

	snprintf(file, sizeof(file), "%s/other", bs_tmpdir());
	bs_write_file(file, "");
	bs_sh(&p, 30, "env LD_PRELOAD=%s BINDSHIM_BUILTIN=loopback BINDSHIM_LOG_FD=5:1:1 "
	      "%s bind 0.0.0.0 21105 5>>%s", bs_build("libbindshim.so"), PROBE, file);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 21105\n", "%s", p.err);
	cr_expect(strstr(p.err, "rewrite tcp 0.0.0.0:21105 -> 127.0.0.1:21105"), "%s", p.err);
	bs_read_file(file, body, sizeof(body));
	cr_expect_str_eq(body, "", "a file the variable does not name got a record");
}

Test(logging, environment_overrides_policy_log_settings)
{
	const char *dir = bs_tmpdir();
	char pol[256], log[256], body[4096];
	struct bs_proc p;

	snprintf(pol, sizeof(pol), "%s/p.cfg", dir);
	snprintf(log, sizeof(log), "%s/r.json", dir);
	bs_write_file(pol, "version = 1;\nlog = { to = \"stderr\"; format = \"text\"; };\n"
		      "rules = ( { match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; } );\n");
	bs_sh(&p, 30, "LD_PRELOAD=%s BINDSHIM_POLICY=%s BINDSHIM_LOG=%s BINDSHIM_LOG_FORMAT=json "
	      "%s bind 0.0.0.0 21015", bs_build("libbindshim.so"), pol, log, PROBE);
	cr_expect_str_eq(p.err, "");
	bs_read_file(log, body, sizeof(body));
	cr_expect(!strncmp(body, "{\"time\":", 8), "%s", body);
}

/* Forgery: every field a program or a user controls is escaped, in both formats and
 * in the supervisor's records too. Each hostile name holds a newline followed by a
 * record of its own, and invalid UTF-8 (a surrogate, an overlong NUL), then a valid
 * character (U+2713). */
#define FORGED "bindshim[1] x: allow tcp 0.0.0.0:1 (builtin)"
#define HOSTILE_SH "F=$(printf 'x\\n" FORGED "\\n\\355\\240\\200\\300\\200\\342\\234\\223')\n"
#define HOSTILE_TEXT "x\\n" FORGED "\\n\\xed\\xa0\\x80\\xc0\\x80\xe2\x9c\x93"
#define HOSTILE_PY "'x\\n" FORGED "\\n' + '\\ufffd' * 5 + '\\u2713'"

/* Tells whether body holds exactly n lines, none of them starting with a forged
 * record. */
static bool exactly_lines(const char *body, int n)
{
	return bs_count(body, "\n") == n && (!n || body[strlen(body) - 1] == '\n') &&
	       strncmp(body, "bindshim[1]", 11) && !strstr(body, "\nbindshim[1]");
}

/* Writes a script that runs "$@" with the hostile argv[0]; returns its path. */
static const char *hostile_sh(const char *dir)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/hostile.sh", dir);
	return bs_write_file(path, HOSTILE_SH "p=$1; shift\nexec -a \"$F\" \"$p\" \"$@\"\n");
}

/* Runs python3 over a JSON log: every line must parse (as strict UTF-8), and key of
 * every record must equal the Python expression want. Returns "N ok\n" or what
 * differs. */
static const char *json_check(const char *log, const char *key, const char *want)
{
	static struct bs_proc p;
	char py[512], text[1024];

	snprintf(py, sizeof(py), "%s/check.py", bs_tmpdir());
	snprintf(text, sizeof(text), "import json, sys\nwant = %s\n"
		 "recs = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]\n"
		 "bad = [r.get(sys.argv[2]) for r in recs if r.get(sys.argv[2]) != want]\n"
		 "print(len(recs), ascii(bad) if bad else 'ok')\n", want);
	bs_write_file(py, text);
	bs_sh(&p, 30, "python3 %s %s %s", py, log, key);
	return p.status ? p.err : p.out;
}

/* Checks the two logs of a hostile argv[0]'s binds: one record in each, the text
 * one holding want, the JSON one naming the program as HOSTILE_PY. */
static void expect_hostile_records(const char *text, const char *json, const char *want)
{
	char body[4096];

	bs_read_file(text, body, sizeof(body));
	cr_expect(exactly_lines(body, 1), "%s", body);
	cr_expect(strstr(body, want), "%s", body);
	bs_read_file(json, body, sizeof(body));
	cr_expect(exactly_lines(body, 1), "%s", body);
	cr_expect_str_eq(json_check(json, "program", HOSTILE_PY), "1 ok\n");
}

Test(logging, hostile_argv0_cannot_forge_a_record)
{
	const char *dir = bs_tmpdir(), *sh = hostile_sh(dir);
	char text[256], json[256];
	struct bs_proc p;

	snprintf(text, sizeof(text), "%s/r.log", dir);
	snprintf(json, sizeof(json), "%s/r.json", dir);
	bs_sh(&p, 30, "export LD_PRELOAD=%s BINDSHIM_BUILTIN=loopback; "
	      "BINDSHIM_LOG=%s bash %s %s bind 0.0.0.0 21020; "
	      "BINDSHIM_LOG=%s BINDSHIM_LOG_FORMAT=json bash %s %s bind 0.0.0.0 21021",
	      bs_build("libbindshim.so"), text, sh, PROBE, json, sh, PROBE);
	cr_assert_str_eq(p.out, "bound 127.0.0.1 21020\nbound 127.0.0.1 21021\n", "%s", p.err);
	expect_hostile_records(text, json, "] " HOSTILE_TEXT ": rewrite tcp 0.0.0.0:21020 -> "
			       "127.0.0.1:21020 (rule \"not-loopback\" builtin)\n");
}

Test(logging, hostile_argv0_cannot_forge_a_supervisor_record)
{
	const char *dir = bs_tmpdir(), *sh = hostile_sh(dir);
	char text[256], json[256];
	struct bs_proc p;

	snprintf(text, sizeof(text), "%s/r.log", dir);
	snprintf(json, sizeof(json), "%s/r.json", dir);
	/* A static program: the supervisor names it from /proc/PID/cmdline. */
	bs_sh(&p, 30, "%s run --enforce -l --log %s -- bash %s %s bind 0.0.0.0 21022; "
	      "%s run --enforce -l --log %s --log-format json -- bash %s %s bind 0.0.0.0 21023",
	      BINDSHIM, text, sh, STATIC_PROBE,
	      BINDSHIM, json, sh, STATIC_PROBE);
	cr_assert_str_eq(p.out, "bound 127.0.0.1 21022\nbound 127.0.0.1 21023\n", "%s", p.err);
	expect_hostile_records(text, json, "] " HOSTILE_TEXT ": rewrite tcp 0.0.0.0:21022 -> "
			       "127.0.0.1:21022 (rule \"not-loopback\" builtin) via seccomp\n");
	cr_expect_str_eq(json_check(json, "via", "'seccomp'"), "1 ok\n");
}

/* With an empty argv[0] the name comes from /proc/PID/comm: the file name a program
 * was started through, or what it set with prctl(PR_SET_NAME). Both readers stop at
 * the kernel's newline, and escape the rest. */
Test(logging, hostile_comm_cannot_forge_a_record)
{
	const char *dir = bs_tmpdir();
	char log[256], py[256], body[4096];
	struct bs_proc p;

	snprintf(log, sizeof(log), "%s/r.log", dir);
	snprintf(py, sizeof(py), "%s/prctl.py", dir);
	bs_write_file(py, "import ctypes, os, socket, struct, sys\n"
		      "ctypes.CDLL(None).prctl(15, b'p\\x1b[2J\\xff\\xfe\\nbindshim[1] f', 0, 0, 0)\n"
		      "s = socket.socket()\n"
		      "sa = struct.pack('=HH4s8x', socket.AF_INET, socket.htons(int(sys.argv[1])),"
		      " socket.inet_aton('0.0.0.0'))\n"
		      "nr = {'x86_64': 49, 'aarch64': 200}[os.uname().machine]\n"
		      "print(ctypes.CDLL(None).syscall(nr, s.fileno(), sa, len(sa)), s.getsockname()[0])\n");
	/* The shim (a dynamic probe) and the supervisor (a static one and, by a raw
	 * syscall the shim does not see, python) */
	bs_sh(&p, 30, "L=\"%s/$(printf 'e\\033]0;\\377\\nbindshim[1] f')\"; "
	      "ln -s %s \"$L\"; LD_PRELOAD=%s BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=%s "
	      "bash -c 'exec -a \"\" \"$0\" bind 0.0.0.0 21024' \"$L\"; "
	      "ln -sf %s \"$L\"; %s run --enforce -l --log %s -- "
	      "bash -c 'exec -a \"\" \"$0\" bind 0.0.0.0 21025' \"$L\"; "
	      "%s run --enforce -l --log %s -- "
	      "bash -c 'exec -a \"\" \"$0\" %s 21026' \"$(python3 -c 'import sys; print(sys.executable)')\"",
	      dir, PROBE, bs_build("libbindshim.so"), log, STATIC_PROBE,
	      BINDSHIM, log, BINDSHIM, log, py);
	cr_assert_str_eq(p.out, "bound 127.0.0.1 21024\nbound 127.0.0.1 21025\n0 127.0.0.1\n",
			 "%s", p.err);
	bs_read_file(log, body, sizeof(body));
	cr_expect(exactly_lines(body, 3), "%s", body);
	cr_expect(strstr(body, "] e\\x1b]0;\\xff: rewrite tcp 0.0.0.0:21024 -> 127.0.0.1:21024 "
			 "(rule \"not-loopback\" builtin)\n"), "%s", body);
	cr_expect(strstr(body, "] e\\x1b]0;\\xff: rewrite tcp 0.0.0.0:21025 -> 127.0.0.1:21025 "
			 "(rule \"not-loopback\" builtin) via seccomp\n"), "%s", body);
	cr_expect(strstr(body, "] p\\x1b[2J\\xff\\xfe: rewrite tcp 0.0.0.0:21026 -> 127.0.0.1:21026 "
			 "(rule \"not-loopback\" builtin) via seccomp\n"), "%s", body);
}

/* The shim names the policy file in its error record: a newline in that name stays
 * in the one record (and the problem after it is still the right one). */
Test(logging, policy_path_with_a_newline_stays_in_one_record)
{
	const char *dir = bs_tmpdir();
	char log[256], body[4096], want[512];
	struct bs_proc p;

	snprintf(log, sizeof(log), "%s/r.log", dir);
	bs_sh(&p, 30, "printf 'version = 1;\\nbogus = 1;\\n' > \"%s/$(printf 'y\\nbindshim[1] f')\"; "
	      "export LD_PRELOAD=%s BINDSHIM_LOG=%s; "
	      "BINDSHIM_POLICY=\"$(printf '%s/x\\n" FORGED "')\" %s bind 0.0.0.0 21027; "
	      "BINDSHIM_POLICY=\"$(printf '%s/y\\nbindshim[1] f')\" %s bind 0.0.0.0 21028",
	      dir, bs_build("libbindshim.so"), log, dir, PROBE, dir, PROBE);
	cr_assert_str_eq(p.out, "bound 127.0.0.1 21027\nbound 127.0.0.1 21028\n", "%s", p.err);
	bs_read_file(log, body, sizeof(body));
	cr_expect(exactly_lines(body, 4), "%s", body);
	snprintf(want, sizeof(want), "] probe: error %s/x\\n" FORGED ": cannot ", dir);
	cr_expect(strstr(body, want), "%s", body);
	snprintf(want, sizeof(want), "] probe: error %s/y\\nbindshim[1] f:2: unknown setting "
		 "\"bogus\"; using the built-in loopback-only policy\n", dir);
	cr_expect(strstr(body, want), "%s", body);
}

/* Rule names (libconfig strings with escapes) and policy file names, in the text
 * record's source and in JSON's rule and source. */
Test(logging, rule_names_and_policy_paths_are_escaped)
{
	const char *dir = bs_tmpdir();
	char pol[256], text[256], json[256], body[4096], want[512], py[512];
	struct bs_proc p;

	snprintf(pol, sizeof(pol), "%s/p\nbindshim[1] f.cfg", dir);
	snprintf(text, sizeof(text), "%s/r.log", dir);
	snprintf(json, sizeof(json), "%s/r.json", dir);
	bs_write_file(pol, "version = 1;\nrules = ( { name = \"r\\n" FORGED "\\x1b[2J\\xed\\xa0\\x80\";"
		      " match = { port = [ 21029, 21030 ]; }; action = \"deny\"; } );\n");
	bs_sh(&p, 30, "export LD_PRELOAD=%s BINDSHIM_POLICY=\"$(printf '%s/p\\nbindshim[1] f.cfg')\"; "
	      "BINDSHIM_LOG=%s %s bind 0.0.0.0 21029; "
	      "BINDSHIM_LOG=%s BINDSHIM_LOG_FORMAT=json %s bind 0.0.0.0 21030",
	      bs_build("libbindshim.so"), dir, text, PROBE, json, PROBE);
	cr_assert_str_eq(p.out, "error bind EACCES\nerror bind EACCES\n", "%s", p.err);
	bs_read_file(text, body, sizeof(body));
	cr_expect(exactly_lines(body, 1), "%s", body);
	snprintf(want, sizeof(want), "probe: deny tcp 0.0.0.0:21029 EACCES (rule \"r\\n" FORGED
		 "\\x1b[2J\\xed\\xa0\\x80\" %s/p\\nbindshim[1] f.cfg:2)\n", dir);
	cr_expect(strstr(body, want), "%s", body);
	bs_read_file(json, body, sizeof(body));
	cr_expect(exactly_lines(body, 1), "%s", body);
	cr_expect_str_eq(json_check(json, "rule", "'r\\n" FORGED "\\x1b[2J' + '\\ufffd' * 3"),
			 "1 ok\n");
	snprintf(py, sizeof(py), "'%s/p\\nbindshim[1] f.cfg:2'", dir);
	cr_expect_str_eq(json_check(json, "source", py), "1 ok\n");
}

/* An escape is up to six times its input: a long rule name made of newlines, and a
 * long policy path made of control characters, are cut, and the record still closes
 * (JSON parses) and stays one line. */
Test(logging, long_hostile_fields_still_close_the_record)
{
	const char *dir = bs_tmpdir();
	char pol[256], log[256], body[16384], rule[4096] = "version = 1;\nrules = ( { name = \"";
	struct bs_proc p;

	snprintf(pol, sizeof(pol), "%s/long.cfg", dir);
	snprintf(log, sizeof(log), "%s/r.json", dir);
	for (int i = 0; i < 1000; i++)
		strcat(rule, "\\n");
	strcat(rule, "\"; match = { port = [ 21031, 21032 ]; }; action = \"deny\"; } );\n");
	bs_write_file(pol, rule);
	bs_sh(&p, 30, "export LD_PRELOAD=%s BINDSHIM_LOG=%s; "
	      "BINDSHIM_POLICY=%s BINDSHIM_LOG_FORMAT=json %s bind 0.0.0.0 21031; "
	      "BINDSHIM_POLICY=%s %s bind 0.0.0.0 21032; "
	      "BINDSHIM_POLICY=\"%s/$(head -c 900 /dev/zero | tr '\\0' '\\001')\" "
	      "BINDSHIM_LOG_FORMAT=json %s bind 0.0.0.0 21033",
	      bs_build("libbindshim.so"), log, pol, PROBE, pol, PROBE, dir, PROBE);
	cr_assert_str_eq(p.out, "error bind EACCES\nerror bind EACCES\nbound 127.0.0.1 21033\n",
			 "%s", p.err);
	bs_read_file(log, body, sizeof(body));
	cr_expect(exactly_lines(body, 4), "%s", body);
	bs_sh(&p, 30, "python3 -c \"import json, sys\n"
	      "for l in open(sys.argv[1], encoding='utf-8'):\n"
	      "    if l.startswith('{'):\n"
	      "        r = json.loads(l); v = r.get('rule', r.get('message'))\n"
	      "        print(r['event'], len(v) > 100, v.count('\\n') + v.count('\\x01') > 100)\n"
	      "    else:\n"
	      "        print(l[l.index(': ') + 2:l.index(' (')], l.endswith(')\\n'))\" %s", log);
	cr_expect_str_eq(p.out, "deny True True\n"
			 "deny tcp 0.0.0.0:21032 EACCES True\n"
			 "error True True\n"
			 "rewrite False False\n", "%s", p.err);
}
