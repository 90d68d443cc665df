/* libconfig linked the ordinary way (the launcher, the tests, the benchmarks). */
#include "policy/cfgapi.h"

static const struct bs_cfg_api api = {
	config_init, config_destroy, config_read, config_lookup, config_setting_length,
	config_setting_get_elem, config_setting_get_member, config_setting_get_string,
	config_setting_get_int64, config_setting_get_bool,
};

const struct bs_cfg_api *bs_cfg_api(const char **why)
{
	(void)why;
	return &api;
}
