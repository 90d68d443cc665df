/*
 * sigbind N [US [early]]: binds from a signal handler while the main thread binds in
 * a loop and an interval timer (every US microseconds, default 200) interrupts it;
 * every socket must land where the policy says. Handlers bind once the main
 * thread's first bind returned (the policy loaded: loading allocates, which a
 * handler must not, and ThreadSanitizer says so); "early": from the start, so that
 * they interrupt the load itself.
 * Prints how many binds each side made and how many escaped or failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t handler_binds, handler_bad, started;

/* Binds 0.0.0.0:0 and listens (where a TCP port-0 socket listens is decided then);
 * returns 0 on loopback, 1 if it escaped, -1 on failure. */
static int bind_any(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(fd, 1) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		rc = sin.sin_addr.s_addr != htonl(INADDR_LOOPBACK);
	if (fd >= 0)
		close(fd);
	return rc;
}

static void on_alarm(int sig)
{
	int saved = errno;

	(void)sig;
	if (!started)
		return;
	handler_binds++;
	if (bind_any() != 0)
		handler_bad++;
	errno = saved;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	long us = argc > 2 ? atol(argv[2]) : 200;
	struct itimerval it = {{0, us}, {0, us}};
	int n = argc > 1 ? atoi(argv[1]) : 20000, bad = 0;

	started = argc > 3 && !strcmp(argv[3], "early");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < n; i++) {
		if (bind_any() != 0)
			bad++;
		started = 1;
	}
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	printf("main %d bad %d handler %d bad %d\n", n, bad, (int)handler_binds, (int)handler_bad);
	return bad || handler_bad || handler_binds == 0;
}
