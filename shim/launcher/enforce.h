/* `bindshim run`'s supervisor: seccomp user notification for every bind and listen
 * of the command's tree (static and Go programs and raw syscalls included). */
#ifndef BS_ENFORCE_H
#define BS_ENFORCE_H

#include "shim/common/settings.h"

struct bs_enforce {
	const struct bs_layers *layers;
	const struct bs_settings *set;
	int io_uring_errno;
};

/* filter.c */
/* Sets no_new_privs and installs the filter; returns the listener fd or -errno. */
int bs_filter_install(int io_uring_errno);
/* Passes fd over a unix socket; returns 0 or -errno. */
int bs_send_fd(int sock, int fd);
/* Receives an fd passed with bs_send_fd; returns it, or -1. */
int bs_recv_fd(int sock);

/* supervise.c */
/* Starts path/argv under the filter and supervises it and everything it starts;
 * returns its exit status (128 + signal if killed) as soon as it exits, while the
 * supervisor goes on for what it left running. */
int bs_enforce_run(const struct bs_enforce *e, const char *path, char **argv);
/* Tells whether this kernel and process allow supervision: 0, or -1 with the
 * reason in why. */
int bs_supervise_probe(char *why, size_t len);

#endif
