/*
 * fusehold MODE DIR: a FUSE server in a user and mount namespace of its own, on DIR,
 * that never answers a READ nor a LOOKUP of "stall" (served by a child, the
 * "holder", for 30 s), run as root under `bindshim run` (red team of the
 * supervisor's copy of a bind's address). Then a thread binds a socket with its
 * address on the mapped page of the file system's file, and the process exits 7.
 *   plain:    just that (it stalled the supervisor for good).
 *   inflight: the bind's socket (AF_UNIX, on the stalled page) carries the
 *             /dev/fuse descriptor in flight: the supervisor's copy of it keeps
 *             the file system alive once the tree is killed.
 *   unixpath: a process in the supervisor's own namespaces binds an AF_UNIX path
 *             through /proc/SERVER/root into the FUSE mount: the supervisor binds
 *             it itself (same_fs), an unmarked step (now a watched child).
 *   dirty:    the bound socket (AF_UNIX, an ordinary path) carries in flight
 *             the /dev/fuse descriptor and a file of the mount (writeback cache)
 *             whose page a daemon of the command's dirtied; the process drops its
 *             own descriptor of the socket while the supervisor's binding child
 *             looks the path up (LOOKUP of "slow"), so the supervisor's close of
 *             its copy is the last: the file's release there writes the page back
 *             (FUSE_WRITE, never answered) and waits, uninterruptibly, in a step
 *             the watchdog takes for a lingering close.
 *   detached: the page of the bind's address nobody serves is the second of the
 *             file; the first, dirtied through the same mapping (the writeback
 *             cache), is all the tree has of the file system when the watchdog
 *             looks: the file's descriptor is closed and the mount detached
 *             (umount -l) first, the process (the server's thread among its own)
 *             and a daemon it forks (the mapping, /dev/fuse, nothing else) keep
 *             /dev/fuse. Killed, the daemon writes the page back in its exit
 *             (FUSE_WRITE, nobody left to answer) before its descriptors go.
 * Prints "no fuse ..." and exits 0 where it cannot mount; "bound N" otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void *page;
static int bind_sock = -1;
/* dirty mode: the writeback cache asked for at INIT; the descriptor to close at
 * LOOKUP "slow", after which no WRITE is answered */
static bool writeback, armed;
static unsigned file_size = 4096;
static int close_at_slow = -1;

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
	a->mode = node == FUSE_ROOT_ID ? S_IFDIR | 0777 : S_IFREG | 0644;
	a->nlink = node == FUSE_ROOT_ID ? 2 : 1;
	a->size = node == FUSE_ROOT_ID ? 0 : file_size;
	a->blocks = 8;
	a->blksize = 4096;
}

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

			if (writeback)
				o.flags = i->flags & FUSE_WRITEBACK_CACHE;
			reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out o = {.nodeid = 2, .generation = 1};

			if (!strcmp((char *)(in + 1), "stall"))
				break;	/* never answered */
			if (!strcmp((char *)(in + 1), "slow")) {
				/* The supervisor holds its copy of the socket now. */
				if (close_at_slow >= 0)
					close(close_at_slow);
				close_at_slow = -1;
				armed = true;
				reply(dev, in->unique, -ENOENT, NULL, 0);
				break;
			}
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
		case FUSE_WRITE: {
			struct fuse_write_in *w = (struct fuse_write_in *)(in + 1);
			struct fuse_write_out o = {.size = w->size};

			if (armed)
				break;	/* never answered */
			reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ:		/* never answered */
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
			break;
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

/* "conn N": the connection's number in /sys/fs/fuse/connections (its abort, for
 * the clean-up), from mountinfo: a stat would ask the server. */
static void print_conn(const char *dir)
{
	char line[4096], mp[4096];
	unsigned maj, mnr;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &mnr, mp) == 3 && !strcmp(mp, dir))
			printf("conn %u\n", mnr);
	if (f)
		fclose(f);
}

/* In a user and mount namespace of its own: /dev/fuse mounted on dir; -1 if not. */
static int mount_fuse(const char *dir)
{
	char opts[128], um[64], gm[64];
	const char *node = getenv("FUSEDEV") ? getenv("FUSEDEV") : "/dev/fuse";
	int dev;

	snprintf(um, sizeof(um), "0 %d 1", (int)getuid());
	snprintf(gm, sizeof(gm), "0 %d 1", (int)getgid());
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 ||
	    write_file("/proc/self/uid_map", um) < 0 ||
	    write_file("/proc/self/setgroups", "deny") < 0 ||
	    write_file("/proc/self/gid_map", gm) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    (dev = open(node, O_RDWR | O_CLOEXEC)) < 0) {
		printf("no fuse %s\n", strerrorname_np(errno));
		return -1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
	if (mount("fusehold", dir, "fuse", MS_NOSUID | MS_NODEV, opts) < 0) {
		printf("no fuse %s (mount)\n", strerrorname_np(errno));
		return -1;
	}
	print_conn(dir);
	return dev;
}

static void *bind_on_page(void *unused)
{
	(void)unused;
	syscall(SYS_bind, bind_sock, page, sizeof(struct sockaddr_un));
	return NULL;
}

static void send_fd(int via, int fd)
{
	char c = 'x', ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&c, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(via, &m, 0) < 0)
		perror("sendmsg");
}

static int unixpath(const char *dir)
{
	int go[2], dev, fd;
	char c;
	pid_t server;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (pipe(go) < 0)
		return 1;
	server = fork();
	if (server == 0) {
		dev = mount_fuse(dir);
		if (dev < 0)
			_exit(1);
		if (write(go[1], "m", 1) < 0)
			_exit(1);
		/* The mount's first request (INIT) comes now. */
		serve(dev, 30);
		_exit(0);
	}
	close(go[1]);
	if (read(go[0], &c, 1) != 1)
		return 0;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/proc/%d/root%s/stall", (int)server, dir);
	printf("binding %s\n", sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("bound %d\n", bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : errno);
	return 7;
}

static void *serve_thread(void *dev)
{
	serve((int)(long)dev, 30);
	return NULL;
}

static void *bind_slow(void *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/slow/sock", (const char *)path);
	syscall(SYS_bind, bind_sock, &sun, sizeof(sun));
	return NULL;
}

static int dirty(const char *dir)
{
	static char full[4096];
	char path[4096], c;
	pthread_t server, binder;
	int dev, f, sv[2], go[2];

	writeback = true;
	if ((dev = mount_fuse(dir)) < 0)
		return 0;
	pthread_create(&server, NULL, serve_thread, (void *)(long)dev);
	snprintf(path, sizeof(path), "%s/f", dir);
	if ((f = open(path, O_RDONLY | O_CLOEXEC)) < 0 || pipe(go) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		printf("no fuse file %s\n", strerrorname_np(errno));
		return 0;
	}
	send_fd(sv[0], dev);
	send_fd(sv[0], f);
	close(f);
	close(sv[0]);
	/* A daemon of the command's: the file's page dirty (in the page cache, through
	 * a descriptor of its own), and the file system alive for 30 s. */
	if (fork() == 0) {
		close(sv[1]);
		if ((f = open(path, O_RDWR | O_CLOEXEC)) < 0 ||
		    pwrite(f, full, sizeof(full), 0) != sizeof(full))
			_exit(1);
		if (write(go[1], "d", 1) < 0)
			_exit(1);
		sleep(30);
		_exit(0);
	}
	if (read(go[0], &c, 1) != 1)
		return 1;
	printf("dirty\n");
	bind_sock = close_at_slow = sv[1];
	pthread_create(&binder, NULL, bind_slow, (void *)dir);
	sleep(1);
	_exit(7);
}

static int detached(const char *dir)
{
	static char full[4096];
	char path[4096];
	pthread_t server, t;
	int dev, f;
	char *map;

	writeback = true;
	file_size = 8192;
	if ((dev = mount_fuse(dir)) < 0)
		return 0;
	pthread_create(&server, NULL, serve_thread, (void *)(long)dev);
	snprintf(path, sizeof(path), "%s/f", dir);
	if ((f = open(path, O_RDWR | O_CLOEXEC)) < 0 ||
	    pwrite(f, full, sizeof(full), 0) != sizeof(full) ||	/* (no READ: never answered) */
	    (map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0)) == MAP_FAILED) {
		printf("no fuse file %s\n", strerrorname_np(errno));
		return 0;
	}
	close(f);		/* (its flush writes the page back, answered) */
	memset(map, 'b', 4096);	/* dirty again, through the mapping alone */
	armed = true;
	if (umount2(dir, MNT_DETACH) < 0) {
		printf("no fuse umount %s\n", strerrorname_np(errno));
		return 0;
	}
	/* A daemon of the command's: the mapping (its own), /dev/fuse, nothing else. */
	if (fork() == 0) {
		dup2(dev, 3);
		syscall(SYS_close_range, 4, ~0U, 0);
		sleep(30);
		_exit(0);
	}
	printf("mapped\n");
	page = map + 4096;
	bind_sock = socket(AF_UNIX, SOCK_STREAM, 0);
	pthread_create(&t, NULL, bind_on_page, NULL);
	sleep(30);
	_exit(7);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "inflight";
	const char *dir = argc > 2 ? argv[2] : "/tmp/fusehold";
	char path[4096];
	int dev, fd, sv[2];
	pthread_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "unixpath"))
		return unixpath(dir);
	if (!strcmp(mode, "dirty"))
		return dirty(dir);
	if (!strcmp(mode, "detached"))
		return detached(dir);
	if ((dev = mount_fuse(dir)) < 0)
		return 0;
	if (fork() == 0) {
		serve(dev, 30);
		_exit(0);
	}
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	if (!strcmp(mode, "inflight"))
		send_fd(sv[0], dev);
	close(dev);
	close(sv[0]);
	bind_sock = sv[1];
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDONLY);
	page = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED) {
		printf("no fuse file %s\n", strerrorname_np(errno));
		return 0;
	}
	printf("mapped\n");
	pthread_create(&t, NULL, bind_on_page, NULL);
	usleep(300000);
	_exit(7);
}
