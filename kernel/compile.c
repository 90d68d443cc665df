/*
 * From a loaded policy to the tables the kernel program reads (kernel/ktypes.h).
 *
 * Each policy rule becomes one or more compiled rules: a rule is a conjunction of
 * lists (addresses, ports, uids, programs), any element of a list may match, so a
 * list longer than a compiled rule holds is cut into chunks and the rule into the
 * cross product of its chunks, in a row, with the same action. First match over
 * the row is first match over the rule. An `exe` key cannot be seen by the kernel
 * (a task's executable path is not at hand in a bind hook): such rules never match.
 * Program globs are tokenized here into character classes (one per character of
 * comm), using bs_glob itself to say which characters a bracket expression holds.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

/* A glob being tokenized: the classes of its character tokens. */
struct tokens {
	unsigned n;			/* tokens so far */
	unsigned nclass;
	uint32_t stars;
	uint8_t cls[BS_KPAT_TOKENS][32];
	bool never;
};

/* Adds a character-class token; NULL when comm could not hold that many characters
 * (the pattern can then never match). */
static uint8_t *add_class(struct tokens *t)
{
	if (t->nclass >= BS_KPAT_CLASSES || t->n >= BS_KPAT_TOKENS) {
		t->never = true;
		return NULL;
	}
	t->nclass++;
	return t->cls[t->n++];
}

/* Splits pat into star and class tokens, as bs_glob reads it. */
static void tokenize(const char *pat, struct tokens *t)
{
	size_t i = 0;

	memset(t, 0, sizeof(*t));
	while (pat[i] && !t->never) {
		uint8_t *cls;
		size_t end;

		if (pat[i] == '*') {
			/* "**" means "*" */
			if (!t->n || !(t->stars >> (t->n - 1) & 1)) {
				if (t->n >= BS_KPAT_TOKENS) {
					t->never = true;
					break;
				}
				t->stars |= 1u << t->n++;
			}
			i++;
			continue;
		}
		cls = add_class(t);
		if (!cls)
			break;
		if (pat[i] == '?') {
			memset(cls, 0xff, 32);
			cls[0] &= 0xfe;		/* every character but NUL */
			i++;
		} else if (pat[i] == '[' && (end = bs_glob_bracket_end(pat + i))) {
			char expr[512], one[2] = "";

			/* Longer expressions than any sane pattern have: no character. */
			if (end < sizeof(expr)) {
				memcpy(expr, pat + i, end);
				expr[end] = '\0';
				for (unsigned c = 1; c < 256; c++) {
					one[0] = (char)c;
					if (bs_glob(expr, one))
						cls[c >> 3] |= (uint8_t)(1u << (c & 7));
				}
			}
			i += end;
		} else {
			unsigned char c = (unsigned char)pat[i];

			if (c == '\\' && pat[i + 1])
				c = (unsigned char)pat[++i];
			cls[c >> 3] |= (uint8_t)(1u << (c & 7));
			i++;
		}
	}
}

void bs_kcompile_glob(const char *pat, struct bs_kpat *k)
{
	struct tokens t;

	tokenize(pat, &t);
	memset(k, 0, sizeof(*k));
	k->never = t.never;
	k->ntok = (uint8_t)t.n;
	k->stars = t.stars;
	for (unsigned tok = 0; tok < t.n; tok++)
		for (unsigned c = 1; c < 256 && !(t.stars >> tok & 1); c++)
			if (t.cls[tok][c >> 3] >> (c & 7) & 1)
				k->masks[c] |= 1u << tok;
}

static void put_cidr(struct bs_kcidr *k, const struct bs_addr_match *m)
{
	memset(k, 0, sizeof(*k));
	k->kind = m->kind == BS_ADDR_WILDCARD ? BS_KADDR_WILDCARD
		  : m->kind == BS_ADDR_ANY ? BS_KADDR_ANY : BS_KADDR_CIDR;
	k->family = m->net.family == AF_INET ? 4 : 6;
	k->prefix = m->prefix;
	memcpy(k->bytes, m->net.bytes, 16);
}

/* Resolves the interface target of k now, as bs_rewrite would for a bind. */
static void resolve_iface(struct bs_krule *k)
{
	struct bs_rule fake = {.to_port = -1};
	struct sockaddr_storage in, out;

	fake.to.kind = BS_TO_IFACE;
	memcpy(fake.to.ifname, k->ifname, sizeof(fake.to.ifname));
	fake.to.ifname[BS_IFNAMSIZ - 1] = '\0';
	memset(&in, 0, sizeof(in));
	in.ss_family = AF_INET;
	k->if_v4_ok = bs_rewrite(&fake, &in, false, &out) == 0;
	memset(k->if_v4, 0, sizeof(k->if_v4));
	if (k->if_v4_ok)
		memcpy(k->if_v4, &((struct sockaddr_in *)&out)->sin_addr, 4);
	memset(&in, 0, sizeof(in));
	in.ss_family = AF_INET6;
	k->if_v6_ok = bs_rewrite(&fake, &in, false, &out) == 0;
	memset(k->if_v6, 0, sizeof(k->if_v6));
	k->if_scope = 0;
	if (k->if_v6_ok) {
		memcpy(k->if_v6, &((struct sockaddr_in6 *)&out)->sin6_addr, 16);
		k->if_scope = ((struct sockaddr_in6 *)&out)->sin6_scope_id;
	}
}

/* The part of a compiled rule that is the same for every chunk. */
static void fill_common(struct bs_krule *k, const struct bs_rule *r, uint32_t src)
{
	memset(k, 0, sizeof(*k));
	k->action = (uint8_t)r->action;
	k->families = (uint8_t)r->families;
	k->protos = (uint8_t)r->protos;
	k->flags = r->nexes ? BS_KR_NEVER : 0;
	k->err = r->err;
	k->src = src;
	k->to_kind = r->to.kind == BS_TO_LOOPBACK ? BS_KTO_LOOPBACK
		     : r->to.kind == BS_TO_IP ? BS_KTO_IP : BS_KTO_IFACE;
	k->to_port = r->to_port;
	if (r->action != BS_REWRITE)
		return;
	if (r->to.kind == BS_TO_IP) {
		k->to_family = r->to.ip.family == AF_INET ? 4 : 6;
		memcpy(k->to_ip, r->to.ip.bytes, 16);
	} else if (r->to.kind == BS_TO_IFACE) {
		memcpy(k->ifname, r->to.ifname, sizeof(k->ifname));
		resolve_iface(k);
	}
}

/* Number of chunks a list of n elements takes at per elements a chunk (an empty
 * list is one chunk: "any"). */
static size_t chunks(size_t n, size_t per)
{
	return n ? (n + per - 1) / per : 1;
}

/* The patterns of r get indices base.. in t->pats. */
static int add_patterns(struct bs_ktables *t, const struct bs_rule *r, size_t *base,
			char *err, size_t errlen)
{
	*base = t->npats;
	if (t->npats + r->nprograms > BS_KMAX_PATS) {
		snprintf(err, errlen, "rule \"%s\": more than %d program patterns in the policy, "
			 "the kernel tables' limit\n", r->name, BS_KMAX_PATS);
		return -E2BIG;
	}
	for (size_t j = 0; j < r->nprograms; j++)
		bs_kcompile_glob(r->programs[j], &t->pats[t->npats++]);
	return 0;
}

/* Compiles rule r (index src) into consecutive compiled rules. */
static int compile_rule(struct bs_ktables *t, const struct bs_rule *r, uint32_t src,
			char *err, size_t errlen)
{
	size_t na = chunks(r->naddrs, BS_KR_ADDRS), np = chunks(r->nports, BS_KR_PORTS);
	size_t nu = chunks(r->nuids, BS_KR_UIDS), ng = chunks(r->nprograms, BS_KR_PROGS);
	size_t pbase, total = na * np * nu * ng;
	struct bs_krule proto;
	int rc = add_patterns(t, r, &pbase, err, errlen);

	if (rc)
		return rc;
	if (t->nrules + total > BS_KMAX_RULES) {
		snprintf(err, errlen, "rule \"%s\" (line %u): the policy needs more than %d "
			 "compiled rules, the kernel tables' limit\n", r->name, r->line, BS_KMAX_RULES);
		return -E2BIG;
	}
	fill_common(&proto, r, src);
	for (size_t a = 0; a < na; a++)
		for (size_t p = 0; p < np; p++)
			for (size_t u = 0; u < nu; u++)
				for (size_t g = 0; g < ng; g++) {
					struct bs_krule *k = &t->rules[t->nrules];
					struct bs_kinfo *in = &t->info[t->nrules++];

					*k = proto;
					for (size_t j = a * BS_KR_ADDRS; j < r->naddrs && j < (a + 1) * BS_KR_ADDRS; j++)
						put_cidr(&k->addrs[k->naddrs++], &r->addrs[j]);
					for (size_t j = p * BS_KR_PORTS; j < r->nports && j < (p + 1) * BS_KR_PORTS; j++) {
						k->ports[k->nports].lo = r->ports[j].lo;
						k->ports[k->nports++].hi = r->ports[j].hi;
					}
					for (size_t j = u * BS_KR_UIDS; j < r->nuids && j < (u + 1) * BS_KR_UIDS; j++)
						k->uids[k->nuids++] = (uint32_t)r->uids[j];
					for (size_t j = g * BS_KR_PROGS; j < r->nprograms && j < (g + 1) * BS_KR_PROGS; j++)
						k->progs[k->nprogs++] = (uint16_t)(pbase + j);
					in->src = src;
					in->line = r->line;
					snprintf(in->name, sizeof(in->name), "%s", r->name);
				}
	return 0;
}

int bs_kcompile(const struct bs_policy *p, struct bs_ktables *t, char *err, size_t errlen)
{
	int rc = -ENOMEM;

	memset(t, 0, sizeof(*t));
	t->rules = calloc(BS_KMAX_RULES, sizeof(*t->rules));
	t->info = calloc(BS_KMAX_RULES, sizeof(*t->info));
	t->pats = calloc(BS_KMAX_PATS, sizeof(*t->pats));
	if (!t->rules || !t->info || !t->pats) {
		snprintf(err, errlen, "out of memory\n");
		goto fail;
	}
	t->hdr.default_action = (uint8_t)p->default_action;
	t->hdr.default_err = p->default_err;
	t->hdr.log_allowed = p->log.allowed;
	for (size_t i = 0; i < p->nrules; i++) {
		if (p->rules[i].nexes)
			t->nexe++;
		rc = compile_rule(t, &p->rules[i], (uint32_t)i, err, errlen);
		if (rc)
			goto fail;
	}
	t->hdr.nrules = (uint32_t)t->nrules;
	return 0;
fail:
	bs_ktables_free(t);
	return rc;
}

void bs_ktables_free(struct bs_ktables *t)
{
	free(t->rules);
	free(t->info);
	free(t->pats);
	memset(t, 0, sizeof(*t));
}

bool bs_kresolve_ifaces(struct bs_ktables *t)
{
	bool changed = false;

	for (size_t i = 0; i < t->nrules; i++) {
		struct bs_krule *k = &t->rules[i], before = *k;

		if (k->action != BS_REWRITE || k->to_kind != BS_KTO_IFACE)
			continue;
		resolve_iface(k);
		changed |= memcmp(&before, k, sizeof(before)) != 0;
	}
	return changed;
}
