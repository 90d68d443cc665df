/* The socket calls the policy library, the log and the option copier make (interface
 * lookup, syslog, replacement sockets).
 * The launcher gets libc's (policy/sys_libc.c); the shim gets the real ones behind
 * its own hooks (shim/lib/sys_real.c), since internal code never goes through a hook. */
#ifndef BS_SYS_H
#define BS_SYS_H

#include <sys/socket.h>

/* socket(2), close(2), connect(2) and setsockopt(2). */
int bs_sys_socket(int domain, int type, int protocol);
int bs_sys_close(int fd);
int bs_sys_connect(int fd, const struct sockaddr *addr, socklen_t len);
int bs_sys_setsockopt(int fd, int level, int name, const void *val, socklen_t len);

#endif
