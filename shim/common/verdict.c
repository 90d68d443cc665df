/* What happens, and what is logged, once a call's outcome is known. */
#include "shim/common/verdict.h"

enum bs_verdict bs_verdict_of(const struct bs_outcome *o, const struct bs_settings *set,
			      bool quiet, const char **event, const char **action)
{
	enum bs_verdict v = o->err ? BS_FAIL : o->d.action == BS_REWRITE ? BS_USE_TO : BS_PASS;
	const char *name = v == BS_FAIL ? "deny" : bs_action_name(o->d.action);

	*event = *action = NULL;
	if (set->dry_run) {
		if (!quiet) {
			*event = "dry-run";
			*action = name;
		}
		return BS_PASS;
	}
	/* Every rewrite and denial is logged; allowed calls for "log" rules and when
	 * the policy asks for them. */
	if (v == BS_USE_TO ||
	    (!quiet && (v == BS_FAIL || o->d.action == BS_LOG || set->log_allowed)))
		*event = name;
	return v;
}
