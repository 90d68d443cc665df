/*
 * Log records: one per decision, formatted on the stack and written with a single
 * write(2) (a single send(2) for syslog), so records of many threads and processes
 * never interleave. Files are opened O_APPEND. The program may close or reuse our
 * descriptor at any time: the shim's close-family hooks say when (bs_log_forget),
 * and a sink is classified once when adopted, so a record costs its write alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "policy/buf.h"
#include "policy/sys.h"
#include "shim/common/env.h"
#include "shim/common/escape.h"
#include "shim/common/json.h"
#include "shim/common/log.h"
#include "shim/common/sock.h"

#define BS_RECORD_MAX 4096
/* The most one string field takes in a record, escaped (and quoted, in JSON). An
 * escape can be six times its input, so a long field is cut, never inside an escape
 * or a character, and every record still fits BS_RECORD_MAX and closes: a record
 * has at most three fields this long (rule, source, message), the others are short
 * (a program or user name of 63 bytes, endpoints). */
#define BS_FIELD_MAX 768
#define LOG_USER_NOTICE (1 << 3 | 5)
#define LOG_USER_INFO (1 << 3 | 6)
#define LOG_USER_WARNING (1 << 3 | 4)
#define LOG_USER_ERR (1 << 3 | 3)

/* A destination descriptor. The program may close or replace it at any time: the
 * shim's close-family hooks tell (bs_log_forget), so no record costs more than its
 * write. */
enum sink_kind { SINK_UNKNOWN, SINK_PLAIN, SINK_PIPE, SINK_NO };

struct sink {
	atomic_int fd;			/* -1: none, or given up (the program took it) */
	atomic_int kind;		/* enum sink_kind: how to write there */
};

static struct sink file_sink = {.fd = -1}, syslog_sink = {.fd = -1}, stderr_sink = {.fd = -1};
/* The inherited stderr descriptor was closed by the program: said once, on fd 2. */
static atomic_int stderr_lost;

/* Room for one field at the end of b: what is left, at most BS_FIELD_MAX + 1. */
static size_t field_room(const struct bs_buf *b)
{
	size_t left = b->cap - b->len;

	return left < BS_FIELD_MAX + 1 ? left : BS_FIELD_MAX + 1;
}

/* Appends s as a JSON string, cut to BS_FIELD_MAX bytes. */
static void put_json_string(struct bs_buf *b, const char *s)
{
	if (b->len < b->cap)
		b->len += bs_json_string(b->p + b->len, field_room(b), s);
}

/* Appends s escaped for a text record (one line whatever s holds), cut to
 * BS_FIELD_MAX bytes. */
static void put_text(struct bs_buf *b, const char *s)
{
	if (b->len < b->cap)
		b->len += bs_text_escape(b->p + b->len, field_room(b), s);
}

/* Appends the RFC 3339 UTC time with milliseconds, without tz or locale. */
static void put_time(struct bs_buf *b)
{
	struct timespec ts;
	long long days, secs, z, era, doe, yoe, doy, mp, y, m, d;

	clock_gettime(CLOCK_REALTIME, &ts);
	days = ts.tv_sec / 86400;
	secs = ts.tv_sec % 86400;
	/* civil_from_days (H. Hinnant) */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	bs_put_num(b, (unsigned long long)y, 4);
	bs_put(b, "-");
	bs_put_num(b, (unsigned long long)m, 2);
	bs_put(b, "-");
	bs_put_num(b, (unsigned long long)d, 2);
	bs_put(b, "T");
	bs_put_num(b, (unsigned long long)(secs / 3600), 2);
	bs_put(b, ":");
	bs_put_num(b, (unsigned long long)(secs / 60 % 60), 2);
	bs_put(b, ":");
	bs_put_num(b, (unsigned long long)(secs % 60), 2);
	bs_put(b, ".");
	bs_put_num(b, (unsigned long long)(ts.tv_nsec / 1000000), 3);
	bs_put(b, "Z");
}

static const char *proto_name(unsigned proto)
{
	return proto == BS_PROTO_UDP ? "udp" : "tcp";
}

/* Appends `rule "NAME" FILE:LINE` / `default` / `builtin`, escaped as one field
 * (what `explain` prints). */
static void put_source_text(struct bs_buf *b, const struct bs_record *r)
{
	char src[768];

	put_text(b, bs_decision_source(r->policy, r->d, src, sizeof(src)));
}

/* The interface a failed rewrite was for, or NULL: the record names it. */
static const char *missing_interface(const struct bs_record *r)
{
	const struct bs_rule *rule = r->d ? r->d->rule : NULL;

	return rule && r->d->action == BS_REWRITE && r->err == EADDRNOTAVAIL &&
	       rule->to.kind == BS_TO_IFACE ? rule->to.ifname : NULL;
}

static void format_text(struct bs_buf *b, const struct bs_record *r)
{
	char ep[BS_ENDPOINT_MAX];

	bs_put(b, "bindshim[");
	bs_put_num(b, (unsigned long long)r->who->pid, 0);
	bs_put(b, "] ");
	put_text(b, r->who->program);
	bs_put(b, ": ");
	bs_put(b, r->event);
	if (r->message) {
		bs_put(b, " ");
		put_text(b, r->message);
		bs_put(b, "\n");
		return;
	}
	if (r->action) {
		bs_put(b, " ");
		bs_put(b, r->action);
	}
	bs_put(b, " ");
	bs_put(b, proto_name(r->proto));
	bs_put(b, " ");
	bs_put(b, bs_endpoint_format(r->from, ep, sizeof(ep)));
	if (r->to) {
		bs_put(b, " -> ");
		bs_put(b, bs_endpoint_format(r->to, ep, sizeof(ep)));
	}
	if (r->err) {
		bs_put(b, " ");
		bs_put(b, bs_errno_name(r->err));
	}
	bs_put(b, " (");
	put_source_text(b, r);
	if (missing_interface(r)) {
		bs_put(b, ": interface ");
		bs_put(b, missing_interface(r));
		bs_put(b, " has no address of this family");
	}
	bs_put(b, ")");
	if (strcmp(r->call, "bind")) {
		bs_put(b, " in ");
		bs_put(b, r->call);
		bs_put(b, "()");
	}
	if (r->peer) {
		bs_put(b, " to ");
		bs_put(b, bs_endpoint_format(r->peer, ep, sizeof(ep)));
	}
	if (r->via) {
		bs_put(b, " via ");
		bs_put(b, r->via);
	}
	bs_put(b, "\n");
}

/* Appends ,"key":"value" with value escaped. */
static void put_json_field(struct bs_buf *b, const char *key, const char *value)
{
	bs_put(b, ",\"");
	bs_put(b, key);
	bs_put(b, "\":");
	put_json_string(b, value);
}

static void put_json_source(struct bs_buf *b, const struct bs_record *r)
{
	char src[768];
	const struct bs_rule *rule = r->d->rule;

	put_json_field(b, "rule", rule ? rule->name : "default");
	if (r->policy->builtin)
		put_json_field(b, "source", "builtin");
	else if (rule) {
		struct bs_buf sb = {src, 0, sizeof(src)};

		bs_put(&sb, r->policy->file);
		bs_put(&sb, ":");
		bs_put_num(&sb, rule->line, 0);
		put_json_field(b, "source", src);
	} else
		put_json_field(b, "source", r->policy->file);
}

static void format_json(struct bs_buf *b, const struct bs_record *r)
{
	char ep[BS_ENDPOINT_MAX];

	bs_put(b, "{\"time\":\"");
	put_time(b);
	bs_put(b, "\",\"pid\":");
	bs_put_num(b, (unsigned long long)r->who->pid, 0);
	bs_put(b, ",\"uid\":");
	bs_put_num(b, r->who->uid, 0);
	if (r->who->user)
		put_json_field(b, "user", r->who->user);
	put_json_field(b, "program", r->who->program);
	put_json_field(b, "call", r->call);
	put_json_field(b, "event", r->event);
	if (r->message) {
		put_json_field(b, "message", r->message);
		if (r->exe)
			put_json_field(b, "exe", r->exe);
		bs_put(b, "}\n");
		return;
	}
	if (r->action)
		put_json_field(b, "action", r->action);
	put_json_field(b, "proto", proto_name(r->proto));
	put_json_field(b, "from", bs_endpoint_format(r->from, ep, sizeof(ep)));
	if (r->to)
		put_json_field(b, "to", bs_endpoint_format(r->to, ep, sizeof(ep)));
	if (r->err)
		put_json_field(b, "errno", bs_errno_name(r->err));
	put_json_source(b, r);
	if (missing_interface(r))
		put_json_field(b, "interface", missing_interface(r));
	if (r->peer)
		put_json_field(b, "peer", bs_endpoint_format(r->peer, ep, sizeof(ep)));
	if (r->via)
		put_json_field(b, "via", r->via);
	bs_put(b, "}\n");
}

/* How records are written to fd: plainly, with SIGPIPE held off (a pipe, a FIFO, a
 * unix socket), or not at all (a network socket of the program's). */
static enum sink_kind classify(int fd)
{
	struct stat st;
	int domain, type;

	if (fd < 0 || fstat(fd, &st) < 0)
		return SINK_NO;
	if (S_ISFIFO(st.st_mode))
		return SINK_PIPE;
	if (!S_ISSOCK(st.st_mode))
		return SINK_PLAIN;
	return bs_sock_kind(fd, &domain, &type) == 0 && domain == AF_UNIX ? SINK_PIPE : SINK_NO;
}

/* Makes fd (ours) the sink's descriptor, closing the one it replaces. */
static void sink_adopt(struct sink *s, int fd)
{
	int old;

	atomic_store(&s->kind, fd < 0 ? SINK_NO : classify(fd));
	old = atomic_exchange(&s->fd, fd);
	if (old >= 0 && old != fd)
		bs_sys_close(old);
}

/* The sink's descriptor, or -1. */
static int sink_fd(struct sink *s)
{
	return atomic_load(&s->fd);
}

void bs_log_forget(int lo, int hi)
{
	struct sink *const all[] = {&file_sink, &syslog_sink, &stderr_sink};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		int fd = atomic_load(&all[i]->fd);

		/* Not ours to close: the program is closing or replacing it. */
		if (fd >= lo && fd <= hi)
			atomic_compare_exchange_strong(&all[i]->fd, &fd, -1);
	}
}

/* O_NONBLOCK: a FIFO nobody reads must fail (ENXIO), not hang the program in its
 * first bind; and a full one loses a record rather than block. */
static int open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
}

static int open_syslog(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX, .sun_path = BS_SYSLOG_PATH};
	int fd = bs_sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && bs_sys_connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		bs_sys_close(fd);
		fd = -1;
	}
	return fd;
}

void bs_log_open(struct bs_logger *lg)
{
	if (lg->to == BS_LOG_FILE) {
		int fd = open_file(lg->path);

		/* An unwritable file (say, another user's) falls back to syslog, not to
		 * the program's terminal. */
		if (fd >= 0) {
			sink_adopt(&file_sink, fd);
			return;
		}
		lg->to = BS_LOG_SYSLOG;
	}
	if (lg->to == BS_LOG_SYSLOG)
		sink_adopt(&syslog_sink, open_syslog());
}

/* Reads a decimal number ending at stop from *p into *v, and steps past stop;
 * false if there is none. (Not sscanf: one libc symbol version less for every
 * process the shim is loaded into.) */
static bool take_number(const char **p, char stop, unsigned long *v)
{
	char *end;

	if (**p < '0' || **p > '9')
		return false;
	errno = 0;
	*v = strtoul(*p, &end, 10);
	if (errno || *end != stop)
		return false;
	*p = *end ? end + 1 : end;
	return true;
}

void bs_log_inherit(struct bs_logger *lg, const char *inherited)
{
	unsigned long fd, dev, ino;
	struct stat st;
	int saved = errno;

	lg->fd = 2;
	/* "FD:DEV:INO" */
	if (inherited && take_number(&inherited, ':', &fd) && take_number(&inherited, ':', &dev) &&
	    take_number(&inherited, '\0', &ino) && fd > 2 && fd <= 0x7fffffff &&
	    fstat((int)fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
		lg->fd = (int)fd;
	errno = saved;
}

int bs_log_probe_syslog(void)
{
	int fd = open_syslog(), saved = errno;

	if (fd < 0) {
		errno = saved;
		return -1;
	}
	bs_sys_close(fd);
	return 0;
}

/* write(2) that cannot raise SIGPIPE in the program: a record to a pipe nobody
 * reads (the program's stderr, a FIFO) must not kill a program that would never
 * have written there itself. SIGPIPE is blocked around the write and, if the write
 * raised it and it was not pending before, taken off the queue again. */
static void write_quietly(int fd, const char *buf, size_t len)
{
	static const struct timespec now;
	sigset_t pipe_set, old, pending;
	int was_pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	if (write(fd, buf, len) < 0 && errno == EPIPE && !was_pending)
		sigtimedwait(&pipe_set, NULL, &now);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Writes rec to fd as a descriptor of kind allows. */
static void write_as(enum sink_kind kind, int fd, const char *rec, size_t len)
{
	switch (kind) {
	case SINK_PLAIN:
		if (write(fd, rec, len) < 0)
			(void)0;	/* a record lost, never the program's business */
		break;
	case SINK_PIPE:
		write_quietly(fd, rec, len);
		break;
	default:
		break;
	}
}

/* Writes rec to sink s's descriptor fd as its kind allows. */
static void sink_write(const struct sink *s, int fd, const char *rec, size_t len)
{
	write_as((enum sink_kind)atomic_load(&s->kind), fd, rec, len);
}

/* The descriptor "stderr" records go to: fd 2 (whatever it is now), or the
 * launcher's stderr inherited as lg->fd. If the program closed that one, records for
 * it are lost, and fd 2 is told so once. */
static int stderr_fd(const struct bs_logger *lg, const struct bs_who *w)
{
	int fd = sink_fd(&stderr_sink);
	char msg[160];
	int n;

	if (fd >= 0)
		return fd;
	if (lg->fd != 2 && atomic_load(&stderr_lost))
		return -1;
	if (lg->fd != 2 && atomic_load(&stderr_sink.kind) != SINK_UNKNOWN) {
		/* It was adopted, and forgotten since. */
		atomic_store(&stderr_lost, 1);
		n = snprintf(msg, sizeof(msg), "bindshim[%d]: the descriptor for records (%d) was "
			     "closed by the program: records are lost from here on\n", (int)w->pid,
			     lg->fd);
		if (n > 0)
			write_as(classify(2), 2, msg, (size_t)n);
		return -1;
	}
	atomic_store(&stderr_sink.kind, classify(lg->fd));
	atomic_store(&stderr_sink.fd, lg->fd);
	return lg->fd;
}

/* Sends rec to syslog as "bindshim[PID]: user=NAME uid=N PROGRAM: ...": the audit
 * trail says who tried to bind where. JSON records carry uid and user themselves. */
static void emit_syslog(const struct bs_who *w, const char *rec, size_t len, int pri)
{
	char msg[BS_RECORD_MAX + 320], who[288] = "";
	size_t u;
	const char *body = rec;
	int n, fd;

	/* The text record starts "bindshim[PID] "; syslog wants "bindshim[PID]: ". */
	if (!strncmp(rec, "bindshim[", 9) && (body = strchr(rec, ' '))) {
		body++;
		if (w->user) {
			/* escaped in place, leaving room for " uid=4294967295 " */
			memcpy(who, "user=", 5);
			u = 5 + bs_text_escape(who + 5, sizeof(who) - 5 - 20, w->user);
			snprintf(who + u, sizeof(who) - u, " uid=%u ", (unsigned)w->uid);
		} else {
			snprintf(who, sizeof(who), "uid=%u ", (unsigned)w->uid);
		}
	} else {
		body = rec;
	}
	n = snprintf(msg, sizeof(msg), "<%d>bindshim[%d]: %s%.*s", pri, (int)w->pid, who,
		     (int)(len - (size_t)(body - rec) - 1), body);
	if (n <= 0)
		return;
	for (int tries = 0; tries < 2; tries++) {
		fd = sink_fd(&syslog_sink);
		if (fd >= 0 && send(fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1,
				    MSG_NOSIGNAL) >= 0)
			return;
		/* syslogd restarted, or the program closed our socket: reconnect once. */
		sink_adopt(&syslog_sink, open_syslog());
	}
}

static void emit(const struct bs_logger *lg, const struct bs_who *w, const char *rec, size_t len,
		 int pri)
{
	int fd;

	switch (lg->to) {
	case BS_LOG_STDERR:
		if ((fd = stderr_fd(lg, w)) >= 0)
			sink_write(&stderr_sink, fd, rec, len);
		break;
	case BS_LOG_FILE:
		fd = sink_fd(&file_sink);
		if (fd < 0) {
			sink_adopt(&file_sink, open_file(lg->path));
			fd = sink_fd(&file_sink);
		}
		if (fd >= 0)
			sink_write(&file_sink, fd, rec, len);
		break;
	case BS_LOG_SYSLOG:
		emit_syslog(w, rec, len, pri);
		break;
	}
}

void bs_log(const struct bs_logger *lg, const struct bs_record *r)
{
	char rec[BS_RECORD_MAX];
	struct bs_buf b = {rec, 0, sizeof(rec)};
	int saved = errno;
	int pri = r->message ? (strcmp(r->event, "warning") ? LOG_USER_ERR : LOG_USER_WARNING)
		  : (!strcmp(r->event, "rewrite") || !strcmp(r->event, "deny") ||
		     !strcmp(r->event, "hold")) ? LOG_USER_NOTICE
		  : LOG_USER_INFO;

	if (lg->json)
		format_json(&b, r);
	else
		format_text(&b, r);
	/* A record cut short by the buffer still ends its line. */
	if (b.len && rec[b.len - 1] != '\n')
		rec[b.len - 1] = '\n';
	emit(lg, r->who, rec, b.len, pri);
	errno = saved;
}
