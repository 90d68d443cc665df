/* Log records, written by the shim (for its own process) and by the enforced-mode
 * supervisor (for the processes it watches): the same formats and destinations. */
#ifndef BS_LOG_H
#define BS_LOG_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "policy/policy.h"

/* Where records go. */
struct bs_logger {
	enum bs_log_to to;
	bool json;
	char path[PATH_MAX];		/* BS_LOG_FILE */
	int fd;				/* BS_LOG_STDERR: 2, or the launcher's stderr
					 * inherited as this descriptor */
};

/* Whose call a record is about. */
struct bs_who {
	pid_t pid;
	const char *program;
	uid_t uid;			/* real uid */
	const char *user;		/* its name, or NULL if unknown */
};

struct bs_record {
	const struct bs_who *who;
	const char *call;		/* bind listen getaddrinfo connect sendto exec */
	const char *event;		/* allow rewrite deny log dry-run error warning */
	const char *action;		/* dry-run: what would have happened */
	unsigned proto;
	const struct sockaddr_storage *from, *to, *peer;
	int err;
	const struct bs_policy *policy;
	const struct bs_decision *d;
	const char *message;		/* error, warning */
	const char *exe;		/* warning: the executable it is about, or NULL */
	const char *via;		/* "seccomp" for the supervisor's records, else NULL */
};

/* Opens lg's destination; an unwritable file falls back to syslog (lg->to changes). */
void bs_log_open(struct bs_logger *lg);
/* Makes "stderr" mean the descriptor `bindshim run` handed down in inherited
 * ("FD:DEV:INO", BINDSHIM_LOG_FD), if it is still that file; else fd 2. */
void bs_log_inherit(struct bs_logger *lg, const char *inherited);
/* Forgets any destination descriptor numbered lo..hi: the program is closing or
 * replacing it (the shim's close-family hooks call this). */
void bs_log_forget(int lo, int hi);
/* Tells whether syslog can be reached: 0, or -1 with errno set. */
int bs_log_probe_syslog(void);
/* Writes one record with one write(2) (one send(2) for syslog). */
void bs_log(const struct bs_logger *lg, const struct bs_record *r);

#endif
