/* libconfig for the preloaded shim: opened on the first policy load, never before. */
#include <dlfcn.h>
#include <pthread.h>

#include "policy/cfgapi.h"

#ifndef BS_LIBCONFIG_SONAME
#define BS_LIBCONFIG_SONAME "libconfig.so.9"
#endif

static struct bs_cfg_api api;
static const char *failure;

/* Copies dlsym's answer into a function pointer of the right type. */
#define BS_CFG_SYM(h, field, name) \
	do { \
		union { void *p; __typeof__(api.field) f; } u_ = {dlsym((h), (name))}; \
		if (!(api.field = u_.f)) \
			failure = "libconfig lacks " name; \
	} while (0)

/* Called with the shim's load lock held, so once at a time. */
const struct bs_cfg_api *bs_cfg_api(const char **why)
{
	static void *h;

	if (!h && !failure) {
		h = dlopen(BS_LIBCONFIG_SONAME, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			failure = "cannot load " BS_LIBCONFIG_SONAME;
		} else {
			BS_CFG_SYM(h, init, "config_init");
			BS_CFG_SYM(h, destroy, "config_destroy");
			BS_CFG_SYM(h, read, "config_read");
			BS_CFG_SYM(h, lookup, "config_lookup");
			BS_CFG_SYM(h, length, "config_setting_length");
			BS_CFG_SYM(h, get_elem, "config_setting_get_elem");
			BS_CFG_SYM(h, get_member, "config_setting_get_member");
			BS_CFG_SYM(h, get_string, "config_setting_get_string");
			BS_CFG_SYM(h, get_int64, "config_setting_get_int64");
			BS_CFG_SYM(h, get_bool, "config_setting_get_bool");
		}
	}
	if (failure)
		*why = failure;
	return failure ? NULL : &api;
}
