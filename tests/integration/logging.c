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
	char log[256], body[4096], want[256];
	struct bs_proc p;

	snprintf(log, sizeof(log), "%s/records.log", bs_tmpdir());
	bs_sh(&p, 30, "%s run -l --log %s -- %s bind 0.0.0.0 21010", BINDSHIM, log, PROBE);
	cr_assert_str_eq(p.out, "bound 127.0.0.1 21010\n");
	cr_expect_str_eq(p.err, "", "records must go to the file only");
	bs_read_file(log, body, sizeof(body));
	snprintf(want, sizeof(want), "] probe: rewrite tcp 0.0.0.0:21010 -> 127.0.0.1:21010 (rule \"not-loopback\" builtin)\n");
	cr_expect(!strncmp(body, "bindshim[", 9) && strstr(body, want) &&
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
