/* The `system` verb when bindshim was built without the kernel backend (no clang,
 * libbpf or bpftool at build time): every verb says so. */
#include <errno.h>
#include <stdio.h>

#include "kernel/kernel.h"

const bool bs_kernel_built = false;

/* Says the backend is missing; returns the exit status for it. */
static int not_built(void)
{
	fprintf(stderr, "bindshim system: kernel backend not built (it needs clang, libbpf "
		"and bpftool at build time: make deps && make)\n");
	return 1;
}

int bs_ksystem_enable(const struct bs_kopts *o)
{
	(void)o;
	return not_built();
}

int bs_ksystem_reload(const struct bs_kopts *o)
{
	(void)o;
	return not_built();
}

int bs_ksystem_disable(const struct bs_kopts *o)
{
	(void)o;
	return not_built();
}

int bs_ksystem_status(const struct bs_kopts *o)
{
	(void)o;
	return not_built();
}

int bs_ksystem_watch(const struct bs_kopts *o)
{
	(void)o;
	return not_built();
}

int bs_ksystem_tables(const char *pin, struct bs_ktables *t, char *policy, size_t len)
{
	(void)pin;
	(void)t;
	(void)policy;
	(void)len;
	return -ENOSYS;
}

const char *bs_kpins_unusable(int rc)
{
	(void)rc;
	return NULL;
}

int bs_kaudit_print(const char *pin)
{
	(void)pin;
	return 0;
}
