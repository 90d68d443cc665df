/*
 * libbindshim.so internals. Each hooked call has three layers: the exported
 * libc-named function (thin), bs_<call>() with the logic, and bs_real.<call>, the
 * next definition (libc's). Internal code calls bs_real only, never a hook.
 */
#ifndef BS_SHIM_H
#define BS_SHIM_H

#include <limits.h>
#include <netdb.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "policy/policy.h"
#include "shim/common/log.h"
#include "shim/common/settings.h"
#include "shim/common/verdict.h"

#define BS_EXPORT __attribute__((visibility("default")))

/* real.c: the definitions our hooks hide. */
struct bs_real {
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	int (*socket)(int, int, int);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*setuid)(uid_t);
	int (*setreuid)(uid_t, uid_t);
	int (*setresuid)(uid_t, uid_t, uid_t);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			   const posix_spawnattr_t *, char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			    const posix_spawnattr_t *, char *const[], char *const[]);
};
extern struct bs_real bs_real;
/* Resolves every bs_real pointer once; safe from any thread and any constructor. */
void bs_real_init(void);
/* bind and listen as the kernel does them: natively they never fail with EINTR,
 * but under the supervisor a signal can interrupt them while they wait for its
 * answer (a handler without SA_RESTART would then see EINTR), so they are tried
 * again. */
int bs_kernel_bind(int fd, const struct sockaddr *sa, socklen_t len);
int bs_kernel_listen(int fd, int backlog);

/* Per-thread depth of the shim's start (state.c). A bind or listen reached from
 * inside it (an NSS module, a signal handler) cannot wait for the lock this very
 * thread holds: the constant loopback policy judges it (judge.c). Lookups and
 * client restores pass through. Everything else in the shim calls only bs_real. */
extern __thread int bs_busy __attribute__((tls_model("initial-exec")));

/* state.c: what the shim knows once the policy is loaded (immutable afterwards). */
struct bs_state {
	const struct bs_policy *system;	/* a locked system policy over policy, or NULL */
	const struct bs_policy *policy;	/* NULL under a locked system policy alone */
	bool supervised;		/* `bindshim run` supervises this process too */
	unsigned needs;			/* BS_NEED_* of both policies */
	struct bs_settings set;		/* log destination, dry run, locked */
	const char *program;		/* taken at start (state.c) */
	char exe[PATH_MAX];		/* empty unless a rule matches on exe */
	bool uid_known;			/* not in a user namespace of its own */
};
/* Loads the policy on first use (once, thread-safe, fork-safe); never NULL. */
const struct bs_state *bs_state(void);

/* bind.c: the judged bind(), also for the calls libc would bind inside itself. */
int bs_bind(int fd, const struct sockaddr *sa, socklen_t len);

/* judge.c: one decision for a bind-like call, logged. */
struct bs_judgement {
	const char *call;		/* "bind", "listen", "getaddrinfo" */
	struct sockaddr_storage from;	/* what the program asked for */
	unsigned proto;			/* BS_PROTO_*, 0: ask the socket */
	bool quiet;			/* decide only, log nothing (getaddrinfo) */
	bool listen;			/* listen(): acts only on a TCP socket not
					 * listening yet (asked only if it would act) */
	struct bs_outcome o;		/* o.to: BS_USE_TO; o.err: BS_FAIL */
};
/* Prepares j for call without touching its address buffers (hot path). */
static inline void bs_judgement_init(struct bs_judgement *j, const char *call)
{
	j->call = call;
	j->proto = 0;
	j->quiet = false;
	j->listen = false;
	j->o.err = 0;
}
/* Decides j->from for socket fd (-1: no socket, j->proto must be set), logs the
 * decision, and says what the caller does next. */
enum bs_verdict bs_judge(int fd, struct bs_judgement *j);
/* Tells whether the hook may act on fd as j says: the socket is one we judge and,
 * for listen(), a TCP socket not listening yet (one handed over listening keeps its
 * place). bs_judge asks it only once a decision would act, so an allowed call pays
 * nothing. */
bool bs_judge_may_act(int fd, struct bs_judgement *j);
/* Writes the record of a decision j that a caller carried out itself. */
void bs_judge_record(const struct bs_judgement *j, const char *event);

/* fds.c: marks of the decisions binds made, and socket facts asked of the kernel. */
/* The shim's per-descriptor tables (marks here, client entries in clients.c):
 * BS_FDS_MAX entries of size bytes, mapped in *slot on a process's first use
 * (create), so a process that never binds pays nothing. NULL if there is none. */
#define BS_FDS_MAX 65536
void *bs_fd_table(void *_Atomic *slot, size_t size, bool create);
/* A per-entry spin lock, held for a copy: entries change hands when descriptor
 * numbers do, between threads (and signal handlers) the compiler knows nothing of. */
static inline void bs_spin_lock(atomic_flag *f)
{
	while (atomic_flag_test_and_set_explicit(f, memory_order_acquire))
		;
}

static inline void bs_spin_unlock(atomic_flag *f)
{
	atomic_flag_clear_explicit(f, memory_order_release);
}
/* Reads BS_PROTO_* of socket fd (SOCK_TYPE); returns 0, or -1 if it is not a
 * stream, seqpacket or datagram socket. */
int bs_sock_proto(int fd, unsigned *proto);
/* Marks fd as put at bound by a decision of the shim's (bound has a port). */
void bs_fd_mark(int fd, const struct sockaddr_storage *bound);
/* Tells whether fd's mark is for exactly bound. */
bool bs_fd_marked(int fd, const struct sockaddr_storage *bound);

/* move.c: replaces socket fd by a fresh socket of the same kind, options, status
 * flags and close-on-exec flag, bound to to (NULL: left unbound). Returns -errno,
 * or a value to give bs_socket_replaced once the socket listens. */
int bs_socket_replace(int fd, const struct sockaddr_storage *to);
void bs_socket_replaced(int fd, int how);

/* getaddrinfo.c: if ss is a result the shim gave a passive lookup in place of
 * what it asked for, sets *asked to that and returns true. */
bool bs_lookup_produced(const struct sockaddr_storage *ss, struct sockaddr_storage *asked);

/* exec.c: notes the shim's path and BINDSHIM_* values, for the exec hooks to carry
 * into children started with a cleaned environment (from the constructor). */
void bs_exec_capture(void);

/* uncovered.c: what a preloaded library cannot reach, as the exec hooks start it. */
/* Records one warning if the executable an exec family call names (path relative
 * to dirfd, AT_EMPTY_PATH in flags for dirfd itself; looked up in PATH if search)
 * is static, Go, setuid/setgid or has file capabilities, unless this process (or,
 * from a vfork child, its parent) said so already. Keeps errno; allocates nothing
 * here. */
void bs_uncovered(int dirfd, const char *path, int flags, bool search);

/* who.c: who records are about. */
/* Fills who with this process (pid, program, real uid, and its name where shown). */
void bs_self(const struct bs_state *st, struct bs_who *who);
/* Forgets the cached pid and uid (a fork child). */
void bs_who_forget(void);
/* The uid rules see: the real uid, or (uid_t)-1 (matching no rule) where unknown. */
uid_t bs_query_uid(const struct bs_state *st);

/* clients.c: sockets whose port-0 bind was rewritten, for client connects and sends. */
/* Remembers that fd's port-0 bind of from was rewritten, as outcome o says. */
void bs_clients_note(int fd, const struct sockaddr_storage *from, const struct bs_outcome *o,
		     unsigned proto);
/* Before fd talks to peer (connect/sendto): if fd's port-0 bind was rewritten and
 * peer is not loopback, gives fd a fresh socket as a client gets (clients.c). */
void bs_clients_restore(int fd, const struct sockaddr *peer, socklen_t len, const char *call);
/* Tells whether fd has a note (cheap: for hot paths). */
bool bs_clients_noted(int fd);
/* Tells whether a sockaddr is an inet peer that is not loopback. */
bool bs_peer_is_remote(const struct sockaddr *peer, socklen_t len);

#endif
