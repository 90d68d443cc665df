/*
 * Who a record is about, at the cost of no syscall per record: the pid is read once
 * and again in a fork child, the real uid once and again after a setuid-family call
 * changes it, and the user name is looked up once, only for the records that show
 * it (JSON and syslog), in /etc/passwd with plain reads: no NSS module, no
 * allocation, safe in a signal handler. Users known only to another database (LDAP)
 * are recorded by uid; the supervisor and `bindshim audit` name them.
 *
 * In a user namespace of its own, getuid() is what the program chose (0, often):
 * the real user cannot be told from inside, so rules on uid and user match nothing
 * there (the supervisor and the kernel see the real uid).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/lib/shim.h"

static atomic_int pid;
static atomic_uint uid, user_uid = (unsigned)-1;
static atomic_int have_uid, have_user;
static char user[64];

void bs_who_forget(void)
{
	atomic_store(&pid, 0);
	atomic_store(&have_uid, 0);
}

static uid_t real_uid(void)
{
	if (!atomic_load(&have_uid)) {
		atomic_store(&uid, (unsigned)getuid());
		atomic_store(&have_uid, 1);
	}
	return (uid_t)atomic_load(&uid);
}

uid_t bs_query_uid(const struct bs_state *st)
{
	return st->uid_known ? real_uid() : (uid_t)-1;
}

/* Finds uid's name in /etc/passwd into out (empty if none); plain syscalls only. */
static void passwd_name(uid_t who, char *out, size_t cap)
{
	char buf[4096], line[512];
	size_t len = 0;
	ssize_t n;
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	while (fd >= 0 && !out[0] && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && !out[0]; i++) {
			char *f2, *f3;
			unsigned long v = 0;

			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			len = 0;
			/* name:password:uid:... */
			if (!(f2 = strchr(line, ':')) || !(f3 = strchr(f2 + 1, ':')))
				continue;
			for (char *p = f3 + 1; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (unsigned long)(*p - '0');
			if (f3[1] < '0' || f3[1] > '9' || v != (unsigned long)who)
				continue;
			*f2 = '\0';
			if ((size_t)(f2 - line) < cap)
				memcpy(out, line, (size_t)(f2 - line) + 1);
		}
	}
	if (fd >= 0)
		close(fd);
}

/* The user name of the real uid, looked up once per uid; NULL if none. */
static const char *user_of(uid_t who)
{
	if (!atomic_load(&have_user) || atomic_load(&user_uid) != (unsigned)who) {
		passwd_name(who, user, sizeof(user));
		atomic_store(&user_uid, (unsigned)who);
		atomic_store(&have_user, 1);
	}
	return user[0] ? user : NULL;
}

void bs_self(const struct bs_state *st, struct bs_who *who)
{
	int p = atomic_load(&pid);

	if (!p) {
		p = getpid();
		atomic_store(&pid, p);
	}
	who->pid = p;
	who->program = st->program;
	who->uid = real_uid();
	/* Text records to stderr or a file do not show the name. */
	who->user = st->set.logger.json || st->set.logger.to == BS_LOG_SYSLOG ? user_of(who->uid)
									       : NULL;
}

/* The calls that change the real uid: the cached one is asked for again. */
BS_EXPORT int setuid(uid_t u)
{
	int rc;

	bs_real_init();
	rc = bs_real.setuid(u);
	atomic_store(&have_uid, 0);
	return rc;
}

BS_EXPORT int setreuid(uid_t r, uid_t e)
{
	int rc;

	bs_real_init();
	rc = bs_real.setreuid(r, e);
	atomic_store(&have_uid, 0);
	return rc;
}

BS_EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
	int rc;

	bs_real_init();
	rc = bs_real.setresuid(r, e, s);
	atomic_store(&have_uid, 0);
	return rc;
}
