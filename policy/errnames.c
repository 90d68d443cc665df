/* errno names, both ways, from glibc's own table plus the aliases it does not list. */
#include <errno.h>
#include <string.h>

#include "policy/policy.h"

static const struct {
	const char *name;
	int value;
} aliases[] = {
	{"EWOULDBLOCK", EWOULDBLOCK},
	{"EDEADLOCK", EDEADLOCK},
	{"ENOTSUP", ENOTSUP},
};

/* Linux errno values end well below this. */
#define BS_ERRNO_MAX 200

int bs_errno_from_name(const char *name)
{
	for (int e = 1; e < BS_ERRNO_MAX; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcmp(n, name))
			return e;
	}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(aliases[i].name, name))
			return aliases[i].value;
	return 0;
}

const char *bs_errno_name(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}
