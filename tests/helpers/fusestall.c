/*
 * fusestall PORT DIR: a bind whose address is on a page of a FUSE file system that
 * never answers the read (red team: it stalled the supervisor as it copied the
 * address). Run as root under `bindshim run`: in a user and mount namespace of its
 * own, opens /dev/fuse and mounts it on DIR (made if missing), and serves it from a child (the "holder", which
 * answers everything but reads, for 30 s). A thread then binds with its address
 * on the file's mapped page (a raw syscall, which the shim does not read), a child
 * binds 127.0.0.1:PORT ("sibling bound" once answered), and the process exits 7.
 * Prints "no fuse ENAME" and exits 0 where it cannot mount.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *page;

static void reply(int dev, __u64 unique, int err, const void *body, size_t len)
{
	char out[512];
	struct fuse_out_header h = {.len = (__u32)(sizeof(h) + len), .error = err, .unique = unique};

	memcpy(out, &h, sizeof(h));
	if (len)
		memcpy(out + sizeof(h), body, len);
	if (write(dev, out, h.len) < 0)
		(void)0;
}

static void attr_of(__u64 node, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = node;
	a->mode = node == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0644;
	a->nlink = node == FUSE_ROOT_ID ? 2 : 1;
	a->size = node == FUSE_ROOT_ID ? 0 : 4096;
	a->blocks = 8;
	a->blksize = 4096;
}

/* Answers everything but FUSE_READ, until the deadline. */
static void serve(int dev, int seconds)
{
	static char buf[1 << 18];
	time_t end = time(NULL) + seconds;

	while (time(NULL) < end) {
		ssize_t n = read(dev, buf, sizeof(buf));
		struct fuse_in_header *in = (struct fuse_in_header *)buf;

		if (n < (ssize_t)sizeof(*in))
			break;
		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *i = (struct fuse_init_in *)(in + 1);
			struct fuse_init_out o = {.major = FUSE_KERNEL_VERSION,
						  .minor = FUSE_KERNEL_MINOR_VERSION,
						  .max_readahead = i->max_readahead, .max_write = 4096};

			reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out o = {.nodeid = 2, .generation = 1};

			attr_of(2, &o.attr);
			reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out o = {.attr_valid = 100};

			attr_of(in->nodeid, &o.attr);
			reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = {.fh = 1};

			reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ:
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
			break;		/* a read is never answered */
		case FUSE_FLUSH:
		case FUSE_RELEASE:
			reply(dev, in->unique, 0, NULL, 0);
			break;
		default:
			reply(dev, in->unique, -ENOSYS, NULL, 0);
		}
	}
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), rc;

	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return rc;
}

static void *bind_on_page(void *unused)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)unused;
	syscall(SYS_bind, fd, page, sizeof(struct sockaddr_in));
	return NULL;
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 0, dev, fd;
	const char *dir = argc > 2 ? argv[2] : "/tmp/fusestall";
	char path[4096], opts[128], map[64];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	pthread_t t;
	pid_t holder;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		printf("no fuse %s (namespaces)\n", strerrorname_np(errno));
		return 0;
	}
	snprintf(map, sizeof(map), "0 0 1");
	if (write_file("/proc/self/uid_map", map) < 0 ||
	    write_file("/proc/self/setgroups", "deny") < 0 || write_file("/proc/self/gid_map", map) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("no fuse %s (uid map)\n", strerrorname_np(errno));
		return 0;
	}
	/* Opened in the user namespace that mounts it, as FUSE wants. */
	dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("no fuse %s (device)\n", strerrorname_np(errno));
		return 0;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
	if (mount("fusestall", dir, "fuse", MS_NOSUID | MS_NODEV, opts) < 0) {
		printf("no fuse %s (mount)\n", strerrorname_np(errno));
		return 0;
	}
	holder = fork();
	if (holder == 0) {
		serve(dev, 30);
		_exit(0);
	}
	close(dev);
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDONLY);
	page = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED) {
		printf("no fuse file %s\n", strerrorname_np(errno));
		kill(holder, SIGKILL);
		return 0;
	}
	printf("mapped\n");
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
	_exit(7);
}
