/* The launcher's own bind, listen and execve, as plain system calls. With the shim
 * in /etc/ld.so.preload, libbindshim.so is loaded into bindshim too: its hooks
 * would judge again the binds the supervisor makes for the command (as a program
 * named "bindshim", under rules meant for others) and edit the environment the
 * command is started with. */
#ifndef BS_RAW_H
#define BS_RAW_H

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int bs_raw_bind(int fd, const void *addr, socklen_t len)
{
	return (int)syscall(SYS_bind, fd, addr, len);
}

static inline int bs_raw_listen(int fd, int backlog)
{
	return (int)syscall(SYS_listen, fd, backlog);
}

static inline int bs_raw_execve(const char *path, char *const argv[], char *const envp[])
{
	return (int)syscall(SYS_execve, path, argv, envp);
}

#endif
