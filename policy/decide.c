/*
 * First-match decision over an indexed rule list.
 *
 * The port space is cut into elementary intervals at every rule's range ends; each
 * interval keeps the ascending list of rules whose ports cover it. Rules without a
 * port key (or demoted because they would cover too many intervals) sit in one "wide"
 * list. A decision merges the wide list with one interval's list in rule order and
 * stops at the first full match, so it costs a binary search plus the candidates
 * that share the port, not the whole policy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* Entries an index may hold, beyond which the widest rules become "wide". */
#define BS_INDEX_BUDGET(n) (8 * (n) + 4096)

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Index of the interval holding port: the last k with starts[k] <= port. */
static size_t interval_of(const struct bs_index *ix, uint16_t port)
{
	size_t lo = 0, hi = ix->nintervals;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->starts[mid] <= port)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Collects every range boundary into ix->starts (sorted, unique, starting at 0). */
static int build_starts(const struct bs_policy *p, struct bs_index *ix)
{
	size_t n = 1, cap = 1;
	uint32_t *b;

	for (size_t i = 0; i < p->nrules; i++)
		cap += 2 * p->rules[i].nports;
	b = malloc(cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	b[0] = 0;
	for (size_t i = 0; i < p->nrules; i++)
		for (size_t j = 0; j < p->rules[i].nports; j++) {
			b[n++] = p->rules[i].ports[j].lo;
			if (p->rules[i].ports[j].hi < 65535)
				b[n++] = p->rules[i].ports[j].hi + 1u;
		}
	qsort(b, n, sizeof(*b), cmp_u32);
	ix->starts = malloc(n * sizeof(*ix->starts));
	if (!ix->starts) {
		free(b);
		return -ENOMEM;
	}
	ix->nintervals = 0;
	for (size_t i = 0; i < n; i++)
		if (!ix->nintervals || ix->starts[ix->nintervals - 1] != b[i])
			ix->starts[ix->nintervals++] = (uint16_t)b[i];
	free(b);
	return 0;
}

/* Number of intervals rule r covers (with repeats across its ranges). */
static size_t coverage(const struct bs_index *ix, const struct bs_rule *r)
{
	size_t c = 0;

	for (size_t j = 0; j < r->nports; j++)
		c += interval_of(ix, r->ports[j].hi) - interval_of(ix, r->ports[j].lo) + 1;
	return c;
}

/* Marks as wide (wide[i] = 1) the rules covering most intervals until the rest fit. */
static int choose_wide(const struct bs_policy *p, const struct bs_index *ix, uint8_t *wide,
		       size_t *total)
{
	size_t *cov = malloc((p->nrules + 1) * sizeof(*cov));

	if (!cov)
		return -ENOMEM;
	*total = 0;
	for (size_t i = 0; i < p->nrules; i++) {
		wide[i] = p->rules[i].nports == 0;
		cov[i] = wide[i] ? 0 : coverage(ix, &p->rules[i]);
		*total += cov[i];
	}
	while (*total > BS_INDEX_BUDGET(p->nrules)) {
		size_t worst = 0;

		for (size_t i = 1; i < p->nrules; i++)
			if (cov[i] > cov[worst])
				worst = i;
		wide[worst] = 1;
		*total -= cov[worst];
		cov[worst] = 0;
	}
	free(cov);
	return 0;
}

/* Appends rule i to every interval its ranges cover; counts only when lists is NULL. */
static void place_rule(struct bs_index *ix, const struct bs_rule *r, uint32_t i,
		       uint32_t *fill, uint32_t *last)
{
	for (size_t j = 0; j < r->nports; j++) {
		size_t a = interval_of(ix, r->ports[j].lo), b = interval_of(ix, r->ports[j].hi);

		for (size_t k = a; k <= b; k++) {
			if (last[k] == i + 1)	/* two ranges of one rule overlap here */
				continue;
			last[k] = i + 1;
			if (ix->lists)
				ix->lists[fill[k]++] = i;
			else
				fill[k]++;
		}
	}
}

/* Fills wide, offsets and lists once starts and the wide choice are known. */
static int fill_lists(const struct bs_policy *p, struct bs_index *ix, const uint8_t *wide,
		      size_t total)
{
	uint32_t *fill = calloc(ix->nintervals, sizeof(*fill));
	uint32_t *last = calloc(ix->nintervals, sizeof(*last));
	int rc = -ENOMEM;

	ix->offsets = malloc((ix->nintervals + 1) * sizeof(*ix->offsets));
	ix->wide = malloc((p->nrules + 1) * sizeof(*ix->wide));
	if (!fill || !last || !ix->offsets || !ix->wide)
		goto out;
	for (uint32_t i = 0; i < p->nrules; i++)
		if (!wide[i])
			place_rule(ix, &p->rules[i], i, fill, last);
	ix->offsets[0] = 0;
	for (size_t k = 0; k < ix->nintervals; k++) {
		ix->offsets[k + 1] = ix->offsets[k] + fill[k];
		fill[k] = ix->offsets[k];
		last[k] = 0;
	}
	ix->lists = malloc((total + 1) * sizeof(*ix->lists));
	if (!ix->lists)
		goto out;
	ix->nwide = 0;
	for (uint32_t i = 0; i < p->nrules; i++) {
		if (wide[i])
			ix->wide[ix->nwide++] = i;
		else
			place_rule(ix, &p->rules[i], i, fill, last);
	}
	rc = 0;
out:
	free(fill);
	free(last);
	return rc;
}

int bs_index_build(struct bs_policy *p)
{
	struct bs_index *ix = &p->index;
	uint8_t *wide = calloc(p->nrules + 1, 1);
	size_t total;
	int rc = -ENOMEM;

	memset(ix, 0, sizeof(*ix));
	if (!wide)
		goto out;
	rc = build_starts(p, ix);
	if (!rc)
		rc = choose_wide(p, ix, wide, &total);
	if (!rc)
		rc = fill_lists(p, ix, wide, total);
out:
	free(wide);
	if (rc)
		bs_index_free(ix);
	return rc;
}

void bs_index_free(struct bs_index *ix)
{
	free(ix->wide);
	free(ix->starts);
	free(ix->offsets);
	free(ix->lists);
	memset(ix, 0, sizeof(*ix));
}

/* Fills d from rule r, or from the policy default when r is NULL. */
static void decide_from(const struct bs_policy *p, const struct bs_rule *r,
			struct bs_decision *d)
{
	d->rule = r;
	d->action = r ? r->action : p->default_action;
	d->err = d->action == BS_DENY ? (r ? r->err : p->default_err) : 0;
}

void bs_decide(const struct bs_policy *p, const struct bs_query *q, struct bs_decision *d)
{
	const struct bs_index *ix = &p->index;
	const uint32_t *a = ix->wide, *ae = ix->wide + ix->nwide;
	const uint32_t *b = NULL, *be = NULL;

	if (ix->nintervals) {
		size_t k = interval_of(ix, q->port);

		b = ix->lists + ix->offsets[k];
		be = ix->lists + ix->offsets[k + 1];
	}
	while (a < ae || b < be) {
		uint32_t i = (b >= be || (a < ae && *a < *b)) ? *a++ : *b++;

		if (bs_rule_matches(&p->rules[i], q)) {
			decide_from(p, &p->rules[i], d);
			return;
		}
	}
	decide_from(p, NULL, d);
}
