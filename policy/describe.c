/* Words for decisions, shared by `bindshim explain` and the shim's log records. */
#include <stdio.h>

#include "policy/policy.h"

const char *bs_action_name(enum bs_action a)
{
	switch (a) {
	case BS_ALLOW:
		return "allow";
	case BS_DENY:
		return "deny";
	case BS_REWRITE:
		return "rewrite";
	case BS_LOG:
		return "log";
	}
	return "?";
}

char *bs_decision_source(const struct bs_policy *p, const struct bs_decision *d,
			 char *buf, size_t len)
{
	if (p->builtin && d->rule)
		snprintf(buf, len, "rule \"%s\" builtin", d->rule->name);
	else if (p->builtin)
		snprintf(buf, len, "builtin");
	else if (!d->rule)
		snprintf(buf, len, "default");
	else
		snprintf(buf, len, "rule \"%s\" %s:%u", d->rule->name, p->file, d->rule->line);
	return buf;
}
