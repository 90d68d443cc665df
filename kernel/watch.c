/*
 * `bindshim system watch`: the small daemon of kernel mode. It reads the program's
 * ring buffer and writes each rewrite and denial as the shim would (same text,
 * JSON and syslog records, with uid, pid and comm, marked "via kernel"), and
 * listens to rtnetlink so that `interface:NAME` targets follow address changes
 * (the tables are refreshed as a reload does: the other generation, then a flip).
 * It exits when kernel mode is disabled.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/loader.h"
#include "shim/common/log.h"
#include "shim/launcher/launcher.h"

struct watch {
	const struct bs_kopts *o;
	struct bs_kpins p;
	struct bs_logger lg;
	struct timespec scanned;	/* when the rate map was last looked at */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The name of uid, cached for the last few uids. */
static const char *user_of(uid_t uid)
{
	static struct {
		uid_t uid;
		char name[64];
		bool set;
	} cache[16];
	static unsigned next;
	struct passwd pw, *res = NULL;
	char buf[2048];

	for (int i = 0; i < 16; i++)
		if (cache[i].set && cache[i].uid == uid)
			return cache[i].name[0] ? cache[i].name : NULL;
	next = (next + 1) % 16;
	cache[next].uid = uid;
	cache[next].set = true;
	cache[next].name[0] = '\0';
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		bs_kcopy(cache[next].name, sizeof(cache[next].name), res->pw_name);
	return cache[next].name[0] ? cache[next].name : NULL;
}

static const char *call_name(__u32 call)
{
	static const char *const calls[] = {"bind", "listen", "setsockopt", "accept"};

	return calls[call < 4 ? call : 0];
}

static const char *event_name(__u8 ev)
{
	return ev == BS_KEV_DENY ? "deny" : ev == BS_KEV_HOLD ? "hold"
	       : bs_action_name((enum bs_action)ev);
}

void bs_kevent_log(const struct bs_logger *lg, const struct bs_kpins *p,
		   const struct bs_kevent *e)
{
	struct bs_kinfo info = {0};
	struct bs_kmeta meta;
	struct bs_policy pol = {0};
	struct bs_rule rule = {0};
	struct bs_decision d = {.rule = NULL};
	struct sockaddr_storage from, to;
	char comm[BS_KCOMM + 1];
	struct bs_who who;
	struct bs_record r;
	__u32 key = (e->gen & 1) * BS_KMAX_RULES + (__u32)e->rule;

	memset(&meta, 0, sizeof(meta));
	bs_kmeta_read(p, &meta);
	pol.file = meta.policy[e->gen & 1];
	if (e->rule >= 0 && e->rule < BS_KMAX_RULES &&
	    bpf_map_lookup_elem(p->fd[BS_KM_INFO], &key, &info) == 0) {
		rule.name = info.name;
		rule.line = info.line;
		d.rule = &rule;
	}
	d.action = e->event == BS_KEV_DENY ? BS_DENY
		   : e->event == BS_KEV_HOLD ? BS_REWRITE : (enum bs_action)e->event;
	d.err = e->err;
	memcpy(comm, e->comm, BS_KCOMM);
	comm[BS_KCOMM] = '\0';
	who = (struct bs_who){(pid_t)e->pid, comm, (uid_t)e->uid, user_of((uid_t)e->uid)};
	bs_ksa_to(&from, &e->from);
	bs_ksa_to(&to, &e->to);
	r = (struct bs_record){
		.who = &who, .call = call_name(e->call), .event = event_name(e->event),
		.proto = e->proto, .from = &from, .to = e->event == BS_REWRITE ? &to : NULL,
		.err = e->err, .policy = &pol, .d = &d, .via = "kernel",
	};
	bs_log(lg, &r);
}

/* Remembers a socket the program placed (a rewritten bind, a listener held to
 * lo) for `bindshim audit`, by its cookie. */
static void place(const struct bs_kpins *p, const struct bs_kevent *e)
{
	struct bs_kplaced v = {.gen = e->gen, .rule = e->rule, .from = e->from, .to = e->to};

	if (!e->cookie || e->err || e->call == BS_KCALL_ACCEPT ||
	    (e->event != BS_REWRITE && e->event != BS_KEV_HOLD))
		return;
	bpf_map_update_elem(p->fd[BS_KM_PLACED], &e->cookie, &v, BPF_ANY);
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct watch *w = ctx;

	if (len >= sizeof(struct bs_kevent)) {
		place(&w->p, data);
		bs_kevent_log(&w->lg, &w->p, data);
	}
	return 0;
}

/* What watch has said of `alerted`'s entry a (user key): the entry's line of
 * `alertsaid`, or a fresh one where that line counted an entry evicted since. */
static struct bs_kreported said_of(int said, __u32 key, const struct bs_krate *a)
{
	struct bs_kreported s = {0, 0, 0, 0, 0};

	if (bpf_map_lookup_elem(said, &key, &s) || s.epoch != a->start)
		s = (struct bs_kreported){0, 0, 0, 0, a->start};
	return s;
}

/* Writes s as what was said of user key; where `alertsaid` is full, first removes
 * the users `alerted` no longer has (it has half as many entries at most). */
static void say_of(int said, int counts, __u32 key, const struct bs_kreported *s)
{
	static __u32 gone[8192];	/* alertsaid's size */
	__u32 k, next, *prev = NULL, n = 0;
	struct bs_krate a;

	if (bpf_map_update_elem(said, &key, s, BPF_ANY) == 0 || errno != E2BIG)
		return;
	/* One walk, then the removals: a walk cannot go on from a removed key, and
	 * starting it again after each removal stalled watch for 20 s at 8,192
	 * users (red team). */
	while (bpf_map_get_next_key(said, prev, &next) == 0 && n < sizeof(gone) / sizeof(gone[0])) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(counts, &k, &a))
			gone[n++] = k;
	}
	for (__u32 i = 0; i < n; i++)
		bpf_map_delete_elem(said, &gone[i]);
	bpf_map_update_elem(said, &key, s, BPF_ANY);
}

/* A failed hold's record: written, and out of its user's share (only watch writes
 * `alertsaid`, and one watch at a time). A user `alerted` no longer has (evicted)
 * starts afresh there: nothing to count. */
static int on_alert(void *ctx, void *data, size_t len)
{
	struct watch *w = ctx;
	const struct bs_kevent *e = data;
	int said = w->p.fd[BS_KM_ALERTSAID], counts = w->p.fd[BS_KM_ALERTED];
	struct bs_kreported s;
	struct bs_krate a;

	on_event(ctx, data, len);
	if (len < sizeof(*e) || bpf_map_lookup_elem(counts, &e->owner, &a))
		return 0;
	s = said_of(said, e->owner, &a);
	s.read++;
	say_of(said, counts, e->owner, &s);
	return 0;
}

/* Writes a warning record for each user of the counts map (`rate` or `alerted`)
 * with records not sent and not yet said: how many (what they are: "record",
 * "failed-hold record"), how many of them denials or a subordinate uid's, the
 * latest process, call and command of them, and why.
 * What was said is kept in the pinned map said (`reported`, `alertsaid`), so that
 * a watch started again says nothing twice; a rate entry made again after
 * eviction starts at 0, below what was said: all new. */
static void report_over(struct watch *w, int fd, int said, const char *what, const char *why,
			bool alerts)
{
	__u32 key, next, *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct bs_krate r;
		struct bs_kreported before = {0, 0, 0, 0, 0}, now_said;
		char comm[BS_KCOMM + 1], msg[400], denials[48] = "", subs[80] = "";
		struct bs_who who;
		struct bs_record rec;
		__u32 n, d, sn;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &r) || !r.over)
			continue;
		if (alerts)
			before = said_of(said, key, &r);
		else
			bpf_map_lookup_elem(said, &key, &before);
		if (r.over < before.over || r.denied < before.denied || r.subs < before.subs)
			before.over = before.denied = before.subs = 0;
		if (r.over <= before.over)
			continue;
		now_said = (struct bs_kreported){r.over, r.denied, r.subs, before.read, before.epoch};
		memcpy(comm, r.comm, BS_KCOMM);
		comm[BS_KCOMM] = '\0';
		who = (struct bs_who){(pid_t)r.pid, comm, (uid_t)key, user_of((uid_t)key)};
		n = r.over - before.over;
		d = r.denied - before.denied;
		sn = r.subs - before.subs;
		/* The program counts a denial just before the record it is, so a reading
		 * between the two sees one denial too many: said later. */
		if (d > n) {
			d = n;
			now_said.denied = before.denied + n;
		}
		if (d)
			snprintf(denials, sizeof(denials), " (%u denied)", d);
		/* Likewise for the count of those by subordinate uids. */
		if (sn > n) {
			sn = n;
			now_said.subs = before.subs + n;
		}
		if (sn)
			snprintf(subs, sizeof(subs), " and its subordinate uids (%u of them, "
				 "latest uid %u)", sn, r.sub);
		snprintf(msg, sizeof(msg), "%u more %s%s of uid %u%s not written%s: %s", n, what,
			 n == 1 ? "" : "s", key, subs, denials, why);
		rec = (struct bs_record){.who = &who, .call = call_name(r.call), .event = "warning",
					 .message = msg, .via = "kernel"};
		bs_log(&w->lg, &rec);
		if (alerts)
			say_of(said, fd, key, &now_said);
		else
			bpf_map_update_elem(said, &key, &now_said, BPF_ANY);
	}
}

/* The namespace's ip_local_port_range, which the setsockopt program judges port
 * ranges by, put in the state if it changed (the lock taken only then). */
static void follow_ports(struct watch *w)
{
	struct bs_kpins lock;

	if (bs_klocal_ports(&w->p, true) <= 0)
		return;
	bs_kpins_init(&lock);
	if (bs_kpins_lock(&lock, w->o->pin ? w->o->pin : BS_KPIN_DIR) == 0)
		bs_klocal_ports(&w->p, false);
	bs_kpins_close(&lock);
}

/* At most once a second (each map has up to 4,096 users), unless final: the
 * summing up of records over the rate and of failed holds over a user's share,
 * and the namespace's ip_local_port_range followed. */
static void once_a_second(struct watch *w, bool final)
{
	struct bs_kstate st;
	struct timespec now;
	char why[200];

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && now.tv_sec - w->scanned.tv_sec < 1)
		return;
	w->scanned = now;
	follow_ports(w);
	if (bs_kstate_read(&w->p, &st))
		return;
	snprintf(why, sizeof(why), "over %u a second (kernel mode)", st.rate);
	report_over(w, w->p.fd[BS_KM_RATE], w->p.fd[BS_KM_REPORTED], "record", why, false);
	snprintf(why, sizeof(why), "over %u waiting to be read (kernel mode; bindshim audit "
		 "lists the listeners)", BS_KALERT_SHARE);
	report_over(w, w->p.fd[BS_KM_ALERTED], w->p.fd[BS_KM_ALERTSAID], "failed-hold record",
		    why, true);
}

/* When process pid started (clock ticks after boot); 0 if it is gone. */
static unsigned long long started(pid_t pid)
{
	unsigned long long t;
	char state;

	return bs_proc_stat(pid, &t, &state) >= 0 ? t : 0;
}

/* Whether the watch meta names is still running. */
static bool watching(const struct bs_kmeta *meta)
{
	return meta->watcher && meta->watcher_start &&
	       started((pid_t)meta->watcher) == meta->watcher_start;
}

pid_t bs_kwatcher(const struct bs_kpins *p)
{
	struct bs_kmeta meta;

	if (bs_kmeta_read(p, &meta) || !watching(&meta))
		return 0;
	return (pid_t)meta.watcher;
}

/* Takes the records for this watch (claim) or gives them back: one watch at a
 * time, since two would share the ring and each log miss the other's records.
 * Returns 0, or -1 after saying which other watch, still running, has them. */
static int claim(struct watch *w, const char *pin, bool claim)
{
	struct bs_kpins lock;
	struct bs_kmeta meta;
	__u32 self = (__u32)getpid();
	int rc = -1;

	bs_kpins_init(&lock);
	if (bs_kpins_lock(&lock, pin) ||
	    bs_kmeta_read(&w->p, &meta)) {
		if (claim)	/* giving back to a disabled kernel mode: nothing to say */
			fprintf(stderr, "bindshim system watch: %s: %s\n", pin, strerror(errno));
		goto out;
	}
	if (claim && meta.watcher != self && watching(&meta)) {
		fprintf(stderr, "bindshim system watch: another watch (pid %u) reads the records; "
			"stop it first\n", meta.watcher);
		goto out;
	}
	if (!claim && meta.watcher != self) {
		rc = 0;
		goto out;
	}
	meta.watcher = claim ? self : 0;
	meta.watcher_start = claim ? started((pid_t)self) : 0;
	rc = bs_kmeta_write(&w->p, &meta) ? -1 : 0;
out:
	bs_kpins_close(&lock);
	return rc;
}

/* Looks interface targets up again and installs the tables if anything changed. */
static void refresh(struct watch *w)
{
	struct bs_ktables t;
	char policy[256] = "";
	struct bs_kpins lock;

	bs_kpins_init(&lock);
	if (bs_kpins_lock(&lock, w->o->pin ? w->o->pin : BS_KPIN_DIR))
		return;
	if (bs_kread_active(&w->p, &t, policy, sizeof(policy)) == 0) {
		if (bs_kresolve_ifaces(&t) && bs_kinstall(&w->p, &t, policy) == 0)
			fprintf(stderr, "bindshim system watch: interface addresses changed; "
				"tables refreshed\n");
		bs_ktables_free(&t);
	}
	bs_kpins_close(&lock);
}

/* A netlink socket told of every address change. */
static int rtnl_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The log settings: the active policy's, unless --log / --log-format say else. */
static void open_logger(struct watch *w)
{
	struct bs_kmeta meta;
	struct bs_kstate st;
	struct bs_policy *p = NULL;
	char err[4096];

	memset(&w->lg, 0, sizeof(w->lg));
	w->lg.to = BS_LOG_STDERR;
	if (bs_kstate_read(&w->p, &st) == 0 &&
	    bs_kmeta_read(&w->p, &meta) == 0 &&
	    bs_policy_load(meta.policy[st.gen & 1], &p, err, sizeof(err)) == 0) {
		w->lg.to = p->log.to;
		w->lg.json = p->log.json;
		if (p->log.path)
			bs_kcopy(w->lg.path, sizeof(w->lg.path), p->log.path);
	}
	bs_policy_free(p);
	if (w->o->log) {
		if (!strcmp(w->o->log, "stderr"))
			w->lg.to = BS_LOG_STDERR;
		else if (!strcmp(w->o->log, "syslog"))
			w->lg.to = BS_LOG_SYSLOG;
		else {
			w->lg.to = BS_LOG_FILE;
			bs_kcopy(w->lg.path, sizeof(w->lg.path), w->o->log);
		}
	}
	if (w->o->log_format)
		w->lg.json = !strcmp(w->o->log_format, "json");
	bs_log_open(&w->lg);
}

int bs_ksystem_watch(const struct bs_kopts *o)
{
	struct watch w = {.o = o};
	struct ring_buffer *rb;
	const char *pin = o->pin ? o->pin : BS_KPIN_DIR;
	int nl, rc = bs_kpins_open(&w.p, pin);

	if (bs_kpins_unusable(rc)) {
		fprintf(stderr, "bindshim system watch: %s: %s\n", pin, bs_kpins_error(rc));
		return 1;
	}
	if (rc) {
		fprintf(stderr, "bindshim system watch: kernel mode is not enabled (%s)\n", pin);
		return 1;
	}
	if (claim(&w, pin, true)) {
		bs_kpins_close(&w.p);
		return 1;
	}
	open_logger(&w);
	rb = ring_buffer__new(w.p.fd[BS_KM_EVENTS], on_event, &w, NULL);
	/* Failed holds come through a ring of their own (see bs_record_of). */
	if (rb && ring_buffer__add(rb, w.p.fd[BS_KM_ALERTS], on_alert, &w)) {
		ring_buffer__free(rb);
		rb = NULL;
	}
	if (!rb) {
		fprintf(stderr, "bindshim system watch: cannot read the ring buffer: %s\n",
			strerror(errno));
		claim(&w, pin, false);
		bs_kpins_close(&w.p);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	nl = rtnl_open();
	refresh(&w);
	fprintf(stderr, "bindshim system watch: reading records from %s\n", pin);
	while (!stop) {
		struct pollfd fds[2] = {{ring_buffer__epoll_fd(rb), POLLIN, 0}, {nl, POLLIN, 0}};
		int now;

		if (poll(fds, nl >= 0 ? 2 : 1, BS_KWATCH_MS) < 0 && errno != EINTR)
			break;
		ring_buffer__consume(rb);
		once_a_second(&w, false);
		if (nl >= 0 && (fds[1].revents & POLLIN)) {
			char buf[8192];

			while (recv(nl, buf, sizeof(buf), 0) > 0)
				;
			refresh(&w);
		}
		if ((now = bs_kpins_current(&w.p, pin)) != 1) {
			/* Disabled, or disabled and enabled again while this watch was
			 * stopped: it would read maps nothing writes any more (exit 1:
			 * its unit starts it again, on the new ones). */
			fprintf(stderr, "bindshim system watch: kernel mode was disabled%s\n",
				now ? " and enabled again: run watch again" : "");
			rc = now ? 1 : 0;
			break;
		}
	}
	ring_buffer__consume(rb);
	once_a_second(&w, true);
	ring_buffer__free(rb);
	if (nl >= 0)
		close(nl);
	claim(&w, pin, false);
	bs_kpins_close(&w.p);
	return rc;
}
