/* A socket's family and type, as the shim, the launcher's supervisor and the log
 * ask for them. */
#ifndef BS_SOCK_H
#define BS_SOCK_H

/* Reads the family (SO_DOMAIN) and type (SO_TYPE) of fd; returns 0 or -errno
 * (ENOTSOCK, EBADF). */
int bs_sock_kind(int fd, int *domain, int *type);

#endif
