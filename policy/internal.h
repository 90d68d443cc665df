/* Helpers shared inside the policy library only. */
#ifndef BS_POLICY_INTERNAL_H
#define BS_POLICY_INTERNAL_H

#include "policy/policy.h"

/* Allocates an empty policy with room for nrules zeroed rules; NULL on ENOMEM. */
struct bs_policy *bs_policy_alloc(size_t nrules);
/* Computes p->needs and builds the index; returns 0 or -ENOMEM. */
int bs_policy_finish(struct bs_policy *p);

#endif
