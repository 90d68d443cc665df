/*
 * uffd: asks for a userfaultfd both ways (userfaultfd(2), and /dev/userfaultfd's
 * USERFAULTFD_IOC_NEW) and prints what each gave: "userfaultfd ok" or
 * "userfaultfd ENAME", "ioc_new ok|ENAME", or "no device ENAME" where
 * /dev/userfaultfd cannot be opened. If either gave one, it then makes the case it
 * is for (red team): a thread binds with its address on a registered page whose
 * faults nobody resolves (a child keeps the descriptor open), a child binds
 * 127.0.0.1:PORT ("sibling bound" once answered), and the process exits 7.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *page;

static const char *result(long rc)
{
	return rc >= 0 ? "ok" : strerrorname_np(errno);
}

static void *bind_on_page(void *unused)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)unused;
	syscall(SYS_bind, fd, page, sizeof(struct sockaddr_in));
	return NULL;
}

/* The stall: needs a userfaultfd that faults in the kernel (not user mode only). */
static int stall(int uffd, int port)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	pthread_t t;
	int fd;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg = (struct uffdio_register){.range = {(unsigned long)page, 4096},
				       .mode = UFFDIO_REGISTER_MODE_MISSING};
	if (page == MAP_FAILED || ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg))
		return 2;
	if (fork() == 0) {
		sleep(5);	/* holds the descriptor: the fault is never resolved */
		_exit(0);
	}
	pthread_create(&t, NULL, bind_on_page, NULL);
	usleep(300000);
	if (fork() == 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (syscall(SYS_bind, fd, &sin, sizeof(sin)) == 0)
			printf("sibling bound\n");
		_exit(0);
	}
	usleep(300000);
	fflush(stdout);
	_exit(7);
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 0, dev, uffd, other = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	printf("userfaultfd %s\n", result(uffd));
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("no device %s\n", strerrorname_np(errno));
	} else {
		other = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC);
		printf("ioc_new %s\n", result(other));
	}
	if (other >= 0)
		return stall(other, port);
	if (uffd >= 0)
		return stall(uffd, port);
	return 0;
}
