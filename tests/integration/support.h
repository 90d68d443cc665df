/* Assertions shared by the integration tests (run inside tests/netns.sh). */
#ifndef BS_IT_SUPPORT_H
#define BS_IT_SUPPORT_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tests/common.h"

#define LAB4 "198.51.100.7"
#define LAB6 "2001:db8::7"

/* The launcher, a helper program by name, the probe and its static build, as shell
 * words. */
#define BINDSHIM bs_build("bindshim")
#define HELPER(name) bs_build("tests/helpers/" name)
#define PROBE HELPER("probe")
#define STATIC_PROBE HELPER("probe-static")

/* Runs CMD in the "remote host" namespace (tests/netns.sh). */
#define IN_PEER "nsenter -t \"$BS_PEER_PID\" -n "

/* Says that one part of the running test is skipped, and why; the rest of it still
 * asserts. On stderr, shown without --verbose (a whole test's skip shows only with
 * it): cr_log_warn would make the run's exit status a failure. */
__attribute__((format(printf, 1, 2)))
static inline void skip_part(const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[SKIP] %s::%s, in part: %s\n", criterion_current_test->category,
		criterion_current_test->name, why);
}

/* Skips the running test, saying why, unless tool is a command here (package: the
 * Debian package that has it). */
static inline void need_tool(const char *tool, const char *package)
{
	struct bs_proc p;

	if (bs_sh(&p, 10, "command -v %s", tool) != 0)
		cr_skip_test("%s is missing (Debian: apt-get install %s; make deps installs it)",
			     tool, package);
}

/* Tells whether a comma-separated address list holds loopback addresses only. */
static inline bool all_loopback(const char *list)
{
	char copy[256], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save))
		if (strncmp(a, "127.", 4) && strcmp(a, "::1") && strncmp(a, "::ffff:127.", 11))
			return false;
	return *list != '\0';
}

/* Waits for a TCP listener on port and checks it is on loopback only: reachable on
 * its loopback address (127.0.0.1 for ::ffff:127.0.0.1, where a dual-stack [::]
 * goes), refused on both lab addresses. Returns the address. */
static inline const char *assert_tcp_loopback_only(unsigned port, const char *log)
{
	static char addr[256];
	char body[4096] = "";

	if (!bs_wait_port("tcp", port, 10000, addr, sizeof(addr))) {
		if (log)
			bs_read_file(log, body, sizeof(body));
		cr_assert_fail("nothing listens on tcp port %u; log:\n%s", port, body);
	}
	bs_port_addrs("tcp", port, addr, sizeof(addr));
	cr_assert(all_loopback(addr), "port %u listens on %s, not loopback only", port, addr);
	cr_assert_eq(bs_tcp_connect(!strcmp(addr, "::1") ? "::1" : "127.0.0.1", port), 0,
		     "loopback connect to port %u (%s) failed", port, addr);
	cr_assert_eq(bs_tcp_connect(LAB4, port), ECONNREFUSED, "port %u reachable on " LAB4, port);
	cr_assert_eq(bs_tcp_connect(LAB6, port), ECONNREFUSED, "port %u reachable on " LAB6, port);
	return addr;
}

/* Runs `bindshim run OPTS -- PROGRAM bind 0.0.0.0 PORT` with bindshim's stderr a
 * pipe whose reader is gone (log records land there), the program's own output in a
 * file; returns that output, then "status N" for the program's exit status. */
static inline const char *bind_with_dead_stderr(const char *opts, const char *program,
						unsigned port)
{
	static char body[512];
	char out[512];
	struct bs_proc p;

	snprintf(out, sizeof(out), "%s/out", bs_tmpdir());
	bs_sh(&p, 30, "%s run %s -- sh -c 'sleep 0.3; %s bind 0.0.0.0 %u > %s; "
	      "echo status $? >> %s' 2>&1 | true; i=0; while ! grep -q status %s && "
	      "[ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done",
	      BINDSHIM, opts, program, port, out, out, out);
	bs_read_file(out, body, sizeof(body));
	return body;
}

#endif
