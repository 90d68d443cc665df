/* The launcher's user-facing contract: output and exit codes of run, check, explain. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/common.h"

#define BINDSHIM bs_build("bindshim")

static const char *tmpfile_with(const char *name, const char *text)
{
	static char paths[4][256];
	static int n;
	char *path = paths[n++ % 4];

	snprintf(path, sizeof(paths[0]), "%s/%s", bs_tmpdir(), name);
	return bs_write_file(path, text);
}

/* ---- check ---- */

Test(check, examples_are_valid)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s check %s/*.cfg", BINDSHIM, bs_src("examples"));
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect_str_eq(p.err, "");
	bs_sh(&p, 30, "ls %s/*.cfg | wc -l", bs_src("examples"));
	cr_expect_geq(atoi(p.out), 3, "at least three example policies");
}

Test(check, invalid_file_lists_every_problem_and_exits_1)
{
	const char *f = tmpfile_with("bad.cfg", "version = 1;\nrules = (\n"
				     "  { action = \"rewrite\"; },\n"
				     "  { match = { port = 70000; }; action = \"deny\"; errno = \"ENOPE\"; }\n);\n");
	struct bs_proc p;
	char want[1024];

	bs_sh(&p, 30, "%s check %s", BINDSHIM, f);
	cr_expect_eq(p.status, 1);
	snprintf(want, sizeof(want), "%s:3: action \"rewrite\" needs \"to\"\n"
		 "%s:4: unknown errno name \"ENOPE\"\n"
		 "%s:4: port 70000 out of range (0-65535)\n", f, f, f);
	cr_expect_str_eq(p.err, want);
	cr_expect_str_eq(p.out, "");
}

Test(check, mixed_files_and_usage)
{
	const char *good = tmpfile_with("good.cfg", "version = 1;\n");
	const char *bad = tmpfile_with("bad.cfg", "version = 1;\nfoo = 1;\n");
	struct bs_proc p;
	char want[1024];

	bs_sh(&p, 30, "%s check %s %s", BINDSHIM, good, bad);
	cr_expect_eq(p.status, 1);
	cr_expect_eq(bs_count(p.err, "\n"), 1, "%s", p.err);
	cr_expect(strstr(p.err, "bad.cfg:2: unknown setting \"foo\""), "%s", p.err);
	snprintf(want, sizeof(want), "%s: ok\n", good);
	cr_expect_str_eq(p.out, want, "like nginx -t, success is confirmed");
	cr_expect_eq(bs_sh(&p, 30, "%s check -q %s %s", BINDSHIM, good, bad), 1);
	cr_expect_str_eq(p.out, "", "-q: problems only");
	cr_expect_eq(bs_sh(&p, 30, "%s check", BINDSHIM), 2);
	cr_expect_eq(bs_sh(&p, 30, "%s check --bogus x", BINDSHIM), 2);
	cr_expect_eq(bs_sh(&p, 30, "%s check /nonexistent.cfg", BINDSHIM), 1);
	cr_expect_str_eq(p.err, "/nonexistent.cfg: cannot open: No such file or directory\n");
	/* Options anywhere (getopt), -- ends them. */
	cr_expect_eq(bs_sh(&p, 30, "%s check %s -v", BINDSHIM, good), 2);
	cr_expect_str_eq(p.err, "bindshim check: invalid option -- 'v'\n"
			 "Try 'bindshim check --help'.\n");
	cr_expect_str_eq(p.out, "", "nothing is checked after a usage error");
	cr_expect_eq(bs_sh(&p, 30, "%s check %s -q", BINDSHIM, good), 0);
	cr_expect_str_eq(p.out, "");
	bs_sh(&p, 30, "d=$(dirname %s) && cp %s $d/-q && cd $d && %s check -- -q", good, good, BINDSHIM);
	cr_expect_str_eq(p.out, "-q: ok\n", "%s", p.err);
}

Test(check, fifo_and_other_non_regular_files_are_refused_at_once)
{
	const char *dir = bs_tmpdir();
	struct bs_proc p;
	char want[1024];

	bs_sh(&p, 10, "mkfifo %s/fifo && %s check %s/fifo", dir, BINDSHIM, dir);
	cr_expect(!p.timed_out, "check blocked on a FIFO");
	cr_expect_eq(p.status, 1);
	snprintf(want, sizeof(want), "%s/fifo: not a regular file\n", dir);
	cr_expect_str_eq(p.err, want);
	bs_sh(&p, 10, "%s check /dev/null %s", BINDSHIM, dir);
	snprintf(want, sizeof(want), "/dev/null: not a regular file\n%s: cannot read: Is a directory\n", dir);
	cr_expect_str_eq(p.err, want);
	/* bindshim run -p FIFO fails at once too, running nothing. */
	bs_sh(&p, 10, "%s run -p %s/fifo -- echo ran", BINDSHIM, dir);
	cr_expect(!p.timed_out, "run blocked on a FIFO");
	cr_expect_eq(p.status, 125);
	cr_expect_str_eq(p.out, "");
}

Test(check, numbers_out_of_range_are_named_as_written)
{
	const char *f = tmpfile_with("big.cfg", "version = 1;\nrules = (\n"
				     "  { match = { port = 99999999999999999999; }; action = \"deny\"; },\n"
				     "  { match = { port = 4294967318; uid = 4294967295; }; action = \"deny\"; }\n);\n");
	struct bs_proc p;
	char want[1024];

	cr_expect_eq(bs_sh(&p, 30, "%s check %s", BINDSHIM, f), 1);
	snprintf(want, sizeof(want), "%s:3: port 99999999999999999999 out of range (0-65535)\n"
		 "%s:4: port 4294967318 out of range (0-65535)\n"
		 "%s:4: uid 4294967295 out of range (0-4294967294)\n", f, f, f);
	cr_expect_str_eq(p.err, want);
}

Test(check, warns_when_a_rewrite_output_is_matched_again)
{
	const char *f = tmpfile_with("twice.cfg", "version = 1;\nrules = (\n"
				     "  { name = \"move\"; match = { port = 3000; }; action = \"rewrite\";"
				     " to = \"loopback\"; to_port = 3001; },\n"
				     "  { name = \"open\"; match = { address = \"127.0.0.1\"; }; action = \"rewrite\";"
				     " to = \"0.0.0.0\"; }\n);\n");
	struct bs_proc p;
	char want[1024];

	cr_expect_eq(bs_sh(&p, 30, "%s check %s", BINDSHIM, f), 0, "a warning is not an error");
	snprintf(want, sizeof(want), "%s:3: warning: rule \"move\" rewrites to 127.0.0.1, which rule "
		 "\"open\" (line 4) would rewrite again; bindshim keeps the address a rewrite "
		 "produced (a decision is made once)\n", f);
	cr_expect_str_eq(p.err, want);
	snprintf(want, sizeof(want), "%s: ok\n", f);
	cr_expect_str_eq(p.out, want);
}

/* ---- conventions shared by every verb ---- */

Test(usage, every_verb_has_help_listing_its_options)
{
	static const struct {
		const char *verb, *options[12];
	} verbs[] = {
		{"run", {"-p, --policy FILE", "-l, --loopback", "-t, --to TARGET", "--log DEST",
			 "--log-format", "--dry-run", "--enforce", "--preload-only",
			 "--io-uring-errno NAME", "-h, --help"}},
		{"check", {"-q, --quiet", "-h, --help"}},
		{"explain", {"-p, --policy FILE", "-l, --loopback", "-t, --to TARGET", "--udp",
			     "--program NAME", "--uid N", "-h, --help"}},
		{"audit", {"-p, --policy FILE", "-l, --loopback", "-t, --to TARGET", "--json",
			   "-h, --help"}},
	};
	struct bs_proc p;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		char synopsis[64];

		cr_expect_eq(bs_sh(&p, 30, "%s %s --help", BINDSHIM, verbs[i].verb), 0);
		snprintf(synopsis, sizeof(synopsis), "Usage:\n bindshim %s ", verbs[i].verb);
		cr_expect(!strncmp(p.out, synopsis, strlen(synopsis)), "%s", p.out);
		cr_expect_str_eq(p.err, "");
		for (size_t k = 0; verbs[i].options[k]; k++)
			cr_expect(strstr(p.out, verbs[i].options[k]), "%s --help lacks %s", verbs[i].verb,
				  verbs[i].options[k]);
		bs_sh(&p, 30, "%s %s --help | awk 'length($0) > 80'", BINDSHIM, verbs[i].verb);
		cr_expect_str_eq(p.out, "", "lines longer than 80 columns");
		cr_expect_eq(bs_sh(&p, 30, "%s %s -h", BINDSHIM, verbs[i].verb), 0);
	}
	cr_expect_eq(bs_sh(&p, 30, "%s --help", BINDSHIM), 0);
	cr_expect(strstr(p.out, " bindshim run ") && strstr(p.out, " bindshim audit "), "%s", p.out);
}

Test(usage, errors_are_one_line_and_a_pointer_to_help)
{
	static const struct {
		const char *args, *line;
		int status;
	} cases[] = {
		{"run --bogus -- true", "bindshim run: unrecognized option '--bogus'", 125},
		{"run -l", "bindshim run: no COMMAND given", 125},
		{"run -p", "bindshim run: option requires an argument -- 'p'", 125},
		{"run -l -t loopback -- true", "bindshim run: give only one of -p, -l and -t", 125},
		{"check", "bindshim check: no policy file given", 2},
		{"check --bogus x", "bindshim check: unrecognized option '--bogus'", 2},
		{"explain", "bindshim explain: no ENDPOINT given", 2},
		{"explain -l 1.2.3.4:1 5.6.7.8:2", "bindshim explain: give exactly one ENDPOINT", 2},
		{"explain --uid x 1.2.3.4:1", "bindshim explain: bad uid \"x\" (0-4294967294)", 2},
		{"audit --bogus", "bindshim audit: unrecognized option '--bogus'", 2},
		{"audit extra", "bindshim audit: unexpected argument \"extra\"", 2},
	};
	struct bs_proc p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[512], verb[16];

		sscanf(cases[i].args, "%15s", verb);
		cr_expect_eq(bs_sh(&p, 30, "%s %s", BINDSHIM, cases[i].args), cases[i].status,
			     "%s", cases[i].args);
		snprintf(want, sizeof(want), "%s\nTry 'bindshim %s --help'.\n", cases[i].line, verb);
		cr_expect_str_eq(p.err, want, "%s", cases[i].args);
		cr_expect_str_eq(p.out, "", "%s", cases[i].args);
	}
}

Test(usage, version_and_unknown_commands)
{
	struct bs_proc p;

	cr_expect_eq(bs_sh(&p, 30, "%s --version && %s version", BINDSHIM, BINDSHIM), 0);
	cr_expect(!strncmp(p.out, "bindshim ", 9) && bs_count(p.out, "bindshim ") == 2 &&
		  bs_count(p.out, "\n") == 2, "%s", p.out);
	cr_expect_eq(bs_sh(&p, 30, "%s", BINDSHIM), 2);
	cr_expect_str_eq(p.err, "bindshim: no command given\nTry 'bindshim --help'.\n");
	cr_expect_eq(bs_sh(&p, 30, "%s frobnicate", BINDSHIM), 2);
	cr_expect_str_eq(p.err, "bindshim: unknown command \"frobnicate\"\nTry 'bindshim --help'.\n");
	/* Forgot `run`: the command is a program. */
	cr_expect_eq(bs_sh(&p, 30, "%s python3 app.py", BINDSHIM), 2);
	cr_expect_str_eq(p.err, "bindshim: unknown command \"python3\"; did you mean "
			 "'bindshim run -- python3 app.py'?\n");
}

/* ---- explain ---- */

static void expect_explain(const char *args, const char *want)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s explain %s", BINDSHIM, args);
	cr_expect_eq(p.status, 0, "explain %s: %s", args, p.err);
	cr_expect_str_eq(p.out, want, "explain %s", args);
}

Test(explain, builtin_loopback)
{
	expect_explain("--loopback 0.0.0.0:8000", "rewrite 0.0.0.0:8000 -> 127.0.0.1:8000\nbuiltin\n");
	/* A dual-stack [::] (Linux's default) goes where 127.0.0.1 reaches it. */
	expect_explain("-l [::]:8000", "rewrite [::]:8000 -> [::ffff:127.0.0.1]:8000\nbuiltin\n");
	expect_explain("-l --v6only [::]:8000", "rewrite [::]:8000 -> [::1]:8000\nbuiltin\n");
	expect_explain("-l [::ffff:0.0.0.0]:80", "rewrite [::ffff:0.0.0.0]:80 -> [::ffff:127.0.0.1]:80\nbuiltin\n");
	expect_explain("-l 127.0.0.1:8000", "allow 127.0.0.1:8000\nbuiltin\n");
	expect_explain("-l 192.0.2.1:8000", "rewrite 192.0.2.1:8000 -> 127.0.0.1:8000\nbuiltin\n");
}

Test(explain, builtin_to)
{
	expect_explain("-t 192.0.2.5 0.0.0.0:80", "rewrite 0.0.0.0:80 -> 192.0.2.5:80\nbuiltin\n");
	expect_explain("-t 192.0.2.5 192.0.2.9:80", "allow 192.0.2.9:80\nbuiltin\n");
	expect_explain("-t interface:lo [::]:80", "rewrite [::]:80 -> [::1]:80\nbuiltin\n");
	expect_explain("-t interface:nosuch0 0.0.0.0:80", "deny 0.0.0.0:80 EADDRNOTAVAIL\nbuiltin\n");
}

Test(explain, policy_file_rules_and_keys)
{
	const char *f = tmpfile_with("policy.cfg",
		"version = 1;\n"
		"default = \"deny\";\n"
		"rules = (\n"
		"  { name = \"no-ssh\"; match = { port = 22; }; action = \"deny\"; },\n"
		"  { name = \"dns\"; match = { proto = \"udp\"; port = 53; }; action = \"allow\"; },\n"
		"  { name = \"py\"; match = { program = \"python*\"; }; action = \"rewrite\"; to = \"loopback\"; to_port = 9000; },\n"
		"  { name = \"root\"; match = { uid = 0; }; action = \"log\"; }\n"
		");\n");
	char args[512], want[512];

	snprintf(args, sizeof(args), "-p %s 0.0.0.0:22", f);
	snprintf(want, sizeof(want), "deny 0.0.0.0:22 EACCES\nrule \"no-ssh\" %s:4\n", f);
	expect_explain(args, want);
	snprintf(args, sizeof(args), "-p %s --udp 0.0.0.0:53", f);
	snprintf(want, sizeof(want), "allow 0.0.0.0:53\nrule \"dns\" %s:5\n", f);
	expect_explain(args, want);
	snprintf(args, sizeof(args), "-p %s --uid 1000 0.0.0.0:53", f);
	expect_explain(args, "deny 0.0.0.0:53 EACCES\ndefault\n");
	snprintf(args, sizeof(args), "-p %s --program python3 --uid 1000 [::]:8000", f);
	snprintf(want, sizeof(want), "rewrite [::]:8000 -> [::ffff:127.0.0.1]:9000\nrule \"py\" %s:6\n", f);
	expect_explain(args, want);
	snprintf(args, sizeof(args), "-p %s --uid 0 0.0.0.0:80", f);
	snprintf(want, sizeof(want), "allow 0.0.0.0:80\nrule \"root\" %s:7\n", f);
	expect_explain(args, want);
}

/* Without --uid, explain answers for the caller as the shim sees it: inside a user
 * namespace of its own, uid 0 is not root. */
Test(explain, uid_zero_of_a_user_namespace_is_not_root)
{
	const char *f = tmpfile_with("root.cfg", "version = 1;\ndefault = \"deny\";\n"
				     "rules = ( { name = \"root\"; match = { uid = 0; }; action = \"allow\"; } );\n");
	struct bs_proc p;

	if (!bs_can_make_userns())
		cr_skip_test("no user namespace can be made here");
	bs_sh(&p, 30, "unshare -Ur %s explain -p %s 0.0.0.0:80", BINDSHIM, f);
	cr_expect_str_eq(p.out, "deny 0.0.0.0:80 EACCES\ndefault\n", "%s", p.err);
	bs_sh(&p, 30, "unshare -Ur %s explain -p %s --uid 0 0.0.0.0:80", BINDSHIM, f);
	cr_expect(!strncmp(p.out, "allow 0.0.0.0:80\n", 17), "--uid says whom: %s", p.out);
	if (bs_real_root()) {
		bs_sh(&p, 30, "%s explain -p %s 0.0.0.0:80", BINDSHIM, f);
		cr_expect(!strncmp(p.out, "allow 0.0.0.0:80\n", 17), "real root: %s", p.out);
	}
}

/* A rule name holding a newline and a terminal escape stays on the second line. */
Test(explain, rule_names_are_escaped)
{
	const char *f = tmpfile_with("hostile.cfg", "version = 1;\nrules = ( { name = "
				     "\"a\\nallow 0.0.0.0:22\\x1b[2J\\\\\"; action = \"deny\"; } );\n");
	char args[512], want[512];

	snprintf(args, sizeof(args), "-p %s 0.0.0.0:22", f);
	snprintf(want, sizeof(want), "deny 0.0.0.0:22 EACCES\n"
		 "rule \"a\\nallow 0.0.0.0:22\\x1b[2J\\\\\" %s:2\n", f);
	expect_explain(args, want);
}

Test(explain, bad_input)
{
	const char *bad = tmpfile_with("bad.cfg", "version = 3;\n");
	struct bs_proc p;

	cr_expect_eq(bs_sh(&p, 30, "%s explain -l 0.0.0.0", BINDSHIM), 2);
	cr_expect_eq(bs_sh(&p, 30, "%s explain -l ::1:80", BINDSHIM), 2, "IPv6 needs brackets");
	cr_expect_eq(bs_sh(&p, 30, "%s explain -l 300.1.1.1:80", BINDSHIM), 2);
	cr_expect_eq(bs_sh(&p, 30, "%s explain -l 1.2.3.4:65536", BINDSHIM), 2);
	cr_expect_eq(bs_sh(&p, 30, "%s explain -l -t loopback 1.2.3.4:1", BINDSHIM), 2);
	cr_expect_eq(bs_sh(&p, 30, "%s explain -p %s 1.2.3.4:1", BINDSHIM, bad), 1);
	cr_expect(strstr(p.err, "bad.cfg:1: unsupported version 3"), "%s", p.err);
}

Test(explain, selection_order_environment_and_system_policy)
{
	const char *env = tmpfile_with("env.cfg", "version = 1;\nrules = ( { name = \"from-env\"; action = \"deny\"; } );\n");
	const char *dir = bs_tmpdir();
	struct bs_proc p;
	char want[1024];

	bs_sh(&p, 30, "BINDSHIM_POLICY=%s %s explain 0.0.0.0:1", env, BINDSHIM);
	cr_expect(strstr(p.out, "rule \"from-env\""), "%s%s", p.out, p.err);
	bs_sh(&p, 30, "BINDSHIM_POLICY=%s %s explain -l 0.0.0.0:1", env, BINDSHIM);
	cr_expect(strstr(p.out, "builtin"), "-l wins over the environment: %s", p.out);
	/* /etc/bindshim/policy.cfg, in an overlay of this test's own mount namespace. */
	bs_sh(&p, 30, "unshare --mount --propagation private sh -c '%s && "
	      "mkdir -p /etc/bindshim && "
	      "printf \"version = 1;\\nrules = ( { name = \\\"system\\\"; action = \\\"log\\\"; } );\\n\" "
	      "> /etc/bindshim/policy.cfg && %s explain 0.0.0.0:1 && "
	      "BINDSHIM_POLICY=%s %s explain 0.0.0.0:1'", bs_sh_overlay("/etc", dir), BINDSHIM, env,
	      BINDSHIM);
	snprintf(want, sizeof(want), "allow 0.0.0.0:1\nrule \"system\" /etc/bindshim/policy.cfg:2\n"
		 "deny 0.0.0.0:1 EACCES\nrule \"from-env\" %s:2\n", env);
	cr_expect_str_eq(p.out, want, "%s", p.err);
	cr_expect(access("/etc/bindshim/policy.cfg", F_OK) != 0, "the real /etc was touched");
}

/* ---- run ---- */

Test(run, exit_codes)
{
	struct bs_proc p;
	const char *noexec = tmpfile_with("noexec", "#!/bin/sh\necho hi\n");
	const char *plain = tmpfile_with("plain", "echo hi\n");

	cr_expect_eq(bs_sh(&p, 30, "%s run -l -- sh -c 'exit 7'", BINDSHIM), 7);
	cr_expect_eq(bs_sh(&p, 30, "%s run -l -- /nonexistent-command", BINDSHIM), 127);
	cr_expect_eq(bs_sh(&p, 30, "%s run -l -- nonexistent-command-xyz", BINDSHIM), 127);
	cr_expect_eq(bs_sh(&p, 30, "%s run -l -- %s", BINDSHIM, noexec), 126);
	/* Like execvp, a file without #! is run by /bin/sh, under --enforce too. */
	bs_sh(&p, 30, "chmod +x %s && %s run -l -- %s && %s run --enforce -l -- %s", plain,
	      BINDSHIM, plain, BINDSHIM, plain);
	cr_expect_str_eq(p.out, "hi\nhi\n", "%s", p.err);
	cr_expect_eq(bs_sh(&p, 30, "%s run -l -- /tmp", BINDSHIM), 126);
	cr_expect_eq(bs_sh(&p, 30, "%s run --bogus -- true", BINDSHIM), 125);
	cr_expect_eq(bs_sh(&p, 30, "%s run -l", BINDSHIM), 125, "no command");
	cr_expect_eq(bs_sh(&p, 30, "%s run -l -t loopback -- true", BINDSHIM), 125);
	cr_expect_eq(bs_sh(&p, 30, "%s run --log-format xml -- true", BINDSHIM), 125);
	cr_expect_eq(bs_sh(&p, 30, "%s run -t bogus:target -- true", BINDSHIM), 125);
	cr_expect_eq(bs_sh(&p, 30, "%s run -l -- sh -c 'kill -TERM $$'", BINDSHIM), 128 + 15);
	/* Options that cannot go together: nothing is run. */
	cr_expect_eq(bs_sh(&p, 30, "%s run --enforce --preload-only -l -- echo ran", BINDSHIM), 125);
	cr_expect(!*p.out && strstr(p.err, "--enforce and --preload-only contradict each other"),
		  "%s%s", p.out, p.err);
	cr_expect_eq(bs_sh(&p, 30, "%s run --preload-only --io-uring-errno EPERM -l -- echo ran",
			   BINDSHIM), 125);
	cr_expect(!*p.out && strstr(p.err, "--io-uring-errno needs the supervisor"), "%s", p.err);
}

/* A 32-bit program's system calls go through another table, which the supervisor
 * cannot read: run refuses it up front (an ELF32 header is all it looks at). */
Test(run, a_32_bit_command_is_refused_under_the_supervisor)
{
	struct bs_proc p;
	const char *f = tmpfile_with("elf32", "");

	bs_sh(&p, 30, "printf '\\177ELF\\001\\001\\001' > %s && head -c 45 /dev/zero >> %s && "
	      "chmod +x %s", f, f, f);
	cr_assert_eq(p.status, 0, "%s", p.err);
	/* Found, but it cannot be run as asked: 126, as for any command run cannot run. */
	cr_expect_eq(bs_sh(&p, 30, "%s run -l -- %s", BINDSHIM, f), 126, "%s", p.err);
	cr_expect(strstr(p.err, "is a 32-bit program: the supervisor cannot read its system calls; "
			 "run it with --preload-only"), "%s", p.err);
}

Test(run, invalid_policy_runs_nothing)
{
	const char *bad = tmpfile_with("bad.cfg", "version = 1;\nrules = ( { action = \"nope\"; } );\n");
	const char *dir = bs_tmpdir();
	char marker[256];
	struct bs_proc p;

	snprintf(marker, sizeof(marker), "%s/ran", dir);
	cr_expect_eq(bs_sh(&p, 30, "%s run -p %s -- touch %s", BINDSHIM, bad, marker), 125);
	cr_expect(strstr(p.err, "bad.cfg:2: bad action \"nope\""), "%s", p.err);
	cr_expect(access(marker, F_OK) != 0, "the command ran");
	cr_expect_eq(bs_sh(&p, 30, "BINDSHIM_POLICY=%s %s run -- touch %s", bad, BINDSHIM, marker), 125);
	cr_expect(access(marker, F_OK) != 0, "the command ran");
}

Test(run, ld_preload_prepended_once_and_kept)
{
	struct bs_proc p;
	char want[2048];
	const char *other = bs_build("tests/helpers/libearly.so");

	bs_sh(&p, 30, "%s run -l -- sh -c 'echo $LD_PRELOAD'", BINDSHIM);
	snprintf(want, sizeof(want), "%s\n", bs_build("libbindshim.so"));
	cr_expect_str_eq(p.out, want);
	bs_sh(&p, 30, "LD_PRELOAD='%s /somewhere/libbindshim.so' %s run -l -- sh -c 'echo $LD_PRELOAD'",
	      other, BINDSHIM);
	snprintf(want, sizeof(want), "%s:%s\n", bs_build("libbindshim.so"), other);
	cr_expect_str_eq(p.out, want);
	/* Nested runs do not stack the shim. */
	bs_sh(&p, 30, "%s run -l -- %s run -l -- sh -c 'echo $LD_PRELOAD'", BINDSHIM, BINDSHIM);
	snprintf(want, sizeof(want), "%s\n", bs_build("libbindshim.so"));
	cr_expect_str_eq(p.out, want);
}

Test(run, exports_absolute_policy_and_log_paths)
{
	struct bs_proc p;
	const char *dir = bs_tmpdir();

	tmpfile_with("x", "");
	bs_sh(&p, 30, "cd %s && printf 'version = 1;\\n' > rel.cfg && "
	      "%s run -p rel.cfg --log out.log -- sh -c 'echo $BINDSHIM_POLICY $BINDSHIM_LOG'",
	      dir, BINDSHIM);
	cr_expect(strstr(p.out, "/rel.cfg ") && p.out[0] == '/' && strstr(p.out, "/out.log"),
		  "%s %s", p.out, p.err);
}

Test(run, warns_about_unreachable_executables)
{
	const char *dir = bs_tmpdir();
	struct bs_proc p;

	/* Without the supervisor, what a preloaded library cannot reach is named. */
	bs_sh(&p, 30, "%s run --preload-only -l -- %s", BINDSHIM, bs_build("tests/helpers/static"));
	cr_expect_str_eq(p.out, "static ran\n");
	cr_expect(strstr(p.err, "warning: not covered: ") && strstr(p.err, "static is statically "
		  "linked: a preloaded library cannot reach its binds"), "%s", p.err);
	/* Go, even dynamically linked (cgo), makes raw socket syscalls. */
	bs_sh(&p, 30, "%s run --preload-only -l -- %s spawn true", BINDSHIM,
	      bs_build("tests/helpers/goserver-cgo"));
	cr_expect(strstr(p.err, "goserver-cgo is a Go program: a preloaded library cannot reach "
			 "its binds"), "%s", p.err);
	/* The supervisor covers static and Go programs: no warning. */
	bs_sh(&p, 30, "%s run -l -- %s", BINDSHIM, bs_build("tests/helpers/static"));
	cr_expect_str_eq(p.err, "", "no warning under the supervisor");
	bs_sh(&p, 30, "%s run -l -- true; %s run --preload-only -l -- true", BINDSHIM, BINDSHIM);
	cr_expect_str_eq(p.err, "", "no warning for an ordinary program");
	/* The warning shares stderr with the records: the name is escaped. */
	bs_sh(&p, 30, "L=\"%s/$(printf 's\\nbindshim[1] x: allow tcp 0.0.0.0:1 (builtin)')\"; "
	      "ln -s %s \"$L\" && %s run --preload-only -l -- \"$L\"", dir,
	      bs_build("tests/helpers/static"), BINDSHIM);
	cr_expect_str_eq(p.out, "static ran\n");
	cr_expect(strstr(p.err, "/s\\nbindshim[1] x: allow tcp 0.0.0.0:1 (builtin) is statically "
			 "linked") && bs_count(p.err, "\n") == 1, "%s", p.err);
}

/* A set-id program is out of reach when it changes the caller's ids, a program with
 * file capabilities when the caller is not root: the kernel then makes the exec a
 * secure one, and the loader ignores LD_PRELOAD. Otherwise the preload reaches it. */
Test(run, set_id_and_capability_programs_are_judged_as_the_kernel_runs_them)
{
	const char *dir = bs_open_tmpdir();
	struct bs_proc p;

	/* (uid 0 of a user namespace of its own maps no nobody) */
	if (!bs_real_root())
		cr_skip_test("not root of the machine: set-id and capability copies need it");
	if (bs_sh(&p, 10, "command -v setcap") != 0)
		cr_skip_test("setcap is missing (apt-get install libcap2-bin)");
	bs_sh(&p, 30, "cp /bin/true %s/suid && chown nobody %s/suid && chmod u+s %s/suid && "
	      "%s run --preload-only -l -- %s/suid", dir, dir, dir, BINDSHIM, dir);
	cr_expect(strstr(p.err, "suid is setuid or setgid"), "%s", p.err);
	bs_sh(&p, 30, "cp /bin/true %s/rootsuid && chmod u+s %s/rootsuid && "
	      "%s run --preload-only -l -- %s/rootsuid", dir, dir, BINDSHIM, dir);
	cr_expect_str_eq(p.err, "", "root's own setuid program keeps the preload");
	bs_sh(&p, 30, "cp /bin/true %s/cap && setcap cap_net_bind_service+ep %s/cap && "
	      BS_AS_NOBODY " %s run --preload-only -l -- %s/cap", dir, dir, BINDSHIM, dir);
	cr_expect(strstr(p.err, "has file capabilities"), "%s", p.err);
	bs_sh(&p, 30, "%s run --preload-only -l -- %s/cap", BINDSHIM, dir);
	cr_expect_str_eq(p.err, "", "root's exec of a capability program keeps the preload");
	/* Under the supervisor (no_new_privs) a set-id program loses its privileges,
	 * and is told so. */
	bs_sh(&p, 30, "%s run -l -- %s/suid", BINDSHIM, dir);
	cr_expect(strstr(p.err, "suid is setuid or setgid: under the supervisor (no_new_privs) it "
			 "runs without those privileges"), "%s", p.err);
}

/* ---- the library itself ---- */

Test(library, exports_only_the_hooks_and_loads_libconfig_lazily)
{
	struct bs_proc p;

	bs_sh(&p, 30, "nm -D --defined-only %s | awk '{print $3}' | sort | tr '\\n' ' '",
	      bs_build("libbindshim.so"));
	cr_expect_str_eq(p.out, "bind bindresvport close close_range closefrom connect dup2 dup3 "
			 "execl execle execlp execv execve execveat execvp execvpe fexecve getaddrinfo "
			 "listen posix_spawn posix_spawnp rcmd rcmd_af rexec rexec_af rresvport rresvport_af "
			 "sendmmsg sendmsg sendto "
			 "setresuid setreuid setsockopt setuid socket ", "%s", p.err);
	bs_sh(&p, 30, "readelf -d %s | grep NEEDED", bs_build("libbindshim.so"));
	cr_expect(!strstr(p.out, "libconfig"), "libconfig must be opened lazily:\n%s", p.out);
	/* A process that never binds never opens it. */
	bs_sh(&p, 30, "LD_PRELOAD=%s sh -c 'grep -c libconfig /proc/$$/maps'", bs_build("libbindshim.so"));
	cr_expect_str_eq(p.out, "0\n");
}

/* ---- bash completion ---- */

/* The completions bash would offer at the end of line, sorted, space-separated. */
static const char *complete(const char *line)
{
	static struct bs_proc p;

	bs_sh(&p, 30, "cd %s && bash -c 'source %s; COMP_LINE=\"$1\"; COMP_POINT=${#COMP_LINE}; "
	      "_bindshim; printf \"%%s\\n\" \"${COMPREPLY[@]}\" | sort | tr \"\\n\" \" \"' sh '%s'",
	      bs_src("examples"), bs_src("completion/bindshim.bash"), line);
	cr_expect_str_eq(p.err, "", "%s", line);
	return p.out;
}

Test(completion, verbs_options_policies_interfaces_commands)
{
	cr_expect_str_eq(complete("bindshim "), "--help --version audit check explain run system "
			 "version ");
	cr_expect_str_eq(complete("bindshim system d"), "disable ");
	cr_expect_str_eq(complete("bindshim ex"), "explain ");
	cr_expect_str_eq(complete("bindshim check -"), "-- --help --quiet -h -q ");
	cr_expect_str_eq(complete("bindshim run --log-f"), "--log-format ");
	cr_expect_str_eq(complete("bindshim run --log-format "), "json text ");
	cr_expect_str_eq(complete("bindshim run -p dev"), "dev-loopback.cfg ");
	cr_expect_str_eq(complete("bindshim check la"), "lab-machine.cfg ");
	cr_expect_str_eq(complete("bindshim explain -t "), "interface: loopback ");
	/* bash splits the word at ':' and replaces only what follows it. */
	cr_expect_str_eq(complete("bindshim run -t interface:l"), "lo ");
	cr_expect(strstr(complete("bindshim run --to interface:"), "lo "), "names from /sys/class/net");
	cr_expect(strstr(complete("bindshim run -l -- pyth"), "python3 "));
	cr_expect(strstr(complete("bindshim run -- python3 "), "dev-loopback.cfg "),
		  "the command's arguments are files");
}

/* ---- the manual ---- */

Test(manual, pages_lint_clean_and_name_every_option)
{
	struct bs_proc p;

	bs_sh(&p, 30, "for v in run check explain audit system; do %s $v --help; done | "
	      "grep -o -- '--[a-z0-9-]*' | sort -u | sed 's/^-//; s/-/\\\\-/g' | while read -r o; do "
	      "O=$o awk 'index($0 \" \", \"Fl \" ENVIRON[\"O\"] \" \") || "
	      "index($0 \" \", \", \" ENVIRON[\"O\"] \" \") { f = 1 } END { exit !f }' %s || "
	      "echo \"$o\"; done", BINDSHIM, bs_src("man/bindshim.1"));
	cr_expect_str_eq(p.out, "", "options in --help that bindshim(1) lacks:\n%s%s", p.out, p.err);
	bs_sh(&p, 30, "groff -mandoc -Tutf8 -ww %s %s 2>&1 >/dev/null", bs_src("man/bindshim.1"),
	      bs_src("man/bindshim.cfg.5"));
	cr_expect_str_eq(p.out, "", "groff warnings");
	if (bs_sh(&p, 30, "command -v mandoc") != 0)
		cr_skip_test("mandoc is missing (apt-get install mandoc): groff checked only");
	bs_sh(&p, 30, "mandoc -Tlint -W warning %s %s", bs_src("man/bindshim.1"),
	      bs_src("man/bindshim.cfg.5"));
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect_str_eq(p.out, "");
}
