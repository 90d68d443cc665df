/* Strict parsing of addresses, ports, endpoints, targets, errno names; globbing;
 * rewriting across families. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "policy/policy.h"

Test(parse, addresses)
{
	static const char *const good[] = {"0.0.0.0", "255.255.255.255", "::", "::1",
					   "2001:db8::7", "::ffff:1.2.3.4", "fe80::1:2:3:4"};
	static const char *const bad[] = {"300.1.1.1", "1.2.3", "1.2.3.4.5", "::g", "", " 1.2.3.4",
					  "1.2.3.4 ", "01.2.3.4x", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0",
					  "localhost"};
	struct bs_addr a;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect_eq(bs_addr_parse(good[i], &a), 0, "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_neq(bs_addr_parse(bad[i], &a), 0, "%s", bad[i]);
	bs_addr_parse("::ffff:1.2.3.4", &a);
	bs_addr_fold(&a);
	cr_expect_eq(a.family, AF_INET);
	cr_expect(!memcmp(a.bytes, "\1\2\3\4", 4));
}

Test(parse, cidrs)
{
	struct bs_addr_match m;

	cr_expect_eq(bs_addr_match_parse("0.0.0.0/0", &m), 0);
	cr_expect_eq(m.prefix, 0);
	cr_expect_eq(bs_addr_match_parse("10.0.0.0/8", &m), 0);
	cr_expect_eq(bs_addr_match_parse("1.2.3.4/32", &m), 0);
	cr_expect_eq(bs_addr_match_parse("::/0", &m), 0);
	cr_expect_eq(bs_addr_match_parse("::1/128", &m), 0);
	cr_expect_eq(bs_addr_match_parse("10.0.0.0/33", &m), -ERANGE);
	cr_expect_eq(bs_addr_match_parse("::/129", &m), -ERANGE);
	cr_expect_eq(bs_addr_match_parse("10.0.0.0/-1", &m), -ERANGE);
	cr_expect_eq(bs_addr_match_parse("10.0.0.0/", &m), -ERANGE);
	cr_expect_eq(bs_addr_match_parse("10.0.0.1/8", &m), -ENOTUNIQ);
	cr_expect_eq(bs_addr_match_parse("/8", &m), -EINVAL);
	cr_expect_eq(bs_addr_match_parse("wildcard", &m), 0);
	cr_expect_eq(m.kind, BS_ADDR_WILDCARD);
	cr_expect_eq(bs_addr_match_parse("any", &m), 0);
	cr_expect_eq(m.kind, BS_ADDR_ANY);
	/* ::ffff:0:0/96 is "every v4-mapped address", matched as 0.0.0.0/0 */
	cr_expect_eq(bs_addr_match_parse("::ffff:0:0/96", &m), 0);
	cr_expect_eq(m.net.family, AF_INET);
	cr_expect_eq(m.prefix, 0);
}

Test(parse, ports)
{
	struct bs_port_range r;
	long v;

	cr_expect_eq(bs_port_range_parse("0", &r), 0);
	cr_expect_eq(bs_port_range_parse("65535", &r), 0);
	cr_expect_eq(bs_port_range_parse("8000-8999", &r), 0);
	cr_expect(r.lo == 8000 && r.hi == 8999);
	cr_expect_eq(bs_port_range_parse("80-80", &r), 0);
	cr_expect_eq(bs_port_range_parse("9000-8000", &r), -ERANGE);
	cr_expect_neq(bs_port_range_parse("65536", &r), 0);
	cr_expect_neq(bs_port_range_parse("-1", &r), 0);
	cr_expect_neq(bs_port_range_parse("80abc", &r), 0);
	cr_expect_neq(bs_port_range_parse("+80", &r), 0);
	cr_expect_neq(bs_port_range_parse("", &r), 0);
	cr_expect_neq(bs_port_range_parse("1-2-3", &r), 0);
	cr_expect_neq(bs_parse_long("99999999999999999999", 0, 10, &v), 0);
}

Test(parse, endpoints)
{
	struct sockaddr_storage ss;
	char buf[BS_ENDPOINT_MAX];

	cr_expect_eq(bs_endpoint_parse("0.0.0.0:8000", &ss), 0);
	cr_expect_str_eq(bs_endpoint_format(&ss, buf, sizeof(buf)), "0.0.0.0:8000");
	cr_expect_eq(bs_endpoint_parse("[::]:8000", &ss), 0);
	cr_expect_str_eq(bs_endpoint_format(&ss, buf, sizeof(buf)), "[::]:8000");
	cr_expect_eq(bs_endpoint_parse("[::ffff:0.0.0.0]:1", &ss), 0);
	cr_expect_str_eq(bs_endpoint_format(&ss, buf, sizeof(buf)), "[::ffff:0.0.0.0]:1");
	cr_expect_neq(bs_endpoint_parse("::1:80", &ss), 0);
	cr_expect_neq(bs_endpoint_parse("[1.2.3.4]:80", &ss), 0);
	cr_expect_neq(bs_endpoint_parse("1.2.3.4", &ss), 0);
	cr_expect_neq(bs_endpoint_parse("1.2.3.4:", &ss), 0);
	cr_expect_neq(bs_endpoint_parse("[::1]80", &ss), 0);
	cr_expect_neq(bs_endpoint_parse("[::1:80", &ss), 0);
}

Test(parse, sockaddr_copy_validates_length)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr_storage ss;

	cr_expect_eq(bs_sockaddr_copy(NULL, 16, &ss), -EINVAL);
	cr_expect_eq(bs_sockaddr_copy((struct sockaddr *)&sin, 0, &ss), -EINVAL);
	cr_expect_eq(bs_sockaddr_copy((struct sockaddr *)&sin, 15, &ss), -EINVAL);
	cr_expect_eq(bs_sockaddr_copy((struct sockaddr *)&sin, 16, &ss), 0);
	cr_expect_eq(bs_sockaddr_copy((struct sockaddr *)&sin6, 23, &ss), -EINVAL);
	cr_expect_eq(bs_sockaddr_copy((struct sockaddr *)&sin6, 24, &ss), 0);
	cr_expect_eq(bs_sockaddr_copy((struct sockaddr *)&sin6, 28, &ss), 0);
	sin.sin_family = AF_UNIX;
	cr_expect_eq(bs_sockaddr_copy((struct sockaddr *)&sin, 16, &ss), -EAFNOSUPPORT);
}

Test(parse, targets)
{
	struct bs_target t;

	cr_expect_eq(bs_target_parse("loopback", &t), 0);
	cr_expect_eq(t.kind, BS_TO_LOOPBACK);
	cr_expect_eq(bs_target_parse("interface:eth0", &t), 0);
	cr_expect_str_eq(t.ifname, "eth0");
	cr_expect_eq(bs_target_parse("192.0.2.1", &t), 0);
	cr_expect_eq(bs_target_parse("::", &t), 0);
	cr_expect_neq(bs_target_parse("interface:", &t), 0);
	cr_expect_neq(bs_target_parse("interface:a/b", &t), 0);
	cr_expect_neq(bs_target_parse("interface:0123456789abcdef", &t), 0);
	cr_expect_neq(bs_target_parse("10.0.0.0/8", &t), 0);
	cr_expect_neq(bs_target_parse("Loopback", &t), 0);
}

Test(parse, errno_names)
{
	cr_expect_eq(bs_errno_from_name("EACCES"), EACCES);
	cr_expect_eq(bs_errno_from_name("EADDRINUSE"), EADDRINUSE);
	cr_expect_eq(bs_errno_from_name("EWOULDBLOCK"), EWOULDBLOCK);
	cr_expect_eq(bs_errno_from_name("ENOTSUP"), ENOTSUP);
	cr_expect_eq(bs_errno_from_name("EFOO"), 0);
	cr_expect_eq(bs_errno_from_name("eacces"), 0);
	cr_expect_str_eq(bs_errno_name(EADDRNOTAVAIL), "EADDRNOTAVAIL");
}

Test(parse, glob)
{
	cr_expect(bs_glob("python*", "python3"));
	cr_expect(bs_glob("python*", "python"));
	cr_expect(!bs_glob("python*", "ipython"));
	cr_expect(bs_glob("*", ""));
	cr_expect(bs_glob("?ode", "node"));
	cr_expect(!bs_glob("?ode", "ode"));
	cr_expect(bs_glob("/usr/bin/*", "/usr/bin/x/y"), "no FNM_PATHNAME: * crosses /");
	cr_expect(bs_glob("[a-c]x", "bx"));
	cr_expect(!bs_glob("[!a-c]x", "bx"));
	cr_expect(bs_glob("[]]x", "]x"));
	cr_expect(bs_glob("a\\*b", "a*b"));
	cr_expect(!bs_glob("a\\*b", "axb"));
	cr_expect(bs_glob("*a*b*c*", "xxaxxbxxcxx"));
	cr_expect(!bs_glob("*a*b*c*", "xxaxxcxxbxx"));
	cr_expect(bs_glob("[unclosed", "[unclosed"));
	cr_expect(!bs_glob("abc", "abcd"));
}
