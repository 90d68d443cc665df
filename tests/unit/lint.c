/* bindshim check's warnings (policy/lint.c), and the numbers libconfig cannot hold
 * (policy/literal.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/internal.h"

/* Loads a policy from text (it must be valid); the file is removed at once. */
static struct bs_policy *load_text(const char *text)
{
	char path[] = "/tmp/bindshim-lint.XXXXXX", err[4096];
	struct bs_policy *p = NULL;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(bs_policy_load(path, &p, err, sizeof(err)), 0, "%s", err);
	unlink(path);
	free(p->file);
	p->file = strdup("t.cfg");
	return p;
}

/* The warnings of a policy given as its rules, one per line of the result. */
static const char *lint(const char *rules, int *count)
{
	static char buf[8192];
	char text[4096];
	struct bs_policy *p;

	snprintf(text, sizeof(text), "version = 1;\nrules = (\n%s\n);\n", rules);
	p = load_text(text);
	*count = bs_policy_lint(p, buf, sizeof(buf));
	bs_policy_free(p);
	return buf;
}

#define KEPT "; bindshim keeps the address a rewrite produced (a decision is made once)\n"

Test(lint, rewrite_output_matched_again)
{
	int n;
	const char *w;

	w = lint("{ name = \"lo\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; },\n"
		 "{ name = \"open\"; match = { address = \"127.0.0.0/8\"; }; action = \"rewrite\"; to = \"0.0.0.0\"; }",
		 &n);
	cr_expect_eq(n, 2, "%s", w);
	cr_expect_str_eq(w, "t.cfg:3: warning: rule \"lo\" rewrites to 127.0.0.1, which rule \"open\" "
			 "(line 4) would rewrite again" KEPT
			 "t.cfg:4: warning: rule \"open\" rewrites to 0.0.0.0, which rule \"lo\" "
			 "(line 3) would rewrite again" KEPT);
	/* A deny of the output, named by port, before or after the rewrite. */
	w = lint("{ name = \"no-8080\"; match = { address = \"::1\"; port = 8080; }; action = \"deny\"; },\n"
		 "{ name = \"move\"; match = { port = 80; }; action = \"rewrite\"; to = \"loopback\"; to_port = 8080; }",
		 &n);
	cr_expect_str_eq(w, "t.cfg:4: warning: rule \"move\" rewrites to ::1, which rule \"no-8080\" "
			 "(line 3) would deny" KEPT);
	/* An IP target: the IP, and a wildcard target both wildcards. */
	w = lint("{ name = \"to-lab\"; action = \"rewrite\"; to = \"192.0.2.7\"; },\n"
		 "{ name = \"lab\"; match = { address = \"192.0.2.0/24\"; }; action = \"deny\"; }", &n);
	cr_expect(strstr(w, "rule \"to-lab\" rewrites to 192.0.2.7, which rule \"lab\""), "%s", w);
	w = lint("{ name = \"open\"; match = { address = \"::1\"; }; action = \"rewrite\"; to = \"::\"; },\n"
		 "{ name = \"wild\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; }",
		 &n);
	cr_expect_eq(n, 2, "%s", w);
	cr_expect(strstr(w, "t.cfg:3: warning: rule \"open\" rewrites to ::, which rule \"wild\" (line 4)"),
		  "%s", w);
}

Test(lint, no_warning_without_a_meeting)
{
	int n;
	const char *w;

	/* Wildcard matchers never match a loopback output; ports must overlap; allow and
	 * log rules change nothing; interface targets are unknown until the bind. */
	w = lint("{ name = \"lo\"; match = { address = \"wildcard\"; port = \"8000-8999\"; }; action = \"rewrite\"; to = \"loopback\"; },\n"
		 "{ name = \"w\"; match = { address = \"wildcard\"; }; action = \"deny\"; },\n"
		 "{ name = \"other\"; match = { address = \"127.0.0.1\"; port = 22; }; action = \"deny\"; },\n"
		 "{ name = \"a\"; match = { address = \"127.0.0.1\"; }; action = \"allow\"; },\n"
		 "{ name = \"l\"; match = { address = \"any\"; }; action = \"log\"; },\n"
		 "{ name = \"if\"; match = { port = 9999; }; action = \"rewrite\"; to = \"interface:lo\"; },\n"
		 "{ name = \"lo9999\"; match = { address = \"127.0.0.1\"; port = 9999; }; action = \"deny\"; }",
		 &n);
	cr_expect_eq(n, 0, "%s", w);
	cr_expect_str_eq(w, "");
	/* An earlier rule matching every address decides a port-keeping rewrite's input
	 * first: the rewrite never produces what that rule would match. */
	w = lint("{ name = \"busy\"; match = { port = 8080; }; action = \"deny\"; },\n"
		 "{ name = \"open\"; match = { address = \"127.0.0.1\"; }; action = \"rewrite\"; to = \"0.0.0.0\"; }",
		 &n);
	cr_expect_eq(n, 0, "%s", w);
	/* ...but a later one, or one after a to_port, is met. */
	w = lint("{ name = \"open\"; match = { address = \"127.0.0.1\"; }; action = \"rewrite\"; to = \"0.0.0.0\"; },\n"
		 "{ name = \"busy\"; match = { port = 8080; }; action = \"deny\"; }", &n);
	cr_expect_eq(n, 1, "%s", w);
}

Test(lint, small_buffer_ends_on_a_line)
{
	char text[512], small[50];
	struct bs_policy *p;

	snprintf(text, sizeof(text), "version = 1;\nrules = (\n"
		 "{ action = \"rewrite\"; to = \"loopback\"; },\n"
		 "{ match = { address = \"::1\"; }; action = \"deny\"; }\n);\n");
	p = load_text(text);
	memset(small, 'x', sizeof(small));
	cr_expect_eq(bs_policy_lint(p, small, sizeof(small)), 1);
	cr_expect_lt(strlen(small), sizeof(small));
	cr_expect_eq(small[strlen(small) - 1], '\n');
	cr_expect_eq(bs_policy_lint(p, NULL, 0), 1, "a NULL buffer is fine");
	bs_policy_free(p);
}

Test(literal, big_literal_lines)
{
	const char *text = "version = 1;\n"
			   "# 99999999999999999999 in a comment\n"
			   "name = \"4294967296 in a string\"; x = 1.5e300; y = 22L;\n"
			   "port = 4294967318;\n"
			   "a = ( 1, 2 ); b = 0x7FFFFFFF; c = 0x80000000; d = 5000000000L;\n"
			   "e = -2147483648; f = -2147483649;\n";
	size_t n;
	unsigned *lines = bs_big_literal_lines(text, strlen(text), &n);

	cr_assert_eq(n, 3);
	cr_expect_eq(lines[0], 4);
	cr_expect_eq(lines[1], 5);
	cr_expect_eq(lines[2], 6);
	free(lines);
}

Test(literal, finds_a_settings_literal)
{
	const char *text = "version = 1;\n"
			   "match = { port = ( 22, 4294967318 ); uid = 99999999999999999999; };\n"
			   "  77777777777, 88888888888 ];\n";
	char out[64];
	long long v;

	cr_expect(bs_int_literal(text, strlen(text), 2, "uid", false, 0, out, sizeof(out)));
	cr_expect_str_eq(out, "99999999999999999999");
	cr_expect(bs_int_literal(text, strlen(text), 2, "port", true, 1, out, sizeof(out)));
	cr_expect_str_eq(out, "4294967318");
	cr_expect(bs_int_literal(text, strlen(text), 3, "port", true, 1, out, sizeof(out)),
		  "a list continued on another line");
	cr_expect_str_eq(out, "88888888888");
	cr_expect(!bs_int_literal(text, strlen(text), 2, "to_port", false, 0, out, sizeof(out)));
	cr_expect(!bs_int_literal(text, strlen(text), 9, "uid", false, 0, out, sizeof(out)));
	cr_expect(bs_literal_value("4294967318", &v) && v == 4294967318LL);
	cr_expect(bs_literal_value("-0x10", &v) && v == -16);
	cr_expect(bs_literal_value("5L", &v) && v == 5);
	cr_expect(!bs_literal_value("99999999999999999999", &v));
	cr_expect(!bs_literal_value("0xFFFFFFFFFFFFFFFFFF", &v));
}
