/* The policy options shared by `run` and `explain`: -p FILE, -l, -t TARGET. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/common/env.h"
#include "shim/launcher/policyopt.h"

int bs_policyopt_take(struct bs_policyopt *o, int c, const char *arg)
{
	if (o->given++) {
		bs_usage_error(bs_verb, "give only one of -p, -l and -t");
		return -1;
	}
	o->sel.arg = arg;
	o->sel.kind = c == 'p' ? BS_SRC_FILE : c == 'l' ? BS_SRC_LOOPBACK : BS_SRC_TO;
	return 0;
}

void bs_policyopt_finish(struct bs_policyopt *o)
{
	if (!o->given)
		bs_select_env(&o->sel, getenv(BS_ENV_BUILTIN), getenv(BS_ENV_POLICY));
}

int bs_policyopt_load(const struct bs_policyopt *o, struct bs_layers *out)
{
	char *err = malloc(BS_ERRBUF);
	int rc;

	if (!err) {
		fprintf(stderr, "bindshim %s: out of memory\n", bs_verb);
		return -1;
	}
	err[0] = '\0';
	rc = bs_layers_load(&o->sel, out, err, BS_ERRBUF);
	if (rc) {
		/* A bad -t target has no file to name (the system policy has). */
		if (o->sel.kind == BS_SRC_TO && strncmp(err, BS_SYSTEM_POLICY ":", strlen(BS_SYSTEM_POLICY) + 1))
			fprintf(stderr, "bindshim %s: -t: %s", bs_verb, err);
		else
			fputs(err, stderr);
		bs_layers_free(out);
	}
	free(err);
	return rc ? -1 : 0;
}
