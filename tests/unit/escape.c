/* Escaping of record fields: strict UTF-8, one line per text record, valid JSON. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "shim/common/escape.h"
#include "shim/common/json.h"

struct esc_case {
	const char *in, *text, *json;	/* json without its quotes */
};

static const struct esc_case cases[] = {
	{"plain ASCII 0.0.0.0:80", "plain ASCII 0.0.0.0:80", "plain ASCII 0.0.0.0:80"},
	{"", "", ""},
	{"a\\b", "a\\\\b", "a\\\\b"},
	{"say \"hi\"", "say \"hi\"", "say \\\"hi\\\""},
	{"\n\t\r", "\\n\\t\\r", "\\u000a\\u0009\\u000d"},
	{"\x01\x1b[31m\x1f\x7f", "\\x01\\x1b[31m\\x1f\\x7f", "\\u0001\\u001b[31m\\u001f\\u007f"},
	/* the forged record of the finding: one line, nothing starts a new one */
	{"x\nbindshim[1] x: allow tcp 0.0.0.0:1 (builtin)\n",
	 "x\\nbindshim[1] x: allow tcp 0.0.0.0:1 (builtin)\\n",
	 "x\\u000abindshim[1] x: allow tcp 0.0.0.0:1 (builtin)\\u000a"},
	/* valid UTF-8 passes: 2, 3 and 4 bytes, the first and last of each length */
	{"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"},
	{"\xc2\xa0\xdf\xbf", "\xc2\xa0\xdf\xbf", "\xc2\xa0\xdf\xbf"},
	{"\xe0\xa0\x80\xef\xbf\xbf", "\xe0\xa0\x80\xef\xbf\xbf", "\xe0\xa0\x80\xef\xbf\xbf"},
	{"\xed\x9f\xbf\xee\x80\x80", "\xed\x9f\xbf\xee\x80\x80", "\xed\x9f\xbf\xee\x80\x80"},
	{"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
	{"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
	 "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"},
	/* overlong forms */
	{"\xc0\x80", "\\xc0\\x80", "\\ufffd\\ufffd"},
	{"\xc1\xbf", "\\xc1\\xbf", "\\ufffd\\ufffd"},
	{"\xe0\x80\x80", "\\xe0\\x80\\x80", "\\ufffd\\ufffd\\ufffd"},
	{"\xe0\x9f\xbf", "\\xe0\\x9f\\xbf", "\\ufffd\\ufffd\\ufffd"},
	{"\xf0\x80\x80\x80", "\\xf0\\x80\\x80\\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},
	{"\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf", "\\ufffd\\ufffd\\ufffd\\ufffd"},
	/* surrogates U+D800..U+DFFF */
	{"\xed\xa0\x80", "\\xed\\xa0\\x80", "\\ufffd\\ufffd\\ufffd"},
	{"\xed\xbf\xbf", "\\xed\\xbf\\xbf", "\\ufffd\\ufffd\\ufffd"},
	{"\xed\xa0\xbd\xed\xb8\x80", "\\xed\\xa0\\xbd\\xed\\xb8\\x80",
	 "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"},
	/* above U+10FFFF, and bytes that never occur */
	{"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},
	{"\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},
	{"\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80", "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"},
	{"\xfe\xff", "\\xfe\\xff", "\\ufffd\\ufffd"},
	/* lone continuation bytes */
	{"a\x80z", "a\\x80z", "a\\ufffdz"},
	{"\xbf\xbf", "\\xbf\\xbf", "\\ufffd\\ufffd"},
	/* sequences cut short: at the end of the string, and before another character */
	{"a\xc3", "a\\xc3", "a\\ufffd"},
	{"a\xe2\x9c", "a\\xe2\\x9c", "a\\ufffd\\ufffd"},
	{"\xf0\x9f\x98", "\\xf0\\x9f\\x98", "\\ufffd\\ufffd\\ufffd"},
	{"\xe2\x9cx\xe2\x9c\x93", "\\xe2\\x9cx\xe2\x9c\x93", "\\ufffd\\ufffdx\xe2\x9c\x93"},
	{"\xf0\x9f\n", "\\xf0\\x9f\\n", "\\ufffd\\ufffd\\u000a"},
	/* valid but unsafe: C1 controls (NEL, CSI), line separators, bidi overrides */
	{"\xc2\x85\xc2\x9b", "\\xc2\\x85\\xc2\\x9b", "\\u0085\\u009b"},
	{"a\xe2\x80\xa8z\xe2\x80\xa9", "a\\xe2\\x80\\xa8z\\xe2\\x80\\xa9", "a\\u2028z\\u2029"},
	{"\xe2\x80\xaetxt.exe", "\\xe2\\x80\\xaetxt.exe", "\\u202etxt.exe"},
	{"\xe2\x81\xa6x\xe2\x81\xa9", "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9", "\\u2066x\\u2069"},
	/* a backslash escape in the input stays readable as such */
	{"\\x0a\\n", "\\\\x0a\\\\n", "\\\\x0a\\\\n"},
};

Test(escape, text_table)
{
	char out[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = bs_text_escape(out, sizeof(out), cases[i].in);

		cr_expect_str_eq(out, cases[i].text, "case %zu", i);
		cr_expect_eq(n, strlen(cases[i].text), "case %zu", i);
	}
}

Test(escape, json_table)
{
	char out[512], want[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = bs_json_string(out, sizeof(out), cases[i].in);

		snprintf(want, sizeof(want), "\"%s\"", cases[i].json);
		cr_expect_str_eq(out, want, "case %zu", i);
		cr_expect_eq(n, strlen(want), "case %zu", i);
	}
}

Test(escape, decode_gives_code_points)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned cp;
	} ok[] = {{"A", 1, 'A'}, {"\x7f", 1, 0x7f}, {"\xc2\x80", 2, 0x80}, {"\xdf\xbf", 2, 0x7ff},
		  {"\xe0\xa0\x80", 3, 0x800}, {"\xe2\x82\xac", 3, 0x20ac}, {"\xed\x9f\xbf", 3, 0xd7ff},
		  {"\xee\x80\x80", 3, 0xe000}, {"\xf0\x90\x80\x80", 4, 0x10000},
		  {"\xf0\x9f\x98\x80", 4, 0x1f600}, {"\xf4\x8f\xbf\xbf", 4, 0x10ffff}};
	unsigned cp;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_expect_eq(bs_utf8_decode((const unsigned char *)ok[i].in, strlen(ok[i].in), &cp),
			     ok[i].len, "%zu", i);
		cr_expect_eq(cp, ok[i].cp, "%zu", i);
	}
	/* A limit that cuts a sequence makes it invalid, whatever follows in memory. */
	cr_expect_eq(bs_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 3, &cp), 0);
	cr_expect_eq(bs_utf8_decode((const unsigned char *)"\xc3\xa9", 1, &cp), 0);
}

/* An independent statement of RFC 3629: a permissive decoder, then the rules. */
static size_t reference_len(const unsigned char *s, size_t avail)
{
	size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
		 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned cp;

	if (!n || n > avail)
		return 0;
	cp = n == 1 ? s[0] : s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void check_against_reference(const unsigned char *s, size_t avail)
{
	unsigned cp;
	size_t got = bs_utf8_decode(s, avail, &cp), want = reference_len(s, avail);

	if (got != want)
		cr_expect(false, "%02x %02x %02x %02x (%zu bytes): %zu, want %zu", s[0], avail > 1 ? s[1] : 0,
			avail > 2 ? s[2] : 0, avail > 3 ? s[3] : 0, avail, got, want);
}

Test(escape, decode_agrees_with_rfc3629_exhaustively)
{
	unsigned char s[4];

	/* Every sequence of 1, 2 and 3 bytes (E0, ED and overlongs are in there). */
	for (unsigned a = 1; a < 256; a++) {
		s[0] = (unsigned char)a;
		check_against_reference(s, 1);
		for (unsigned b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			check_against_reference(s, 2);
			for (unsigned c = 0; c < 256 && a >= 0xe0; c++) {
				s[2] = (unsigned char)c;
				check_against_reference(s, 3);
			}
		}
	}
	/* 4 bytes: every lead from F0, with the following bytes around the edges of the
	 * continuation range. */
	for (unsigned a = 0xf0; a < 256; a++)
		for (unsigned b = 0x70; b < 0xd0; b++)
			for (unsigned c = 0x70; c < 0xd0; c += 0x0f)
				for (unsigned d = 0x70; d < 0xd0; d += 0x0f) {
					s[0] = (unsigned char)a;
					s[1] = (unsigned char)b;
					s[2] = (unsigned char)c;
					s[3] = (unsigned char)d;
					check_against_reference(s, 4);
				}
}

/* Tells whether out holds no control byte and is valid UTF-8 throughout. */
static bool clean(const char *out)
{
	const unsigned char *s = (const unsigned char *)out;
	size_t avail = strlen(out);
	unsigned cp;

	while (avail) {
		size_t n = bs_utf8_decode(s, avail, &cp);

		if (!n || bs_char_unsafe(cp))
			return false;
		s += n;
		avail -= n;
	}
	return true;
}

Test(escape, every_two_byte_input_gives_clean_output)
{
	char in[4], text[64], json[64];

	for (unsigned a = 1; a < 256; a++)
		for (unsigned b = 1; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = 'z';
			in[3] = '\0';
			bs_text_escape(text, sizeof(text), in);
			bs_json_string(json, sizeof(json), in);
			cr_assert(clean(text), "%02x %02x: %s", a, b, text);
			cr_assert(clean(json), "%02x %02x: %s", a, b, json);
			/* the character after a bad byte is never swallowed */
			cr_assert_eq(text[strlen(text) - 1], 'z', "%02x %02x: %s", a, b, text);
			cr_assert_eq(json[strlen(json) - 2], 'z', "%02x %02x: %s", a, b, json);
		}
}

Test(escape, short_buffers_never_cut_an_escape_or_a_character)
{
	char out[16];

	cr_expect_eq(bs_text_escape(out, 0, "abc"), 0);
	cr_expect_eq(bs_text_escape(out, 1, "abc"), 0);
	cr_expect_str_eq(out, "");
	cr_expect_eq(bs_text_escape(out, 4, "\n\n"), 2);
	cr_expect_str_eq(out, "\\n");
	cr_expect_eq(bs_text_escape(out, 5, "a\x80"), 1);
	cr_expect_str_eq(out, "a");
	cr_expect_eq(bs_text_escape(out, 6, "a\x80"), 5);
	cr_expect_eq(bs_text_escape(out, 4, "ab\xf0\x9f\x98\x80"), 2);
	cr_expect_str_eq(out, "ab");
	/* JSON: the string always closes */
	cr_expect_eq(bs_json_string(out, 8, "\n\n"), 2);
	cr_expect_str_eq(out, "\"\"");
	cr_expect_eq(bs_json_string(out, 9, "\n\n"), 8);
	cr_expect_str_eq(out, "\"\\u000a\"");
	cr_expect_eq(bs_json_string(out, 7, "ab\xf0\x9f\x98\x80"), 4);
	cr_expect_str_eq(out, "\"ab\"");
}

Test(escape, json_reads_at_most_its_limit)
{
	char in[BS_JSON_VALUE_MAX + 8], out[2 * BS_JSON_VALUE_MAX];

	/* The limit falls inside "é": its first byte alone is invalid, not read past. */
	memset(in, 'a', BS_JSON_VALUE_MAX - 1);
	memcpy(in + BS_JSON_VALUE_MAX - 1, "\xc3\xa9z", 4);
	bs_json_string(out, sizeof(out), in);
	cr_expect_str_eq(out + strlen(out) - 8, "a\\ufffd\"");
	cr_expect_eq(strlen(out), BS_JSON_VALUE_MAX - 1 + 6 + 2);
}
