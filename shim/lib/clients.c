/*
 * Clients that bind to port 0 before they connect or send.
 *
 * bind() cannot tell a client from a server, so a bind to port 0 is rewritten like
 * any other (0.0.0.0:0 becomes 127.0.0.1:0), and a socket bound to loopback cannot
 * reach another host. When such a socket connects or sends to a peer that is not
 * loopback, it gets what a client has without the bind: a fresh, unbound socket
 * of the same kind and options on the same descriptor, which the kernel gives a
 * source address and an ephemeral port as it connects or sends. A bind to a
 * specific address is made again on it, with port 0 (the program's choice of
 * source address), except under the supervisor, which would judge that bind like
 * any other. Only port-0 binds: a fixed port is a server's, and its bind stays
 * rewritten. Nothing a client becomes can serve where the policy said no: port 0
 * locks no port, so a connect that fails leaves the socket unbound again, and
 * listen() judges it then (listen.c).
 *
 * The table is indexed by descriptor and mapped on the first note. An entry is
 * used only while the socket is still bound where the rewrite put it (getsockname),
 * so a descriptor number closed and reused behind libc's back is never mistaken
 * for the rewritten socket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "shim/lib/shim.h"

struct client {
	atomic_bool noted;		/* a hint, read without the lock: an entry is here */
	atomic_flag busy;		/* held while the entry is read or written */
	struct sockaddr_in6 from;	/* what the program asked (IPv4 fits too) */
	struct sockaddr_in6 put;	/* where the rewrite put it (port 0) */
	const struct bs_policy *policy;	/* what rewrote it, for the record */
	const struct bs_rule *rule;
	unsigned char proto;
};

static void *_Atomic table;

/* The table, mapped on first use; NULL if there is none. */
static struct client *clients(bool create)
{
	return bs_fd_table(&table, sizeof(struct client), create);
}

/* Copies an inet sockaddr into a sockaddr_in6-sized slot, and back. */
static void store(struct sockaddr_in6 *slot, const struct sockaddr_storage *ss)
{
	memset(slot, 0, sizeof(*slot));
	memcpy(slot, ss, bs_sockaddr_len(ss));
}

static void load(struct sockaddr_storage *ss, const struct sockaddr_in6 *slot)
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, slot, slot->sin6_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(*slot));
}

void bs_clients_note(int fd, const struct sockaddr_storage *from, const struct bs_outcome *o,
		     unsigned proto)
{
	struct client *t = clients(true), *c;

	if (!t || fd < 0 || fd >= BS_FDS_MAX)
		return;
	c = &t[fd];
	bs_spin_lock(&c->busy);
	store(&c->from, from);
	store(&c->put, &o->to);
	c->policy = o->policy;
	c->rule = o->d.rule;
	c->proto = (unsigned char)proto;
	atomic_store_explicit(&c->noted, true, memory_order_relaxed);
	bs_spin_unlock(&c->busy);
}

bool bs_peer_is_remote(const struct sockaddr *peer, socklen_t len)
{
	struct sockaddr_storage p;
	struct bs_query q;

	if (!peer || bs_sockaddr_copy(peer, len, &p))
		return false;
	bs_query_set_sockaddr(&q, &p);
	return !bs_addr_is_loopback(&q.addr);
}

/* Tells whether fd is still bound to the address put (any port). */
static bool still_put(int fd, const struct sockaddr_storage *put)
{
	struct sockaddr_storage now;
	socklen_t len = sizeof(now);

	if (getsockname(fd, (struct sockaddr *)&now, &len) < 0 || now.ss_family != put->ss_family)
		return false;
	if (now.ss_family == AF_INET)
		return ((struct sockaddr_in *)&now)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)put)->sin_addr.s_addr;
	return !memcmp(&((struct sockaddr_in6 *)&now)->sin6_addr,
		       &((const struct sockaddr_in6 *)put)->sin6_addr, 16);
}

/* Tells whether an inet sockaddr is a wildcard. */
static bool is_wildcard(const struct sockaddr_storage *ss)
{
	struct bs_query q;

	bs_query_set_sockaddr(&q, ss);
	return bs_addr_is_wildcard(&q.addr);
}

/* The slow part of bs_clients_restore, for a descriptor that has an entry. */
static void restore(struct client *c, int fd, const struct sockaddr *peer, socklen_t plen,
		    const char *call)
{
	struct sockaddr_storage p, from, put;
	struct bs_decision d = {.action = BS_REWRITE};
	struct bs_who who;
	struct bs_record r = {.who = &who, .call = call, .event = "allow", .from = &from,
			      .peer = &p, .d = &d};
	const struct bs_state *st;
	int saved = errno, rc;

	if (bs_busy || bs_sockaddr_copy(peer, plen, &p))
		return;
	bs_spin_lock(&c->busy);
	load(&from, &c->from);
	load(&put, &c->put);
	d.rule = c->rule;
	r.policy = c->policy;
	r.proto = c->proto;
	/* Used now, or another socket's leftover: either way the entry is done. */
	atomic_store_explicit(&c->noted, false, memory_order_relaxed);
	bs_spin_unlock(&c->busy);
	if (!still_put(fd, &put)) {
		errno = saved;
		return;
	}
	st = bs_state();
	rc = bs_socket_replace(fd, is_wildcard(&from) || st->supervised ? NULL : &from);
	if (rc < 0) {
		r.event = "error";
		r.message = "could not give a client socket its own address back";
	} else {
		bs_socket_replaced(fd, rc);	/* a client never listens: now */
	}
	bs_self(st, &who);
	bs_log(&st->set.logger, &r);
	errno = saved;
}

bool bs_clients_noted(int fd)
{
	struct client *t = clients(false);

	/* Every connect and send asks: two loads unless this descriptor's port-0
	 * bind was rewritten. */
	return t && fd >= 0 && fd < BS_FDS_MAX &&
	       atomic_load_explicit(&t[fd].noted, memory_order_relaxed);
}

void bs_clients_restore(int fd, const struct sockaddr *peer, socklen_t plen, const char *call)
{
	if (bs_clients_noted(fd) && bs_peer_is_remote(peer, plen))
		restore(&clients(false)[fd], fd, peer, plen, call);
}
