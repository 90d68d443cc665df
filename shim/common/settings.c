/* Log and dry-run settings: the policy's, then the environment's, unless locked. */
#include <stdio.h>
#include <string.h>

#include "shim/common/settings.h"

void bs_settings_from(struct bs_settings *s, const struct bs_layers *l, const char *env_log,
		      const char *env_format, const char *env_dry_run)
{
	const struct bs_policy *p = l->system ? l->system : l->user;

	memset(s, 0, sizeof(*s));
	s->logger.fd = 2;
	s->locked = l->system || (l->user && l->user->locked);
	if (p) {
		s->logger.to = p->log.to;
		if (p->log.path)
			snprintf(s->logger.path, sizeof(s->logger.path), "%s", p->log.path);
		s->logger.json = p->log.json;
		s->log_allowed = p->log.allowed;
	}
	/* Under a locked policy the administrator's settings stand. */
	if (s->locked)
		return;
	if (env_log && *env_log) {
		if (!strcmp(env_log, "stderr")) {
			s->logger.to = BS_LOG_STDERR;
		} else if (!strcmp(env_log, "syslog")) {
			s->logger.to = BS_LOG_SYSLOG;
		} else {
			s->logger.to = BS_LOG_FILE;
			snprintf(s->logger.path, sizeof(s->logger.path), "%s", env_log);
		}
	}
	if (env_format && (!strcmp(env_format, "json") || !strcmp(env_format, "text")))
		s->logger.json = !strcmp(env_format, "json");
	s->dry_run = env_dry_run && !strcmp(env_dry_run, "1");
}
