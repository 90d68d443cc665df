/*
 * Coverage for `bindshim audit`: is the process holding a socket under the policy?
 * The shim is there when libbindshim.so is mapped in it. A supervisor is there when
 * the process runs under a seccomp filter with no_new_privs, and one of its
 * ancestors is a `bindshim run` launcher or supervisor (the filter alone could be
 * anyone's; with --preload-only the launcher execs the command and is no ancestor).
 * Both are non-dumpable, so their executable link is closed to anyone but root:
 * then the name the kernel gave the process at exec stands in for it, which is
 * what a user auditing their own processes sees. A kernel backend that places
 * sockets adds one test to bs_audit_coverage and nothing else: its bit and its
 * name are here already.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/common/env.h"
#include "shim/launcher/audit.h"

#define BS_LAUNCHER_NAME "bindshim"
#define DELETED " (deleted)"

static const struct {
	unsigned bit;
	const char *name;
} sources[] = {
	{BS_COVER_SHIM, "shim"},
	{BS_COVER_SUPERVISED, "supervised"},
	{BS_COVER_KERNEL, "kernel"},
};

/* Tells whether the last component of path is name, the file possibly replaced
 * since it was mapped or executed ("NAME (deleted)"). */
static bool base_is(const char *path, const char *name)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(name);

	base = base ? base + 1 : path;
	return !strncmp(base, name, n) && (!base[n] || !strcmp(base + n, DELETED));
}

/* 1 if libbindshim.so is mapped in pid, 0 if not, -1 if its maps cannot be read. */
static int shim_mapped(pid_t pid)
{
	char path[64], line[PATH_MAX + 256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/');

		if (file) {
			file[strcspn(file, "\n")] = '\0';
			found = base_is(file, BS_SHIM_NAME);
		}
	}
	/* another user's process: the kernel refuses the read, not the open */
	if (!found && ferror(f))
		found = -1;
	fclose(f);
	return found;
}

/* Copies the value after "key:" in /proc/pid/status into out, blanks trimmed;
 * returns false if there is none. */
static bool status_text(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	size_t n = strlen(key);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			char *v = line + n + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
			found = true;
		}
	if (f)
		fclose(f);
	return found;
}

/* The number after "key:" in /proc/pid/status, or -1. */
static long status_field(pid_t pid, const char *key)
{
	char v[64], *end;
	long n;

	if (!status_text(pid, key, v, sizeof(v)))
		return -1;
	n = strtol(v, &end, 10);
	return end == v ? -1 : n;
}

/* Tells whether pid's executable is named bindshim: its exe link, or where that is
 * closed to us (a non-dumpable process), the name it was given at exec. */
static bool runs_bindshim(pid_t pid)
{
	char path[64], exe[PATH_MAX], comm[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		return base_is(exe, BS_LAUNCHER_NAME);
	}
	return (errno == EACCES || errno == EPERM) && status_text(pid, "Name", comm, sizeof(comm)) &&
	       !strcmp(comm, BS_LAUNCHER_NAME);
}

/* Tells whether pid is a `bindshim run` launcher or supervisor: its executable is
 * bindshim and its first argument is "run". */
static bool is_launcher(pid_t pid)
{
	char path[64], args[64];
	ssize_t n;
	size_t verb;
	int fd;

	if (!runs_bindshim(pid))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, args, sizeof(args) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	args[n] = '\0';
	verb = strlen(args) + 1;
	return verb < (size_t)n && !strcmp(args + verb, "run");
}

/* 1 if pid runs under a seccomp filter and no_new_privs below a `bindshim run`
 * launcher, 0 if not, -1 if its status cannot be read. */
static int supervised(pid_t pid)
{
	long mode = status_field(pid, "Seccomp"), parent = status_field(pid, "PPid");

	if (mode < 0)
		return -1;
	/* SECCOMP_MODE_FILTER; the supervisor's filter always comes with
	 * no_new_privs (a kernel too old to show it says nothing). */
	if (mode != 2 || status_field(pid, "NoNewPrivs") == 0)
		return 0;
	/* Orphans are reaped by the supervisor (a subreaper): it stays an ancestor. */
	for (int depth = 0; parent > 0 && depth < 4096; depth++) {
		if (is_launcher((pid_t)parent))
			return 1;
		parent = status_field((pid_t)parent, "PPid");
	}
	return 0;
}

unsigned bs_audit_coverage(const struct bs_audit_sock *s)
{
	unsigned cover = 0;
	int shim, sup;

	/* A kernel backend's test goes here, first: it is about the socket (its
	 * inode, its address), so it holds whether or not the process is visible. */
	if (!s->pid)
		return cover | BS_COVER_UNKNOWN;
	shim = shim_mapped(s->pid);
	sup = supervised(s->pid);
	if (shim > 0)
		cover |= BS_COVER_SHIM;
	if (sup > 0)
		cover |= BS_COVER_SUPERVISED;
	if (shim < 0 || sup < 0)
		cover |= BS_COVER_UNKNOWN;
	return cover;
}

/* Writes the names of cover's sources into buf, each between quote and quote,
 * separated by sep; returns how many there were. */
static size_t cover_names(unsigned cover, const char *sep, const char *quote, char *buf,
			  size_t len)
{
	size_t count = 0, used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		int n;

		if (!(cover & sources[i].bit))
			continue;
		n = snprintf(buf + used, len - used, "%s%s%s%s", count ? sep : "", quote,
			     sources[i].name, quote);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
		count++;
	}
	return count;
}

char *bs_cover_text(unsigned cover, char *buf, size_t len)
{
	if (!cover_names(cover, "+", "", buf, len))
		snprintf(buf, len, "%s", cover & BS_COVER_UNKNOWN ? "?" : "none");
	return buf;
}

char *bs_cover_json(unsigned cover, char *buf, size_t len)
{
	char names[128];

	if (!cover_names(cover, ",", "\"", names, sizeof(names)) && (cover & BS_COVER_UNKNOWN))
		snprintf(buf, len, "null");
	else
		snprintf(buf, len, "[%s]", names);
	return buf;
}
