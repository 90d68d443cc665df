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
/* Resolves every bs_real pointer once; safe from any thread and any constructor.
 * Under `bindshim run --enforce`, bind and listen become rawsys.c's. */
void bs_real_init(void);

/* rawsys.c: bind and listen from the shim's own syscall instruction. */
int bs_raw_bind(int fd, const struct sockaddr *addr, socklen_t len);
int bs_raw_listen(int fd, int backlog);

/* Per-thread depth of the shim's start (state.c). A bind or listen reached from
 * inside it (an NSS module, a signal handler) cannot wait for the lock this very
 * thread holds: the constant loopback policy judges it (judge.c). Lookups and
 * client restores pass through. Everything else in the shim calls only bs_real. */
extern __thread int bs_busy __attribute__((tls_model("initial-exec")));

/* state.c: what the shim knows once the policy is loaded (immutable afterwards). */
struct bs_state {
	const struct bs_policy *system;	/* a locked system policy over policy, or NULL */
	const struct bs_policy *policy;
	unsigned needs;			/* BS_NEED_* of both policies */
	struct bs_settings set;		/* log destination, dry run, locked */
	char program[64];
	char exe[PATH_MAX];		/* empty unless a rule matches on exe */
	uid_t uid;			/* real uid at start, and its name ("" if none) */
	char user[64];
};
/* Loads the policy on first use (once, thread-safe, fork-safe); never NULL. */
const struct bs_state *bs_state(void);

/* judge.c: one decision for a bind-like call, logged. */
struct bs_judgement {
	const char *call;		/* "bind", "listen", "getaddrinfo" */
	struct sockaddr_storage from;	/* what the program asked for */
	unsigned proto;			/* BS_PROTO_*, 0: ask the socket */
	bool quiet;			/* log rewrites only (getaddrinfo) */
	struct bs_outcome o;		/* o.to: BS_USE_TO; o.err: BS_FAIL */
};
/* Prepares j for call without touching its address buffers (hot path). */
static inline void bs_judgement_init(struct bs_judgement *j, const char *call)
{
	j->call = call;
	j->proto = 0;
	j->quiet = false;
	j->o.err = 0;
}
/* Decides j->from for socket fd (-1: no socket, j->proto must be set), logs the
 * decision, and says what the caller does next. */
enum bs_verdict bs_judge(int fd, struct bs_judgement *j);
/* Reads the family and BS_PROTO_* of socket fd; returns 0, or -1 if it is not an
 * inet stream or datagram socket (or no socket at all). */
int bs_socket_kind(int fd, int *family, unsigned *proto);

/* fds.c: descriptors known to hold a socket bound through our bind(). */
/* Marks fd as bound through the shim, or as not known to be. */
void bs_fd_mark(int fd, bool is_bound);
/* Tells whether fd is known to be bound (false means: unknown, check). */
bool bs_fd_is_bound(int fd);

/* exec.c: notes the shim's path and BINDSHIM_* values, for the exec hooks to carry
 * into children started with a cleaned environment (from the constructor). */
void bs_exec_capture(void);

/* Fills who with this process (pid, program, real uid and, if unchanged, its name). */
void bs_self(const struct bs_state *st, struct bs_who *who);

/* clients.c: sockets whose bind was rewritten, for client connects and sends. */
/* Remembers that fd's bind of from was rewritten, as outcome o says. */
void bs_clients_note(int fd, const struct sockaddr_storage *from, const struct bs_outcome *o,
		     unsigned proto);
/* Before fd talks to peer (connect/sendto): if fd's bind was rewritten and peer is
 * not loopback, gives fd the address the program asked for. */
void bs_clients_restore(int fd, const struct sockaddr *peer, socklen_t len, const char *call);

#endif
