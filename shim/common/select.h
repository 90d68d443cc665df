/* Which policies apply: the one selection order shared by the launcher and the shim. */
#ifndef BS_SELECT_H
#define BS_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

enum bs_source { BS_SRC_NONE, BS_SRC_FILE, BS_SRC_LOOPBACK, BS_SRC_TO };

struct bs_selection {
	enum bs_source kind;
	const char *arg;		/* file path, or TARGET for BS_SRC_TO */
};

/* The policies in force. Without a locked system policy, user is the one policy
 * (system is NULL). With one, system decides first and user (possibly NULL) may
 * only restrict further: see bs_resolve_layered. */
struct bs_layers {
	struct bs_policy *system;
	struct bs_policy *user;
};

/* The user's choice from BINDSHIM_BUILTIN and BINDSHIM_POLICY (either may be NULL
 * or empty): BS_SRC_NONE if neither is set. */
void bs_select_env(struct bs_selection *s, const char *env_builtin, const char *env_policy);
/* Loads the layers for the user's choice sel: the choice, else the system policy if
 * it exists, else built-in loopback-only; a locked system policy always applies, on
 * top. Returns 0, or -errno with FILE:LINE lines in err. On error out->user is NULL,
 * and out->system still holds a locked system layer if there is one: it stays in
 * force whatever the user chose (a system policy file that exists but cannot be
 * loaded is a locked loopback-only layer). */
int bs_layers_load(const struct bs_selection *sel, struct bs_layers *out, char *err,
		   size_t errlen);
/* Frees both layers. */
void bs_layers_free(struct bs_layers *l);

#endif
