/* The kernel program's decision over compiled tables (kernel/kdecide.h, the very C
 * the BPF program runs) must agree with the policy engine (bs_resolve) on random
 * policies and random binds, with the two kernel rules (dual-stack loopback, the
 * decision made once) spelled out here from bs_resolve; and its glob on comm with
 * bs_glob on random patterns. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"
#include "policy/internal.h"

static uint32_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static const char *pick(uint64_t *s, const char *const *v, size_t n)
{
	return v[rng(s) % n];
}

#define PICK(s, v) pick((s), (v), sizeof(v) / sizeof((v)[0]))

static uint16_t random_port(uint64_t *s)
{
	static const uint16_t edges[] = {0, 1, 1023, 1024, 8000, 8999, 9000, 65534, 65535};

	if (rng(s) % 3 == 0)
		return edges[rng(s) % 9];
	return (uint16_t)(8000 + rng(s) % 16);
}

static char *dup_str(const char *s)
{
	char *d = strdup(s);

	cr_assert(d);
	return d;
}

static void random_rule(struct bs_rule *r, uint64_t *s, size_t i)
{
	static const char *const addrs[] = {"wildcard", "any", "127.0.0.0/8", "::1", "0.0.0.0/0",
					    "10.0.0.0/8", "::/0", "2001:db8::/32", "198.51.100.7",
					    "0.0.0.0", "::", "::ffff:0:0/96", "10.1.2.2/31"};
	static const char *const progs[] = {"probe*", "p?obe", "[a-p]*", "*-static", "*",
					    "goserver", "[!x]*e", "python3*", "a\\*b"};
	static const char *const tos[] = {"loopback", "loopback", "10.9.8.7", "0.0.0.0", "::",
					  "2001:db8::1", "::ffff:192.0.2.1", "interface:bs0",
					  "interface:lo", "interface:nope"};
	size_t np = rng(s) % 11, na = rng(s) % 6, nu = rng(s) % 3 ? 0 : 1 + rng(s) % 5;
	size_t ng = rng(s) % 3 ? 0 : 1 + rng(s) % 5;

	r->name = malloc(24);
	snprintf(r->name, 24, "r%zu", i);
	r->line = (unsigned)i + 10;
	r->ports = calloc(np + 1, sizeof(*r->ports));
	np = np > 3 && rng(s) % 2 ? np : np % 4;
	for (size_t k = 0; k < np; k++) {
		uint16_t a = random_port(s), b = rng(s) % 3 ? a : (uint16_t)(a + rng(s) % 7);

		r->ports[k].lo = a;
		r->ports[k].hi = b < a ? 65535 : b;
	}
	r->nports = np;
	r->addrs = calloc(na + 1, sizeof(*r->addrs));
	for (size_t k = 0; k < na; k++)
		cr_assert_eq(bs_addr_match_parse(PICK(s, addrs), &r->addrs[k]), 0);
	r->naddrs = na;
	r->uids = calloc(nu + 1, sizeof(*r->uids));
	for (size_t k = 0; k < nu; k++)
		r->uids[k] = rng(s) % 3;
	r->nuids = nu;
	r->programs = calloc(ng + 1, sizeof(char *));
	for (size_t k = 0; k < ng; k++)
		r->programs[k] = dup_str(PICK(s, progs));
	r->nprograms = ng;
	if (rng(s) % 10 == 0) {
		r->exes = calloc(2, sizeof(char *));
		r->exes[0] = dup_str("*");
		r->nexes = 1;
	}
	r->families = rng(s) % 3;
	r->protos = rng(s) % 3;
	r->action = (enum bs_action)(rng(s) % 4);
	r->err = 1 + (int)(rng(s) % 100);
	cr_assert_eq(bs_target_parse(PICK(s, tos), &r->to), 0);
	r->to_port = rng(s) % 3 ? -1 : (int)random_port(s);
}

/* A random bind: the address as the program gives it (v4-mapped kept). */
static void random_bind(struct sockaddr_storage *ss, uint64_t *s)
{
	static const char *const ips[] = {"0.0.0.0", "127.0.0.1", "10.1.2.3", "10.1.2.2",
					  "198.51.100.7", "::", "::1", "2001:db8::5", "fe80::1",
					  "::ffff:0.0.0.0", "::ffff:127.0.0.1", "::ffff:10.9.8.7",
					  "::ffff:198.51.100.7", "2001:db8::1", "10.9.8.7"};
	const char *ip = PICK(s, ips);

	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
		s6->sin6_port = htons(random_port(s));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
		s4->sin_port = htons(random_port(s));
	}
}

static bool same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char x[BS_ENDPOINT_MAX], y[BS_ENDPOINT_MAX];

	return !strcmp(bs_endpoint_format(a, x, sizeof(x)), bs_endpoint_format(b, y, sizeof(y)));
}

/* The policy engine's answer (bs_resolve_bind: the dual-stack loopback and the
 * decision made once included), which the kernel's must equal. */
static void ref_judge(const struct bs_policy *p, const struct bs_query *q,
		      const struct sockaddr_storage *from, bool v6only, struct bs_outcome *o,
		      bool *once)
{
	struct bs_query fq = *q;

	fq.v6only = v6only;
	bs_query_set_sockaddr(&fq, from);
	bs_resolve_bind(NULL, p, &fq, from, o);
	*once = o->kept;
}

static void check_one(const struct bs_policy *p, const struct bs_ktables *t, uint64_t *s)
{
	static const char *const names[] = {"probe", "probe-static", "pxobe", "goserver",
					    "python3.11", "a*b", "axb", "zebra", "", "sshd"};
	struct sockaddr_storage from, kto;
	struct bs_query q = {.proto = 1u + rng(s) % 2, .uid = rng(s) % 3};
	struct bs_kquery kq = {.proto = (uint8_t)q.proto, .uid = (uint32_t)q.uid};
	struct bs_outcome o;
	struct bs_kout ko;
	struct bs_ksa kfrom;
	char a[BS_ENDPOINT_MAX], b[BS_ENDPOINT_MAX];
	bool v6only = rng(s) % 2, once;
	const char *name = PICK(s, names);

	q.program = name;
	snprintf(kq.comm, sizeof(kq.comm), "%s", name);
	random_bind(&from, s);
	ref_judge(p, &q, &from, v6only, &o, &once);
	bs_ksa_from(&kfrom, &from);
	bs_kjudge(t, &kq, &kfrom, v6only, &ko);
	bs_endpoint_format(&from, a, sizeof(a));
	if (once) {
		cr_assert(ko.once && ko.action == BS_ALLOW && !ko.err, "%s: once expected", a);
		cr_assert_eq(t->info[ko.rule].src, (uint32_t)(o.d.rule - p->rules), "%s", a);
		return;
	}
	cr_assert(!ko.once, "%s: once not expected", a);
	cr_assert_eq(ko.err, o.err, "%s %s uid %u: err %d vs %d", a, name, (unsigned)q.uid,
		     ko.err, o.err);
	cr_assert_eq(ko.action, o.d.action, "%s %s: action", a, name);
	if (!o.d.rule)
		cr_assert_eq(ko.rule, -1, "%s %s: default expected, got %d", a, name, ko.rule);
	else
		cr_assert(ko.rule >= 0 && t->info[ko.rule].src == (uint32_t)(o.d.rule - p->rules),
			  "%s %s: rule %s expected, got %d", a, name, o.d.rule->name, ko.rule);
	if (o.d.action == BS_REWRITE && !o.err) {
		bs_ksa_to(&kto, &ko.to);
		cr_assert(same_endpoint(&kto, &o.to), "%s: rewrite %s vs %s", a,
			  bs_endpoint_format(&kto, b, sizeof(b)), bs_endpoint_format(&o.to, a, sizeof(a)));
	}
}

static void compare(size_t nrules, uint64_t seed, int queries)
{
	struct bs_policy *p = bs_policy_alloc(nrules);
	struct bs_ktables t;
	char err[512];
	uint64_t s = seed;

	for (size_t i = 0; i < nrules; i++)
		random_rule(&p->rules[i], &s, i);
	p->default_action = rng(&s) % 2 ? BS_ALLOW : BS_DENY;
	p->default_err = 13;
	cr_assert_eq(bs_policy_finish(p), 0);
	cr_assert_eq(bs_kcompile(p, &t, err, sizeof(err)), 0, "%s", err);
	for (int n = 0; n < queries; n++)
		check_one(p, &t, &s);
	bs_ktables_free(&t);
	bs_policy_free(p);
}

Test(kernel, compiled_tables_decide_like_the_engine)
{
	for (uint64_t seed = 1; seed <= 300; seed++)
		compare(1 + seed % 12, seed, 300);
}

Test(kernel, long_lists_split_into_rows)
{
	/* Lists longer than a compiled rule holds: many rows, same answers. */
	for (uint64_t seed = 1000; seed < 1040; seed++)
		compare(30, seed, 500);
}

Test(kernel, glob_on_comm_is_bs_glob)
{
	static const char alpha[] = "ab*?[]!^-\\c";
	static const char salpha[] = "abc-]![\\^*";
	uint64_t s = 7;

	for (int n = 0; n < 200000; n++) {
		char pat[16], str[16];
		size_t pl = rng(&s) % 12, sl = rng(&s) % 16;
		struct bs_kpat k;

		for (size_t i = 0; i < pl; i++)
			pat[i] = alpha[rng(&s) % (sizeof(alpha) - 1)];
		pat[pl] = '\0';
		for (size_t i = 0; i < sl; i++)
			str[i] = salpha[rng(&s) % (sizeof(salpha) - 1)];
		str[sl] = '\0';
		bs_kcompile_glob(pat, &k);
		cr_assert_eq(bs_kglob(&k, str), bs_glob(pat, str), "\"%s\" on \"%s\"", pat, str);
	}
}

Test(kernel, globs_longer_than_comm_never_match)
{
	struct bs_kpat k;

	bs_kcompile_glob("abcdefghijklmnop", &k);
	cr_assert(k.never);
	bs_kcompile_glob("*a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*", &k);
	cr_assert(!k.never);
	cr_assert(bs_kglob(&k, "abcdefghijklmno"));
	cr_assert(!bs_kglob(&k, "abcdefghijklmn"));
}

Test(kernel, too_many_rules_is_an_error)
{
	struct bs_policy *p = bs_policy_alloc(BS_KMAX_RULES + 1);
	struct bs_ktables t;
	char err[512] = "";

	for (size_t i = 0; i < p->nrules; i++)
		p->rules[i].name = dup_str("many");
	cr_assert_eq(bs_policy_finish(p), 0);
	cr_assert_eq(bs_kcompile(p, &t, err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "kernel tables' limit"), "%s", err);
	bs_policy_free(p);
}

/* subuid(5) lines: OWNER:FIRST:COUNT, strictly; owners by uid or by name. */
static int fake_user(const char *name, __u32 *uid)
{
	if (strcmp(name, "bob"))
		return -ENOENT;
	*uid = 1001;
	return 0;
}

Test(kernel, subuid_lines_are_read_strictly)
{
	static const struct {
		const char *line;
		int rc;
		__u32 owner, first;
		__u64 count;
	} cases[] = {
		{"bob:100000:65536", 1, 1001, 100000, 65536},
		{"1002:165536:65536", 1, 1002, 165536, 65536},
		{"0:0:4294967296", 1, 0, 0, 4294967296ull},
		{"4242:4294967295:1", 1, 4242, 4294967295u, 1},
		{"", 0, 0, 0, 0}, {"   ", 0, 0, 0, 0}, {"# bob:1:1", 0, 0, 0, 0},
		{"alice:100000:65536", -ENOENT, 0, 0, 0},
		{"bob:100000", -EINVAL, 0, 0, 0}, {"bob:100000:", -EINVAL, 0, 0, 0},
		{"bob:100000:0", -EINVAL, 0, 0, 0}, {"bob:-1:5", -EINVAL, 0, 0, 0},
		{"bob:0200000:65536", 1, 1001, 65536, 65536},	/* octal, as newuidmap reads it */
		{"bob:0x10:0X10", 1, 1001, 16, 16}, {"bob:0:1", 1, 1001, 0, 1},
		{"bob:100000:65536:more", 1, 1001, 100000, 65536},	/* newuidmap ignores it */
		{"010:1:1", 1, 10, 1, 1},	/* an owner's uid is decimal */
		{"bob:08:1", -EINVAL, 0, 0, 0}, {"bob:0x:1", -EINVAL, 0, 0, 0},
		{"bob:0xg:1", -EINVAL, 0, 0, 0}, {"bob:-1:1", -EINVAL, 0, 0, 0},
		{"bob: +0x10:\t+16", 1, 1001, 16, 16},	/* blanks and '+', as strtoul */
		{"bob:+ 1:1", -EINVAL, 0, 0, 0}, {"bob:1 :1", -EINVAL, 0, 0, 0},
		{"bob:++1:1", -EINVAL, 0, 0, 0}, {"bob: :1", -EINVAL, 0, 0, 0},
		{"bob:100000:65536x", -EINVAL, 0, 0, 0}, {"bob:100000:65536\r", -EINVAL, 0, 0, 0},
		{"bob::65536", -EINVAL, 0, 0, 0}, {"bob:1:", -EINVAL, 0, 0, 0},
		{" 1002:1:1", 1, 1002, 1, 1},
		{"bob:4294967296:1", -EINVAL, 0, 0, 0}, {"bob:4294967295:2", -EINVAL, 0, 0, 0},
		{":100000:65536", -EINVAL, 0, 0, 0}, {"bob: 100000:65536", 1, 1001, 100000, 65536},
		{"4294967295:1:1", -ENOENT, 0, 0, 0},	/* (uid_t)-1 is nobody's */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bs_kowned r = {0, 0, 0};
		int rc = bs_kowned_line(cases[i].line, strlen(cases[i].line), &r, fake_user);

		cr_expect_eq(rc, cases[i].rc, "\"%s\": %d", cases[i].line, rc);
		if (rc == 1)
			cr_expect(r.owner == cases[i].owner && r.first == cases[i].first &&
				  r.count == cases[i].count, "\"%s\": %u %u %llu", cases[i].line,
				  r.owner, r.first, (unsigned long long)r.count);
	}
}

/* The uid of an owner key, as a number. */
static uint64_t key_uid(const struct bs_kowner_key *k)
{
	return (uint64_t)k->uid[0] << 24 | (uint64_t)k->uid[1] << 16 | (uint64_t)k->uid[2] << 8 |
	       k->uid[3];
}

/* A range's blocks are aligned, in order, and cover exactly the range: the trie
 * finds every uid of it and none outside. */
Test(kernel, a_range_is_the_aligned_blocks_it_is_made_of)
{
	uint64_t s = 7;

	for (int t = 0; t < 20000; t++) {
		struct bs_kowner_key b[64];
		__u32 first = t < 4 ? (__u32[]){0, 100000, 4294967295u, 65536}[t] : rng(&s);
		__u64 count = t < 4 ? (__u64[]){4294967296ull, 65536, 1, 65536}[t]
				    : 1 + rng(&s) % (t % 3 ? 70000 : 0xffffffffu);
		uint64_t at = first, end = first + count > (1ull << 32) ? 1ull << 32 : first + count;
		size_t n = bs_kowned_blocks(first, count, b);

		cr_assert_leq(n, 64);
		for (size_t i = 0; i < n; i++) {
			uint64_t size = 1ull << (32 - b[i].prefixlen);

			cr_assert_eq(key_uid(&b[i]), at, "block %zu of %u+%llu", i, first,
				     (unsigned long long)count);
			cr_assert_eq(at % size, 0, "aligned");
			at += size;
		}
		cr_assert_eq(at, end, "%u+%llu covered to %llu", first, (unsigned long long)count,
			     (unsigned long long)at);
	}
}
