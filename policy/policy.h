/*
 * bindshim policy library: load and validate a policy file, decide what happens
 * to a bind, and turn a rewrite decision into the address to bind.
 *
 * The library never prints and never exits. Loading allocates; deciding does not
 * (no allocation, no I/O, no lock), so the preloaded shim can call it from any hook.
 */
#ifndef BS_POLICY_H
#define BS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#define BS_POLICY_VERSION 1
#define BS_IFNAMSIZ 16			/* IFNAMSIZ, without pulling in net/if.h */
#define BS_ENDPOINT_MAX 64		/* "[ffff:...:255.255.255.255%scope]:65535" */

enum bs_action { BS_ALLOW, BS_DENY, BS_REWRITE, BS_LOG };

/* Bits of bs_rule.families / bs_rule.protos; 0 means "any". */
#define BS_FAM_V4 1u
#define BS_FAM_V6 2u
#define BS_PROTO_TCP 1u
#define BS_PROTO_UDP 2u

/* Which query fields a policy looks at, so callers fetch only those. */
#define BS_NEED_PROTO 1u
#define BS_NEED_UID 2u
#define BS_NEED_PROGRAM 4u
#define BS_NEED_EXE 8u

enum bs_log_to { BS_LOG_STDERR, BS_LOG_SYSLOG, BS_LOG_FILE };

/* An address as the matcher sees it: v4-mapped IPv6 is folded into IPv4. */
struct bs_addr {
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t bytes[16];		/* IPv4 uses the first 4 */
};

enum bs_addr_kind { BS_ADDR_WILDCARD, BS_ADDR_ANY, BS_ADDR_CIDR };

struct bs_addr_match {
	enum bs_addr_kind kind;
	uint8_t prefix;			/* CIDR only; an exact IP is a full-length prefix */
	struct bs_addr net;
};

struct bs_port_range {
	uint16_t lo, hi;
};

enum bs_target_kind { BS_TO_LOOPBACK, BS_TO_IP, BS_TO_IFACE };

struct bs_target {
	enum bs_target_kind kind;
	struct bs_addr ip;		/* BS_TO_IP */
	char ifname[BS_IFNAMSIZ];	/* BS_TO_IFACE */
};

struct bs_rule {
	char *name;			/* given, or "rule N" */
	unsigned line;
	struct bs_addr_match *addrs;
	size_t naddrs;			/* 0: any address */
	struct bs_port_range *ports;
	size_t nports;			/* 0: any port */
	unsigned families, protos;	/* bit sets, 0: any */
	char **programs;
	size_t nprograms;
	char **exes;
	size_t nexes;
	uid_t *uids;
	size_t nuids;
	enum bs_action action;
	int err;			/* deny: errno value */
	struct bs_target to;		/* rewrite */
	int to_port;			/* rewrite: -1 keeps the port */
};

/* Port index: rules that name ports, bucketed by elementary port interval. */
struct bs_index {
	uint32_t *wide;			/* rules matching any port, ascending */
	size_t nwide;
	uint16_t *starts;		/* first port of each interval, ascending */
	uint32_t *offsets;		/* interval k: lists[offsets[k] .. offsets[k+1]) */
	uint32_t *lists;
	size_t nintervals;
};

struct bs_policy {
	char *file;			/* path as given; NULL for built-in policies */
	bool builtin;
	bool locked;			/* a system policy users cannot loosen */
	enum bs_action default_action;
	int default_err;
	struct {
		enum bs_log_to to;
		char *path;		/* BS_LOG_FILE */
		bool json;
		bool allowed;
	} log;
	struct bs_rule *rules;
	size_t nrules;
	unsigned needs;			/* BS_NEED_* */
	struct bs_index index;
};

struct bs_query {
	struct bs_addr addr;		/* folded: v4-mapped appears as IPv4 */
	uint16_t port;
	unsigned proto;			/* BS_PROTO_*, 0 if unknown */
	const char *program;		/* NULL if unknown */
	const char *exe;		/* NULL if unknown */
	uid_t uid;
	bool v6only;			/* an IPv6 socket with IPV6_V6ONLY set; false:
					 * dual-stack, or not an IPv6 socket */
};

struct bs_decision {
	enum bs_action action;
	int err;			/* deny */
	const struct bs_rule *rule;	/* NULL: the policy default */
};

/* What happens to a call: the deciding policy and rule, and either the address to
 * bind instead (rewrite) or the errno the call fails with (err != 0). */
struct bs_outcome {
	const struct bs_policy *policy;
	struct bs_decision d;
	int err;			/* != 0: the call fails with it */
	bool refused;			/* a user rewrite a locked system policy refused */
	bool kept;			/* allowed as the address d.rule gives a wildcard
					 * bind (a decision is made once) */
	struct sockaddr_storage to;	/* rewrite, when err == 0 */
};

/* load.c */
/* Loads and validates FILE; returns 0 and *out, or -errno with every problem in err. */
int bs_policy_load(const char *file, struct bs_policy **out, char *err, size_t errlen);
/* Opens path for reading if it is a regular file, never waiting on it (a FIFO
 * nobody writes); NULL otherwise, errno EISDIR for a directory and EINVAL for
 * another kind. */
FILE *bs_open_regular(const char *path);
/* Frees a policy from any bs_policy_* constructor; NULL is fine. */
void bs_policy_free(struct bs_policy *p);

/* lint.c */
/* Writes a "FILE:LINE: warning: message" line into buf for each rewrite whose output
 * another rewrite or deny rule matches (that rule never applies to it: a decision is
 * made once). Returns the number of warnings, 0 for none. Prints nothing. */
int bs_policy_lint(const struct bs_policy *p, char *buf, size_t len);

/* builtin.c */
/* Builds the built-in loopback-only policy; returns 0 or -ENOMEM. */
int bs_policy_builtin_loopback(struct bs_policy **out);
/* The built-in loopback-only policy as a constant (never free it): for callers that
 * may not allocate or lock. Decides exactly like bs_policy_builtin_loopback's. */
const struct bs_policy *bs_policy_static_loopback(void);
/* Builds the built-in "wildcard -> TARGET" policy; returns 0 or -EINVAL with err set. */
int bs_policy_builtin_to(const char *target, struct bs_policy **out, char *err, size_t errlen);

/* decide.c */
/* Decides a bind; first matching rule wins. Allocates nothing, does no I/O. */
void bs_decide(const struct bs_policy *p, const struct bs_query *q, struct bs_decision *d);
/* Builds the port index of p; returns 0 or -ENOMEM. */
int bs_index_build(struct bs_policy *p);
/* Frees the port index of p. */
void bs_index_free(struct bs_index *ix);

/* outcome.c */
/* Decides q (asked address from) under p, with the rewrite address or errno. */
void bs_resolve(const struct bs_policy *p, const struct bs_query *q,
		const struct sockaddr_storage *from, struct bs_outcome *o);
/* The same under a locked system policy sys (NULL: none) and a user's policy usr
 * (NULL: none, if sys is given); the rule is in outcome.c. */
void bs_resolve_layered(const struct bs_policy *sys, const struct bs_policy *usr,
			const struct bs_query *q, const struct sockaddr_storage *from,
			struct bs_outcome *o);
/* What happens to bind(from): bs_resolve_layered, except that an address which is
 * exactly what the policy gives a wildcard bind on the same port (a getaddrinfo
 * result the shim rewrote, a bind the shim or another layer already rewrote) is
 * kept: a decision is made once. Every layer and `explain` decide through here. */
void bs_resolve_bind(const struct bs_policy *sys, const struct bs_policy *usr,
		     const struct bs_query *q, const struct sockaddr_storage *from,
		     struct bs_outcome *o);
/* Tells whether the call fails (denied, or a rewrite that cannot be done). */
bool bs_outcome_fails(const struct bs_outcome *o);

/* match.c */
/* Tells whether rule r matches q. */
bool bs_rule_matches(const struct bs_rule *r, const struct bs_query *q);
/* fnmatch(3) without flags, locale-free and allocation-free; true on match. */
bool bs_glob(const char *pattern, const char *s);
/* Where the bracket expression whose '[' is at pat[0] ends, as bs_glob reads it:
 * the index just past its ']', or 0 if it is not closed. */
size_t bs_glob_bracket_end(const char *pat);

/* addr.c */
/* Parses an IPv4 or IPv6 literal strictly; returns 0 or -EINVAL. */
int bs_addr_parse(const char *s, struct bs_addr *a);
/* Parses "wildcard", "any", an IP or a CIDR; returns 0 or -EINVAL. */
int bs_addr_match_parse(const char *s, struct bs_addr_match *m);
/* Folds a v4-mapped IPv6 address into IPv4 in place. */
void bs_addr_fold(struct bs_addr *a);
/* Tells whether a (folded) is 0.0.0.0 or ::. */
bool bs_addr_is_wildcard(const struct bs_addr *a);
/* Tells whether a (folded) is in 127.0.0.0/8 or is ::1. */
bool bs_addr_is_loopback(const struct bs_addr *a);
/* Parses a port "22" or range "8000-8999"; returns 0 or -EINVAL. */
int bs_port_range_parse(const char *s, struct bs_port_range *r);
/* Parses a decimal integer in [lo, hi] with nothing after it; returns 0 or -EINVAL. */
int bs_parse_long(const char *s, long lo, long hi, long *out);

/* sockaddr.c */
/* Copies an AF_INET/AF_INET6 sockaddr of length len into ss if len is valid for its
 * family; returns 0, or -EINVAL (bad length) or -EAFNOSUPPORT (other family). */
int bs_sockaddr_copy(const struct sockaddr *sa, socklen_t len, struct sockaddr_storage *ss);
/* bs_sockaddr_copy for a socket of family domain: Linux also takes AF_UNSPEC with
 * INADDR_ANY on an IPv4 socket as AF_INET (an old compatibility rule), and so does
 * this, filling ss as AF_INET. */
int bs_sockaddr_copy_for(const struct sockaddr *sa, socklen_t len, int domain,
			 struct sockaddr_storage *ss);
/* Fills the matcher's view of an inet sockaddr (folded address and port). */
void bs_query_set_sockaddr(struct bs_query *q, const struct sockaddr_storage *ss);
/* Formats an IPv4 (4 bytes) or IPv6 (16 bytes) address as inet_ntop(3) does,
 * without stdio; returns out. */
#define BS_IP_MAX 46
char *bs_ip_format(int family, const void *bytes, char out[BS_IP_MAX]);
/* Formats "1.2.3.4:80" or "[::1]:80" into buf (as inet_ntop writes addresses);
 * returns buf. */
char *bs_endpoint_format(const struct sockaddr_storage *ss, char *buf, size_t len);
/* Parses "1.2.3.4:80" or "[::1]:80"; returns 0 or -EINVAL. */
int bs_endpoint_parse(const char *s, struct sockaddr_storage *ss);
/* Length of the sockaddr for ss's family. */
socklen_t bs_sockaddr_len(const struct sockaddr_storage *ss);
/* The port of an inet sockaddr, in host order. */
uint16_t bs_sockaddr_port(const struct sockaddr_storage *ss);
/* A hash of where an inet sockaddr binds (address, port, scope); never 0. */
uint32_t bs_sockaddr_hash(const struct sockaddr_storage *ss);

/* target.c */
/* Parses a rewrite target ("loopback", an IP, "interface:NAME"); returns 0 or -EINVAL. */
int bs_target_parse(const char *s, struct bs_target *t);
/* Computes the address to bind for a rewrite of in by rule r into out; resolves
 * interfaces now. v6only: in is on an IPv6 socket with IPV6_V6ONLY set (else the
 * IPv6 wildcard's loopback is ::ffff:127.0.0.1, reachable from 127.0.0.1 too).
 * Returns 0, or -EADDRNOTAVAIL when the target has no address of the socket's
 * family. Async-signal-safe; allocates nothing. */
int bs_rewrite(const struct bs_rule *r, const struct sockaddr_storage *in, bool v6only,
	       struct sockaddr_storage *out);
/* Tells whether a rewrite of ss depends on IPV6_V6ONLY (ss is the IPv6 "::"). */
bool bs_sockaddr_is_dualstack_wildcard(const struct sockaddr_storage *ss);
/* Tells whether two inet sockaddrs name the same address, port and scope. */
bool bs_sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* errnames.c */
/* Returns the errno value named name ("EACCES"), or 0 if unknown. */
int bs_errno_from_name(const char *name);
/* Returns the name of errno value e ("EACCES"), or "E?" if unknown. */
const char *bs_errno_name(int e);

/* describe.c */
/* Returns "allow", "deny", "rewrite" or "log". */
const char *bs_action_name(enum bs_action a);
/* Describes what decided d: `rule "NAME" FILE:LINE`, `rule "NAME" builtin`,
 * "default" or "builtin". */
char *bs_decision_source(const struct bs_policy *p, const struct bs_decision *d,
			 char *buf, size_t len);

#endif
