/*
 * The libconfig functions the loader calls, behind one table. The launcher links
 * libconfig (policy/cfg_link.c); the preloaded shim opens it with dlopen() only when
 * it reads a policy file (shim/lib/cfg_dlopen.c), so the many processes that never
 * bind do not pay for loading and relocating it.
 */
#ifndef BS_CFGAPI_H
#define BS_CFGAPI_H

#include <libconfig.h>
#include <stdio.h>

struct bs_cfg_api {
	void (*init)(config_t *);
	void (*destroy)(config_t *);
	int (*read)(config_t *, FILE *);
	config_setting_t *(*lookup)(const config_t *, const char *);
	int (*length)(const config_setting_t *);
	config_setting_t *(*get_elem)(const config_setting_t *, unsigned int);
	config_setting_t *(*get_member)(const config_setting_t *, const char *);
	const char *(*get_string)(const config_setting_t *);
	long long (*get_int64)(const config_setting_t *);
	int (*get_bool)(const config_setting_t *);
};

/* Returns the libconfig table, or NULL with *why set if libconfig is unavailable. */
const struct bs_cfg_api *bs_cfg_api(const char **why);

#endif
