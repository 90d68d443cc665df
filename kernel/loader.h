/* The kernel backend's loader, inside kernel/ (needs libbpf). */
#ifndef BS_KLOADER_H
#define BS_KLOADER_H

#include <string.h>
#include <sys/types.h>

#include "kernel/kernel.h"

/* The pinned maps, by index; each pinned as PIN/map_NAME. */
enum {
	BS_KM_STATE, BS_KM_RULES, BS_KM_PATS, BS_KM_INFO, BS_KM_META, BS_KM_COUNTERS,
	BS_KM_EVENTS, BS_KM_SK, BS_KM_PLACED, BS_KM_SYNC, BS_KM_INNER, BS_KM_ALERTS,
	BS_KM_RATE, BS_KM_REPORTED, BS_KM_OWNERS, BS_KM_ALERTED, BS_KM_ALERTSAID, BS_KM_PENDING,
	BS_KM_N
};

/* The links, pinned as PIN/link_NAME. */
#define BS_KLINKS {"bind4", "bind6", "listen", "setsockopt", "sock_create", "sock_ops", \
		   "sk_lookup", "post_bind4", "post_bind6", "connect6", "sock_release"}
#define BS_KNLINKS 11
#define BS_KLINK_LSM 2			/* the links that may be missing */
#define BS_KLINK_HOLD 5
#define BS_KLINK_CONNECT6 9		/* with the hold: scoped link-local ties */
#define BS_KLINK_RELEASE 10		/* with the guard: pending ports of closed sockets */
#define BS_KLINK_GUARD 6		/* a network namespace's, not the cgroup's */

struct bs_kpins {
	int fd[BS_KM_N];
	int lock;			/* the pin directory, flock()ed */
};

/* Copies s into d of size n, cut short if needed (paths that do not fit a map's
 * fixed field are cut: they are for people to read). */
static inline void bs_kcopy(char *d, size_t n, const char *s)
{
	size_t l = strnlen(s, n - 1);

	memcpy(d, s, l);
	d[l] = '\0';
}

/* tables.c */
/* "state", "rules"...: the pin name of map i. */
const char *bs_kmap_name(int i);
void bs_kpins_init(struct bs_kpins *p);
/* Opens every pinned map under pin; returns 0 or -errno: -EPROTO for maps laid
 * out by another version (whose programs and maps this one would misread),
 * -EUCLEAN for a directory without `state` (an enable or disable under way or
 * interrupted), -ENOENT where nothing is pinned. */
int bs_kpins_open(struct bs_kpins *p, const char *pin);
/* 0 if pin is a directory bindshim may have made (not a symbolic link, root's or
 * ours), else -errno: -BS_ENOTOURS, -ENOENT, -ENOTDIR. */
int bs_kpins_ours(const char *pin);
/* What a failed bs_kpins_open means, for a message. */
const char *bs_kpins_error(int rc);
void bs_kpins_close(struct bs_kpins *p);
/* Serializes writers (enable while it pins, reload, the watch daemon's refresh,
 * disable): locks the directory at pin, the one there once the lock is taken,
 * waiting 30 s at most; 0 or -errno: -ESTALE if p's maps (if open) are no longer
 * the pinned ones, -BS_ENOTOURS (see bs_kpins_ours), -EWOULDBLOCK. */
int bs_kpins_lock(struct bs_kpins *p, const char *pin);
/* Puts this network namespace's ip_local_port_range in the state if it changed
 * (watch, under the pin lock; ask: only says whether it did, 1); 0 or -errno. */
int bs_klocal_ports(const struct bs_kpins *p, bool ask);
/* What a failed bs_kpins_lock means, for a message. */
const char *bs_klock_error(int rc);
/* Whether the `state` pinned at pin now is p's: 1, 0 if none is, -1 if another
 * enable's (disabled and enabled again since p was opened). */
int bs_kpins_current(const struct bs_kpins *p, const char *pin);
int bs_kstate_read(const struct bs_kpins *p, struct bs_kstate *st);
int bs_kstate_write(const struct bs_kpins *p, const struct bs_kstate *st);
/* The same, for the user-space-only meta map (policy files, cgroup, the watch). */
int bs_kmeta_read(const struct bs_kpins *p, struct bs_kmeta *m);
int bs_kmeta_write(const struct bs_kpins *p, const struct bs_kmeta *m);
/* Waits for every running program to return; 0 or -errno. */
int bs_ksync(const struct bs_kpins *p);
/* Writes t into generation gen (not the active one); 0 or -errno. */
int bs_kwrite_gen(const struct bs_kpins *p, __u32 gen, const struct bs_ktables *t,
		  const char *policy);
/* Makes gen the active generation and waits for calls still using the other. */
int bs_kflip(const struct bs_kpins *p, __u32 gen);
/* Writes t into the inactive generation and flips to it; 0 or -errno. */
int bs_kinstall(const struct bs_kpins *p, const struct bs_ktables *t, const char *policy);
/* Reads the active generation's tables (and its policy file); 0 or -errno. */
int bs_kread_active(const struct bs_kpins *p, struct bs_ktables *t, char *policy, size_t len);

/* subuid.c */
/* The blocks of a subuid file's ranges, with their owners and which range each
 * comes from. */
struct bs_kowner {
	struct bs_kowner_key key;
	__u32 owner;
	__u32 range;
};
struct bs_kowners {
	struct bs_kowner *e;
	size_t n;			/* blocks */
	size_t ranges;
};
/* Reads the ranges of file (subuid(5)) into o, warning on stderr of lines it
 * skips; a file that does not exist has none if missing_ok. Returns 0, or -1
 * after saying why the file cannot be read (not a regular file, say). */
int bs_kowners_read(const char *file, bool missing_ok, struct bs_kowners *o);
/* Frees what bs_kowners_read allocated (o is empty again). */
void bs_kowners_free(struct bs_kowners *o);
/* Makes the owners map hold o, warning of ranges it has no room for; *ranges: how
 * many ranges it holds whole. Returns 0 or -errno. */
int bs_kowners_write(const struct bs_kpins *p, const struct bs_kowners *o, size_t *ranges);

/* watch.c */
/* The pid of the `system watch` that reads the records, 0 if none runs. */
pid_t bs_kwatcher(const struct bs_kpins *p);
/* Turns a ring-buffer event into a record, as the shim writes them. */
struct bs_logger;
void bs_kevent_log(const struct bs_logger *lg, const struct bs_kpins *p,
		   const struct bs_kevent *e);

#endif
