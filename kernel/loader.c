/*
 * `bindshim system enable|reload|disable|status`: load the program (the skeleton
 * bpftool generates from kernel/bindshim.bpf.c), fill its tables, attach it to a
 * cgroup v2 directory and pin maps and links under the pin directory, so that it
 * outlives the command; disabling unpins everything, which detaches the links.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "kernel/bindshim.skel.h"
#include "kernel/loader.h"

const bool bs_kernel_built = true;

static const char *const link_names[BS_KNLINKS] = BS_KLINKS;

/* libbpf's own messages: only warnings and errors. */
__attribute__((format(printf, 2, 0)))
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !getenv("BINDSHIM_BPF_DEBUG")))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Finds the cgroup v2 mount (hybrid layouts have it at /sys/fs/cgroup/unified). */
static int cgroup2_root(char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		char mnt[2048], type[64];

		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - TYPE SOURCE ..." */
		if (sscanf(line, "%*s %*s %*s %*s %2047s", mnt) != 1)
			continue;
		if (!strstr(line, " - ") || sscanf(strstr(line, " - "), " - %63s", type) != 1)
			continue;
		if (!strcmp(type, "cgroup2")) {
			bs_kcopy(out, len, mnt);
			fclose(f);
			return 0;
		}
	}
	if (f)
		fclose(f);
	return -ENOENT;
}

/* Opens the cgroup to attach to, checking it is cgroup v2; fd or -1 after saying why. */
static int open_cgroup(const struct bs_kopts *o, char *path, size_t len)
{
	struct statfs sf;
	int fd;

	if (o->cgroup)
		bs_kcopy(path, len, o->cgroup);
	else if (cgroup2_root(path, len)) {
		fprintf(stderr, "bindshim system: no cgroup v2 mount found (mount -t cgroup2 none "
			"/sys/fs/cgroup/unified, or give --cgroup PATH)\n");
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstatfs(fd, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
		fprintf(stderr, "bindshim system: %s: %s\n", path,
			fd < 0 ? strerror(errno) : "not a cgroup v2 directory");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Makes sure the pin directory's parent is a bpf filesystem, mounting the usual
 * one if needed; 0 or -1 after saying why. */
static int ensure_bpffs(const char *pin)
{
	char parent[512];
	struct statfs sf;
	char *slash;

	bs_kcopy(parent, sizeof(parent), pin);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (statfs(parent, &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		return 0;
	if (!strcmp(parent, "/sys/fs/bpf") && mount("bpf", parent, "bpf", 0, "mode=0700") == 0)
		return 0;
	fprintf(stderr, "bindshim system: %s is not a bpf filesystem "
		"(mount -t bpf -o mode=0700 bpf %s)\n", parent, parent);
	return -1;
}

/* Tells whether the running kernel has the BPF LSM active (mounting securityfs to
 * ask, if needed). */
static bool lsm_active(void)
{
	char buf[512] = "";
	FILE *f = fopen("/sys/kernel/security/lsm", "re");

	if (!f && mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL) == 0)
		f = fopen("/sys/kernel/security/lsm", "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	for (char *t = strtok(buf, ",\n"); t; t = strtok(NULL, ",\n"))
		if (!strcmp(t, "bpf"))
			return true;
	return false;
}

/* Loads and compiles the policy file; 0 or -1 after printing its problems. */
static int compile_file(const char *file, struct bs_ktables *t)
{
	struct bs_policy *p = NULL;
	char *err = malloc(65536);
	int rc = -1;

	if (!err)
		return -1;
	err[0] = '\0';
	if (bs_policy_load(file, &p, err, 65536)) {
		fputs(err, stderr);
		goto out;
	}
	if (bs_kcompile(p, t, err, 65536)) {
		fprintf(stderr, "%s: %s", file, err);
		goto out;
	}
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].nexes)
			fprintf(stderr, "bindshim system: warning: %s:%u: rule \"%s\" has an exe key, "
				"which the kernel cannot see: in the kernel it never matches\n", file,
				p->rules[i].line, p->rules[i].name);
	rc = 0;
out:
	bs_policy_free(p);
	free(err);
	return rc;
}

/* Whether the directory open at fd has nothing in it. */
static bool empty_dir(int fd)
{
	int copy = dup(fd);
	DIR *d = copy < 0 ? NULL : fdopendir(copy);
	struct dirent *e;
	bool empty = d != NULL;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	if (d)
		closedir(d);
	else if (copy >= 0)
		close(copy);
	return empty;
}

/* Removes name from the directory dir (ours, locked); 1 if it is there still. */
static int unpin(int dir, const char *prefix, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s%s", prefix, name);
	return unlinkat(dir, path, 0) < 0 && errno != ENOENT;
}

/* Removes everything in the pin directory open at dir (ours, locked), then the
 * directory at pin if it is that one; links go, and with them the attachments.
 * By the directory, not the path: nothing another user put at the path is
 * touched. `state` first: from then on every command sees an enable undone (or
 * half undone, if this one is interrupted), none an enabled one. Returns how
 * many entries could not be removed. */
static int unpin_all(const char *pin, int dir)
{
	struct stat locked, there;
	int left = unpin(dir, "map_", bs_kmap_name(BS_KM_STATE));

	for (int i = 0; i < BS_KNLINKS; i++)
		left += unpin(dir, "link_", link_names[i]);
	for (int i = 0; i < BS_KM_N; i++)
		left += unpin(dir, "map_", bs_kmap_name(i));
	if (fstat(dir, &locked) == 0 && lstat(pin, &there) == 0 && locked.st_ino == there.st_ino &&
	    locked.st_dev == there.st_dev && rmdir(pin) < 0 && errno != ENOENT)
		left++;
	return left;
}

/* The maps of the skeleton, by our index. */
static struct bpf_map *skel_map(struct bs_bpf *s, int i)
{
	struct bpf_map *m[BS_KM_N] = {
		s->maps.bs_state, s->maps.bs_rules, s->maps.bs_pats, s->maps.bs_info,
		s->maps.bs_meta, s->maps.bs_counters, s->maps.bs_events, s->maps.bs_sk,
		s->maps.bs_placed, s->maps.bs_sync, s->maps.bs_inner, s->maps.bs_alerts,
		s->maps.bs_rate, s->maps.bs_reported, s->maps.bs_owners,
		s->maps.bs_alerted, s->maps.bs_alertsaid, s->maps.bs_pending,
	};

	return m[i];
}

/* Opens and loads the skeleton, with the LSM listen program if flags has BS_KF_LSM,
 * the sockops one that holds listeners if BS_KF_HOLD and the sk_lookup one that
 * guards those it cannot hold if BS_KF_GUARD; NULL on failure. */
static struct bs_bpf *load_skel(__u32 flags)
{
	struct bs_bpf *s = bs_bpf__open();

	if (!s)
		return NULL;
	s->rodata->bs_have_retval =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_set_retval, NULL) > 0;
	bpf_program__set_autoload(s->progs.bs_listen, flags & BS_KF_LSM);
	bpf_program__set_autoload(s->progs.bs_listened, flags & BS_KF_HOLD);
	bpf_program__set_autoload(s->progs.bs_connect6, flags & BS_KF_HOLD);
	bpf_program__set_autoload(s->progs.bs_guard, flags & BS_KF_GUARD);
	bpf_program__set_autoload(s->progs.bs_released, flags & BS_KF_GUARD);
	if (bs_bpf__load(s)) {
		bs_bpf__destroy(s);
		return NULL;
	}
	return s;
}

/* Loads the skeleton with what this kernel takes of *flags: without the LSM program
 * if it cannot load, then without the guard, then without the sockops program (the
 * guard needs it); leaves in *flags what loaded and says what is missing. */
static struct bs_bpf *load_what_loads(__u32 *flags)
{
	static const struct {
		__u32 flag;
		const char *what;
	} parts[] = {
		{BS_KF_LSM, "the BPF LSM program (listen)"},
		{BS_KF_GUARD, "the sk_lookup program (SYNs to listeners that cannot be held)"},
		{BS_KF_HOLD, "the sockops program (listeners held to lo)"},
	};
	struct bs_bpf *s = load_skel(*flags);

	for (size_t i = 0; !s && i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (!(*flags & parts[i].flag))
			continue;
		fprintf(stderr, "bindshim system: warning: %s cannot be loaded here; going on "
			"without it\n", parts[i].what);
		*flags &= ~parts[i].flag;
		s = load_skel(*flags);
	}
	return s;
}

/* Reads the subordinate uid ranges enable or reload installs into own: those of
 * --subuid, else of the file the last --subuid named (kept), else of /etc/subuid,
 * which need not exist. Returns 0 or -1 after saying why not. */
static int read_owners(const struct bs_kopts *o, const char *kept, struct bs_kowners *own)
{
	bool given = o->subuid || (kept && *kept);
	const char *file = o->subuid ? o->subuid : given ? kept : BS_KSUBUID;

	return bs_kowners_read(file, !given, own);
}

/* Whether the files kept in meta for later (status, watch, a plain reload) fit
 * there whole; says which does not. */
static bool paths_fit(const struct bs_kopts *o)
{
	struct bs_kmeta *m = NULL;
	const char *long_one = strlen(o->policy) >= sizeof(m->policy[0]) ? o->policy
			       : o->subuid && strlen(o->subuid) >= sizeof(m->subuid) ? o->subuid
										 : NULL;

	if (long_one)
		fprintf(stderr, "bindshim system: %s: path too long (kept for later: %zu bytes "
			"at most)\n", long_one, sizeof(m->subuid) - 1);
	return !long_one;
}

/* This network namespace's net.ipv4.ip_local_port_range into st (Linux's default
 * where it cannot be read): what the setsockopt program judges a port range by. */
static void local_ports(struct bs_kstate *st)
{
	unsigned lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");

	if (!f || fscanf(f, "%u %u", &lo, &hi) != 2 || !lo || hi < lo || hi > 65535) {
		lo = 32768;
		hi = 60999;
	}
	if (f)
		fclose(f);
	st->ports_lo = lo;
	st->ports_hi = hi;
}

int bs_klocal_ports(const struct bs_kpins *p, bool ask)
{
	struct bs_kstate st, now;
	int rc = bs_kstate_read(p, &st);

	if (rc)
		return rc;
	now = st;
	local_ports(&now);
	if (now.ports_lo == st.ports_lo && now.ports_hi == st.ports_hi)
		return 0;
	return ask ? 1 : bs_kstate_write(p, &now);
}

/* Fills generation 0, the owners and the state of a freshly loaded skeleton. */
static int fill(struct bs_bpf *s, const struct bs_ktables *t, const struct bs_kopts *o,
		const struct bs_kowners *own, const char *cgroup, __u32 flags, __u64 netns)
{
	struct bs_kpins p;
	struct bs_kstate st = {.gen = 0, .flags = flags, .netns = netns,
			       .rate = o->rate >= 0 ? (__u32)o->rate : BS_KRATE_DEFAULT};
	struct bs_kmeta meta = {0};
	size_t owned;
	int rc;

	bs_kpins_init(&p);
	for (int i = 0; i < BS_KM_N; i++)
		p.fd[i] = bpf_map__fd(skel_map(s, i));
	bs_kcopy(meta.cgroup, sizeof(meta.cgroup), cgroup);
	bs_kcopy(meta.subuid, sizeof(meta.subuid), o->subuid ? o->subuid : "");
	if ((rc = bs_kowners_write(&p, own, &owned)))
		return rc;
	st.owned = (__u32)owned;
	local_ports(&st);
	if ((rc = bs_kmeta_write(&p, &meta)) || (rc = bs_kstate_write(&p, &st)))
		return rc;
	rc = bs_kwrite_gen(&p, 0, t, o->policy);
	return rc;
}

/* Attaches the programs to cgfd and pins links and maps; 0 or -1 after saying why. */
static int attach_and_pin(struct bs_bpf *s, int cgfd, const char *pin, __u32 flags)
{
	struct bpf_program *progs[BS_KNLINKS] = {s->progs.bs_bind4, s->progs.bs_bind6,
						  s->progs.bs_listen, s->progs.bs_setsockopt,
						  s->progs.bs_sock_create, s->progs.bs_listened,
						  s->progs.bs_guard, s->progs.bs_post_bind4,
						  s->progs.bs_post_bind6, s->progs.bs_connect6,
						  s->progs.bs_released};
	struct bpf_link *links[BS_KNLINKS] = {0};
	struct bs_kpins lock;
	char path[512];
	int rc = -1, netns = -1;

	if (mkdir(pin, 0700) < 0) {
		int err = errno;
		struct bs_kpins there;
		const char *why = NULL;

		bs_kpins_init(&there);
		if (err == EEXIST)
			why = bs_kpins_unusable(bs_kpins_open(&there, pin));
		bs_kpins_close(&there);
		fprintf(stderr, "bindshim system: %s: %s (%s)\n", pin, strerror(err),
			why ? why
			    : err == EEXIST ? "already enabled: use reload, or disable first"
					    : "cannot make the pin directory");
		return -1;
	}
	/* Locked while it fills: a disable that finds the first maps pinned waits
	 * for the rest, and then removes them all (it removed those it found, and
	 * this enable said "enabled" with its links gone). */
	bs_kpins_init(&lock);
	if ((rc = bs_kpins_lock(&lock, pin)) || !empty_dir(lock.lock)) {
		/* Not the directory made above (removed and made again by another
		 * enable meanwhile): nothing here is ours to fill or remove. */
		fprintf(stderr, "bindshim system: %s: cannot lock: %s\n", pin,
			rc ? bs_klock_error(rc) : "another enable made it meanwhile");
		bs_kpins_close(&lock);
		return -1;
	}
	rc = -1;
	/* The bind programs last: a socket they mark is then seen by every other
	 * (a listener marked at bind but not looked at after listen() would have
	 * its connections held). */
	for (int i = BS_KNLINKS - 1; i >= 0; i--) {
		if ((i == BS_KLINK_LSM && !(flags & BS_KF_LSM)) ||
		    ((i == BS_KLINK_HOLD || i == BS_KLINK_CONNECT6) && !(flags & BS_KF_HOLD)) ||
		    ((i == BS_KLINK_GUARD || i == BS_KLINK_RELEASE) && !(flags & BS_KF_GUARD)))
			continue;
		if (i == BS_KLINK_GUARD) {
			/* The guard belongs to a network namespace: this one. */
			netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
			links[i] = netns < 0 ? NULL : bpf_program__attach_netns(progs[i], netns);
		} else {
			links[i] = bpf_program__attach_cgroup(progs[i], cgfd);
		}
		if (!links[i]) {
			fprintf(stderr, "bindshim system: cannot attach the %s program: %s\n",
				link_names[i], strerror(errno));
			goto out;
		}
		snprintf(path, sizeof(path), "%s/link_%s", pin, link_names[i]);
		if (bpf_link__pin(links[i], path))
			goto pinfail;
	}
	/* `state` last: its pin says the rest is there (bs_kpins_open). */
	for (int i = BS_KM_N - 1; i >= 0; i--) {
		snprintf(path, sizeof(path), "%s/map_%s", pin, bs_kmap_name(i));
		if (bpf_obj_pin(bpf_map__fd(skel_map(s, i)), path))
			goto pinfail;
	}
	rc = 0;
	goto out;
pinfail:
	fprintf(stderr, "bindshim system: cannot pin under %s: %s\n", pin, strerror(errno));
out:
	for (int i = 0; i < BS_KNLINKS; i++)
		bpf_link__destroy(links[i]);	/* the pinned ones stay attached */
	if (netns >= 0)
		close(netns);
	if (rc)
		unpin_all(pin, lock.lock);
	bs_kpins_close(&lock);
	return rc;
}

static const char *pin_of(const struct bs_kopts *o)
{
	return o->pin ? o->pin : BS_KPIN_DIR;
}

/* This network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14), 0 if unknown. */
static __u64 netns_cookie(void)
{
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
		cookie = 0;
	if (fd >= 0)
		close(fd);
	return cookie;
}

/* What happens at listen() under the state's flags. */
static const char *listen_mode(__u32 flags)
{
	if (flags & BS_KF_LSM)
		return "judged (BPF LSM): refused where the policy does not allow the socket";
	if ((flags & BS_KF_HOLD) && (flags & BS_KF_GUARD))
		return "not refused (no BPF LSM): a listener where the policy does not allow it "
		       "is held to the loopback interface; port-0 binds wait for listen(); SYNs "
		       "from other interfaces to one that cannot be held are dropped in this "
		       "network namespace";
	if (flags & BS_KF_HOLD)
		return "not refused (no BPF LSM): a listener where the policy does not allow it "
		       "is held to the loopback interface; port-0 binds wait for listen()";
	return "not judged (no BPF LSM, no sockops program): port-0 binds are rewritten at "
	       "bind like servers' (clients that bind before connecting too), and a "
	       "never-bound socket's listen() is not seen";
}

int bs_ksystem_enable(const struct bs_kopts *o)
{
	struct bs_ktables t;
	struct bs_kowners own;
	struct bs_bpf *s = NULL;
	char cgroup[1024];
	__u32 flags = BS_KF_HOLD | (!o->no_lsm && lsm_active() ? BS_KF_LSM : 0);
	__u64 netns = netns_cookie();
	int cgfd, rc = 1;

	libbpf_set_print(quiet_print);
	if (!paths_fit(o) || compile_file(o->policy, &t))
		return 1;
	if (read_owners(o, NULL, &own)) {
		bs_ktables_free(&t);
		return 1;
	}
	cgfd = open_cgroup(o, cgroup, sizeof(cgroup));
	if (cgfd < 0 || ensure_bpffs(pin_of(o)))
		goto out;
	if (netns)
		flags |= BS_KF_GUARD;	/* its cookie tells the programs which namespace */
	s = load_what_loads(&flags);
	if (!s) {
		fprintf(stderr, "bindshim system: cannot load the BPF program: %s (Linux 5.17 or "
			"later with BPF and cgroup v2 is needed; root)\n", strerror(errno));
		goto out;
	}
	if (fill(s, &t, o, &own, cgroup, flags, netns) ||
	    attach_and_pin(s, cgfd, pin_of(o), flags))
		goto out;
	printf("kernel mode enabled: %s on %s (pinned at %s), %zu compiled rules\n", o->policy,
	       cgroup, pin_of(o), t.nrules);
	printf("listen(): %s\n", listen_mode(flags));
	rc = 0;
out:
	if (s)
		bs_bpf__destroy(s);
	if (cgfd >= 0)
		close(cgfd);
	bs_ktables_free(&t);
	bs_kowners_free(&own);
	return rc;
}

/* Opens the pins of an enabled backend; 0 or -1 after saying why. */
static int open_said(const struct bs_kopts *o, struct bs_kpins *p)
{
	int rc = bs_kpins_open(p, pin_of(o));

	if (bs_kpins_unusable(rc)) {
		fprintf(stderr, "bindshim system: %s: %s\n", pin_of(o), bs_kpins_error(rc));
		return -1;
	}
	if (rc) {
		fprintf(stderr, "bindshim system: kernel mode is not enabled (%s: %s)\n", pin_of(o),
			strerror(-rc));
		return -1;
	}
	return 0;
}

/* Installs own, the --subuid file (if given) for the next reload, and rate (-1:
 * kept) after a reload. */
static int set_owners_and_rate(const struct bs_kpins *p, const struct bs_kowners *own,
			       const char *subuid, long rate)
{
	struct bs_kstate st;
	struct bs_kmeta meta;
	size_t owned;
	int rc = bs_kowners_write(p, own, &owned);

	if (!rc && subuid && !(rc = bs_kmeta_read(p, &meta))) {
		bs_kcopy(meta.subuid, sizeof(meta.subuid), subuid);
		rc = bs_kmeta_write(p, &meta);
	}
	if (!rc)
		rc = bs_kstate_read(p, &st);
	if (rc)
		return rc;
	st.owned = (__u32)owned;
	if (rate >= 0)
		st.rate = (__u32)rate;
	return bs_kstate_write(p, &st);
}

int bs_ksystem_reload(const struct bs_kopts *o)
{
	struct bs_kpins p;
	struct bs_ktables t;
	struct bs_kowners own = {0};
	struct bs_kmeta meta;
	int rc = 1;

	libbpf_set_print(quiet_print);
	if (!paths_fit(o) || compile_file(o->policy, &t))
		return 1;
	if (open_said(o, &p)) {
		bs_ktables_free(&t);
		return 1;
	}
	/* The file (and user names) read before the lock: nothing waits on them. */
	if (bs_kmeta_read(&p, &meta)) {
		fprintf(stderr, "bindshim system: %s: %s\n", pin_of(o), strerror(errno));
		goto out;
	}
	if (read_owners(o, meta.subuid, &own))
		goto out;
	if ((rc = bs_kpins_lock(&p, pin_of(o)))) {
		fprintf(stderr, "bindshim system: %s: %s: nothing reloaded%s\n", pin_of(o),
			bs_klock_error(rc), rc == -ESTALE || rc == -ENOENT ? " (run it again)" : "");
		rc = 1;
		goto out;
	}
	if ((rc = bs_kinstall(&p, &t, o->policy)))
		fprintf(stderr, "bindshim system: reload failed: %s (the previous policy stays)\n",
			strerror(-rc));
	else if ((rc = set_owners_and_rate(&p, &own, o->subuid, o->rate)))
		fprintf(stderr, "bindshim system: the policy is reloaded, but not the subordinate "
			"uids or the record rate: %s\n", strerror(-rc));
	else
		printf("kernel mode reloaded: %s, %zu compiled rules\n", o->policy, t.nrules);
	rc = rc ? 1 : 0;
out:
	bs_kpins_close(&p);
	bs_ktables_free(&t);
	bs_kowners_free(&own);
	return rc;
}

int bs_ksystem_disable(const struct bs_kopts *o)
{
	struct bs_kpins p;
	struct statfs fs;
	int left, rc;

	/* By name, what is pinned once the lock is ours: an enable under way finishes
	 * first; what an interrupted enable or disable left, or another version
	 * pinned, goes too. */
	bs_kpins_init(&p);
	errno = 0;
	if (statfs(pin_of(o), &fs) < 0 || fs.f_type != BPF_FS_MAGIC) {
		fprintf(stderr, "bindshim system: kernel mode is not enabled (%s: %s)\n", pin_of(o),
			errno ? strerror(errno) : "not on a bpf file system");
		return 1;
	}
	if ((rc = bs_kpins_lock(&p, pin_of(o)))) {
		if (rc == -ENOENT)
			fprintf(stderr, "bindshim system: kernel mode is not enabled (%s: %s)\n",
				pin_of(o), strerror(-rc));
		else
			fprintf(stderr, "bindshim system: %s: %s\n", pin_of(o), bs_klock_error(rc));
		bs_kpins_close(&p);
		return 1;
	}
	left = unpin_all(pin_of(o), p.lock);
	bs_kpins_close(&p);
	if (left) {
		fprintf(stderr, "bindshim system: %d pinned objects could not be removed from %s\n",
			left, pin_of(o));
		return 1;
	}
	printf("kernel mode disabled: nothing attached or pinned at %s\n", pin_of(o));
	return 0;
}

static const char *attach_name(enum bpf_attach_type t)
{
	switch (t) {
	case BPF_CGROUP_INET4_BIND:
		return "cgroup/bind4";
	case BPF_CGROUP_INET6_BIND:
		return "cgroup/bind6";
	case BPF_LSM_CGROUP:
		return "lsm_cgroup/socket_listen";
	case BPF_CGROUP_SETSOCKOPT:
		return "cgroup/setsockopt";
	case BPF_CGROUP_INET_SOCK_CREATE:
		return "cgroup/sock_create";
	case BPF_CGROUP_SOCK_OPS:
		return "sockops";
	case BPF_SK_LOOKUP:
		return "sk_lookup";
	case BPF_CGROUP_INET4_POST_BIND:
		return "cgroup/post_bind4";
	case BPF_CGROUP_INET6_POST_BIND:
		return "cgroup/post_bind6";
	case BPF_CGROUP_INET6_CONNECT:
		return "cgroup/connect6";
	case BPF_CGROUP_INET_SOCK_RELEASE:
		return "cgroup/sock_release";
	default:
		return "?";
	}
}

/* Prints what each pinned link attaches; returns how many are attached. */
static int print_links(const char *pin, const char *cgroup)
{
	int n = 0;

	for (int i = 0; i < BS_KNLINKS; i++) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "%s/link_%s", pin, link_names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			printf("  %-26s not attached%s\n", link_names[i],
			       i == BS_KLINK_LSM ? " (no BPF LSM: listen() is not refused)"
			       : i == BS_KLINK_HOLD || i == BS_KLINK_CONNECT6
				 ? " (listeners are not held to lo)"
			       : i == BS_KLINK_GUARD || i == BS_KLINK_RELEASE
				 ? " (listeners that cannot be held are not guarded)" : "");
			continue;
		}
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
			/* nothing to say */
		} else if (info.type == BPF_LINK_TYPE_NETNS) {
			printf("  %-26s attached to network namespace net:[%u] (program id %u)\n",
			       attach_name(info.netns.attach_type), info.netns.netns_ino,
			       info.prog_id);
			n++;
		} else {
			printf("  %-26s attached to %s (cgroup id %llu, program id %u)\n",
			       attach_name(info.cgroup.attach_type), cgroup,
			       (unsigned long long)info.cgroup.cgroup_id, info.prog_id);
			n++;
		}
		close(fd);
	}
	return n;
}

int bs_ksystem_status(const struct bs_kopts *o)
{
	static const char *const names[BS_KC_N] = {
		"binds judged", "rewritten", "denied", "port-0 binds left to listen()",
		"listen() refused", "IP_LOCAL_PORT_RANGE refused", "records dropped (ring full)",
		"MPTCP sockets refused", "listeners held to lo",
		"held listeners' device kept", "holds failed (other device)",
		"connections held to lo", "failed-hold records dropped",
		"guarded now (hold failed)", "not guarded (table full)",
		"SYNs to them dropped", "device + early port refused",
		"records over the rate (summed)", "failed holds over a user's share",
		"narrow TCP port ranges refused",
	};
	int ncpu = libbpf_num_possible_cpus(), rc;
	struct bs_kpins p;
	struct bs_kstate st;
	struct bs_kmeta meta;
	__u32 gen;
	__u64 *v;
	pid_t watcher;

	libbpf_set_print(quiet_print);
	if (bs_kpins_unusable(rc = bs_kpins_open(&p, pin_of(o)))) {
		printf("kernel mode: %s at %s, but %s\n", rc == -EPROTO ? "enabled" : "pinned",
		       pin_of(o), bs_kpins_error(rc));
		return 1;
	}
	if (rc) {
		printf("kernel mode: disabled (nothing pinned at %s)\n", pin_of(o));
		return 3;
	}
	if (ncpu < 1 || bs_kstate_read(&p, &st) ||
	    bs_kmeta_read(&p, &meta)) {
		bs_kpins_close(&p);
		return 1;
	}
	gen = st.gen & 1;
	printf("kernel mode: enabled, pinned at %s\n", pin_of(o));
	printf("policy: %s (generation %u, loaded %llu, %u compiled rules)\n", meta.policy[gen],
	       gen, (unsigned long long)meta.loaded[gen], st.g[gen].nrules);
	printf("listen(): %s\n", listen_mode(st.flags));
	if (st.rate)
		printf("records: at most %u a second per uid (more are counted and summed up); "
		       "%u subordinate uid range%s counted as %s owner's\n", st.rate, st.owned,
		       st.owned == 1 ? "" : "s", st.owned == 1 ? "its" : "their");
	else
		printf("records: no limit per uid\n");
	if ((watcher = bs_kwatcher(&p)))
		printf("watch: pid %d reads the records\n", (int)watcher);
	else
		printf("watch: not running (records wait in the ring buffer, and are dropped, "
		       "counted, once it is full)\n");
	printf("programs:\n");
	print_links(pin_of(o), meta.cgroup);
	v = calloc((size_t)ncpu, sizeof(*v));
	printf("counters:\n");
	for (__u32 c = 0; v && c < BS_KC_N; c++) {
		unsigned long long sum = 0;

		if (bpf_map_lookup_elem(p.fd[BS_KM_COUNTERS], &c, v) == 0)
			for (int i = 0; i < ncpu; i++)
				sum += v[i];
		printf("  %-32s %llu\n", names[c], sum);
	}
	free(v);
	bs_kpins_close(&p);
	return 0;
}

int bs_ksystem_tables(const char *pin, struct bs_ktables *t, char *policy, size_t len)
{
	struct bs_kpins p;
	int rc;

	libbpf_set_print(quiet_print);
	rc = bs_kpins_open(&p, pin);
	if (rc)
		return rc;
	rc = bs_kread_active(&p, t, policy, len);
	bs_kpins_close(&p);
	return rc;
}
