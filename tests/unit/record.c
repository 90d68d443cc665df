/* Whole records as bs_log writes them (red team of the records formatted without
 * stdio): the text record's source is bs_decision_source's words escaped as one
 * field (what it was before, and what `bindshim explain` prints), every record is
 * one line of at most 4096 bytes, and bs_ip_format agrees with inet_ntop over every
 * address made of a few telling word values. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "shim/common/escape.h"
#include "shim/common/log.h"

/* bs_log keeps its file descriptor for the process: one file for every test here
 * (each Criterion test runs in its own process). */
static char logpath[] = "/tmp/bindshim-record.XXXXXX";
static int logfd = -1;
static off_t logoff;

static void open_log(void)
{
	logfd = mkstemp(logpath);
	cr_assert_geq(logfd, 0);
	logoff = 0;
}

static void close_log(void)
{
	if (logfd >= 0) {
		close(logfd);
		unlink(logpath);
	}
}

/* Writes r with bs_log (text or JSON) and returns the bytes it appended. */
static size_t log_one(const struct bs_record *r, bool json, char *out, size_t cap)
{
	static struct bs_logger lg;
	ssize_t n;

	lg.to = BS_LOG_FILE;
	lg.json = json;
	snprintf(lg.path, sizeof(lg.path), "%s", logpath);
	bs_log(&lg, r);
	n = pread(logfd, out, cap - 1, logoff);
	cr_assert_gt(n, 0);
	logoff += n;
	out[n] = '\0';
	return (size_t)n;
}

static void fill(char *s, size_t n, char c)
{
	memset(s, c, n);
	s[n] = '\0';
}

/* One record whose rule name and policy file are as given. */
static size_t rewrite_record(const char *name, const char *file, bool json, char *out, size_t cap)
{
	static struct bs_rule rule;
	static struct bs_policy pol;
	static struct bs_decision d;
	static struct sockaddr_storage from, to;
	static struct bs_who who = {4242, "prog", 1000, "user"};
	struct bs_record r;

	rule = (struct bs_rule){.name = (char *)name, .line = 5, .action = BS_REWRITE};
	pol = (struct bs_policy){.file = (char *)file};
	d = (struct bs_decision){.action = BS_REWRITE, .rule = &rule};
	cr_assert_eq(bs_endpoint_parse("0.0.0.0:8080", &from), 0);
	cr_assert_eq(bs_endpoint_parse("127.0.0.1:8080", &to), 0);
	r = (struct bs_record){.who = &who, .call = "bind", .event = "rewrite", .proto = BS_PROTO_TCP,
			       .from = &from, .to = &to, .policy = &pol, .d = &d};
	return log_one(&r, json, out, cap);
}

/* The text record's "(SOURCE)" is bs_decision_source escaped as one field of at most
 * 768 bytes: the same words `bindshim explain` prints, cut at the same place. (The
 * first version without stdio escaped and cut the rule name and the file apart: a
 * long rule name or policy path gave a longer record still ending in ":LINE" after
 * a cut path, as if that were a whole path.) */
Test(record, text_source_is_the_decision_source_escaped, .init = open_log, .fini = close_log)
{
	static char name[1200], file[1200], src[768], want[800], rec[8192];
	static const size_t name_lens[] = {10, 700, 760, 765, 900};
	static const size_t file_lens[] = {10, 500, 740, 760, 900};

	for (size_t i = 0; i < sizeof(name_lens) / sizeof(name_lens[0]); i++) {
		for (size_t j = 0; j < sizeof(file_lens) / sizeof(file_lens[0]); j++) {
			struct bs_rule rule = {.name = name, .line = 5};
			struct bs_policy pol = {.file = file};
			struct bs_decision d = {.action = BS_REWRITE, .rule = &rule};
			const char *open;
			size_t n;

			fill(name, name_lens[i], 'n');
			file[0] = '/';
			fill(file + 1, file_lens[j] - 1, 'f');
			bs_text_escape(want, 768 + 1, bs_decision_source(&pol, &d, src, sizeof(src)));
			n = rewrite_record(name, file, false, rec, sizeof(rec));
			cr_assert_eq(rec[n - 1], '\n');
			open = strstr(rec, " (rule \"");
			cr_assert_not_null(open);
			rec[n - 2] == ')' ? (void)(rec[n - 2] = '\0') : (void)0;
			cr_expect_str_eq(open + 2, want, "name %zu bytes, file %zu bytes: record has "
					 "%zu bytes of source, explain's words %zu",
					 name_lens[i], file_lens[j], strlen(open + 2), strlen(want));
		}
	}
}

/* Every record is one line of at most 4096 bytes, whatever its fields hold. */
Test(record, hostile_fields_keep_one_line, .init = open_log, .fini = close_log)
{
	static const char *const pieces[] = {"a", "\\", "\"", "\n", "\x01", "\xe2\x80\xa8",
					     "\xc3\xa9", "\xff", "\xe2\x80", "%s"};
	static char name[2000], file[2000], rec[8192];
	unsigned seed = 7;

	for (int it = 0; it < 400; it++) {
		char *fields[] = {name, file};

		for (int f = 0; f < 2; f++) {
			size_t want = (size_t)(seed = seed * 1103515245u + 12345u) % 1900, n = 0;

			while (n + 4 < want) {
				const char *p = pieces[(seed = seed * 1103515245u + 12345u) >> 16 & 7];

				memcpy(fields[f] + n, p, strlen(p));
				n += strlen(p);
			}
			fields[f][n] = '\0';
		}
		for (int json = 0; json < 2; json++) {
			size_t n = rewrite_record(name, file, json, rec, sizeof(rec));

			cr_assert_leq(n, 4096);
			cr_assert_eq(rec[n - 1], '\n');
			cr_assert_null(memchr(rec, '\n', n - 1), "iteration %d: %s", it, rec);
			cr_assert_eq(strlen(rec), n);
		}
	}
}

/* bs_ip_format against inet_ntop for every address whose words are each one of 0,
 * 1, 0xa, 0x100, 0xfffe, 0xffff (6^8): every placement of zero runs, every IPv4
 * mapped/compatible/translated shape of the last two words. */
Test(record, ip6_every_word_pattern_as_inet_ntop)
{
	static const unsigned vals[] = {0, 1, 0xa, 0x100, 0xfffe, 0xffff};
	unsigned idx[8] = {0};
	unsigned char b[16];
	char want[INET6_ADDRSTRLEN], got[BS_IP_MAX];
	unsigned long bad = 0;

	for (;;) {
		int k = 0;

		for (int i = 0; i < 8; i++) {
			b[2 * i] = (unsigned char)(vals[idx[i]] >> 8);
			b[2 * i + 1] = (unsigned char)vals[idx[i]];
		}
		inet_ntop(AF_INET6, b, want, sizeof(want));
		bs_ip_format(AF_INET6, b, got);
		if (strcmp(want, got) && bad++ < 5)
			cr_log_error("inet_ntop %s, bs_ip_format %s", want, got);
		while (k < 8 && ++idx[k] == 6)
			idx[k++] = 0;
		if (k == 8)
			break;
	}
	cr_expect_eq(bad, 0);
}
