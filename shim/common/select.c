/* Policy selection, first that applies: built-in chosen by the launcher
 * (-l / -t), BINDSHIM_POLICY, the system policy file, built-in loopback-only. */
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "select.h"

void bs_select(struct bs_selection *s, const char *env_builtin, const char *env_policy)
{
	size_t plen = strlen(BS_BUILTIN_TO_PREFIX);

	if (env_builtin && !strncmp(env_builtin, BS_BUILTIN_TO_PREFIX, plen)) {
		s->kind = BS_SRC_TO;
		s->arg = env_builtin + plen;
	} else if (env_builtin && *env_builtin) {
		/* "loopback", or a value we do not know: fail closed. */
		s->kind = BS_SRC_LOOPBACK;
		s->arg = NULL;
	} else if (env_policy && *env_policy) {
		s->kind = BS_SRC_FILE;
		s->arg = env_policy;
	} else if (access(BS_SYSTEM_POLICY, F_OK) == 0) {
		s->kind = BS_SRC_FILE;
		s->arg = BS_SYSTEM_POLICY;
	} else {
		s->kind = BS_SRC_LOOPBACK;
		s->arg = NULL;
	}
}

int bs_selection_load(const struct bs_selection *s, struct bs_policy **out, char *err,
		      size_t errlen)
{
	switch (s->kind) {
	case BS_SRC_FILE:
		return bs_policy_load(s->arg, out, err, errlen);
	case BS_SRC_TO:
		return bs_policy_builtin_to(s->arg, out, err, errlen);
	case BS_SRC_LOOPBACK:
		break;
	}
	return bs_policy_builtin_loopback(out);
}
