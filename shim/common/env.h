/* Every environment name, path and default that the launcher and the shim share. */
#ifndef BS_ENV_H
#define BS_ENV_H

/* Read by libbindshim.so (bindshim(1), ENVIRONMENT). */
#define BS_ENV_POLICY "BINDSHIM_POLICY"
#define BS_ENV_LOG "BINDSHIM_LOG"
#define BS_ENV_LOG_FORMAT "BINDSHIM_LOG_FORMAT"

/* Set by `bindshim run` for the shim: "loopback" or "to:TARGET" (-l / -t), and "1"
 * for --dry-run. A user may set them by hand with the same meaning. */
#define BS_ENV_BUILTIN "BINDSHIM_BUILTIN"
#define BS_ENV_DRY_RUN "BINDSHIM_DRY_RUN"
/* Set by `bindshim run` when a supervisor watches every bind of the command: the
 * shim then leaves a client's source address to the kernel (clients.c). */
#define BS_ENV_SUPERVISED "BINDSHIM_SUPERVISED"
/* Set by `bindshim run`: the descriptor, inherited from the launcher, where records
 * for "stderr" go (the launcher's own stderr, whatever the program does with its). */
#define BS_ENV_LOG_FD "BINDSHIM_LOG_FD"
#define BS_BUILTIN_TO_PREFIX "to:"

#define BS_SYSTEM_POLICY "/etc/bindshim/policy.cfg"
#define BS_SHIM_NAME "libbindshim.so"
#define BS_SYSLOG_PATH "/dev/log"

#ifndef BS_VERSION
#define BS_VERSION "0.1.0"
#endif

#endif
