/*
 * What the shim knows about each descriptor, in two tables mapped on a process's
 * first judged bind (a process that never binds pays nothing for them):
 *
 * - kind: the family and type socket() gave the socket (and IPV6_V6ONLY once the
 *   program set it or the kernel was asked), so a judged bind needs no getsockopt.
 *   Forgotten when the number is closed or replaced through libc; unknown means:
 *   ask the kernel (and remember the answer).
 * - mark: a hash of the address a judged bind gave the socket, so that listen()
 *   keeps the decision made at bind (a decision is made once per socket). listen()
 *   always reads the address the socket really has and trusts a mark only if that
 *   address hashes to it: a stale mark can never let a socket listen where no
 *   decision put it.
 *
 * Entries are single atomic words: threads, signal handlers and vfork children
 * (which share the parent's memory) read and write them without locks.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/common/sock.h"
#include "shim/lib/shim.h"

#define BS_FDS_MAX 65536

/* kind bits */
#define K_KNOWN 0x01u
#define K_INET6 0x02u
#define K_STREAM 0x04u
#define K_DGRAM 0x08u
#define K_V6ONLY_KNOWN 0x10u
#define K_V6ONLY 0x20u
#define K_INET 0x40u

static _Atomic(void *) kinds, marks;

/* Maps a table of n zeroed elements of size sz on first use; NULL if that fails
 * (then nothing is cached, and every question goes to the kernel). */
static void *table(_Atomic(void *) *slot, size_t sz, bool create)
{
	void *t = atomic_load_explicit(slot, memory_order_acquire), *fresh, *expected = NULL;

	if (t || !create)
		return t == MAP_FAILED ? NULL : t;
	fresh = mmap(NULL, BS_FDS_MAX * sz, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (atomic_compare_exchange_strong_explicit(slot, &expected, fresh, memory_order_acq_rel,
						    memory_order_acquire))
		return fresh == MAP_FAILED ? NULL : fresh;
	if (fresh != MAP_FAILED)
		munmap(fresh, BS_FDS_MAX * sz);
	return expected == MAP_FAILED ? NULL : expected;
}

static unsigned char *kind_table(bool create)
{
	return table(&kinds, 1, create);
}

static uint32_t *mark_table(bool create)
{
	return table(&marks, sizeof(uint32_t), create);
}

static bool in_range(int fd)
{
	return fd >= 0 && fd < BS_FDS_MAX;
}

static unsigned get_kind(int fd)
{
	unsigned char *k = kind_table(false);

	return k && in_range(fd) ? __atomic_load_n(&k[fd], __ATOMIC_RELAXED) : 0;
}

/* Stores v for fd; create: map the table if it is not there yet. */
static void put_kind(int fd, unsigned v, bool create)
{
	unsigned char *k = kind_table(create);

	if (k && in_range(fd))
		__atomic_store_n(&k[fd], (unsigned char)v, __ATOMIC_RELAXED);
}

/* Encodes a socket()'s domain and type. */
static unsigned encode(int domain, int type)
{
	unsigned v = K_KNOWN;

	type &= 0xf;		/* SOCK_NONBLOCK and SOCK_CLOEXEC are not the type */
	if (domain == AF_INET || domain == AF_INET6)
		v |= K_INET;
	if (domain == AF_INET6)
		v |= K_INET6;
	/* SOCK_SEQPACKET (SCTP) listens like a stream socket. */
	if (type == SOCK_STREAM || type == SOCK_SEQPACKET)
		v |= K_STREAM;
	else if (type == SOCK_DGRAM)
		v |= K_DGRAM;
	return v;
}

int bs_fd_kind(int fd, int *family, unsigned *proto)
{
	unsigned v = get_kind(fd);

	if (!(v & K_KNOWN)) {
		int domain, type;

		if (bs_sock_kind(fd, &domain, &type) < 0)
			return -1;
		v = encode(domain, type);
		put_kind(fd, v, true);
	}
	if (!(v & K_INET) || !(v & (K_STREAM | K_DGRAM)))
		return -1;
	*family = v & K_INET6 ? AF_INET6 : AF_INET;
	*proto = v & K_STREAM ? BS_PROTO_TCP : BS_PROTO_UDP;
	return 0;
}

bool bs_fd_v6only(int fd)
{
	unsigned v = get_kind(fd);
	int on = 0;
	socklen_t len = sizeof(on);

	if (v & K_V6ONLY_KNOWN)
		return v & K_V6ONLY;
	if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len) < 0)
		return false;
	bs_fd_set_v6only(fd, on);
	return on;
}

void bs_fd_set_v6only(int fd, bool on)
{
	unsigned v = get_kind(fd);

	/* Only on top of a known kind: an unknown one is asked for whole later. */
	if (v & K_KNOWN)
		put_kind(fd, (v & ~K_V6ONLY) | K_V6ONLY_KNOWN | (on ? K_V6ONLY : 0), false);
}

void bs_fd_forget(int fd)
{
	if (get_kind(fd))
		put_kind(fd, 0, false);
}

void bs_fd_mark(int fd, const struct sockaddr_storage *bound)
{
	uint32_t *m = mark_table(true);

	if (m && in_range(fd))
		__atomic_store_n(&m[fd], bs_sockaddr_hash(bound), __ATOMIC_RELAXED);
}

bool bs_fd_marked(int fd, const struct sockaddr_storage *bound)
{
	uint32_t *m = mark_table(false);

	return m && in_range(fd) && __atomic_load_n(&m[fd], __ATOMIC_RELAXED) == bs_sockaddr_hash(bound);
}

/* The hooks below keep kinds true when numbers change hands through libc. */

BS_EXPORT int socket(int domain, int type, int protocol)
{
	int fd;

	bs_real_init();
	/* SCTP binds addresses with setsockopt (sctp_bindx) as well as with bind():
	 * refused as on a kernel without SCTP, as the supervisor does. */
	if ((domain == AF_INET || domain == AF_INET6) &&
	    (protocol == IPPROTO_SCTP || (type & 0xf) == SOCK_SEQPACKET)) {
		errno = protocol == IPPROTO_SCTP ? EPROTONOSUPPORT : ESOCKTNOSUPPORT;
		return -1;
	}
	fd = bs_real.socket(domain, type, protocol);
	if (fd >= 0)
		put_kind(fd, encode(domain, type), false);
	return fd;
}

BS_EXPORT int close(int fd)
{
	bs_real_init();
	bs_fd_forget(fd);
	return bs_real.close(fd);
}

BS_EXPORT int dup(int old)
{
	int fd;

	bs_real_init();
	fd = bs_real.dup(old);
	if (fd >= 0)
		put_kind(fd, get_kind(old), false);
	return fd;
}

BS_EXPORT int dup2(int old, int new)
{
	int fd;

	bs_real_init();
	fd = bs_real.dup2(old, new);
	if (fd >= 0 && fd != old)
		put_kind(fd, get_kind(old), false);
	return fd;
}

BS_EXPORT int dup3(int old, int new, int flags)
{
	int fd;

	bs_real_init();
	fd = bs_real.dup3(old, new, flags);
	if (fd >= 0)
		put_kind(fd, get_kind(old), false);
	return fd;
}

/* Forgets every kind in [first, last]. */
static void forget_range(unsigned first, unsigned last)
{
	if (!kind_table(false))
		return;
	for (unsigned fd = first; fd <= last && fd < BS_FDS_MAX; fd++)
		put_kind((int)fd, 0, false);
}

BS_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	bs_real_init();
	/* CLOSE_RANGE_CLOEXEC (4) closes nothing now. */
	if (!(flags & 4))
		forget_range(first, last);
	return bs_real.close_range(first, last, flags);
}

BS_EXPORT void closefrom(int lowfd)
{
	bs_real_init();
	if (lowfd >= 0)
		forget_range((unsigned)lowfd, ~0u);
	bs_real.closefrom(lowfd);
}
