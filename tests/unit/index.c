/* The port index must decide exactly like a plain first-match scan, whatever the
 * rules look like: compare both on random policies and random queries. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

/* A deterministic generator, so a failure can be replayed. */
static uint32_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static uint16_t random_port(uint64_t *s)
{
	/* Mostly a small port set, so rules and queries collide often. */
	return (uint16_t)(rng(s) % 4 ? 8000 + rng(s) % 64 : rng(s) % 65536);
}

static void random_rule(struct bs_rule *r, uint64_t *s, size_t i)
{
	static const char *const addrs[] = {"wildcard", "any", "127.0.0.0/8", "::1", "0.0.0.0/0",
					    "10.0.0.0/8", "::/0", "2001:db8::/32"};
	size_t np = rng(s) % 4, na = rng(s) % 3;

	r->name = malloc(24);
	snprintf(r->name, 24, "r%zu", i);
	r->ports = calloc(np + 1, sizeof(*r->ports));
	for (size_t k = 0; k < np; k++) {
		uint16_t a = random_port(s), b = rng(s) % 3 ? a : (uint16_t)(a + rng(s) % 5000);

		r->ports[k].lo = a;
		r->ports[k].hi = b < a ? 65535 : b;
	}
	r->nports = np;
	r->addrs = calloc(na + 1, sizeof(*r->addrs));
	for (size_t k = 0; k < na; k++)
		bs_addr_match_parse(addrs[rng(s) % 8], &r->addrs[k]);
	r->naddrs = na;
	r->families = rng(s) % 3;
	r->protos = rng(s) % 3;
	r->action = (enum bs_action)(rng(s) % 4);
	r->err = 1 + (int)(rng(s) % 100);
	r->to.kind = BS_TO_LOOPBACK;
}

/* The reference: the first rule that matches, in order. */
static const struct bs_rule *linear(const struct bs_policy *p, const struct bs_query *q)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (bs_rule_matches(&p->rules[i], q))
			return &p->rules[i];
	return NULL;
}

static void random_query(struct bs_query *q, uint64_t *s)
{
	static const char *const ips[] = {"0.0.0.0", "127.0.0.1", "10.1.2.3", "192.0.2.1", "::",
					  "::1", "2001:db8::5", "fe80::1"};

	memset(q, 0, sizeof(*q));
	bs_addr_parse(ips[rng(s) % 8], &q->addr);
	q->port = random_port(s);
	q->proto = 1u + rng(s) % 2;
}

static void compare(size_t nrules, uint64_t seed, int queries)
{
	struct bs_policy *p = bs_policy_alloc(nrules);
	uint64_t s = seed;

	for (size_t i = 0; i < nrules; i++)
		random_rule(&p->rules[i], &s, i);
	cr_assert_eq(bs_policy_finish(p), 0);
	for (int n = 0; n < queries; n++) {
		struct bs_query q;
		struct bs_decision d;

		random_query(&q, &s);
		bs_decide(p, &q, &d);
		cr_assert_eq(d.rule, linear(p, &q), "seed %llu rules %zu query %d port %u",
			     (unsigned long long)seed, nrules, n, q.port);
	}
	bs_policy_free(p);
}

Test(index, matches_linear_scan_small)
{
	for (uint64_t seed = 1; seed <= 200; seed++)
		compare(1 + seed % 20, seed, 200);
}

Test(index, matches_linear_scan_large)
{
	compare(3000, 42, 20000);
	compare(10000, 7, 5000);
}

Test(index, empty_policy)
{
	compare(0, 1, 10);
}

Test(index, wide_ranges_are_demoted_not_lost)
{
	struct bs_policy *p = bs_policy_alloc(2000);
	struct bs_query q = {.port = 40000, .proto = BS_PROTO_TCP};

	/* Every rule covers almost every port: far beyond the index budget. */
	for (size_t i = 0; i < 2000; i++) {
		p->rules[i].name = strdup("w");
		p->rules[i].ports = calloc(2, sizeof(*p->rules[i].ports));
		p->rules[i].ports[0].lo = (uint16_t)i;
		p->rules[i].ports[0].hi = (uint16_t)(60000 + i);
		p->rules[i].nports = 1;
		p->rules[i].action = BS_DENY;
	}
	cr_assert_eq(bs_policy_finish(p), 0);
	cr_expect_gt(p->index.nwide, 0);
	bs_addr_parse("0.0.0.0", &q.addr);
	for (unsigned port = 0; port < 65536; port += 97) {
		struct bs_decision d;

		q.port = (uint16_t)port;
		bs_decide(p, &q, &d);
		cr_assert_eq(d.rule, linear(p, &q), "port %u", port);
	}
	bs_policy_free(p);
}
