/*
 * A program whose syscalls the cost suite counts (tests/integration/cost.c).
 *
 *   cost cycle N ADDR PORT   N times: socket, SO_REUSEADDR, bind(ADDR:PORT), listen,
 *                            close (what a server does, on one port throughout)
 *   cost idle                nothing: a process that never binds
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int one = 1;
	long n;

	if (argc == 2 && !strcmp(argv[1], "idle"))
		return 0;
	if (argc != 5 || strcmp(argv[1], "cycle") || (n = atol(argv[2])) <= 0 ||
	    inet_pton(AF_INET, argv[3], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: cost cycle N ADDR PORT | cost idle\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[4]));
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1) < 0) {
			perror("cost");
			return 1;
		}
		close(fd);
	}
	return 0;
}
