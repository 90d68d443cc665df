/* The bindshim command: one file per verb. */
#ifndef BS_LAUNCHER_H
#define BS_LAUNCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit status when bindshim itself fails in `run` (bindshim(1), EXIT STATUS). */
#define BS_EXIT_RUN_FAIL 125
#define BS_EXIT_NOEXEC 126
#define BS_EXIT_NOTFOUND 127
/* `check`, `explain` and `audit`: usage errors. */
#define BS_EXIT_USAGE 2

/* Room for every FILE:LINE problem of a policy. */
#define BS_ERRBUF 65536

/* run.c: `bindshim run`; returns an exit status only when it could not exec. */
int bs_cmd_run(int argc, char **argv);
/* Execs path with argv, or /bin/sh with it for a file that is not an executable
 * format (as execvp does; argv[-1] must be writable); prints why it could not and
 * returns 126 or 127. */
int bs_exec_command(const char *path, char **argv);
/* check.c: `bindshim check FILE...`. */
int bs_cmd_check(int argc, char **argv);
/* explain.c: `bindshim explain ...`. */
int bs_cmd_explain(int argc, char **argv);
/* audit.c: `bindshim audit [--json]`. */
int bs_cmd_audit(int argc, char **argv);

/* reach.c: warns on stderr when path is an executable a preloaded library cannot
 * reach (static, setuid/setgid, file capabilities, Go) and there is no supervisor;
 * under one, about lost privileges, and refuses a 32-bit program (returns -1). */
int bs_warn_unreachable(const char *path, bool supervised);

/* proc.c */
/* The parent, start time (clock ticks after boot) and state of process pid, from
 * /proc/PID/stat; -1 if it is gone. Plain syscalls, no allocation (the
 * supervisor's watchdog calls it while its main thread may fork). */
pid_t bs_proc_stat(pid_t pid, unsigned long long *start, char *state);
/* Tells whether two paths are the same file. */
bool bs_same_file(const char *a, const char *b);

/* main.c */
extern const char *bs_progname;

/* usage.c */
/* The verb being run ("run", "check"...), "" before one is chosen. */
extern const char *bs_verb;
/* Prints every verb's synopsis to stdout (bindshim --help). */
void bs_usage(void);
/* Prints the help of verb to stdout: synopsis and every option (VERB --help). */
void bs_help(const char *verb);
/* Prints "Try 'bindshim VERB --help'." to stderr after a one-line usage error;
 * returns the verb's usage exit status (125 for run, else 2). */
int bs_try_help(const char *verb);
/* Prints "bindshim VERB: MESSAGE" and the Try line to stderr; returns the verb's
 * usage exit status. */
int bs_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
