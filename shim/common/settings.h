/* What the environment may change on top of the policies in force: log destination
 * and format, dry run. The shim and the enforcing supervisor decide it alike. */
#ifndef BS_SETTINGS_H
#define BS_SETTINGS_H

#include "shim/common/log.h"
#include "shim/common/select.h"

struct bs_settings {
	struct bs_logger logger;
	bool log_allowed;
	bool dry_run;
	bool locked;			/* the environment may not loosen anything */
};

/* Derives s from the layers and BINDSHIM_LOG / _LOG_FORMAT / _DRY_RUN (each may be
 * NULL); under a locked policy only the policy speaks. */
void bs_settings_from(struct bs_settings *s, const struct bs_layers *l, const char *env_log,
		      const char *env_format, const char *env_dry_run);

#endif
