/* The socket calls the policy library and the log make (interface lookup, syslog).
 * The launcher gets libc's (policy/sys_libc.c); the shim gets the real ones behind
 * its own hooks (shim/lib/sys_real.c), since internal code never goes through a hook. */
#ifndef BS_SYS_H
#define BS_SYS_H

#include <sys/socket.h>

/* socket(2), close(2) and connect(2). */
int bs_sys_socket(int domain, int type, int protocol);
int bs_sys_close(int fd);
int bs_sys_connect(int fd, const struct sockaddr *addr, socklen_t len);

#endif
