/* A socket's family and type, as the shim, the launcher's supervisor and the log
 * ask for them. */
#ifndef BS_SOCK_H
#define BS_SOCK_H

/* IP_LOCAL_PORT_RANGE (Linux 6.3), which older headers lack: the shim and the
 * supervisor refuse it (shim/lib/setsockopt.c says why). */
#define BS_IP_LOCAL_PORT_RANGE 51
/* IPPROTO_MPTCP (Linux 5.6): refused by the shim and the supervisor, as SCTP is
 * (shim/launcher/filter.c says why). */
#define BS_IPPROTO_MPTCP 262

/* Reads the family (SO_DOMAIN) and type (SO_TYPE) of fd; returns 0 or -errno
 * (ENOTSOCK, EBADF). */
int bs_sock_kind(int fd, int *domain, int *type);
/* An int socket option of fd, from the kernel; 0 if it cannot be read. */
int bs_sock_int(int fd, int level, int name);
/* The BS_PROTO_* of a socket type: TCP for stream and seqpacket sockets (SCTP
 * listens like TCP), UDP for datagram ones; 0 for a type that is not judged. */
unsigned bs_sock_proto_of(int type);

#endif
