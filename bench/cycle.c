/*
 * socket + bind + listen + close, N times; prints ns per cycle. bench/run.sh runs
 * it natively and under the shim in alternation and reports the ratio.
 *
 *   cycle N [ADDR]     ADDR 127.0.0.1 (allowed: the common path) or 0.0.0.0
 *                      (rewritten and logged)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct timespec a, b;
	long n = argc > 1 ? atol(argv[1]) : 10000;

	inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &sin.sin_addr);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1) < 0) {
			perror("cycle");
			return 1;
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
