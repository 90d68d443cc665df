/* The policy options shared by `run` and `explain`. */
#ifndef BS_POLICYOPT_H
#define BS_POLICYOPT_H

#include "shim/common/select.h"
#include "shim/launcher/launcher.h"

struct bs_policyopt {
	int given;			/* -p, -l or -t was given */
	struct bs_selection sel;
};

/* Records -p/-l/-t (c is 'p', 'l' or 't'); returns 0, or -1 after a usage error if
 * one was given already. */
int bs_policyopt_take(struct bs_policyopt *o, int c, const char *arg);
/* Falls back to the environment when no option was given. */
void bs_policyopt_finish(struct bs_policyopt *o);
/* Loads the layers, printing every problem; returns 0 or -1. */
int bs_policyopt_load(const struct bs_policyopt *o, struct bs_layers *out);

#endif
