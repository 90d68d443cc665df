/*
 * socket + bind + listen + close, N times; prints ns per cycle of the fastest
 * chunk of N/10 cycles (what the machine's noise, preemption and other tenants,
 * never takes away). bench/run.sh runs it natively and under each layer in
 * alternation and reports the ratios.
 *
 *   cycle N [ADDR [PORT]]   ADDR 127.0.0.1 (allowed: the common path) or 0.0.0.0
 *                           (rewritten and recorded). PORT (SO_REUSEADDR, so that
 *                           every cycle binds the same port): a server's bind, decided
 *                           at bind. Without it, port 0: the kernel picks the port
 *                           at bind, or at listen where a port-0 bind was kept for a
 *                           client until then (the supervisor's path).
 *   cycle N ADDR PORT FILE LEN
 *                           and after each bind one write(2) of a LEN-byte line to
 *                           FILE, opened as bindshim opens its log: what a record
 *                           costs at the least (the floor the bench compares
 *                           bindshim's file row to).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct timespec a, b;
	long n = argc > 1 ? atol(argv[1]) : 10000, chunk;
	double best = -1;
	int port = argc > 3 ? atoi(argv[3]) : 0, one = 1, logfd = -1;
	long len = argc > 5 ? atol(argv[5]) : 0;
	char line[4096];

	if (inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &sin.sin_addr) != 1 || n <= 0 ||
	    port < 0 || port > 65535 || argc == 5 || argc > 6 ||
	    (argc == 6 && (len < 1 || len > (long)sizeof(line)))) {
		fprintf(stderr, "usage: cycle N [ADDR [PORT [FILE LEN]]]\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)port);
	if (argc == 6) {
		/* The flags of bindshim's log file (shim/common/log.c, open_file). */
		logfd = open(argv[4],
			     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
		if (logfd < 0) {
			perror(argv[4]);
			return 1;
		}
		memset(line, 'x', (size_t)len - 1);
		line[len - 1] = '\n';
	}
	chunk = n >= 10 ? n / 10 : 1;
	for (long done = 0; done + chunk <= n; done += chunk) {
		double ns;

		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < chunk; i++) {
			int fd = socket(AF_INET, SOCK_STREAM, 0);

			if (fd < 0 ||
			    (port && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
			    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
			    (logfd >= 0 && write(logfd, line, (size_t)len) != len) || listen(fd, 1) < 0) {
				perror("cycle");
				return 1;
			}
			close(fd);
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / chunk;
		if (best < 0 || ns < best)
			best = ns;
	}
	printf("%.1f\n", best);
	return 0;
}
