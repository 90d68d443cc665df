/* Helpers shared inside the policy library only. */
#ifndef BS_POLICY_INTERNAL_H
#define BS_POLICY_INTERNAL_H

#include "policy/policy.h"

/* Allocates an empty policy with room for nrules zeroed rules; NULL on ENOMEM. */
struct bs_policy *bs_policy_alloc(size_t nrules);
/* Computes p->needs and builds the index; returns 0 or -ENOMEM. */
int bs_policy_finish(struct bs_policy *p);

/* literal.c */
/* Lines of text (ascending, malloc'd, NULL if none; count in *n) holding an integer
 * literal libconfig does not deliver as written: beyond 32 bits without an L suffix,
 * or beyond 64 bits. */
unsigned *bs_big_literal_lines(const char *text, size_t len, size_t *n);
/* Copies into out the integer literal of a setting on line `line` of text: the one
 * right after "key =" (or "key:") for a scalar; for the k-th element of list key
 * on that line (counting only elements on that line), the k-th literal after the
 * list's opening bracket, or from the line's start if key is not on it. Returns
 * false if not found. */
bool bs_int_literal(const char *text, size_t len, unsigned line, const char *key, bool element,
		    size_t k, char *out, size_t outlen);
/* Parses an integer literal as libconfig writes them (decimal or 0x hex, optional
 * sign and L suffix) exactly; returns false if it does not fit 64 bits. */
bool bs_literal_value(const char *lit, long long *v);

#endif
