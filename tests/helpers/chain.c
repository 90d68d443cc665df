/*
 * chain DEPTH: binds 0.0.0.0:0 and listens, prints where it landed, and starts itself again
 * with DEPTH-1, the next level by fork+exec, posix_spawn, vfork+exec in turn.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int depth = argc > 1 ? atoi(argv[1]) : 0, fd = socket(AF_INET, SOCK_STREAM, 0), st = 0;
	char ip[INET_ADDRSTRLEN], next[16];
	static const char *const how[] = {"fork", "posix_spawn", "vfork"};
	char *args[] = {argv[0], next, NULL};
	pid_t pid = -1;

	bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	listen(fd, 1);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	printf("level %d %s\n", depth, inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip)));
	fflush(stdout);
	if (depth <= 1)
		return 0;
	snprintf(next, sizeof(next), "%d", depth - 1);
	switch (depth % 3) {
	case 0:
		pid = fork();
		if (pid == 0) {
			execv(argv[0], args);
			_exit(127);
		}
		break;
	case 1:
		if (posix_spawn(&pid, argv[0], NULL, NULL, args, environ))
			pid = -1;
		break;
	case 2:
		pid = vfork();
		if (pid == 0) {
			execv(argv[0], args);
			_exit(127);
		}
		break;
	}
	fprintf(stderr, "level %d started level %d by %s\n", depth, depth - 1, how[depth % 3]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
