/*
 * cleanenv HOW PROBE PORT: starts `PROBE bind 0.0.0.0 PORT` with the environment
 * emptied or stripped, the way HOW says, and waits for it. The shim must carry
 * itself and its settings into the child anyway.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	char *args[] = {argv[2], "bind", "0.0.0.0", argv[3], NULL};
	char *empty[] = {NULL};
	char *other[] = {"LD_PRELOAD=", "FOO=bar", NULL};
	const char *how = argv[1];
	pid_t pid;
	int st;

	if (argc != 4)
		return 2;
	if (!strcmp(how, "posix_spawn")) {
		if (posix_spawn(&pid, argv[2], NULL, NULL, args, empty))
			return 3;
		waitpid(pid, &st, 0);
		return WEXITSTATUS(st);
	}
	if (!strcmp(how, "posix_spawnp")) {
		if (posix_spawnp(&pid, argv[2], NULL, NULL, args, other))
			return 3;
		waitpid(pid, &st, 0);
		return WEXITSTATUS(st);
	}
	pid = fork();
	if (pid == 0) {
		if (!strcmp(how, "execve"))
			execve(argv[2], args, empty);
		else if (!strcmp(how, "execle"))
			execle(argv[2], argv[2], "bind", "0.0.0.0", argv[3], (char *)NULL, empty);
		else if (!strcmp(how, "execvpe"))
			execvpe(argv[2], args, other);
		else if (!strcmp(how, "clearenv-execv")) {
			clearenv();
			execv(argv[2], args);
		} else if (!strcmp(how, "unsetenv-execlp")) {
			unsetenv("LD_PRELOAD");
			unsetenv("BINDSHIM_BUILTIN");
			execlp(argv[2], argv[2], "bind", "0.0.0.0", argv[3], (char *)NULL);
		} else if (!strcmp(how, "clearenv-execl")) {
			clearenv();
			execl(argv[2], argv[2], "bind", "0.0.0.0", argv[3], (char *)NULL);
		} else if (!strcmp(how, "fexecve")) {
			fexecve(open(argv[2], O_RDONLY | O_CLOEXEC), args, empty);
		} else if (!strcmp(how, "execveat")) {
			execveat(AT_FDCWD, argv[2], args, empty, 0);
		}
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
