/*
 * What the shim remembers about descriptors.
 *
 * A mark: the exact address (family, address, port, scope) a judged bind gave the
 * socket on this descriptor, so that listen() keeps the decision made at bind (a
 * decision is made once per socket). listen() always reads the address the socket
 * really has and trusts a mark only if it is that very address: a mark left behind
 * on a reused descriptor number can only ever match a socket sitting exactly where
 * a decision put one. Nothing about a socket's kind is cached: a cache is a thing a
 * program can make lie (a descriptor table shared with a clone, a vfork child,
 * libc's internal close), so the kernel is asked each time it matters.
 *
 * The table is mapped on a process's first mark (a process that never binds pays
 * nothing for it); entries are guarded by a per-entry spin lock, so threads and
 * signal handlers never see half an address.
 *
 * The close-family hooks below tell the log that a descriptor number changed hands
 * (log.c keeps writing records only to the file it opened).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/common/sock.h"
#include "shim/lib/shim.h"

struct mark {
	atomic_flag busy;
	uint16_t family;		/* 0: none */
	uint16_t port;
	uint32_t scope;
	uint8_t addr[16];
};

static void *_Atomic marks;

void *bs_fd_table(void *_Atomic *slot, size_t size, bool create)
{
	void *t = atomic_load_explicit(slot, memory_order_acquire), *fresh, *none = NULL;

	if (t || !create)
		return t == MAP_FAILED ? NULL : t;
	fresh = mmap(NULL, BS_FDS_MAX * size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (atomic_compare_exchange_strong(slot, &none, fresh))
		return fresh == MAP_FAILED ? NULL : fresh;
	if (fresh != MAP_FAILED)
		munmap(fresh, BS_FDS_MAX * size);
	return none == MAP_FAILED ? NULL : none;
}

/* The marks, mapped on first use (create); NULL if there are none. */
static struct mark *table(bool create)
{
	return bs_fd_table(&marks, sizeof(struct mark), create);
}

/* Fills m's address fields from an inet sockaddr (the fields the kernel uses). */
static void canonical(struct mark *m, const struct sockaddr_storage *ss)
{
	memset(m->addr, 0, sizeof(m->addr));
	m->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		m->port = s->sin_port;
		m->scope = 0;
		memcpy(m->addr, &s->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		m->port = s->sin6_port;
		m->scope = s->sin6_scope_id;
		memcpy(m->addr, &s->sin6_addr, 16);
	}
}

void bs_fd_mark(int fd, const struct sockaddr_storage *bound)
{
	struct mark *t = table(true), c;

	if (!t || fd < 0 || fd >= BS_FDS_MAX)
		return;
	canonical(&c, bound);
	bs_spin_lock(&t[fd].busy);
	t[fd].family = c.family;
	t[fd].port = c.port;
	t[fd].scope = c.scope;
	memcpy(t[fd].addr, c.addr, sizeof(c.addr));
	bs_spin_unlock(&t[fd].busy);
}

bool bs_fd_marked(int fd, const struct sockaddr_storage *bound)
{
	struct mark *t = table(false), c;
	bool same;

	if (!t || fd < 0 || fd >= BS_FDS_MAX)
		return false;
	canonical(&c, bound);
	bs_spin_lock(&t[fd].busy);
	same = t[fd].family == c.family && t[fd].port == c.port && t[fd].scope == c.scope &&
	       !memcmp(t[fd].addr, c.addr, sizeof(c.addr));
	bs_spin_unlock(&t[fd].busy);
	return same;
}

int bs_sock_proto(int fd, unsigned *proto)
{
	unsigned p = bs_sock_proto_of(bs_sock_int(fd, SOL_SOCKET, SO_TYPE));

	if (!p)
		return -1;
	*proto = p;
	return 0;
}

/* The hooks: a descriptor number closed or replaced through libc. */

BS_EXPORT int socket(int domain, int type, int protocol)
{
	bs_real_init();
	/* SCTP binds addresses with setsockopt (sctp_bindx) as well as with bind();
	 * an MPTCP socket whose connect failed still reports its old address, and its
	 * listen() then binds the wildcard: both refused as on a kernel without them,
	 * as the supervisor does (programs fall back to TCP). */
	if ((domain == AF_INET || domain == AF_INET6) &&
	    (protocol == IPPROTO_SCTP || protocol == BS_IPPROTO_MPTCP ||
	     (type & 0xf) == SOCK_SEQPACKET)) {
		errno = protocol == IPPROTO_SCTP || protocol == BS_IPPROTO_MPTCP ? EPROTONOSUPPORT
										 : ESOCKTNOSUPPORT;
		return -1;
	}
	return bs_real.socket(domain, type, protocol);
}

BS_EXPORT int close(int fd)
{
	bs_real_init();
	bs_log_forget(fd, fd);
	return bs_real.close(fd);
}

BS_EXPORT int dup2(int old, int new)
{
	bs_real_init();
	if (old != new)
		bs_log_forget(new, new);
	return bs_real.dup2(old, new);
}

BS_EXPORT int dup3(int old, int new, int flags)
{
	bs_real_init();
	bs_log_forget(new, new);
	return bs_real.dup3(old, new, flags);
}

BS_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	bs_real_init();
	/* CLOSE_RANGE_CLOEXEC (4) closes nothing now. */
	if (!(flags & 4))
		bs_log_forget((int)(first > 0x7fffffffu ? 0x7fffffff : first),
			      (int)(last > 0x7fffffffu ? 0x7fffffff : last));
	return bs_real.close_range(first, last, flags);
}

BS_EXPORT void closefrom(int lowfd)
{
	bs_real_init();
	if (lowfd >= 0)
		bs_log_forget(lowfd, 0x7fffffff);
	bs_real.closefrom(lowfd);
}
