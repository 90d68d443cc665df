/* Words for decisions, shared by `bindshim explain` and the shim's log records. */
#include "policy/buf.h"
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

/* Without stdio: the shim writes these words into every record, inside its hooks. */
char *bs_decision_source(const struct bs_policy *p, const struct bs_decision *d,
			 char *buf, size_t len)
{
	struct bs_buf b = {buf, 0, len};

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!d->rule) {
		bs_put(&b, p->builtin ? "builtin" : "default");
		return buf;
	}
	bs_put(&b, "rule \"");
	bs_put(&b, d->rule->name);
	bs_put(&b, p->builtin ? "\" builtin" : "\" ");
	if (!p->builtin) {
		bs_put(&b, p->file);
		bs_put(&b, ":");
		bs_put_num(&b, d->rule->line, 0);
	}
	return buf;
}
