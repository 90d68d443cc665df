/* The two socket calls the policy library makes (interface lookup). The launcher
 * gets libc's (policy/sys_libc.c); the shim gets the real ones behind its own hooks
 * (shim/lib/sys_real.c), since internal code never goes through a hook. */
#ifndef BS_SYS_H
#define BS_SYS_H

/* socket(2), and close(2). */
int bs_sys_socket(int domain, int type, int protocol);
int bs_sys_close(int fd);

#endif
