/* Words for decisions, shared by `bindshim explain` and the shim's log records. */
#include <string.h>

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

/* Appends s to buf (len bytes, *at used), cut to what fits; buf stays terminated. */
static void cat(char *buf, size_t len, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (*at + 1 >= len)
		return;
	if (n > len - *at - 1)
		n = len - *at - 1;
	memcpy(buf + *at, s, n);
	*at += n;
	buf[*at] = '\0';
}

/* Without stdio: the shim writes these words into every record, inside its hooks. */
char *bs_decision_source(const struct bs_policy *p, const struct bs_decision *d,
			 char *buf, size_t len)
{
	char line[11], *l = line + sizeof(line);
	unsigned v;
	size_t at = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!d->rule) {
		cat(buf, len, &at, p->builtin ? "builtin" : "default");
		return buf;
	}
	cat(buf, len, &at, "rule \"");
	cat(buf, len, &at, d->rule->name);
	cat(buf, len, &at, p->builtin ? "\" builtin" : "\" ");
	if (p->builtin)
		return buf;
	*--l = '\0';
	v = d->rule->line;
	do
		*--l = (char)('0' + v % 10);
	while ((v /= 10));
	cat(buf, len, &at, p->file);
	cat(buf, len, &at, ":");
	cat(buf, len, &at, l);
	return buf;
}
