/* Carrying a socket's options over to a replacement socket: the shim and the
 * supervisor replace sockets (a client's, or one moved to where the policy puts
 * it), and the program must not notice beyond the address. */
#ifndef BS_SOCKOPT_H
#define BS_SOCKOPT_H

/* Copies each readable option of old that differs on fresh into fresh; both are
 * sockets of domain and type (SO_DOMAIN, SO_TYPE): options of other levels are
 * not asked. */
void bs_sockopt_copy(int old, int fresh, int domain, int type);

#endif
