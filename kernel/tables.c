/*
 * The pinned maps: opening them, writing a generation of tables, flipping the
 * active generation, and reading the active tables back.
 *
 * Atomicity of a reload: the program reads the generation number once per call and
 * looks everything up in that generation. A reload writes the inactive generation
 * (no call reads it: see below), then flips the number with one map update (only
 * its lowest byte changes, 0 <-> 1, so no reader sees a torn value), then waits
 * until every program that may have read the old number has returned: replacing
 * the element of an array-of-maps makes the kernel wait for running BPF programs
 * (synchronize_rcu, maybe_wait_bpf_programs in kernel/bpf/syscall.c). Only then
 * may the old generation be written again, by the next reload. Reloads are
 * serialized by a lock on the pin directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "kernel/loader.h"

static const char *const map_names[BS_KM_N] = {
	[BS_KM_STATE] = "state", [BS_KM_RULES] = "rules", [BS_KM_PATS] = "pats",
	[BS_KM_INFO] = "info", [BS_KM_META] = "meta", [BS_KM_COUNTERS] = "counters",
	[BS_KM_EVENTS] = "events", [BS_KM_SK] = "sk", [BS_KM_PLACED] = "placed",
	[BS_KM_SYNC] = "sync", [BS_KM_INNER] = "inner", [BS_KM_ALERTS] = "alerts",
	[BS_KM_RATE] = "rate", [BS_KM_REPORTED] = "reported", [BS_KM_OWNERS] = "owners",
	[BS_KM_ALERTED] = "alerted", [BS_KM_ALERTSAID] = "alertsaid", [BS_KM_PENDING] = "pending",
};

const char *bs_kmap_name(int i)
{
	return map_names[i];
}

void bs_kpins_init(struct bs_kpins *p)
{
	for (int i = 0; i < BS_KM_N; i++)
		p->fd[i] = -1;
	p->lock = -1;
}

/* Each map's key and value sizes as this bindshim lays them out (ring buffers
 * have neither): a map pinned by a version that laid it out otherwise is refused,
 * not misread. */
static const struct {
	__u32 key, value;
} layout[BS_KM_N] = {
	[BS_KM_STATE] = {4, sizeof(struct bs_kstate)}, [BS_KM_RULES] = {4, sizeof(struct bs_krule)},
	[BS_KM_PATS] = {4, sizeof(struct bs_kpat)}, [BS_KM_INFO] = {4, sizeof(struct bs_kinfo)},
	[BS_KM_META] = {4, sizeof(struct bs_kmeta)}, [BS_KM_COUNTERS] = {4, sizeof(__u64)},
	[BS_KM_EVENTS] = {0, 0}, [BS_KM_SK] = {4, sizeof(struct bs_ksk)},
	[BS_KM_PLACED] = {8, sizeof(struct bs_kplaced)}, [BS_KM_SYNC] = {4, 4},
	[BS_KM_INNER] = {4, 4}, [BS_KM_ALERTS] = {0, 0},
	[BS_KM_RATE] = {4, sizeof(struct bs_krate)}, [BS_KM_REPORTED] = {4, sizeof(struct bs_kreported)},
	[BS_KM_OWNERS] = {sizeof(struct bs_kowner_key), 4},
	[BS_KM_ALERTED] = {4, sizeof(struct bs_krate)},
	[BS_KM_ALERTSAID] = {4, sizeof(struct bs_kreported)}, [BS_KM_PENDING] = {4, 4},
};

/* PIN/map_state, into path. */
static const char *path_of_state(char *path, size_t len, const char *pin)
{
	snprintf(path, len, "%s/map_%s", pin, map_names[BS_KM_STATE]);
	return path;
}

int bs_kpins_ours(const char *pin)
{
	struct stat st;

	if (lstat(pin, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()))
		return -BS_ENOTOURS;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int bs_kpins_open(struct bs_kpins *p, const char *pin)
{
	char path[512];
	struct stat st;
	int rc;

	bs_kpins_init(p);
	if ((rc = bs_kpins_ours(pin)))
		return rc;
	/* `state` is pinned last and removed first: a directory without it is an
	 * enable or disable under way, or one that was interrupted. */
	if (access(path_of_state(path, sizeof(path), pin), F_OK) < 0 && errno == ENOENT)
		return -EUCLEAN;
	for (int i = 0; i < BS_KM_N; i++) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int err = 0;

		snprintf(path, sizeof(path), "%s/map_%s", pin, map_names[i]);
		p->fd[i] = bpf_obj_get(path);
		memset(&info, 0, sizeof(info));
		/* A map this version has and the state's version had not: another
		 * layout; unless a disable took `state` away meanwhile. */
		if (p->fd[i] < 0 && errno == ENOENT && i != BS_KM_STATE && p->fd[BS_KM_STATE] >= 0)
			err = access(path_of_state(path, sizeof(path), pin), F_OK) == 0 ? EPROTO
			      : stat(pin, &st) == 0 ? EUCLEAN : ENOENT;
		else if (p->fd[i] < 0)
			err = errno;
		else if (bpf_obj_get_info_by_fd(p->fd[i], &info, &len) ||
			 info.key_size != layout[i].key || info.value_size != layout[i].value)
			err = EPROTO;
		if (err) {
			bs_kpins_close(p);
			return -err;
		}
	}
	return 0;
}

const char *bs_kpins_unusable(int rc)
{
	return rc == -EPROTO ? "its maps were pinned by another version of bindshim: disable "
			       "and enable kernel mode again"
	       : rc == -EUCLEAN ? "an enable or disable is under way there, or was interrupted "
				  "(bindshim system disable removes what it left)"
	       : rc == -BS_ENOTOURS ? "not made by bindshim (a symbolic link, or another user's "
				      "directory): remove it"
				    : NULL;
}

const char *bs_kpins_error(int rc)
{
	const char *why = bs_kpins_unusable(rc);

	return why ? why : strerror(-rc);
}

const char *bs_klock_error(int rc)
{
	return rc == -BS_ENOTOURS ? bs_kpins_error(rc)
	       : rc == -EWOULDBLOCK ? "another bindshim system command has held its lock for 30 s"
	       : rc == -ESTALE || rc == -ENOENT ? "disabled or enabled again meanwhile"
					       : strerror(-rc);
}

void bs_kpins_close(struct bs_kpins *p)
{
	for (int i = 0; i < BS_KM_N; i++)
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	if (p->lock >= 0)
		close(p->lock);
	bs_kpins_init(p);
}

/* The id of the map behind fd, 0 if unknown. */
static __u32 map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

/* flock(fd, LOCK_EX) within s seconds: 0, or -EWOULDBLOCK (a command that holds
 * it stopped: an enable takes about a second) or -errno. */
static int lock_within(int fd, int s)
{
	for (int i = 0; i < s * 100; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return -errno;
		usleep(10000);
	}
	return -EWOULDBLOCK;
}

int bs_kpins_lock(struct bs_kpins *p, const char *pin)
{
	/* The directory locked must still be the one there: one removed while we
	 * waited (and perhaps made again, by an enable that locks the new one) locks
	 * nothing anybody else takes. */
	for (int tries = 0;; tries++) {
		struct stat locked, there;
		int rc;

		/* A symbolic link (to another enable's pins), or a directory another
		 * user made (where the bpf file system lets anyone make one), whose
		 * lock could make us wait for good: not ours. */
		p->lock = open(pin, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (p->lock < 0)
			return errno == ELOOP || errno == ENOTDIR ? -BS_ENOTOURS : -errno;
		if (fstat(p->lock, &locked) < 0)
			return -errno;
		if (locked.st_uid != 0 && locked.st_uid != geteuid())
			return -BS_ENOTOURS;
		if ((rc = lock_within(p->lock, 30)))
			return rc;
		if (lstat(pin, &there) == 0 && locked.st_dev == there.st_dev &&
		    locked.st_ino == there.st_ino)
			break;
		close(p->lock);
		p->lock = -1;
		if (tries == 100)
			return -ESTALE;
	}
	/* Maps opened before the wait may be another enable's by now (disabled and
	 * enabled again meanwhile): writing them would change nothing in force. */
	if (p->fd[BS_KM_STATE] >= 0 && bs_kpins_current(p, pin) != 1) {
		errno = ESTALE;
		return -ESTALE;
	}
	return 0;
}

int bs_kpins_current(const struct bs_kpins *p, const char *pin)
{
	char path[512];
	int now;
	__u32 id;

	now = bpf_obj_get(path_of_state(path, sizeof(path), pin));
	if (now < 0)
		return 0;
	id = map_id(now);
	close(now);
	return id && id == map_id(p->fd[BS_KM_STATE]) ? 1 : -1;
}

int bs_kstate_read(const struct bs_kpins *p, struct bs_kstate *st)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(p->fd[BS_KM_STATE], &zero, st) ? -errno : 0;
}

int bs_kstate_write(const struct bs_kpins *p, const struct bs_kstate *st)
{
	__u32 zero = 0;

	return bpf_map_update_elem(p->fd[BS_KM_STATE], &zero, st, BPF_ANY) ? -errno : 0;
}

int bs_kmeta_read(const struct bs_kpins *p, struct bs_kmeta *m)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(p->fd[BS_KM_META], &zero, m) ? -errno : 0;
}

int bs_kmeta_write(const struct bs_kpins *p, const struct bs_kmeta *m)
{
	__u32 zero = 0;

	return bpf_map_update_elem(p->fd[BS_KM_META], &zero, m, BPF_ANY) ? -errno : 0;
}

/* Waits until no program still runs with what it read before now. */
int bs_ksync(const struct bs_kpins *p)
{
	__u32 zero = 0, inner = (__u32)p->fd[BS_KM_INNER];

	return bpf_map_update_elem(p->fd[BS_KM_SYNC], &zero, &inner, BPF_ANY) ? -errno : 0;
}

int bs_kwrite_gen(const struct bs_kpins *p, __u32 gen, const struct bs_ktables *t,
		  const char *policy)
{
	struct bs_kstate st;
	struct bs_kmeta meta;

	for (size_t i = 0; i < t->nrules; i++) {
		__u32 k = gen * BS_KMAX_RULES + (__u32)i;

		if (bpf_map_update_elem(p->fd[BS_KM_RULES], &k, &t->rules[i], BPF_ANY) ||
		    bpf_map_update_elem(p->fd[BS_KM_INFO], &k, &t->info[i], BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; i < t->npats; i++) {
		__u32 k = gen * BS_KMAX_PATS + (__u32)i;

		if (bpf_map_update_elem(p->fd[BS_KM_PATS], &k, &t->pats[i], BPF_ANY))
			return -errno;
	}
	if (bs_kmeta_read(p, &meta))
		return -errno;
	bs_kcopy(meta.policy[gen], sizeof(meta.policy[gen]), policy);
	meta.loaded[gen] = (__u64)time(NULL);
	if (bs_kmeta_write(p, &meta))
		return -errno;
	if (bs_kstate_read(p, &st))
		return -errno;
	st.g[gen] = t->hdr;
	return bs_kstate_write(p, &st);
}

int bs_kflip(const struct bs_kpins *p, __u32 gen)
{
	struct bs_kstate st;
	int rc = bs_kstate_read(p, &st);

	if (rc)
		return rc;
	st.gen = gen;
	if ((rc = bs_kstate_write(p, &st)))
		return rc;
	return bs_ksync(p);
}

int bs_kinstall(const struct bs_kpins *p, const struct bs_ktables *t, const char *policy)
{
	struct bs_kstate st;
	int rc = bs_kstate_read(p, &st);
	__u32 next;

	if (rc)
		return rc;
	next = (st.gen & 1) ^ 1;
	/* In case an earlier reload died between its flip and its wait. */
	rc = bs_ksync(p);
	if (!rc)
		rc = bs_kwrite_gen(p, next, t, policy);
	if (!rc)
		rc = bs_kflip(p, next);
	return rc;
}

int bs_kread_active(const struct bs_kpins *p, struct bs_ktables *t, char *policy, size_t len)
{
	struct bs_kstate st;
	struct bs_kmeta meta;
	__u32 gen;
	size_t npats = 0;
	int rc = bs_kstate_read(p, &st);

	memset(t, 0, sizeof(*t));
	if (rc)
		return rc;
	gen = st.gen & 1;
	t->hdr = st.g[gen];
	t->rules = calloc(BS_KMAX_RULES, sizeof(*t->rules));
	t->info = calloc(BS_KMAX_RULES, sizeof(*t->info));
	t->pats = calloc(BS_KMAX_PATS, sizeof(*t->pats));
	if (!t->rules || !t->info || !t->pats || t->hdr.nrules > BS_KMAX_RULES) {
		bs_ktables_free(t);
		return -ENOMEM;
	}
	t->nrules = t->hdr.nrules;
	for (size_t i = 0; i < t->nrules; i++) {
		__u32 k = gen * BS_KMAX_RULES + (__u32)i;

		if (bpf_map_lookup_elem(p->fd[BS_KM_RULES], &k, &t->rules[i]) ||
		    bpf_map_lookup_elem(p->fd[BS_KM_INFO], &k, &t->info[i])) {
			bs_ktables_free(t);
			return -errno;
		}
		for (int j = 0; j < t->rules[i].nprogs && j < BS_KR_PROGS; j++)
			if ((size_t)t->rules[i].progs[j] + 1 > npats)
				npats = (size_t)t->rules[i].progs[j] + 1;
	}
	for (size_t i = 0; i < npats && i < BS_KMAX_PATS; i++) {
		__u32 k = gen * BS_KMAX_PATS + (__u32)i;

		bpf_map_lookup_elem(p->fd[BS_KM_PATS], &k, &t->pats[i]);
		t->npats = i + 1;
	}
	if (policy && !bs_kmeta_read(p, &meta))
		bs_kcopy(policy, len, meta.policy[gen]);
	return 0;
}
