/* bindshim audit: the sockets it lists, where each is bound, and what keeps the
 * process that holds it under the policy. */
#ifndef BS_AUDIT_H
#define BS_AUDIT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "policy/policy.h"

/* What covers a socket, as a bitmask: the sources, in the order they are printed. */
enum bs_cover {
	BS_COVER_SHIM = 1u << 0,	/* libbindshim.so is mapped in the process */
	BS_COVER_SUPERVISED = 1u << 1,	/* a `bindshim run` supervisor filters its binds */
	BS_COVER_KERNEL = 1u << 2,	/* a kernel (BPF) backend placed the socket */
	BS_COVER_UNKNOWN = 1u << 7,	/* the process could not be read: not a source */
};

/* One listening TCP socket, or one bound, unconnected UDP or UDP-Lite socket. */
struct bs_audit_sock {
	unsigned proto;			/* BS_PROTO_*: what the policy sees (UDP-Lite is udp) */
	const char *proto_name;		/* "tcp", "udp", "udplite" */
	int ipproto;			/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE */
	struct sockaddr_storage local;	/* without scope: the policy judges the address */
	unsigned ifindex;		/* the device it is bound to (a scope), 0 if none */
	uid_t uid;
	unsigned long inode;
	pid_t pid;			/* 0: no visible process holds it */
	char program[64];
	char exe[PATH_MAX];
	char user[64];
	unsigned cover;			/* enum bs_cover bits */
	bool exposed;
	struct bs_outcome o;
};

/* coverage.c: what covers s (its process, found in /proc; or the socket itself). */
unsigned bs_audit_coverage(const struct bs_audit_sock *s);
/* Writes cover for the text table: "shim", "shim+supervised", "none", or "?" when
 * the process could not be read. Returns buf. */
char *bs_cover_text(unsigned cover, char *buf, size_t len);
/* Writes cover as a JSON value: ["shim","supervised"], [] for none, null when the
 * process could not be read. Returns buf. */
char *bs_cover_json(unsigned cover, char *buf, size_t len);

/* scope.c: fills ifindex of each socket bound to a device (a link-local address's
 * scope, or SO_BINDTODEVICE), from the kernel's socket diagnostics; where those are
 * not available, a link-local address gets the one interface that holds it. */
void bs_audit_scopes(struct bs_audit_sock *v, size_t n);
struct inet_diag_msg;
/* Asks the kernel's socket diagnostics for the listening (TCP) or bound, unconnected
 * (UDP, UDP-Lite) sockets of family and ipproto and calls fn(msg, arg) on each;
 * returns 0, or -1 if it cannot tell (kernel mode's audit uses it too). */
int bs_diag_dump(int family, int ipproto, void (*fn)(const struct inet_diag_msg *, void *),
		 void *arg);

#endif
