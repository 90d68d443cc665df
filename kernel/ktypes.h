/*
 * The compiled policy as the kernel program reads it: map value layouts, the ring
 * buffer's event, counters. Included by the BPF program (clang -target bpf) and by
 * the user-space compiler, loader and decision (kdecide.c), so both sides agree on
 * every byte. Only fixed-size types; no pointers.
 *
 * A policy is compiled into two generations of tables (gen 0 and 1). The program
 * reads the active generation number once per call and looks everything up in that
 * generation; a reload writes the other one and then flips the number (loader.c).
 */
#ifndef BS_KTYPES_H
#define BS_KTYPES_H

#include <linux/types.h>

/* Compiled rules and glob patterns per generation (a policy rule whose lists are
 * longer than one compiled rule holds becomes several consecutive compiled rules). */
#define BS_KMAX_RULES 1024
#define BS_KMAX_PATS 256
#define BS_KR_ADDRS 4
#define BS_KR_PORTS 8
#define BS_KR_UIDS 4
#define BS_KR_PROGS 4
/* A task's comm: 15 characters and a NUL. */
#define BS_KCOMM 16
/* A glob on comm: at most 15 character tokens (one per character of comm), each
 * maybe preceded by a star, and a trailing star: 31 tokens. */
#define BS_KPAT_CLASSES 15
#define BS_KPAT_TOKENS 31

/* bs_kcidr.kind, as enum bs_addr_kind */
#define BS_KADDR_WILDCARD 0
#define BS_KADDR_ANY 1
#define BS_KADDR_CIDR 2

struct bs_kcidr {
	__u8 kind;
	__u8 family;			/* 4 or 6 (CIDR only) */
	__u8 prefix;
	__u8 pad;
	__u8 bytes[16];			/* IPv4 in the first 4 */
};

struct bs_kport {
	__u16 lo, hi;
};

/* bs_krule.to_kind, as enum bs_target_kind */
#define BS_KTO_LOOPBACK 0
#define BS_KTO_IP 1
#define BS_KTO_IFACE 2

/* bs_krule.flags */
#define BS_KR_NEVER 1			/* an exe key: the kernel cannot see it, never matches */

struct bs_krule {
	__u8 action;			/* enum bs_action */
	__u8 families, protos;		/* BS_FAM_*, BS_PROTO_* bits; 0: any */
	__u8 flags;
	__u8 naddrs, nports, nuids, nprogs;	/* 0: any */
	__s32 err;			/* deny */
	__u32 src;			/* index of the policy rule it comes from */
	struct bs_kcidr addrs[BS_KR_ADDRS];
	struct bs_kport ports[BS_KR_PORTS];
	__u32 uids[BS_KR_UIDS];
	__u16 progs[BS_KR_PROGS];	/* pattern indices */
	/* rewrite */
	__u8 to_kind;
	__u8 to_family;			/* BS_KTO_IP: 4 or 6 (folded) */
	__u8 if_v4_ok, if_v6_ok;	/* BS_KTO_IFACE: resolved at load and on changes */
	__s32 to_port;			/* -1: keep the port */
	__u8 to_ip[16];
	__u8 if_v4[4];
	__u8 if_v6[16];
	__u32 if_scope;			/* link-local: the interface index */
	char ifname[16];
};

/* A glob on comm as a bit-parallel automaton: position t (0..ntok) is "tokens
 * before t matched"; bit t of stars says token t is a star; bit t of masks[c]
 * says token t is a character class holding c. */
struct bs_kpat {
	__u32 masks[256];
	__u32 stars;
	__u8 ntok;
	__u8 never;			/* more characters than a comm has */
	__u8 pad[2];
};

/* Per generation: what the program needs besides the rules. */
struct bs_kgen {
	__u32 nrules;
	__u8 default_action;
	__u8 log_allowed;
	__u8 pad[2];
	__s32 default_err;
};

/* bs_kstate.flags */
#define BS_KF_LSM 1			/* listen() is judged: port-0 rewrites wait for it */
#define BS_KF_HOLD 2			/* listeners are held to lo: port-0 rewrites wait too */
#define BS_KF_GUARD 4			/* SYNs to listeners a hold failed for are dropped */

struct bs_kstate {
	__u32 gen;			/* the active generation, 0 or 1 */
	__u32 flags;
	struct bs_kgen g[2];
	__u64 netns;			/* with BS_KF_GUARD: its network namespace (cookie) */
	__u32 rate;			/* records a uid may send a second; 0: no limit */
	__u32 owned;			/* subordinate uid ranges in bs_owners */
	__u32 ports_lo, ports_hi;	/* net.ipv4.ip_local_port_range of the guard's namespace */
};

/* What `system watch` has summed up of a uid's bs_krate (its `reported` map, and
 * `alertsaid` for failed holds, where read counts the records it read). */
struct bs_kreported {
	__u32 over;
	__u32 denied;
	__u32 subs;
	__u32 read;
	__u64 epoch;			/* alertsaid: the `alerted` entry counted (its start) */
};

/* Failed holds' records of one user (a uid and its subordinate uids) that may
 * wait in the alerts ring for `system watch` (sent - read, a bs_krate in
 * `alerted`, whose start tells one entry from another made after an eviction,
 * and a bs_kreported in `alertsaid` for that entry): the ring holds about 630,
 * so one user's cannot push out another's while watch is stalled. Those over it
 * are counted and summed up like records over the rate. */
#define BS_KALERT_SHARE 64

/* The record rate of a uid (LRU hash by uid): records sent in the second that
 * began at start, and those over the rate since the map entry was made (never
 * reset: `system watch` keeps what it has reported), with the latest of their
 * process, call and command for the summary record. */
#define BS_KRATE_DEFAULT 200
struct bs_krate {
	__u64 start;
	__u32 sent;
	__u32 over;
	__u32 denied;			/* of those over the rate, denials */
	__u32 pid;
	__u32 call;			/* BS_KCALL_* */
	char comm[BS_KCOMM];
	__u32 subs;			/* of those over the rate, a subordinate uid's */
	__u32 sub;			/* the latest of those subordinate uids */
};

/* Whose record rate a uid's records count against (LPM trie, bs_owners): a user's
 * subordinate uids (subuid(5)), which user namespaces give processes of theirs,
 * count as the user, so that 65,536 uids do not make 65,536 rates. A range is
 * stored as the aligned blocks it is made of: prefixlen leading bits of uid (big
 * endian, as the trie compares), 32 for a single uid. */
#define BS_KMAX_OWNED 65536
struct bs_kowner_key {
	__u32 prefixlen;
	__u8 uid[4];
};

/* What the user-space side keeps about a compiled rule (for records and status);
 * the program never reads it. */
struct bs_kinfo {
	__u32 src;
	__u32 line;
	char name[56];
};

struct bs_kmeta {
	char policy[2][256];		/* the policy file of each generation */
	char cgroup[256];
	__u64 loaded[2];		/* CLOCK_REALTIME seconds */
	char subuid[256];		/* the --subuid file reload reads; "": /etc/subuid */
	__u32 watcher;			/* the pid of the `system watch` reading records, */
	__u32 pad;
	__u64 watcher_start;		/* and its start time (/proc/PID/stat): one at a time */
};

/* An endpoint: family AF_INET or AF_INET6, port in host order, IPv4 in addr[0..3]. */
struct bs_ksa {
	__u16 family;
	__u16 port;
	__u32 scope;
	__u8 addr[16];
};

/* The records' ring buffer, and how often `system watch` looks at it when it was
 * not woken (the program wakes it only for failed holds, or once a quarter of the
 * ring waits). */
#define BS_KEVENTS_SIZE (256 * 1024)
#define BS_KWATCH_MS 200

/* bs_kevent.call */
#define BS_KCALL_BIND 0
#define BS_KCALL_LISTEN 1
#define BS_KCALL_SETSOCKOPT 2
#define BS_KCALL_ACCEPT 3		/* a connection a held listener took: kernel, not a call */

/* bs_kevent.event: enum bs_action, or BS_KEV_DENY for a failing call */
#define BS_KEV_DENY 8
/* a listener where the policy does not allow it, held to the loopback interface */
#define BS_KEV_HOLD 9

/* One record in the ring buffer. */
struct bs_kevent {
	__u64 cookie;			/* socket cookie */
	__u32 pid, uid;
	char comm[BS_KCOMM];
	__u8 call, event, proto, gen;
	__s32 rule;			/* compiled rule index, -1: the default */
	__s32 err;
	struct bs_ksa from, to;
	__u32 owner;			/* a failed hold's: the user whose share it is in */
};

/* What the program remembers of a socket (sk storage, which the kernel copies to
 * each connection a listener accepts: BPF_F_CLONE). */
#define BS_KSK_DEFERRED 1		/* a port-0 bind the policy rewrites: judged at listen */
#define BS_KSK_HELD 2			/* a listener held to lo: its device stays */
#define BS_KSK_JUDGED 4			/* stream socket: its latest bind was judged to go to at */
#define BS_KSK_LOOKED 8			/* a listener looked at after listen() and left as it is */
#define BS_KSK_BOUND 16			/* the kernel made that bind: it is at bound */
#define BS_KSK_EXPOSED 32		/* a listener counted in the guard's table at guard */
#define BS_KSK_RANGE 64			/* given an IP_LOCAL_PORT_RANGE before listen() */
#define BS_KSK_PENDING 128		/* counted in bs_pending at pport */

/* An IP_LOCAL_PORT_RANGE of fewer ports is refused on a stream socket before
 * listen(): its port is as good as known (listen() takes odd ports first: of
 * two, always the second). */
#define BS_KRANGE_NARROW 64

/* The guard's table key: a port and the interface a listener is tied to. */
struct bs_kguard {
	__u32 port;
	__u32 ifindex;
};

struct bs_ksk {
	__u32 flags;
	__s32 rule;			/* the rule that held it, or deferred its bind, */
	__u32 gen;			/* of this generation */
	struct bs_ksa at;		/* with BS_KSK_JUDGED; port 0: any */
	struct bs_ksa bound;		/* with BS_KSK_BOUND */
	struct bs_kguard guard;		/* with BS_KSK_EXPOSED */
	__u32 pid, uid;			/* who bound it or listened, for a connection's record */
	char comm[BS_KCOMM];
	__u32 pport;			/* with BS_KSK_PENDING: its port there */
};

/* What `audit` finds of a listener the program placed (LRU map by socket cookie). */
struct bs_kplaced {
	__u8 gen, pad[3];
	__s32 rule;
	struct bs_ksa from, to;
};

/* Counters (per-CPU array). */
enum {
	BS_KC_BINDS,			/* binds judged */
	BS_KC_REWRITES,
	BS_KC_DENIALS,
	BS_KC_DEFERRED,			/* port-0 binds left for listen() to judge */
	BS_KC_LISTENS_REFUSED,
	BS_KC_SOCKOPT_REFUSED,		/* IP_LOCAL_PORT_RANGE on UDP */
	BS_KC_DROPS,			/* records lost: the ring buffer was full */
	BS_KC_SOCKETS_REFUSED,		/* MPTCP sockets */
	BS_KC_LISTENS_HELD,		/* listeners held to the loopback interface */
	BS_KC_DEVICE_REFUSED,		/* SO_BINDTODEVICE/SO_BINDTOIFINDEX on a held listener */
	BS_KC_HOLDS_FAILED,		/* listeners already bound to another device: not held */
	BS_KC_CONNS_HELD,		/* connections that came in before their listener's hold */
	BS_KC_ALERT_DROPS,		/* failed holds' records lost: their ring buffer was full */
	BS_KC_GUARDED,			/* listeners a hold failed for, guarded now (net) */
	BS_KC_GUARD_FULL,		/* those the guard's table had no room for */
	BS_KC_SYNS_DROPPED,		/* SYNs from elsewhere than lo to those, dropped */
	BS_KC_TIES_REFUSED,		/* a device with a port known before listen(), refused */
	BS_KC_OVER_RATE,		/* records over their uid's rate: counted, not sent */
	BS_KC_ALERTS_OVER,		/* failed holds' records over their user's share */
	BS_KC_RANGES_REFUSED,		/* narrow IP_LOCAL_PORT_RANGE on TCP before listen() */
	BS_KC_N
};

#define BS_KAF_INET 2
#define BS_KAF_INET6 10
#define BS_KEADDRNOTAVAIL 99
/* enum bs_action (policy/policy.h), for the BPF side that cannot include it */
#define BS_KA_ALLOW 0
#define BS_KA_DENY 1
#define BS_KA_REWRITE 2
#define BS_KA_LOG 3

/* What a rule sees: the folded address (v4-mapped as IPv4), port, protocol, real
 * uid and the task's comm. */
struct bs_kquery {
	__u8 family;			/* BS_KAF_* after folding */
	__u8 proto;			/* BS_PROTO_* bit */
	__u16 port;
	__u32 uid;
	__u8 addr[16];
	char comm[BS_KCOMM];
};

/* What happens to a call. */
struct bs_kout {
	__u8 action;			/* BS_KA_* of the deciding rule or default */
	__u8 once;			/* allowed: a wildcard bind is rewritten to exactly it */
	__u8 pad[2];
	__s32 err;			/* != 0: the call fails with it */
	__s32 rule;			/* compiled rule, -1: the default */
	struct bs_ksa to;		/* rewrite, when err == 0 */
};

#endif
