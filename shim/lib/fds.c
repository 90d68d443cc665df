/*
 * Which descriptors hold a socket that went through our bind(): listen() needs no
 * getsockname() for those (a syscall, most of the shim's cost on a bind+listen).
 *
 * The mark is set only by a successful bind() through the shim and cleared whenever
 * the descriptor number is given to something else through libc: socket(), close(),
 * close_range(), and the dup family copy the mark of the source. A descriptor
 * without a mark is checked the slow, exact way; so a wrong mark needs a bound
 * socket closed behind libc's back (fclose() of an fdopen()ed socket, a raw
 * syscall) and its number reused, without socket() or dup(), by a never-bound inet
 * stream socket that then listens.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "shim/lib/shim.h"

#define BS_FDS_MAX 65536

static atomic_uchar bound[BS_FDS_MAX];

static void set(int fd, unsigned char v)
{
	if (fd >= 0 && fd < BS_FDS_MAX)
		atomic_store_explicit(&bound[fd], v, memory_order_relaxed);
}

static unsigned char get(int fd)
{
	return fd >= 0 && fd < BS_FDS_MAX ? atomic_load_explicit(&bound[fd], memory_order_relaxed) : 0;
}

void bs_fd_mark(int fd, bool is_bound)
{
	set(fd, is_bound);
}

bool bs_fd_is_bound(int fd)
{
	return get(fd) == 1;
}

BS_EXPORT int socket(int domain, int type, int protocol)
{
	int fd;

	bs_real_init();
	fd = bs_real.socket(domain, type, protocol);
	set(fd, 0);
	return fd;
}

BS_EXPORT int close(int fd)
{
	bs_real_init();
	set(fd, 0);
	return bs_real.close(fd);
}

BS_EXPORT int dup(int old)
{
	int fd;

	bs_real_init();
	fd = bs_real.dup(old);
	set(fd, get(old));
	return fd;
}

BS_EXPORT int dup2(int old, int new)
{
	int fd;

	bs_real_init();
	set(new, 0);
	fd = bs_real.dup2(old, new);
	if (fd >= 0)
		set(fd, get(old));
	return fd;
}

BS_EXPORT int dup3(int old, int new, int flags)
{
	int fd;

	bs_real_init();
	set(new, 0);
	fd = bs_real.dup3(old, new, flags);
	if (fd >= 0)
		set(fd, get(old));
	return fd;
}

BS_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	bs_real_init();
	for (unsigned int fd = first; fd <= last && fd < BS_FDS_MAX; fd++)
		set((int)fd, 0);
	return bs_real.close_range(first, last, flags);
}
