/* The README's own examples, run as written: its sample policy (between the
 * `<!-- readme-sample: NAME -->` markers) under python3 -m http.server, and its
 * explain example, so README and behaviour cannot drift apart. Port 8000, as the
 * README has it. */
#include <stdio.h>
#include <string.h>

#include "tests/integration/support.h"

/* Copies the indented block between the README's markers for name into out, one
 * line each without the four-space indent, blank lines around it left out;
 * returns false if there is none. */
static bool readme_block(const char *name, char *out, size_t len)
{
	static char readme[262144];
	char open[128], *at, *end;
	size_t used = 0;

	snprintf(open, sizeof(open), "<!-- readme-sample: %s -->\n", name);
	if (bs_read_file(bs_src("README.md"), readme, sizeof(readme)) < 0 ||
	    !(at = strstr(readme, open)) || !(end = strstr(at, "<!-- /readme-sample -->")))
		return false;
	for (at += strlen(open); at < end; at += strcspn(at, "\n") + 1) {
		int n = (int)strcspn(at, "\n");

		if (!n)
			continue;
		/* Anything but the indented block between the markers is a mistake. */
		if (n < 4 || strncmp(at, "    ", 4) || used >= len)
			return false;
		used += (size_t)snprintf(out + used, len - used, "%.*s\n", n - 4, at + 4);
	}
	return used > 0 && used < len;
}

/* The sample policy in a fresh directory as policy.cfg; returns the directory. */
static const char *sample_dir(void)
{
	static char path[512];
	const char *dir = bs_tmpdir();
	char policy[4096];

	cr_assert(readme_block("policy.cfg", policy, sizeof(policy)),
		  "README.md has no readme-sample policy.cfg block");
	snprintf(path, sizeof(path), "%s/policy.cfg", dir);
	bs_write_file(path, policy);
	return dir;
}

/* The sample is valid, and check has nothing to warn about. */
Test(readme, sample_policy_checks_clean)
{
	const char *dir = sample_dir();
	struct bs_proc p;

	cr_expect_eq(bs_sh(&p, 30, "cd %s && %s check policy.cfg", dir, BINDSHIM), 0);
	cr_expect_str_eq(p.out, "policy.cfg: ok\n");
	cr_expect_str_eq(p.err, "");
}

/* The explain example prints exactly what the README shows. */
Test(readme, explain_example_prints_what_the_readme_shows)
{
	const char *dir = sample_dir();
	char block[4096], *cmd, *want;
	struct bs_proc p;

	cr_assert(readme_block("explain", block, sizeof(block)),
		  "README.md has no readme-sample explain block");
	cr_assert(!strncmp(block, "$ bindshim ", 11), "not a command: %s", block);
	cmd = block + 11;
	want = strchr(cmd, '\n');
	*want++ = '\0';
	bs_sh(&p, 30, "cd %s && %s %s", dir, BINDSHIM, cmd);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect_str_eq(p.out, want, "bindshim %s", cmd);
}

/* The record the shim writes for what explain printed ("rewrite FROM -> TO" and
 * `rule "dev" policy.cfg:6`), which names the policy by the absolute path run
 * gave the shim: "python3: rewrite tcp FROM -> TO (rule "dev" DIR/policy.cfg:6)".
 * Returns false if explain did not print a rewrite by rule "dev". */
static bool record_of(const char *explained, const char *dir, char *out, size_t len)
{
	char action[256], source[256];

	if (sscanf(explained, "rewrite %255[^\n]\nrule \"dev\" %255[^\n]", action, source) != 2)
		return false;
	snprintf(out, len, "python3: rewrite tcp %s (rule \"dev\" %s/%s)", action, dir, source);
	return true;
}

/* python3 -m http.server 8000 under the sample ends on loopback only, and the
 * record of its decision is what explain says of the address it asked for. */
Test(readme, sample_policy_keeps_python_http_server_on_loopback)
{
	const char *dir = sample_dir();
	char log[512], body[8192] = "", from[128] = "", want[1024];
	struct bs_proc p;
	const char *rec;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", dir);
	pid = bs_spawn(log, "cd %s && exec %s run -p policy.cfg -- python3 -m http.server 8000",
		       dir, BINDSHIM);
	assert_tcp_loopback_only(8000, log);
	bs_stop(pid);
	bs_read_file(log, body, sizeof(body));
	/* "python3: rewrite tcp FROM -> ..." (in getaddrinfo(), or at bind) */
	rec = strstr(body, "python3: rewrite tcp ");
	cr_assert(rec && sscanf(rec, "python3: rewrite tcp %127s", from) == 1, "%s", body);
	cr_expect_eq(bs_count(body, "python3: rewrite "), 1, "one decision, one record:\n%s", body);
	bs_sh(&p, 30, "cd %s && %s explain -p policy.cfg --program python3 '%s'", dir, BINDSHIM,
	      from);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(record_of(p.out, dir, want, sizeof(want)), "explain said:\n%s", p.out);
	cr_expect(strstr(body, want), "no \"%s\" in:\n%s", want, body);
}
