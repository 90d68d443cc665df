/*
 * stress THREADS BINDS FORKERS: THREADS threads each make BINDS binds on wildcard
 * addresses (TCP and UDP, IPv4 and IPv6, port 0), checking every socket lands on
 * loopback, while FORKERS threads fork and exec (the child binds too, then execs
 * /bin/true). Prints totals and the descriptor count before and after.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int escaped, failed, done_binding, children, bad_children;
static int binds_per_thread;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* Tells whether got is a loopback address (127/8, ::1, ::ffff:127.x). */
static int is_loopback(const struct sockaddr_storage *got)
{
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)got)->sin6_addr;

	if (got->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)got)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
}

/* Binds one wildcard socket of kind k (0..3) to port 0 (a TCP one also listens:
 * where it listens is decided then) and returns 0 if it lands on loopback, 1 if it
 * escapes, -1 on failure. */
static int bind_one(int k)
{
	struct sockaddr_storage ss = {0}, got;
	socklen_t len = sizeof(got);
	int fd, rc = -1;

	if (k & 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
	}
	fd = socket(ss.ss_family, k & 2 ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, k & 1 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) == 0 &&
	    ((k & 2) || listen(fd, 1) == 0) && getsockname(fd, (struct sockaddr *)&got, &len) == 0)
		rc = !is_loopback(&got);
	close(fd);
	return rc;
}

static void *binder(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < binds_per_thread; i++) {
		int rc = bind_one((int)((id + i) % 4));

		if (rc > 0)
			atomic_fetch_add(&escaped, 1);
		else if (rc < 0)
			atomic_fetch_add(&failed, 1);
	}
	return NULL;
}

static void *forker(void *arg)
{
	(void)arg;
	while (!atomic_load(&done_binding)) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			/* The child inherits whatever state the shim was in: it must work. */
			if (bind_one(0) != 0 || bind_one(3) != 0)
				_exit(3);
			execl("/bin/true", "true", (char *)NULL);
			_exit(4);
		}
		if (pid > 0 && waitpid(pid, &st, 0) == pid) {
			atomic_fetch_add(&children, 1);
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				atomic_fetch_add(&bad_children, 1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 64, nforkers = argc > 3 ? atoi(argv[3]) : 2;
	pthread_t t[256], f[16];
	int before;

	/* The first judged call opens the shim's log: count descriptors after it. */
	bind_one(0);
	before = count_fds();

	binds_per_thread = argc > 2 ? atoi(argv[2]) : 1000;
	if (nthreads > 256 || nforkers > 16)
		return 2;
	for (int i = 0; i < nforkers; i++)
		pthread_create(&f[i], NULL, forker, NULL);
	for (long i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, binder, (void *)i);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	atomic_store(&done_binding, 1);
	for (int i = 0; i < nforkers; i++)
		pthread_join(f[i], NULL);
	printf("binds %d escaped %d failed %d children %d bad %d fds %d->%d\n",
	       nthreads * binds_per_thread, escaped, failed, children, bad_children, before,
	       count_fds());
	return escaped || failed || bad_children || before != count_fds();
}
