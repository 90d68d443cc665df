/* Addresses as records show them: bs_ip_format and bs_endpoint_format agree with
 * inet_ntop(3) (which they replace in the shim's hot path), and the escapes cut a
 * long field at a whole character. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "shim/common/escape.h"
#include "shim/common/json.h"

static void expect_as_inet_ntop(int family, const unsigned char *bytes)
{
	char want[INET6_ADDRSTRLEN], got[BS_IP_MAX];

	cr_assert_not_null(inet_ntop(family, bytes, want, sizeof(want)));
	cr_expect_str_eq(bs_ip_format(family, bytes, got), want);
}

Test(format, ipv4_as_inet_ntop)
{
	static const unsigned char fixed[][4] = {
		{0, 0, 0, 0}, {127, 0, 0, 1}, {255, 255, 255, 255}, {198, 51, 100, 7},
		{10, 0, 100, 9}, {1, 2, 3, 4},
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		expect_as_inet_ntop(AF_INET, fixed[i]);
	for (unsigned v = 0; v < 256; v++) {
		unsigned char b[4] = {(unsigned char)v, (unsigned char)(255 - v), (unsigned char)(v / 10),
				      (unsigned char)(v * 7)};

		expect_as_inet_ntop(AF_INET, b);
	}
}

/* Every pattern of zero and non-zero words (the runs "::" stands for), with words
 * of every width, and the IPv4-mapped and -compatible forms. */
Test(format, ipv6_as_inet_ntop)
{
	static const char *const fixed[] = {
		"::", "::1", "1::", "::ffff:127.0.0.1", "::ffff:0.0.0.0", "::127.0.0.1",
		"::ffff:0:1.2.3.4", "0:0:0:0:0:ffff:0:1", "2001:db8::1", "2001:db8:0:0:1:0:0:1",
		"2001:0:0:1::1", "fe80::1:2", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"1:0:1:0:1:0:1:0", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7::",
	};
	static const unsigned widths[] = {0x1, 0x12, 0x123, 0x1234, 0xabcd, 0xffff};
	unsigned char b[16];
	uint32_t seed = 1;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		cr_assert_eq(inet_pton(AF_INET6, fixed[i], b), 1, "%s", fixed[i]);
		expect_as_inet_ntop(AF_INET6, b);
	}
	for (unsigned mask = 0; mask < 256; mask++) {
		for (int i = 0; i < 8; i++) {
			unsigned w = 0;

			seed = seed * 1103515245u + 12345u;
			if (mask >> i & 1)
				w = widths[(seed >> 16) % 6];
			b[2 * i] = (unsigned char)(w >> 8);
			b[2 * i + 1] = (unsigned char)w;
		}
		expect_as_inet_ntop(AF_INET6, b);
		/* and the same ending in a mapped or compatible IPv4 address */
		b[10] = b[11] = (unsigned char)(mask & 1 ? 0xff : 0);
		expect_as_inet_ntop(AF_INET6, b);
	}
}

Test(format, endpoints)
{
	static const char *const cases[] = {
		"0.0.0.0:0", "127.0.0.1:65535", "198.51.100.7:8080", "[::]:0", "[::1]:80",
		"[::ffff:127.0.0.1]:3000", "[2001:db8::7]:443",
	};
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char out[BS_ENDPOINT_MAX], small[8];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(bs_endpoint_parse(cases[i], &ss), 0, "%s", cases[i]);
		cr_expect_str_eq(bs_endpoint_format(&ss, out, sizeof(out)), cases[i]);
	}
	cr_assert_eq(bs_endpoint_parse("[fe80::1]:22", &ss), 0);
	sin6->sin6_scope_id = 4294967295u;
	cr_expect_str_eq(bs_endpoint_format(&ss, out, sizeof(out)), "[fe80::1%4294967295]:22");
	/* the longest there is fits */
	cr_assert_eq(bs_endpoint_parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", &ss), 0);
	sin6->sin6_scope_id = 4294967295u;
	cr_expect_str_eq(bs_endpoint_format(&ss, out, sizeof(out)),
			 "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
	/* a short buffer gets what fits, terminated */
	cr_expect_str_eq(bs_endpoint_format(&ss, small, sizeof(small)), "[ffff:f");
}

/* The input "ab\c<U+0001>é": its pieces, escaped, end at these lengths. A field
 * cut short by its room ends at the last whole piece that fits. */
Test(format, escapes_cut_at_whole_characters)
{
	static const char in[] = "ab\\c\x01\xc3\xa9";
	static const char text[] = "ab\\\\c\\x01\xc3\xa9", json[] = "\"ab\\\\c\\u0001\xc3\xa9\"";
	static const size_t text_ends[] = {0, 1, 2, 4, 5, 9, 11}, json_ends[] = {0, 1, 2, 4, 5, 11, 13};
	char out[64];

	for (size_t cap = 0; cap <= sizeof(out); cap++) {
		size_t want = 0, n;

		for (size_t i = 0; i < 7; i++)
			if (text_ends[i] + 1 <= cap)
				want = text_ends[i];
		memset(out, 'X', sizeof(out));
		n = bs_text_escape(out, cap, in);
		cr_expect_eq(n, want, "text, room %zu: %zu", cap, n);
		if (cap) {
			cr_expect_eq(out[n], '\0');
			cr_expect_eq(memcmp(out, text, n), 0, "room %zu", cap);
		}
		for (size_t i = cap; i < sizeof(out); i++)
			cr_expect_eq(out[i], 'X', "text, room %zu: wrote at %zu", cap, i);

		want = 0;
		for (size_t i = 0; i < 7; i++)
			if (json_ends[i] + 3 <= cap)
				want = json_ends[i] + 2;
		memset(out, 'X', sizeof(out));
		n = bs_json_string(out, cap, in);
		cr_expect_eq(n, want, "json, room %zu: %zu", cap, n);
		if (n) {
			cr_expect_eq(out[n], '\0');
			cr_expect_eq(out[n - 1], '"');
			cr_expect_eq(memcmp(out, json, n - 1), 0, "room %zu", cap);
		}
		for (size_t i = cap; i < sizeof(out); i++)
			cr_expect_eq(out[i], 'X', "json, room %zu: wrote at %zu", cap, i);
	}
}
