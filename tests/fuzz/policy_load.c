/*
 * libFuzzer target: the policy loader on arbitrary bytes, then decisions on
 * whatever loaded. Seeds: examples/ and tests/fixtures/.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decides a few queries derived from the input, through rewrite and formatting. */
static void exercise(const struct bs_policy *p, const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 20 <= size && i < 200; i += 20) {
		struct sockaddr_storage ss, out;
		struct bs_query q = {.program = "fuzz", .exe = "/fuzz", .uid = data[i]};
		struct bs_decision d;
		char buf[BS_ENDPOINT_MAX], src[256];

		memset(&ss, 0, sizeof(ss));
		ss.ss_family = data[i] & 1 ? AF_INET6 : AF_INET;
		memcpy((char *)&ss + 2, data + i + 1, 18);
		bs_query_set_sockaddr(&q, &ss);
		q.proto = 1u + (data[i] >> 1 & 1);
		bs_decide(p, &q, &d);
		bs_decision_source(p, &d, src, sizeof(src));
		bs_endpoint_format(&ss, buf, sizeof(buf));
		if (d.action == BS_REWRITE && d.rule->to.kind != BS_TO_IFACE)
			bs_rewrite(d.rule, &ss, false, &out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char err[8192];
	char path[64];
	struct bs_policy *p = NULL;
	int fd = memfd_create("policy", 0);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (bs_policy_load(path, &p, err, sizeof(err)) == 0) {
		exercise(p, data, size);
		bs_policy_free(p);
	} else if (!strchr(err, ':')) {
		__builtin_trap();	/* every failure must say FILE:LINE: why */
	}
	close(fd);
	return 0;
}
