/* Policy selection, first that applies: the user's choice (launcher -p/-l/-t, or
 * BINDSHIM_BUILTIN / BINDSHIM_POLICY), the system policy file, built-in
 * loopback-only. A system policy with `locked = true;` stays in force over any
 * user's choice (policy/outcome.c has the rule). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "shim/common/env.h"
#include "shim/common/select.h"

void bs_select_env(struct bs_selection *s, const char *env_builtin, const char *env_policy)
{
	size_t plen = strlen(BS_BUILTIN_TO_PREFIX);

	s->arg = NULL;
	if (env_builtin && !strncmp(env_builtin, BS_BUILTIN_TO_PREFIX, plen)) {
		s->kind = BS_SRC_TO;
		s->arg = env_builtin + plen;
	} else if (env_builtin && *env_builtin) {
		/* "loopback", or a value we do not know: fail closed. */
		s->kind = BS_SRC_LOOPBACK;
	} else if (env_policy && *env_policy) {
		s->kind = BS_SRC_FILE;
		s->arg = env_policy;
	} else {
		s->kind = BS_SRC_NONE;
	}
}

/* Loads one selected policy. */
static int load_one(const struct bs_selection *s, struct bs_policy **out, char *err,
		    size_t errlen)
{
	switch (s->kind) {
	case BS_SRC_FILE:
		return bs_policy_load(s->arg, out, err, errlen);
	case BS_SRC_TO:
		return bs_policy_builtin_to(s->arg, out, err, errlen);
	case BS_SRC_LOOPBACK:
	case BS_SRC_NONE:
		break;
	}
	return bs_policy_builtin_loopback(out);
}

/* Loads the system policy file into out: as the one policy when the user chose
 * nothing, as the locked layer when it is locked. One that exists but cannot be
 * loaded becomes a locked loopback-only layer: fail closed, and let nothing in the
 * user's environment loosen it. Returns 0, -ENOMEM, or the load error (err set). */
static int load_system(const struct bs_selection *sel, struct bs_layers *out, char *err,
		       size_t errlen)
{
	struct bs_policy *sys = NULL;
	int rc;

	if (access(BS_SYSTEM_POLICY, F_OK) != 0)
		return 0;
	rc = bs_policy_load(BS_SYSTEM_POLICY, &sys, err, errlen);
	if (rc) {
		if (bs_policy_builtin_loopback(&sys))
			return -ENOMEM;
		sys->locked = true;
		out->system = sys;
		return rc;
	}
	if (sel->kind == BS_SRC_NONE)
		out->user = sys;
	else if (sys->locked)
		out->system = sys;
	else
		bs_policy_free(sys);
	return 0;
}

int bs_layers_load(const struct bs_selection *sel, struct bs_layers *out, char *err,
		   size_t errlen)
{
	size_t used;
	int rc, sysrc;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	sysrc = load_system(sel, out, err, errlen);
	/* The system policy is the one policy, or the user chose nothing over a
	 * broken one (its locked loopback-only layer then decides alone). */
	if (sysrc == -ENOMEM || out->user || (sel->kind == BS_SRC_NONE && out->system))
		return sysrc;
	used = err ? strlen(err) : 0;
	rc = load_one(sel, &out->user, err ? err + used : NULL, errlen - used);
	/* A user's policy that cannot be loaded is dropped; a locked system layer
	 * stays in force whatever the user's choice was. */
	if (rc && !out->system)
		bs_layers_free(out);
	return sysrc ? sysrc : rc;
}

void bs_layers_free(struct bs_layers *l)
{
	bs_policy_free(l->system);
	bs_policy_free(l->user);
	l->system = l->user = NULL;
}
