/*
 * bindshim's kernel program: the same policy as the shim, for every bind() of
 * every process in a cgroup (static and Go programs, raw syscalls included).
 *
 *   cgroup/bind4, cgroup/bind6    judge every inet bind: allow, rewrite the address
 *                                 and port (user_ip4/6, user_port), or refuse with
 *                                 the rule's errno (bpf_set_retval)
 *   lsm_cgroup/socket_listen      judge listen() on sockets bound to port 0 that
 *                                 the policy rewrites (left alone at bind so that
 *                                 clients binding before connect still reach other
 *                                 hosts) and on never-bound sockets (the kernel
 *                                 autobinds those to the wildcard without bind4)
 *   sockops (TCP_LISTEN_CB)       once a listen() has happened, under the socket's
 *                                 lock: a listener somewhere the policy does not
 *                                 allow (never bound, autobound by listen(), or
 *                                 moved by a racing disconnect after the checks
 *                                 above) cannot be refused any more, so it is held
 *                                 to the loopback interface (SO_BINDTOIFINDEX 1):
 *                                 nothing from another host reaches it. Where this
 *                                 program loads, port-0 binds wait for listen()
 *                                 even without BPF LSM
 *   sockops (PASSIVE_ESTABLISHED) a connection that came in between the kernel
 *                                 making a socket listen and the hold above (its
 *                                 SYN did; it is accepted after) is held with its
 *                                 listener: what the program knows of the listener
 *                                 is copied into each connection it accepts
 *   cgroup/post_bind4, post_bind6 after a bind the kernel made: where the socket
 *                                 really is (what covers connections above)
 *   sk_lookup                     (the network namespace enable runs in) drop a
 *                                 SYN that arrives on another interface than lo
 *                                 for a listener the sockops program could not
 *                                 hold (tied to that interface before listen()):
 *                                 such listeners are put in a socket hash
 *   cgroup/setsockopt             refuse IP_LOCAL_PORT_RANGE on UDP sockets: with a
 *                                 one-port range, a send autobinds to that port
 *                                 without any bind() to judge; and a new device
 *                                 for a listener held to lo
 *   cgroup/sock_create            refuse MPTCP sockets (EPROTONOSUPPORT, as on a
 *                                 kernel without MPTCP): after a failed connect
 *                                 one keeps reporting its old address, and its
 *                                 listen() binds the wildcard; programs fall back
 *                                 to TCP
 *
 * The decision is kernel/kdecide.h over the active generation of the tables; every
 * rewrite and denial goes into the ring buffer for `bindshim system watch`.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kernel/ktypes.h"

#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOL_SOCKET 1
#define SO_BINDTODEVICE 25
#define SO_BINDTOIFINDEX 62
#define AF_UNSPEC 0
#define BS_LOOPBACK_IFINDEX 1	/* lo, in every network namespace */
#define BS_TCP_LISTEN_CB 11	/* BPF_SOCK_OPS_TCP_LISTEN_CB, Linux 4.19 */
#define BS_PASSIVE_ESTABLISHED_CB 5	/* BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB */
#define BS_TCP_LISTEN 10		/* TCP_LISTEN, bpf_sock.state */
#define BS_STATE_CB 10			/* BPF_SOCK_OPS_STATE_CB */
#define BS_STATE_CB_FLAG 4		/* BPF_SOCK_OPS_STATE_CB_FLAG */
#define EPROTONOSUPPORT_ 93	/* errno.h cannot be included in a BPF program */
#define EPERM_ 1

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by the loader before load: whether bpf_set_retval exists (Linux 5.18). */
const volatile int bs_have_retval = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bs_kstate);
} bs_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * BS_KMAX_RULES);
	__type(key, __u32);
	__type(value, struct bs_krule);
} bs_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * BS_KMAX_PATS);
	__type(key, __u32);
	__type(value, struct bs_kpat);
} bs_pats SEC(".maps");

/* User space only: rule names and lines, the policy files, the cgroup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * BS_KMAX_RULES);
	__type(key, __u32);
	__type(value, struct bs_kinfo);
} bs_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bs_kmeta);
} bs_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BS_KC_N);
	__type(key, __u32);
	__type(value, __u64);
} bs_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BS_KEVENTS_SIZE);
} bs_events SEC(".maps");

/* Records of listeners and connections that could not be held (exposed): apart,
 * so that a flood of other records cannot push them out. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} bs_alerts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct bs_ksk);
} bs_sk SEC(".maps");

/* How many listeners a hold failed for, in the guard's network namespace, listen
 * at each port on each interface (down again when one closes). One interface's
 * ports cannot fill it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct bs_kguard);
	__type(value, __u32);
} bs_guarded SEC(".maps");

/* Sockets the program placed, by cookie, for `bindshim audit`: written by
 * `system watch` from the records (a map update here cost a bind about 1 us). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct bs_kplaced);
} bs_placed SEC(".maps");

/* Each uid's record rate (bs_record_of): one user's flood of binds can neither
 * fill the ring buffer, which would drop everyone else's records, nor the disk. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct bs_krate);
} bs_rate SEC(".maps");

/* Subordinate uids' owners (subuid(5)): whose rate their records count against. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BS_KMAX_OWNED);
	__type(key, struct bs_kowner_key);
	__type(value, __u32);
} bs_owners SEC(".maps");

/* Ports of stream sockets in the guard's network namespace whose port-0 bind was
 * left for listen() (its port known from getsockname() before listen()), until
 * listen() was looked at, or they close: the guard drops SYNs from elsewhere
 * than lo to them, so that nothing connects in the instant between listen()
 * and the hold (a connection from an IPv6 link-local address gets the arrival
 * interface from the kernel, and cannot be held when it is accepted: red team). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __s32);
} bs_pending SEC(".maps");

/* Failed holds' records sent to the alerts ring, by user (a uid, or the owner of
 * subordinate uids), and those over the user's share (BS_KALERT_SHARE waiting).
 * An LRU: a new user always gets a share (an evicted one starts afresh). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct bs_krate);
} bs_alerted SEC(".maps");

/* Written by `system watch` only: of each user's `alerted` entry (epoch), the
 * records read and the counts summed up. Watch writes only users `alerted` has,
 * and removes those it no longer has when it is full. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct bs_kreported);
} bs_alertsaid SEC(".maps");

/* User space only: how many of each uid's records over the rate `system watch`
 * has summed up already (pinned, so that a watch started again repeats nothing). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct bs_kreported);
} bs_reported SEC(".maps");

/* Never read: replacing its element makes the kernel wait for every running
 * program (synchronize_rcu), which is how a reload knows the old generation is
 * no longer in use (loader.c). */
struct bs_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bs_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct bs_inner);
} bs_sync SEC(".maps") = {
	.values = {&bs_inner},
};

struct bs_kenv {
	__u32 gen;
	struct bs_kgen hdr;
};

static __always_inline const struct bs_krule *bs_rule_at(const struct bs_kenv *env, __u32 i)
{
	__u32 k;

	if (i >= BS_KMAX_RULES)
		return 0;
	k = env->gen * BS_KMAX_RULES + i;
	return bpf_map_lookup_elem(&bs_rules, &k);
}

static __always_inline const struct bs_kpat *bs_pat_at(const struct bs_kenv *env, __u32 i)
{
	__u32 k;

	if (i >= BS_KMAX_PATS)
		return 0;
	k = env->gen * BS_KMAX_PATS + i;
	return bpf_map_lookup_elem(&bs_pats, &k);
}

#define BS_KINLINE static __always_inline
#define BS_KGLOBAL __noinline
#define BS_K_RULE(env, i) bs_rule_at((env), (i))
#define BS_K_PAT(env, i) bs_pat_at((env), (i))
#define BS_K_LOOP(n, cb, ctx) bpf_loop((n), (cb), (ctx), 0)
#include "kernel/kdecide.h"

/* Just enough of the kernel's types for the fields read below; CO-RE relocates
 * each access to the running kernel's layout. */
struct sock_common {
	__be32 skc_rcv_saddr;
	__u16 skc_num;
	unsigned short skc_family;
	unsigned char skc_reuse:4;
	unsigned char skc_reuseport:1;
	unsigned char skc_ipv6only:1;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct socket {
	short type;
	struct sock *sk;
} __attribute__((preserve_access_index));

static __always_inline void bs_count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&bs_counters, &which);

	if (c)
		*c += 1;
}

/* Takes one off a counter that is a level (per CPU: their sum is what counts). */
static __always_inline void bs_uncount(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&bs_counters, &which);

	if (c)
		*c -= 1;
}

/* Fails the call with err (EPERM only, before Linux 5.18). */
static __always_inline int bs_fail(int err)
{
	if (bs_have_retval)
		bpf_set_retval(-err);
	return 0;
}

/* The caller's uid, comm and protocol into q. */
static __always_inline void bs_who(struct bs_kquery *q, int type)
{
	q->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(q->comm, sizeof(q->comm));
	q->proto = type == SOCK_STREAM ? 1 : 2;
}

/* The user whose counts uid's records count against: its owner where it is a
 * subordinate uid (*sub set then), else itself. */
static __always_inline __u32 bs_owner_of(const struct bs_kstate *st, __u32 uid, int *sub)
{
	struct bs_kowner_key k = {32, {uid >> 24, uid >> 16, uid >> 8, uid}};
	__u32 *owner = 0;

	/* No trie walk where there are no ranges. */
	if (st->owned)
		owner = bpf_map_lookup_elem(&bs_owners, &k);
	if (owner && *owner != uid) {
		*sub = 1;
		return *owner;
	}
	return uid;
}

/* Counts a record of q not sent, in r (its user's), for `system watch`'s summing
 * up: the latest process, call and command, and denials and subordinate uids'. */
static __always_inline void bs_over(struct bs_krate *r, const struct bs_kquery *q, __u32 pid,
				    __u32 call, __u32 deny, int sub)
{
	if (deny)
		__sync_fetch_and_add(&r->denied, 1);
	__sync_fetch_and_add(&r->over, 1);
	r->pid = pid;
	r->call = call;
	__builtin_memcpy(r->comm, q->comm, sizeof(r->comm));
	if (sub) {
		__sync_fetch_and_add(&r->subs, 1);
		r->sub = q->uid;
	}
}

/* Whether q's uid may send one more record this second (the state's rate; a
 * subordinate uid's count as its owner's); if not, counts it against the uid, for
 * the summary `system watch` writes. */
static __noinline int bs_rate_ok(const struct bs_kquery *q, __u32 pid, __u32 call, __u32 deny)
{
	__u32 zero = 0, uid;
	int sub = 0;
	struct bs_kstate *st = bpf_map_lookup_elem(&bs_state, &zero);
	__u64 now;
	struct bs_krate *r;

	if (!st || !st->rate)
		return 1;
	uid = bs_owner_of(st, q->uid, &sub);
	now = bpf_ktime_get_ns();
	r = bpf_map_lookup_elem(&bs_rate, &uid);
	if (!r) {
		struct bs_krate fresh = {.start = now, .sent = 1};

		bpf_map_update_elem(&bs_rate, &uid, &fresh, BPF_NOEXIST);
		return 1;
	}
	/* A new second; two CPUs may both start it: a record or two more, never less. */
	if (now - r->start >= 1000000000ull) {
		r->start = now;
		r->sent = 1;
		return 1;
	}
	if (r->sent < st->rate) {
		__sync_fetch_and_add(&r->sent, 1);
		return 1;
	}
	bs_over(r, q, pid, call, deny, sub);
	return 0;
}

/* Whether a failed hold of q's uid may go to the alerts ring: at most
 * BS_KALERT_SHARE of its user's waiting there for `system watch` (sent by this
 * program, read by watch); if not, counted for watch's summing up. *owner: the
 * user, for the record. Where `alerted` is full, every one goes (as before). */
static __noinline int bs_alert_ok(const struct bs_kquery *q, __u32 pid, __u32 call,
				  __u32 *owner)
{
	__u32 zero = 0, uid = q->uid, read;
	int sub = 0;
	struct bs_kstate *st = bpf_map_lookup_elem(&bs_state, &zero);
	struct bs_kreported *said;
	struct bs_krate *a;

	if (st)
		uid = bs_owner_of(st, uid, &sub);
	*owner = uid;
	a = bpf_map_lookup_elem(&bs_alerted, &uid);
	if (!a) {
		/* Made empty and counted below like any other: two CPUs making it at
		 * once count both (one sent of two made watch's read pass sent). */
		struct bs_krate fresh = {.start = bpf_ktime_get_ns()};

		bpf_map_update_elem(&bs_alerted, &uid, &fresh, BPF_NOEXIST);
		a = bpf_map_lookup_elem(&bs_alerted, &uid);
		if (!a)
			return 1;
	}
	said = bpf_map_lookup_elem(&bs_alertsaid, &uid);
	read = said && said->epoch == a->start ? said->read : 0;
	/* Signed: a record read twice (a watch killed between writing it and moving
	 * on) gives a place more, never a user blocked for good. */
	if ((__s32)(a->sent - read) < BS_KALERT_SHARE) {
		__sync_fetch_and_add(&a->sent, 1);
		return 1;
	}
	bs_over(a, q, pid, call, 0, sub);
	return 0;
}

/* A socket placed without a record (over the rate): remembered here for `audit`,
 * as `system watch` does from the records. */
static __noinline void bs_place_quiet(__u64 cookie, __u32 gen, const struct bs_ksa *from,
				      const struct bs_kout *o)
{
	struct bs_kplaced v = {.gen = (__u8)gen, .rule = o->rule, .from = *from, .to = o->to};

	bpf_map_update_elem(&bs_placed, &cookie, &v, BPF_ANY);
}

/* Sends a record of o for the call by process pid to its ring buffer (counting a
 * full one): a hold that failed to the alerts, any other to the events, within
 * its uid's rate. */
static __always_inline void bs_record_of(__u32 pid, __u8 call, const struct bs_kquery *q,
					 __u32 gen, const struct bs_ksa *from,
					 const struct bs_kout *o, __u64 cookie)
{
	int alert = o->action == BS_KEV_HOLD && o->err;
	__u32 owner = q->uid;
	struct bs_kevent *e;

	if (alert && !bs_alert_ok(q, pid, call, &owner)) {
		bs_count(BS_KC_ALERTS_OVER);
		return;
	}
	if (!alert && !bs_rate_ok(q, pid, call, o->err && o->action != BS_KEV_HOLD)) {
		bs_count(BS_KC_OVER_RATE);
		/* what watch's place() would have remembered */
		if (cookie && !o->err && call != BS_KCALL_ACCEPT &&
		    (o->action == BS_KA_REWRITE || o->action == BS_KEV_HOLD))
			bs_place_quiet(cookie, gen, from, o);
		return;
	}
	e = alert ? bpf_ringbuf_reserve(&bs_alerts, sizeof(*e), 0)
		  : bpf_ringbuf_reserve(&bs_events, sizeof(*e), 0);
	if (!e) {
		if (alert) {
			/* not waiting in the ring: out of the user's share */
			struct bs_krate *a = bpf_map_lookup_elem(&bs_alerted, &owner);

			if (a)
				__sync_fetch_and_add(&a->sent, (__u32)-1);
		}
		bs_count(alert ? BS_KC_ALERT_DROPS : BS_KC_DROPS);
		return;
	}
	e->owner = owner;
	e->cookie = cookie;
	e->pid = pid;
	e->uid = q->uid;
	__builtin_memcpy(e->comm, q->comm, sizeof(e->comm));
	e->call = call;
	e->event = o->err && o->action != BS_KEV_HOLD ? BS_KEV_DENY : o->action;
	e->proto = q->proto;
	e->gen = (__u8)gen;
	e->rule = o->rule;
	e->err = o->err;
	e->from = *from;
	e->to = o->to;
	/* Waking watch for each record cost a recorded bind about 6 us (with watch
	 * reading as fast as records came, every submit woke it). A failed hold wakes
	 * it at once; other records only once a quarter of the ring waits, and watch
	 * looks every BS_KWATCH_MS otherwise. */
	if (alert)
		bpf_ringbuf_submit(e, 0);
	else
		bpf_ringbuf_submit(e, bpf_ringbuf_query(&bs_events, BPF_RB_AVAIL_DATA) >=
					      BS_KEVENTS_SIZE / 4 ? BPF_RB_FORCE_WAKEUP
								  : BPF_RB_NO_WAKEUP);
}

/* The same, for the calling process. */
static __always_inline void bs_record(__u8 call, const struct bs_kquery *q, __u32 gen,
				      const struct bs_ksa *from, const struct bs_kout *o,
				      __u64 cookie)
{
	bs_record_of((__u32)(bpf_get_current_pid_tgid() >> 32), call, q, gen, from, o, cookie);
}

/* IPV6_V6ONLY of an IPv6 socket; 1 when it cannot be read (::1 then, which binds
 * on any IPv6 socket). */
static __always_inline int bs_v6only(struct bpf_sock *sk, int type)
{
	struct sock_common *sc;

	if (type == SOCK_STREAM)
		sc = (struct sock_common *)bpf_skc_to_tcp6_sock(sk);
	else
		sc = (struct sock_common *)bpf_skc_to_udp6_sock(sk);
	if (!sc)
		return 1;
	return BPF_CORE_READ_BITFIELD(sc, skc_ipv6only);
}

/* Notes in what the program remembers of sk how its latest bind went: flag
 * BS_KSK_JUDGED with the endpoint the bind program let it bind (at), or
 * BS_KSK_DEFERRED with the one it asked for; or adds BS_KSK_HELD; and who did it
 * (q, the calling process).
 * Returns what it remembers, NULL if it cannot. */
static __always_inline struct bs_ksk *bs_mark(struct bpf_sock *sk, __u32 flag,
					      const struct bs_ksa *at,
					      const struct bs_kquery *q)
{
	struct bs_ksk *m = bpf_sk_storage_get(&bs_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (!m)
		return 0;
	if (flag != BS_KSK_HELD)
		m->flags &= ~(__u32)(BS_KSK_JUDGED | BS_KSK_DEFERRED | BS_KSK_LOOKED |
				     BS_KSK_BOUND);
	m->flags |= flag;
	if (at)
		m->at = *at;
	m->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	m->uid = q->uid;
	__builtin_memcpy(m->comm, q->comm, sizeof(m->comm));
	return m;
}

/* Whether a is a loopback address (127/8, ::1, ::ffff:127/104). */
static __always_inline int bs_loopback(const struct bs_ksa *a)
{
	__u32 w[4];

	__builtin_memcpy(w, a->addr, 16);
	if (a->family == BS_KAF_INET)
		return a->addr[0] == 127;
	return (!w[0] && !w[1] && !w[2] && w[3] == bpf_htonl(1)) ||
	       (!w[0] && !w[1] && w[2] == bpf_htonl(0xffff) && a->addr[12] == 127);
}

/* Notes that the bind program let stream socket sk bind at (BS_KSK_JUDGED), for
 * listen() and the connections it accepts; not for a loopback address, where
 * nothing from another host reaches a listener anyway and re-judging it at
 * listen() changes nothing that matters (that saves making its storage, the
 * costliest thing a bind does here). */
static __always_inline void bs_judged(struct bpf_sock *sk, const struct bs_ksa *at,
				      const struct bs_kquery *q)
{
	if (!bs_loopback(at))
		bs_mark(sk, BS_KSK_JUDGED, at, q);
}

/* Takes the socket with storage m off bs_pending. (A connection's storage, copied
 * from its listener's, says nothing pending: bs_listened clears it at once.) */
static __always_inline void bs_unpend(struct bs_ksk *m)
{
	__s32 *w;

	if (!m || !(m->flags & BS_KSK_PENDING))
		return;
	m->flags &= ~(__u32)BS_KSK_PENDING;
	w = bpf_map_lookup_elem(&bs_pending, &m->pport);
	if (w)
		__sync_fetch_and_add(w, -1);
}

/* Counts the socket with storage m, bound to port (host order) in the network
 * namespace netns (its cookie), in bs_pending, where the guard runs (its
 * namespace). A port-0 bind's port was free: no other listener's SYNs are
 * dropped. */
static __always_inline void bs_pend(struct bs_ksk *m, __u32 port, __u64 netns)
{
	__u32 zero = 0;
	struct bs_kstate *st = bpf_map_lookup_elem(&bs_state, &zero);
	__s32 none = 0, *w;

	bs_unpend(m);
	if (!st || !(st->flags & BS_KF_GUARD) || !port || netns != st->netns)
		return;
	/* Made empty and counted like any other: two sockets making it at once
	 * count both. */
	w = bpf_map_lookup_elem(&bs_pending, &port);
	if (!w) {
		bpf_map_update_elem(&bs_pending, &port, &none, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&bs_pending, &port);
		if (!w)
			return;		/* no room: not counted */
	}
	__sync_fetch_and_add(w, 1);
	m->pport = port;
	m->flags |= BS_KSK_PENDING;
}

/* Whether the socket listens where its latest bind was judged to go: its
 * address, and its port unless that bind asked for port 0. The bind programs run
 * before the kernel checks a bind, so a bind they passed may still have failed:
 * only where the socket is counts. */
static __always_inline int bs_where_judged(const struct bs_ksk *m, const struct bs_ksa *at)
{
	int n = at->family == BS_KAF_INET ? 4 : 16;

	if (!m || !(m->flags & BS_KSK_JUDGED) || m->at.family != at->family ||
	    (m->at.port && m->at.port != at->port))
		return 0;
	for (int i = 0; i < 16; i++)
		if (i < n && m->at.addr[i] != at->addr[i])
			return 0;
	return 1;
}

/* The state's active generation and its header; NULL before the loader is done. */
static __always_inline struct bs_kstate *bs_active(struct bs_kenv *env)
{
	__u32 zero = 0;
	struct bs_kstate *st = bpf_map_lookup_elem(&bs_state, &zero);

	if (!st)
		return 0;
	/* Read once: every lookup of this call uses this generation. */
	env->gen = *(volatile __u32 *)&st->gen & 1;
	env->hdr = st->g[env->gen];
	return st;
}

/* Whether ctx's IPv6 address takes a scope id (link-local fe80::/10, and
 * interface- or link-local multicast): one with a scope id ties the socket to
 * that interface, in bind() and connect() alike, before the kernel looks any
 * further (a bind overrides a device already set), and without passing
 * bs_setsockopt. */
static __always_inline int bs_link_local(struct bpf_sock_addr *ctx)
{
	__u32 w = bpf_ntohl(ctx->user_ip6[0]), scope = (w >> 16) & 0xf;

	return (w & 0xffc00000) == 0xfe800000 || ((w >> 24) == 0xff && (scope == 1 || scope == 2));
}

/* A stream socket whose port is known before listen() (flags: a one-port range,
 * and for connect() a port-0 bind left for listen, which keeps its port after a
 * connect that failed) gets no interface after it (see bs_setsockopt), by a
 * scoped address either: even a bind or connect that fails leaves the
 * interface. Nor does a listener held to lo, or one the guard counts, move off
 * its interface that way (red team: a held socket, its range kept through
 * connect(AF_UNSPEC), was moved to bs0 by a failing scoped bind and listened
 * there at its known port). (A bound socket's bind fails before the kernel
 * looks at the scope.) */
static __always_inline int bs_scoped_tie(struct bpf_sock_addr *ctx, __u32 flags)
{
	struct bs_ksk *m;

	if (ctx->type != SOCK_STREAM || ctx->user_family != BS_KAF_INET6 || !bs_link_local(ctx))
		return 0;
	m = bpf_sk_storage_get(&bs_sk, ctx->sk, 0, 0);
	if (!m || !(m->flags & (flags | BS_KSK_HELD | BS_KSK_EXPOSED)))
		return 0;
	bs_count(BS_KC_TIES_REFUSED);
	return 1;
}

/* Both bind programs: judge ctx's address; 1 lets the (maybe rewritten) bind go on. */
static __always_inline int bs_bind(struct bpf_sock_addr *ctx, int family)
{
	struct bs_kenv env;
	struct bs_kquery q = {};
	struct bs_ksa from = {};
	struct bs_kout o = {};
	struct bs_kstate *st = bs_active(&env);
	int type = ctx->type, v6only = 1;
	__u64 cookie;

	if (!st || (type != SOCK_STREAM && type != SOCK_DGRAM))
		return 1;
	/* A socket bound already: the kernel refuses this bind (EINVAL) after the
	 * program, which must not overwrite what the first bind left (red team: a
	 * refused second bind took "port-0 bind left for listen" off a socket,
	 * which could then be tied to an interface with its port known). */
	if (ctx->sk->src_port)
		return 1;
	from.family = family;
	from.port = bpf_ntohs((__u16)ctx->user_port);
	if (family == BS_KAF_INET) {
		__u32 ip = ctx->user_ip4;

		/* Linux's old bind(AF_UNSPEC, INADDR_ANY) on an IPv4 socket is 0.0.0.0;
		 * anything else but AF_INET the kernel refuses itself. */
		if (ctx->user_family != BS_KAF_INET && (ctx->user_family != AF_UNSPEC || ip))
			return 1;
		__builtin_memcpy(from.addr, &ip, 4);
	} else {
		if (ctx->user_family != BS_KAF_INET6)
			return 1;
		/* Constant offsets: the verifier takes no variable offset into ctx. */
		__u32 w[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2],
			      ctx->user_ip6[3]};

		__builtin_memcpy(from.addr, w, 16);
		v6only = bs_v6only(ctx->sk, type);
	}
	bs_who(&q, type);
	bs_k_judge(&env, &q, &from, v6only, &o);
	bs_count(BS_KC_BINDS);
	cookie = bpf_get_socket_cookie(ctx);
	if (o.err) {
		bs_count(BS_KC_DENIALS);
		bs_record(BS_KCALL_BIND, &q, env.gen, &from, &o, cookie);
		return bs_fail(o.err);
	}
	if (o.action != BS_KA_REWRITE) {
		if (o.action == BS_KA_LOG || env.hdr.log_allowed)
			bs_record(BS_KCALL_BIND, &q, env.gen, &from, &o, cookie);
		if (type == SOCK_STREAM && (st->flags & BS_KF_HOLD))
			bs_judged(ctx->sk, &from, &q);
		return 1;
	}
	/* Not for a stream socket tied to an interface, or tied by this very bind
	 * (a link-local address with a scope id, which the kernel applies after the
	 * program): it would be tied with a port known before listen() (see
	 * bs_setsockopt). */
	if (from.port == 0 && (st->flags & (BS_KF_LSM | BS_KF_HOLD)) &&
	    !(type == SOCK_STREAM &&
	      (ctx->sk->bound_dev_if || (family == BS_KAF_INET6 && bs_link_local(ctx))))) {
		/* A client's bind before connect, or a server's: listen() will tell. */
		struct bs_ksk *m = bs_mark(ctx->sk, BS_KSK_DEFERRED, &from, &q);

		if (m) {
			m->rule = o.rule;
			m->gen = env.gen;
			bs_count(BS_KC_DEFERRED);
			return 1;
		}
	}
	if (family == BS_KAF_INET && ctx->user_family == AF_UNSPEC) {
		/* The kernel takes AF_UNSPEC only with INADDR_ANY. */
		o.err = BS_KEADDRNOTAVAIL;
		bs_count(BS_KC_DENIALS);
		bs_record(BS_KCALL_BIND, &q, env.gen, &from, &o, cookie);
		return bs_fail(o.err);
	}
	if (family == BS_KAF_INET) {
		__u32 ip;

		__builtin_memcpy(&ip, o.to.addr, 4);
		ctx->user_ip4 = ip;
	} else {
		__u32 w[4];

		__builtin_memcpy(w, o.to.addr, 16);
		ctx->user_ip6[0] = w[0];
		ctx->user_ip6[1] = w[1];
		ctx->user_ip6[2] = w[2];
		ctx->user_ip6[3] = w[3];
		/* A link-local address needs its interface (no scope id here). */
		if (o.to.scope) {
			int idx = (int)o.to.scope;

			bpf_setsockopt(ctx, SOL_SOCKET, SO_BINDTOIFINDEX, &idx, sizeof(idx));
		}
	}
	ctx->user_port = bpf_htons(o.to.port);
	if (type == SOCK_STREAM && (st->flags & BS_KF_HOLD))
		bs_judged(ctx->sk, &o.to, &q);
	bs_count(BS_KC_REWRITES);
	bs_record(BS_KCALL_BIND, &q, env.gen, &from, &o, cookie);
	return 1;
}

SEC("cgroup/bind4")
int bs_bind4(struct bpf_sock_addr *ctx)
{
	return bs_bind(ctx, BS_KAF_INET);
}

SEC("cgroup/bind6")
int bs_bind6(struct bpf_sock_addr *ctx)
{
	if (bs_scoped_tie(ctx, BS_KSK_RANGE))
		return bs_fail(EPERM_);
	return bs_bind(ctx, BS_KAF_INET6);
}

SEC("cgroup/connect6")
int bs_connect6(struct bpf_sock_addr *ctx)
{
	if (bs_scoped_tie(ctx, BS_KSK_RANGE | BS_KSK_DEFERRED))
		return bs_fail(EPERM_);
	return 1;
}

/* listen(): a socket bound to port 0 whose bind the policy rewrites, or never
 * bound at all, would listen where the policy says it may not. Such a socket
 * cannot be moved any more: refuse (EADDRNOTAVAIL for a rewrite, the rule's errno
 * for a denial). Every other socket was judged at bind. */
SEC("lsm_cgroup/socket_listen")
int BPF_PROG(bs_listen, struct socket *sock, int backlog)
{
	struct bs_kenv env;
	struct bs_kquery q = {};
	struct bs_ksa from = {};
	struct bs_kout o = {};
	struct sock *sk = sock->sk;
	struct bs_ksk *m;
	__u16 family, num;
	int v6only = 1;

	if (!sk || sock->type != SOCK_STREAM || !bs_active(&env))
		return 1;
	family = sk->__sk_common.skc_family;
	if (family != BS_KAF_INET && family != BS_KAF_INET6)
		return 1;
	num = sk->__sk_common.skc_num;
	m = bpf_sk_storage_get(&bs_sk, sk, 0, 0);
	if (num && !(m && (m->flags & BS_KSK_DEFERRED)))
		return 1;
	from.family = family;
	if (num) {
		if (family == BS_KAF_INET) {
			__u32 ip = sk->__sk_common.skc_rcv_saddr;

			__builtin_memcpy(from.addr, &ip, 4);
		} else {
			struct in6_addr a = sk->__sk_common.skc_v6_rcv_saddr;

			__builtin_memcpy(from.addr, &a, 16);
		}
	}
	if (family == BS_KAF_INET6)
		v6only = BPF_CORE_READ_BITFIELD(&sk->__sk_common, skc_ipv6only);
	bs_who(&q, SOCK_STREAM);
	/* Judged as the port the program asked for: 0. */
	bs_k_judge(&env, &q, &from, v6only, &o);
	if (!o.err && o.action != BS_KA_REWRITE)
		return 1;
	if (!o.err)
		o.err = BS_KEADDRNOTAVAIL;
	from.port = num;
	bs_count(BS_KC_LISTENS_REFUSED);
	bs_record(BS_KCALL_LISTEN, &q, env.gen, &from, &o, 0);
	return bs_fail(o.err);
}

/* Counts ctx's listener sk, which could not be held, in the guard's table if it
 * is in the guard's network namespace, and asks for its state changes (its close
 * takes it out again: bs_guard_drop); m is what the program remembers of it. */
static __always_inline void bs_guard_add(struct bpf_sock_ops *ctx, struct bpf_sock *sk,
					 const struct bs_kstate *st, struct bs_ksk *m, __u32 port)
{
	struct bs_kguard k = {.port = port, .ifindex = sk->bound_dev_if};
	__u32 one = 1, *n;

	if (bpf_get_netns_cookie(ctx) != st->netns)
		return;
	n = bpf_map_lookup_elem(&bs_guarded, &k);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else if (bpf_map_update_elem(&bs_guarded, &k, &one, BPF_NOEXIST)) {
		n = bpf_map_lookup_elem(&bs_guarded, &k);	/* made meanwhile, or full */
		if (!n) {
			bs_count(BS_KC_GUARD_FULL);
			return;
		}
		__sync_fetch_and_add(n, 1);
	}
	m->flags |= BS_KSK_EXPOSED;
	m->guard = k;
	bpf_sock_ops_cb_flags_set(ctx, ctx->bpf_sock_ops_cb_flags | BS_STATE_CB_FLAG);
	bs_count(BS_KC_GUARDED);
}

/* A listener counted by bs_guard_add stops listening (closed, or shut down). */
static __always_inline void bs_guard_drop(struct bpf_sock_ops *ctx, struct bpf_sock *sk)
{
	struct bs_ksk *m;
	__u32 *n;

	if (ctx->args[0] != BS_TCP_LISTEN)
		return;
	m = bpf_sk_storage_get(&bs_sk, sk, 0, 0);
	if (!m || !(m->flags & BS_KSK_EXPOSED))
		return;
	m->flags &= ~(__u32)BS_KSK_EXPOSED;
	n = bpf_map_lookup_elem(&bs_guarded, &m->guard);
	if (n && *n)
		__sync_fetch_and_add(n, -1);
	bs_uncount(BS_KC_GUARDED);
}

/* Where ctx's socket is (its local end) into at, and its IPV6_V6ONLY into v6only
 * unless NULL; 0 for a socket neither IPv4 nor IPv6. */
static __always_inline int bs_local(struct bpf_sock_ops *ctx, struct bpf_sock *sk,
				    struct bs_ksa *at, int *v6only)
{
	at->family = (__u16)ctx->family;
	at->port = (__u16)ctx->local_port;
	if (at->family == BS_KAF_INET) {
		__u32 ip = ctx->local_ip4;

		__builtin_memcpy(at->addr, &ip, 4);
	} else if (at->family == BS_KAF_INET6) {
		/* One 4-byte load each: the kernel takes no wider access to these. */
		volatile __u32 *ip6 = ctx->local_ip6;
		__u32 w[4] = {ip6[0], ip6[1], ip6[2], ip6[3]};

		__builtin_memcpy(at->addr, w, 16);
		if (v6only)
			*v6only = bs_v6only(sk, SOCK_STREAM);
	} else {
		return 0;
	}
	return 1;
}

/* After listen(): the socket's address is final (the kernel holds its lock). A
 * socket that listens where its bind was judged to go stays: one decision per
 * socket. Any other (never bound, autobound by listen(); a port-0 bind left for
 * listen; a bind the kernel refused after the bind program let it pass) is judged
 * like bind(ADDRESS:0), as the LSM program does; where the policy does not allow
 * it, it is held to the loopback interface, and recorded ("hold"). Either way the
 * listener is marked, for the connections it accepts (bs_on_accept). */
/* Holds ctx's listener sk to lo (or records why it cannot): the rest of
 * bs_on_listen, in a frame of its own (the decision's call chain fills the
 * stack). */
static __noinline int bs_hold(struct bpf_sock_ops *ctx, __u32 gen, const struct bs_kquery *q,
			      struct bs_ksa *at, struct bs_kout *o)
{
	struct bpf_sock *sk = ctx->sk;
	int lo = BS_LOOPBACK_IFINDEX;
	__u32 zero = 0;
	struct bs_kstate *st = bpf_map_lookup_elem(&bs_state, &zero);
	struct bs_ksk *m;
	__u64 cookie;

	if (!sk || !st)
		return 1;

	/* Already on lo (an accepted connection of a held listener, listening again):
	 * held as it is, since setting a device again needs CAP_NET_RAW. Otherwise
	 * the hold fails for a socket its program bound to another device, unless
	 * the caller has CAP_NET_RAW: recorded with the errno, counted apart. */
	o->err = sk->bound_dev_if == BS_LOOPBACK_IFINDEX ? 0
		 : -bpf_setsockopt(ctx, SOL_SOCKET, SO_BINDTOIFINDEX, &lo, sizeof(lo));
	cookie = bpf_get_socket_cookie(ctx);
	o->action = BS_KEV_HOLD;
	o->to = *at;
	o->to.scope = BS_LOOPBACK_IFINDEX;
	if (o->err) {
		/* Exposed, and reported: its connections are left as they are; where
		 * the guard runs, SYNs for it from other interfaces are dropped. */
		m = bs_mark(sk, BS_KSK_LOOKED, 0, q);
		bs_count(BS_KC_HOLDS_FAILED);
		if (m && (st->flags & BS_KF_GUARD))
			bs_guard_add(ctx, sk, st, m, at->port);
	} else {
		m = bs_mark(sk, BS_KSK_HELD, 0, q);
		if (m) {
			m->rule = o->rule;
			m->gen = gen;
		}
		bs_count(BS_KC_LISTENS_HELD);
	}
	bs_record(BS_KCALL_LISTEN, q, gen, at, o, cookie);
	return 1;
}

static __always_inline int bs_on_listen(struct bpf_sock_ops *ctx, struct bpf_sock *sk,
					struct bs_kenv *env)
{
	struct bs_kquery q = {};
	struct bs_ksa at = {};
	struct bs_kout o = {};
	struct bs_ksk *m;
	int v6only = 1;

	if (!bs_local(ctx, sk, &at, &v6only))
		return 1;
	m = bpf_sk_storage_get(&bs_sk, sk, 0, 0);
	/* On loopback (bound there: its bind was judged; no other host reaches
	 * it), or where its bind was judged to go: left as it is. */
	if (bs_loopback(&at) || (m && bs_where_judged(m, &at))) {
		if (m)
			m->flags |= BS_KSK_LOOKED;
		return 1;
	}
	at.port = 0;
	bs_who(&q, SOCK_STREAM);
	bs_k_judge(env, &q, &at, v6only, &o);
	if (!o.err && o.action != BS_KA_REWRITE) {
		if (m)
			m->flags |= BS_KSK_LOOKED;
		return 1;
	}
	at.port = (__u16)ctx->local_port;	/* where it listens, for the record */
	return bs_hold(ctx, env->gen, &q, &at, &o);
}

/* Whether at, where a connection arrived, is where its listener was bound by a
 * bind the program judged and the kernel then made (a bind it refused leaves no
 * BS_KSK_BOUND: red team): that address or the wildcard, at that port. */
static __always_inline int bs_judged_covers(const struct bs_ksk *m, const struct bs_ksa *at)
{
	int n = at->family == BS_KAF_INET ? 4 : 16, any = 1, same = 1;

	if ((m->flags & (BS_KSK_JUDGED | BS_KSK_BOUND)) != (BS_KSK_JUDGED | BS_KSK_BOUND) ||
	    m->bound.family != at->family || m->bound.port != at->port)
		return 0;
	for (int i = 0; i < 16; i++) {
		if (i < n && m->bound.addr[i])
			any = 0;
		if (i < n && m->bound.addr[i] != at->addr[i])
			same = 0;
	}
	return any || same;
}

/* A connection a listener took (the kernel copied into it what the program
 * remembers of the listener; this runs in the kernel's receive path, so the
 * process is the one remembered). One whose SYN came in after the kernel made
 * the socket listen but before bs_on_listen held it, or that even completed
 * before, would reach a held listener from anywhere: it is held to lo with its
 * listener. The connections of a listener left as it is (or of one from before
 * kernel mode, which has nothing remembered) are not touched. */
static __noinline int bs_on_accept(struct bpf_sock_ops *ctx, struct bpf_sock *sk,
					struct bs_kenv *env)
{
	struct bs_ksk *m = bpf_sk_storage_get(&bs_sk, sk, 0, 0);
	struct bs_kquery q = {.proto = 1};
	struct bs_ksa at = {};
	struct bs_kout o = {.rule = -1};
	int lo = BS_LOOPBACK_IFINDEX;
	__u32 gen = env->gen;

	if (!m)
		return 1;
	/* Its listener's place in the guard's table is not its own. */
	if (m->flags & BS_KSK_EXPOSED)
		m->flags &= ~(__u32)BS_KSK_EXPOSED;
	/* Its listener was looked at and left as it is (the common case): so is it. */
	if ((m->flags & (BS_KSK_LOOKED | BS_KSK_HELD)) == BS_KSK_LOOKED)
		return 1;
	if (sk->bound_dev_if == BS_LOOPBACK_IFINDEX) {
		/* On lo already (it came over lo, or its request was made after its
		 * listener's hold): it stays there, whatever happens to its listener. */
		m->flags |= BS_KSK_HELD;
		return 1;
	}
	if (!bs_local(ctx, sk, &at, NULL))
		return 1;
	/* Its listener not looked at yet: only a connection its judged bind covers
	 * stays. */
	if (!(m->flags & BS_KSK_HELD) && bs_judged_covers(m, &at))
		return 1;
	q.uid = m->uid;
	__builtin_memcpy(q.comm, m->comm, sizeof(q.comm));
	if (m->flags & (BS_KSK_HELD | BS_KSK_DEFERRED)) {
		/* The rule that held its listener, or that rewrites its port-0 bind. */
		o.rule = m->rule;
		gen = m->gen;
	}
	/* A device other than lo cannot be changed here (CAP_NET_RAW, and this is
	 * not the owner's context): reported. */
	o.err = sk->bound_dev_if ? EPERM_
		: -bpf_setsockopt(ctx, SOL_SOCKET, SO_BINDTOIFINDEX, &lo, sizeof(lo));
	o.action = BS_KEV_HOLD;
	o.to = at;
	o.to.scope = BS_LOOPBACK_IFINDEX;
	if (o.err) {
		bs_count(BS_KC_HOLDS_FAILED);
	} else {
		m->flags |= BS_KSK_HELD;
		bs_count(BS_KC_CONNS_HELD);
	}
	bs_record_of(m->pid, BS_KCALL_ACCEPT, &q, gen, &at, &o, bpf_get_socket_cookie(ctx));
	return 1;
}

SEC("sockops")
int bs_listened(struct bpf_sock_ops *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct bs_kenv env;
	struct bs_ksk *m;

	if (!sk)
		return 1;
	if (ctx->op == BS_STATE_CB) {
		bs_guard_drop(ctx, sk);
		return 1;
	}
	if (ctx->op != BS_TCP_LISTEN_CB && ctx->op != BS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (ctx->op == BS_TCP_LISTEN_CB) {
		/* Held, or counted by the guard, or left where it may be first: only
		 * then may SYNs from elsewhere reach it. */
		if (bs_active(&env))
			bs_on_listen(ctx, sk, &env);
		bs_unpend(bpf_sk_storage_get(&bs_sk, sk, 0, 0));
		return 1;
	}
	m = bpf_sk_storage_get(&bs_sk, sk, 0, 0);
	if (m)
		m->flags &= ~(__u32)BS_KSK_PENDING;	/* its listener's, copied */
	if (!bs_active(&env))
		return 1;
	return bs_on_accept(ctx, sk, &env);
}

/* A socket closed: off bs_pending (one that never listened: a client). */
SEC("cgroup/sock_release")
int bs_released(struct bpf_sock *sk)
{
	if (sk->type == SOCK_STREAM)
		bs_unpend(bpf_sk_storage_get(&bs_sk, sk, 0, 0));
	return 1;
}

/* A SYN arriving on an interface at a port where a listener a hold failed for is
 * tied to that interface (bs_guarded), from another host: dropped, whatever
 * address it is for (an address test missed v4-mapped listeners: red team).
 * Everything else goes on to the kernel's own lookup. */
SEC("sk_lookup")
int bs_guard(struct bpf_sk_lookup *ctx)
{
	struct bs_kguard k = {.port = ctx->local_port, .ifindex = ctx->ingress_ifindex};
	__u32 *n;

	if (ctx->protocol != IPPROTO_TCP || ctx->ingress_ifindex == BS_LOOPBACK_IFINDEX)
		return SK_PASS;
	n = bpf_map_lookup_elem(&bs_guarded, &k);
	if (!n || !*n) {
		__s32 *w = bpf_map_lookup_elem(&bs_pending, &k.port);

		if (!w || *w <= 0)
			return SK_PASS;
	}
	bs_count(BS_KC_SYNS_DROPPED);
	return SK_DROP;
}

SEC("cgroup/setsockopt")
int bs_setsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct bs_ksk *m;

	if (!sk)
		return 1;
	if (ctx->level == SOL_SOCKET &&
	    (ctx->optname == SO_BINDTODEVICE || ctx->optname == SO_BINDTOIFINDEX)) {
		m = bpf_sk_storage_get(&bs_sk, sk, 0, 0);
		if (!m)
			return 1;
		/* A held listener stays on lo, and one the guard counts stays on its
		 * interface (changing a socket's device already needs CAP_NET_RAW:
		 * this is for root's processes). */
		if (m->flags & (BS_KSK_HELD | BS_KSK_EXPOSED)) {
			bs_count(BS_KC_DEVICE_REFUSED);
			return bs_fail(EPERM_);
		}
		/* A listener tied to an interface cannot be held, and the guard can
		 * count it only once listen() made it listen: a port known before
		 * (a port-0 bind left for listen, a range) would let a peer in
		 * between (red team). Stream sockets get one or the other. */
		if (sk->type == SOCK_STREAM && sk->state != BS_TCP_LISTEN &&
		    (m->flags & (BS_KSK_DEFERRED | BS_KSK_RANGE))) {
			bs_count(BS_KC_TIES_REFUSED);
			return bs_fail(EPERM_);
		}
		return 1;
	}
	if (sk->type == SOCK_STREAM && sk->state != BS_TCP_LISTEN &&
	    ctx->level == IPPROTO_IP && ctx->optname == IP_LOCAL_PORT_RANGE) {
		/* Before listen(): a one-port range makes a never-bound listener's port
		 * known in advance. Remembered, so that a connection made before the
		 * listener is looked at is held (bs_on_accept); refused on a socket
		 * tied to an interface (above). */
		struct bs_kenv env;
		struct bs_kstate *st = bs_active(&env);
		struct bs_kquery q;

		if (!st || !(st->flags & BS_KF_HOLD))
			return 1;
		if (sk->bound_dev_if) {
			bs_count(BS_KC_TIES_REFUSED);
			return bs_fail(EPERM_);
		}
		/* A narrow range makes the port known (listen() takes odd ports
		 * first: of two, the second), and cannot be pending as a port-0
		 * bind's is: any user could name another's port and have its SYNs
		 * dropped. Refused; a wide one leaves the port to chance. (The kernel
		 * takes the range from the copy this program sees.) */
		if ((__u8 *)ctx->optval + 4 <= (__u8 *)ctx->optval_end) {
			__u32 r = *(__u32 *)ctx->optval, lo = r & 0xffff, hi = r >> 16;
			__u32 elo = st->ports_lo, ehi = st->ports_hi;

			/* What the kernel makes of it (inet_sk_get_local_port_range):
			 * each end applies only inside the namespace's range (red team:
			 * 0-32768 and 60999-0 each left one port). */
			if (elo <= lo && lo <= ehi)
				elo = lo;
			if (elo <= hi && hi <= ehi)
				ehi = hi;
			if (ehi - elo + 1 < BS_KRANGE_NARROW) {
				bs_count(BS_KC_RANGES_REFUSED);
				return bs_fail(EPERM_);
			}
		}
		m = bpf_sk_storage_get(&bs_sk, sk, 0, 0);
		if (m) {
			m->flags |= BS_KSK_RANGE;
		} else {
			bs_who(&q, SOCK_STREAM);
			bs_mark(sk, BS_KSK_RANGE, 0, &q);
		}
		return 1;
	}
	if (ctx->level != IPPROTO_IP || ctx->optname != IP_LOCAL_PORT_RANGE ||
	    sk->type != SOCK_DGRAM)
		return 1;
	bs_count(BS_KC_SOCKOPT_REFUSED);
	return 0;
}

/* After a bind the kernel made (it runs no further for a bind it refused): where
 * the socket really is, for what a bind program judged or deferred. */
static __always_inline int bs_bound(struct bpf_sock *sk, int family)
{
	struct bs_ksk *m;

	if (sk->type != SOCK_STREAM)
		return 1;
	m = bpf_sk_storage_get(&bs_sk, sk, 0, 0);
	if (!m || !(m->flags & (BS_KSK_JUDGED | BS_KSK_DEFERRED)))
		return 1;
	m->flags |= BS_KSK_BOUND;
	if (m->flags & BS_KSK_DEFERRED)
		bs_pend(m, sk->src_port, bpf_get_netns_cookie(sk));
	/* Each program may read its own family's address only. */
	m->bound.family = (__u16)family;
	m->bound.port = (__u16)sk->src_port;
	if (family == BS_KAF_INET) {
		__u32 ip = sk->src_ip4;

		__builtin_memcpy(m->bound.addr, &ip, 4);
	} else {
		__u32 w[4] = {sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2], sk->src_ip6[3]};

		__builtin_memcpy(m->bound.addr, w, 16);
	}
	return 1;
}

SEC("cgroup/post_bind4")
int bs_post_bind4(struct bpf_sock *sk)
{
	return bs_bound(sk, BS_KAF_INET);
}

SEC("cgroup/post_bind6")
int bs_post_bind6(struct bpf_sock *sk)
{
	return bs_bound(sk, BS_KAF_INET6);
}

SEC("cgroup/sock_create")
int bs_sock_create(struct bpf_sock *sk)
{
	if ((sk->family != BS_KAF_INET && sk->family != BS_KAF_INET6) ||
	    sk->protocol != IPPROTO_MPTCP)
		return 1;
	bs_count(BS_KC_SOCKETS_REFUSED);
	return bs_fail(EPROTONOSUPPORT_);
}
