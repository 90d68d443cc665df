/* The built-in policies, as ordinary policies on the same engine, and the common
 * allocation and finishing steps every policy goes through. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

struct bs_policy *bs_policy_alloc(size_t nrules)
{
	struct bs_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->rules = calloc(nrules + 1, sizeof(*p->rules));
	if (!p->rules) {
		free(p);
		return NULL;
	}
	p->nrules = nrules;
	p->default_action = BS_ALLOW;
	p->default_err = EACCES;
	p->log.to = BS_LOG_STDERR;
	for (size_t i = 0; i < nrules; i++)
		p->rules[i].to_port = -1;
	return p;
}

int bs_policy_finish(struct bs_policy *p)
{
	p->needs = 0;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct bs_rule *r = &p->rules[i];

		if (r->protos)
			p->needs |= BS_NEED_PROTO;
		if (r->nuids)
			p->needs |= BS_NEED_UID;
		if (r->nprograms)
			p->needs |= BS_NEED_PROGRAM;
		if (r->nexes)
			p->needs |= BS_NEED_EXE;
	}
	return bs_index_build(p);
}

void bs_policy_free(struct bs_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		struct bs_rule *r = &p->rules[i];

		free(r->name);
		free(r->addrs);
		free(r->ports);
		for (size_t j = 0; j < r->nprograms; j++)
			free(r->programs[j]);
		free(r->programs);
		for (size_t j = 0; j < r->nexes; j++)
			free(r->exes[j]);
		free(r->exes);
		free(r->uids);
	}
	free(p->rules);
	bs_index_free(&p->index);
	free(p->file);
	free(p->log.path);
	free(p);
}

/* Gives rule r a copy of name and an address list parsed from specs; 0 or -errno. */
static int builtin_rule(struct bs_rule *r, const char *name, const char *const *specs,
			size_t n)
{
	r->name = strdup(name);
	r->addrs = calloc(n + 1, sizeof(*r->addrs));
	if (!r->name || !r->addrs)
		return -ENOMEM;
	r->naddrs = n;
	for (size_t i = 0; i < n; i++)
		if (bs_addr_match_parse(specs[i], &r->addrs[i]))
			return -EINVAL;
	return 0;
}

int bs_policy_builtin_loopback(struct bs_policy **out)
{
	static const char *const loop[] = {"127.0.0.0/8", "::1"};
	struct bs_policy *p = bs_policy_alloc(2);
	int rc = -ENOMEM;

	if (!p)
		return rc;
	p->builtin = true;
	/* Loopback stays; everything else (wildcard or specific) goes to loopback. */
	rc = builtin_rule(&p->rules[0], "loopback", loop, 2);
	if (!rc)
		rc = builtin_rule(&p->rules[1], "not-loopback", NULL, 0);
	if (rc)
		goto out;
	p->rules[0].action = BS_ALLOW;
	p->rules[1].action = BS_REWRITE;
	p->rules[1].to.kind = BS_TO_LOOPBACK;
	rc = bs_policy_finish(p);
out:
	if (rc)
		bs_policy_free(p);
	else
		*out = p;
	return rc;
}

/* The loopback-only policy as constants: 127.0.0.0/8 and ::1 allowed, all else to
 * loopback. Usable where nothing may be allocated or locked. */
static struct bs_addr_match const_loop[2] = {
	{.kind = BS_ADDR_CIDR, .prefix = 8, .net = {.family = AF_INET, .bytes = {127}}},
	{.kind = BS_ADDR_CIDR, .prefix = 128, .net = {.family = AF_INET6, .bytes = {[15] = 1}}},
};
static uint32_t const_wide[2] = {0, 1};
static struct bs_rule const_rules[2] = {
	{.name = (char *)"loopback", .addrs = const_loop, .naddrs = 2, .action = BS_ALLOW,
	 .to_port = -1},
	{.name = (char *)"not-loopback", .action = BS_REWRITE, .to = {.kind = BS_TO_LOOPBACK},
	 .to_port = -1},
};
static const struct bs_policy const_loopback = {
	.builtin = true, .default_action = BS_ALLOW, .default_err = EACCES,
	.rules = const_rules, .nrules = 2, .index = {.wide = const_wide, .nwide = 2},
};

const struct bs_policy *bs_policy_static_loopback(void)
{
	return &const_loopback;
}

int bs_policy_builtin_to(const char *target, struct bs_policy **out, char *err, size_t errlen)
{
	static const char *const wild[] = {"wildcard"};
	struct bs_policy *p;
	char name[64];
	int rc;

	p = bs_policy_alloc(1);
	if (!p)
		return -ENOMEM;
	p->builtin = true;
	/* Named after what it does, so records tell -t loopback from -l. */
	snprintf(name, sizeof(name), "wildcard to %s", target);
	rc = builtin_rule(&p->rules[0], name, wild, 1);
	if (!rc && bs_target_parse(target, &p->rules[0].to)) {
		snprintf(err, errlen, "bad target \"%s\" (expected \"loopback\", an IP address "
			 "or \"interface:NAME\")\n", target);
		rc = -EINVAL;
	}
	if (!rc) {
		p->rules[0].action = BS_REWRITE;
		rc = bs_policy_finish(p);
	}
	if (rc)
		bs_policy_free(p);
	else
		*out = p;
	return rc;
}
