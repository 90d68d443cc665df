/*
 * Cost of one decision at 10, 100, 1,000 and 10,000 rules, through the indexed
 * engine (what the shim uses) and through a plain first-match scan, side by side.
 *
 * Each policy is written as a real file and loaded with bs_policy_load. Rule i
 * matches port 1024+6i (every 10th a 5-port range), with an address key on half of
 * them and a proto key on a third; POLICY_WIDE adds 1% port-less rules. Queries: the
 * port of the last rule (a late match), and a port no rule names (the default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/policy.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Writes a policy of n rules to path, 1% of them port-less if wide. */
static void write_policy(const char *path, int n, int wide)
{
	FILE *f = fopen(path, "w");

	fprintf(f, "version = 1;\nrules = (\n");
	for (int i = 0; i < n; i++) {
		int port = 1024 + i * 6;

		fprintf(f, "  { name = \"r%d\"; match = { ", i);
		if (wide && i % 100 == 50)
			fprintf(f, "address = \"10.%d.0.0/16\"; ", i % 250);
		else if (i % 10 == 0)
			fprintf(f, "port = \"%d-%d\"; ", port, port + 4);
		else
			fprintf(f, "port = %d; ", port);
		if (i % 2)
			fprintf(f, "address = ( \"wildcard\", \"192.0.2.0/24\" ); ");
		if (i % 3 == 0)
			fprintf(f, "proto = \"tcp\"; ");
		fprintf(f, "}; action = \"%s\"; %s},\n", i % 2 ? "rewrite" : "deny",
			i % 2 ? "to = \"loopback\"; " : "");
	}
	fprintf(f, "  { name = \"last\"; match = { port = 9; }; action = \"allow\"; }\n);\n");
	fclose(f);
}

/* The reference engine: every rule in order. */
static const struct bs_rule *linear(const struct bs_policy *p, const struct bs_query *q)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (bs_rule_matches(&p->rules[i], q))
			return &p->rules[i];
	return NULL;
}

static volatile const void *sink;

/* Returns ns per decision for q, indexed or linear, over iters runs (best of 5). */
static double measure(const struct bs_policy *p, const struct bs_query *q, int iters, int use_index)
{
	double best = 1e18;

	for (int round = 0; round < 5; round++) {
		struct bs_decision d;
		double t0 = now_ns();

		for (int i = 0; i < iters; i++) {
			if (use_index) {
				bs_decide(p, q, &d);
				sink = d.rule;
			} else {
				sink = linear(p, q);
			}
		}
		double t = (now_ns() - t0) / iters;

		if (t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	static const int sizes[] = {10, 100, 1000, 10000};
	int wide = argc > 1 && !strcmp(argv[1], "wide");
	char path[] = "/tmp/bindshim-bench-XXXXXX";
	int fd = mkstemp(path);

	close(fd);
	printf("%-7s %-14s %12s %12s %10s\n", "rules", "query", "indexed ns", "linear ns", "speed-up");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct bs_policy *p = NULL;
		char err[4096];
		struct bs_query hit = {.proto = BS_PROTO_TCP}, miss = {.proto = BS_PROTO_TCP};
		int n = sizes[s], iters = n >= 1000 ? 20000 : 200000;

		write_policy(path, n, wide);
		if (bs_policy_load(path, &p, err, sizeof(err))) {
			fprintf(stderr, "%s", err);
			unlink(path);
			return 1;
		}
		bs_addr_parse("0.0.0.0", &hit.addr);
		hit.port = (uint16_t)(1024 + (n - 1) * 6);
		miss.addr = hit.addr;
		miss.port = 1000;
		for (int k = 0; k < 2; k++) {
			const struct bs_query *q = k ? &miss : &hit;
			double a = measure(p, q, iters, 1), b = measure(p, q, iters / 10 + 1, 0);

			printf("%-7d %-14s %12.1f %12.1f %9.0fx\n", n, k ? "no match" : "last rule", a, b,
			       b / a);
		}
		bs_policy_free(p);
	}
	unlink(path);
	return 0;
}
