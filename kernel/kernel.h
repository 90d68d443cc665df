/*
 * The kernel backend, user-space side: the policy compiler and the compiled-table
 * decision (always built), and the loader, `system` verb and watch daemon (built
 * when clang, libbpf and bpftool are present: BS_HAVE_KERNEL).
 */
#ifndef BS_KERNEL_H
#define BS_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "kernel/ktypes.h"
#include "policy/policy.h"

struct bs_kquery;
struct bs_kout;

/* A policy compiled for the kernel: what one generation of the maps holds. */
struct bs_ktables {
	struct bs_kgen hdr;
	struct bs_krule *rules;
	size_t nrules;
	struct bs_kpat *pats;
	size_t npats;
	struct bs_kinfo *info;		/* per compiled rule */
	size_t nexe;			/* policy rules with an exe key: never match */
};

/* compile.c */
/* Compiles p; returns 0, or -errno with the reason in err (too many rules...). */
int bs_kcompile(const struct bs_policy *p, struct bs_ktables *t, char *err, size_t errlen);
/* Frees what bs_kcompile allocated. */
void bs_ktables_free(struct bs_ktables *t);
/* Looks the interface targets up again; returns true if an address changed. */
bool bs_kresolve_ifaces(struct bs_ktables *t);
/* Tokenizes glob pat for comm matching into k (exposed for the tests). */
void bs_kcompile_glob(const char *pat, struct bs_kpat *k);

/* kdecide.c: the program's decision (kernel/kdecide.h) over tables in memory. */
/* Judges bind(from) by the caller in q (uid, proto, comm), v6only for an IPv6
 * socket; fills o. */
void bs_kjudge(const struct bs_ktables *t, struct bs_kquery *q, const struct bs_ksa *from,
	       int v6only, struct bs_kout *o);
/* The program's glob on comm. */
bool bs_kglob(const struct bs_kpat *p, const char *comm);
/* Converts between sockaddrs and the program's endpoints. */
void bs_ksa_from(struct bs_ksa *k, const struct sockaddr_storage *ss);
void bs_ksa_to(struct sockaddr_storage *ss, const struct bs_ksa *k);

/* owners.c: subordinate uid ranges (subuid(5)), counted as their owner's. */
struct bs_kowned {
	__u32 owner, first;
	__u64 count;
};
/* Reads one line (len bytes, no newline) of a subuid file into r: OWNER:FIRST:COUNT,
 * OWNER a uid or a user name that name_uid turns into one (0 if it could).
 * Returns 1 for a range, 0 for a blank or comment line, -EINVAL for a line that
 * is not one, -ENOENT for an owner nobody knows. */
int bs_kowned_line(const char *line, size_t len, struct bs_kowned *r,
		   int (*name_uid)(const char *name, __u32 *uid));
/* Writes the aligned blocks uids [first, first + count) are made of, as the
 * program's owner keys, into out (room for 64); returns how many. */
size_t bs_kowned_blocks(__u32 first, __u64 count, struct bs_kowner_key *out);

/* The kernel backend's file names and defaults. */
#define BS_KPIN_DIR "/sys/fs/bpf/bindshim"
/* Subordinate uids: whose record rate each counts against. */
#define BS_KSUBUID "/etc/subuid"
/* Another pin directory (another instance, the tests): for system, explain, audit. */
#define BS_ENV_KPIN "BINDSHIM_PIN"
#define BS_KCGROUP2_PATHS {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}

struct bs_kopts {
	const char *policy;		/* -p, or BS_SYSTEM_POLICY */
	const char *cgroup;		/* --cgroup, or the cgroup v2 root */
	const char *pin;		/* --pin, or BS_KPIN_DIR */
	bool no_lsm;			/* --no-lsm: do as if the kernel had no BPF LSM */
	const char *log, *log_format;	/* watch: override the policy's log settings */
	long rate;			/* --record-rate (enable, reload), or -1 */
	const char *subuid;		/* --subuid (enable, reload), or BS_KSUBUID */
};

/* system.c (loader.c when built): the verbs; each returns an exit status. */
int bs_ksystem_enable(const struct bs_kopts *o);
int bs_ksystem_reload(const struct bs_kopts *o);
int bs_ksystem_disable(const struct bs_kopts *o);
int bs_ksystem_status(const struct bs_kopts *o);
int bs_ksystem_watch(const struct bs_kopts *o);
/* Loads the live tables of the active generation (for explain --kernel); 0 or -errno. */
int bs_ksystem_tables(const char *pin, struct bs_ktables *t, char *policy, size_t len);
/* A pin path that is not bindshim's: a symbolic link, or a directory another
 * user made (where the bpf file system lets anyone make one). An errno none of
 * the calls made there return. */
#define BS_ENOTOURS ENOTUNIQ
/* Why pins found at a path are not used (another version's maps, a half-done
 * enable or disable, not bindshim's) for rc, a failed open of them; NULL for an
 * ordinary error (nothing pinned, no permission). */
const char *bs_kpins_unusable(int rc);
/* For `audit`: prints the listeners the kernel program placed (text); returns how
 * many. Nothing when kernel mode is off. */
int bs_kaudit_print(const char *pin);
/* Whether this bindshim was built with the kernel backend. */
extern const bool bs_kernel_built;

#endif
