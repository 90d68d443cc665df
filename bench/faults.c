/*
 * What starting a program costs in page faults: runs PROGRAM ARGS... ROUNDS times
 * with LIB preloaded (given to the child only, so this counter is never preloaded
 * itself) and prints the fewest minor page faults of one run (getrusage of the
 * child, via wait4).
 *
 *   faults ROUNDS LIB|- PROGRAM [ARG...]     LIB "-": nothing preloaded
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char pre[4096];
	char *env[] = {pre, "PATH=/usr/bin:/bin", NULL};
	long rounds = argc > 3 ? atol(argv[1]) : 0, best = -1;

	if (rounds <= 0) {
		fprintf(stderr, "usage: faults ROUNDS LIB|- PROGRAM [ARG...]\n");
		return 2;
	}
	/* A fixed, small environment: the runs compare what the library costs. */
	snprintf(pre, sizeof(pre), strcmp(argv[2], "-") ? "LD_PRELOAD=%s" : "BS_NOTHING=%s",
		 argv[2]);
	for (long i = 0; i < rounds; i++) {
		struct rusage ru;
		int status;
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			execve(argv[3], argv + 3, env);
			_exit(127);
		}
		if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			return 1;
		if (best < 0 || ru.ru_minflt < best)
			best = ru.ru_minflt;
	}
	printf("%ld\n", best);
	return 0;
}
