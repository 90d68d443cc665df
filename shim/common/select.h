/* Which policy applies: the one selection order shared by the launcher and the shim. */
#ifndef BS_SELECT_H
#define BS_SELECT_H

#include <stddef.h>

#include "../../policy/policy.h"

enum bs_source { BS_SRC_FILE, BS_SRC_LOOPBACK, BS_SRC_TO };

struct bs_selection {
	enum bs_source kind;
	const char *arg;		/* file path, or TARGET for BS_SRC_TO */
};

/* Picks the policy from the BINDSHIM_BUILTIN and BINDSHIM_POLICY values (either may
 * be NULL or empty), then the system policy if it exists, then built-in loopback. */
void bs_select(struct bs_selection *s, const char *env_builtin, const char *env_policy);
/* Loads the selected policy; returns 0, or -errno with FILE:LINE lines in err. */
int bs_selection_load(const struct bs_selection *s, struct bs_policy **out, char *err,
		      size_t errlen);

#endif
