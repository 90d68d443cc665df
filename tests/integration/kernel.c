/*
 * Kernel mode (bindshim system): the cgroup programs on real programs. Each test
 * makes its own cgroup under the cgroup v2 mount and its own bpf filesystem (in
 * this run's private mount namespace), enables kernel mode there only, runs its
 * programs inside that cgroup, and disables and removes everything at the end,
 * whatever happened. Never the machine's root cgroup. Ports 27xxx.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/support.h"

#define KBINDS HELPER("kbinds-static")

static struct {
	char dir[512];			/* this test's temporary directory */
	char bpffs[600], pin[640], cg[600], policy[600];
	bool mounted, enabled, lsm, hold;
	char in[1400];			/* "sh -c ... sh": runs a command in the cgroup */
} K;

/* The cgroup v2 mount, from mountinfo; false if there is none. */
static bool cgroup2_root(char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		char mnt[500];
		const char *dash = strstr(line, " - cgroup2 ");

		if (dash && sscanf(line, "%*s %*s %*s %*s %499s", mnt) == 1) {
			snprintf(out, len, "%s", mnt);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* Kills what is left in the test's cgroup and removes it. */
static void cgroup_remove(void)
{
	char path[700], buf[4096];

	if (!K.cg[0])
		return;
	snprintf(path, sizeof(path), "%s/cgroup.kill", K.cg);
	if (bs_write_file(path, "1") && access(path, F_OK) != 0) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", K.cg);
		bs_read_file(path, buf, sizeof(buf));
		for (char *t = strtok(buf, "\n"); t; t = strtok(NULL, "\n"))
			kill(atoi(t), SIGKILL);
	}
	/* Killed processes take a moment to leave. */
	for (int i = 0; i < 250 && rmdir(K.cg) < 0; i++)
		usleep(20000);
	K.cg[0] = '\0';
}

/* Always runs, pass or fail: disable, unmount, remove the cgroup. */
static void kernel_down(void)
{
	struct bs_proc p;

	if (K.enabled)
		bs_sh(&p, 30, "%s system disable --pin %s", BINDSHIM, K.pin);
	K.enabled = false;
	if (K.mounted)
		umount2(K.bpffs, MNT_DETACH);
	K.mounted = false;
	cgroup_remove();
}

/* Set: the next enable runs in a network namespace of its own, whose guard (the
 * sk_lookup program) sees none of the tests' traffic: the tests' namespace is one
 * the guard does not cover, where only the hold at accept() stands. */
static bool guard_elsewhere;

/* Makes the cgroup and bpffs, and enables kernel mode with policy text there
 * (extra: more options); skips with the reason where the kernel cannot. */
static void kernel_up_with(const char *policy, const char *extra)
{
	static int seq;
	char root[500];
	struct bs_proc p;

	memset(&K, 0, sizeof(K));
	if (geteuid() != 0)
		cr_skip("kernel mode needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)");
	if (!cgroup2_root(root, sizeof(root)))
		cr_skip("no cgroup v2 mount: kernel mode attaches to a cgroup v2 directory");
	bs_sh(&p, 10, "%s system status --pin /nonexistent", BINDSHIM);
	if (strstr(p.err, "not built"))
		cr_skip("bindshim was built without the kernel backend (clang, libbpf, bpftool)");
	snprintf(K.dir, sizeof(K.dir), "%s", bs_tmpdir());
	snprintf(K.bpffs, sizeof(K.bpffs), "%s/bpffs", K.dir);
	snprintf(K.pin, sizeof(K.pin), "%s/bs", K.bpffs);
	snprintf(K.policy, sizeof(K.policy), "%s/policy.cfg", K.dir);
	mkdir(K.bpffs, 0700);
	if (mount("bpf", K.bpffs, "bpf", 0, NULL) < 0)
		cr_skip("cannot mount a bpf filesystem: %s", strerror(errno));
	K.mounted = true;
	/* pid, a counter and the time: a name no earlier run can have left behind. */
	snprintf(K.cg, sizeof(K.cg), "%s/bindshim-test-%d-%d-%ld", root, (int)getpid(), seq++,
		 (long)time(NULL));
	if (mkdir(K.cg, 0755) < 0) {
		K.cg[0] = '\0';
		kernel_down();
		cr_skip("cannot make a cgroup under %s: %s", root, strerror(errno));
	}
	bs_write_file(K.policy, policy);
	bs_sh(&p, 30, "%s%s system enable -p %s --cgroup %s --pin %s %s",
	      guard_elsewhere ? "unshare -n " : "", BINDSHIM, K.policy, K.cg, K.pin,
	      extra ? extra : "");
	if (p.status != 0) {
		kernel_down();
		if (strstr(p.err, "cannot load the BPF program"))
			cr_skip("the kernel cannot load the cgroup programs here:\n%s", p.err);
		cr_assert_fail("enable failed: %s%s", p.out, p.err);
	}
	K.enabled = true;
	K.lsm = !strstr(p.out, "no BPF LSM");
	K.hold = strstr(p.out, "held to the loopback interface") != NULL;
	snprintf(K.in, sizeof(K.in), "sh -c 'echo $$ > %s/cgroup.procs && exec \"$0\" \"$@\"'", K.cg);
}

static void kernel_up(const char *policy)
{
	kernel_up_with(policy, NULL);
}

/* Runs a script (fmt and its arguments, as printf's) in which `k CMD...` runs CMD in
 * the test's cgroup, and $B is bindshim, $P the probe, $S the static probe; returns
 * its status. */
__attribute__((format(printf, 2, 3)))
static int in_cgroup(struct bs_proc *p, const char *fmt, ...)
{
	char script[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(script, sizeof(script), fmt, ap);
	va_end(ap);
	cr_assert_lt(n, (int)sizeof(script));
	return bs_sh(p, 30, "k() { %s \"$@\"; }; B=%s; P=%s; S=%s\n%s", K.in, BINDSHIM, PROBE,
		     STATIC_PROBE, script);
}

#define LOOPBACK_ONLY "version = 1;\nrules = ({ name = \"wild\"; match = { address = \"wildcard\"; };" \
	" action = \"rewrite\"; to = \"loopback\"; });\n"

TestSuite(kernel, .fini = kernel_down, .timeout = 120);

/* Starts `system watch` writing records to a fresh K.dir/records, with extra
 * options (a format); returns its pid, once it had time to start reading. */
static pid_t watch_start(const char *opts)
{
	char log[700], rec[700];
	pid_t w;

	snprintf(log, sizeof(log), "%s/watch", K.dir);
	snprintf(rec, sizeof(rec), "%s/records", K.dir);
	unlink(rec);
	w = bs_spawn(log, "exec %s system watch --pin %s --log %s %s", BINDSHIM, K.pin, rec, opts);
	usleep(300000);
	return w;
}

/* Waits (3 s at most) for n records from watch_start's watcher, stops it, and
 * returns what it wrote (its first 128 KiB: records_with() counts them all). */
static const char *watch_records(pid_t w, int n)
{
	static char body[1 << 17];
	char rec[700];

	snprintf(rec, sizeof(rec), "%s/records", K.dir);
	body[0] = '\0';
	for (int i = 0; i < 100 && bs_count(body, "\n") < n; i++) {
		usleep(30000);
		bs_read_file(rec, body, sizeof(body));
	}
	bs_stop(w);
	return body;
}

/* How many lines of watch_start's records have the (basic) regular expression re. */
static int records_with(const char *re)
{
	struct bs_proc p;

	bs_sh(&p, 10, "grep -c -- '%s' %s/records", re, K.dir);
	return atoi(p.out);
}

/* bs0's IPv6 link-local address once it can be used (its duplicate address
 * detection over), into ll; false if it has none. */
static bool bs0_link_local(char *ll, size_t len)
{
	struct bs_proc p;
	size_t n;

	bs_sh(&p, 10, "i=0; while ip -6 -o addr show dev bs0 scope link | grep -q tentative && "
	      "[ $i -lt 80 ]; do sleep 0.1; i=$((i + 1)); done\n"
	      "ip -6 -o addr show dev bs0 scope link | awk '{print $4}' | cut -d/ -f1 | head -1");
	n = strcspn(p.out, "\n");
	if (n == 0 || n >= len)
		return false;
	memcpy(ll, p.out, n);
	ll[n] = '\0';
	return true;
}

/* Kernel mode with LOOPBACK_ONLY where listeners are held to lo: skips where the
 * LSM program refuses those listens instead, or the sockops program cannot load. */
/* Kernel mode under policy (extra: more options to enable) where listeners are held
 * to lo; skips where they are not. */
static void hold_up_opts(const char *policy, const char *extra)
{
	kernel_up_with(policy, extra);
	if (K.lsm || !K.hold) {
		kernel_down();
		cr_skip("%s", K.lsm ? "with BPF LSM such listens are refused before they open "
			"(client_binds_and_never_bound_listeners)"
			: "the sockops program cannot be loaded on this kernel (status says so)");
	}
}

static void hold_up_with(const char *policy)
{
	hold_up_opts(policy, NULL);
}

static void hold_up(void)
{
	hold_up_with(LOOPBACK_ONLY);
}

/* LOOPBACK_ONLY after 1,000 rules that match nobody: the decision at listen()
 * takes longer, and so does the time between a listener opening and its hold. */
static const char *slow_policy(void)
{
	static char text[80000];
	size_t n = (size_t)snprintf(text, sizeof(text), "version = 1;\nrules = (\n");

	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "  { name = \"u%d\"; match = { uid "
				      "= %d; }; action = \"allow\"; },\n", i, 50000 + i);
	snprintf(text + n, sizeof(text) - n, "  { name = \"wild\"; match = { address = "
		 "\"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; }\n);\n");
	return text;
}

Test(kernel, static_server_ends_on_loopback)
{
	char log[700];
	pid_t pid;

	kernel_up(LOOPBACK_ONLY);
	snprintf(log, sizeof(log), "%s/log", K.dir);
	pid = bs_spawn(log, "exec %s %s bind --listen --hold 20 0.0.0.0 27001", K.in, STATIC_PROBE);
	assert_tcp_loopback_only(27001, log);
	bs_stop(pid);
}

Test(kernel, raw_syscall_and_dual_stack_and_mapped)
{
	struct bs_proc p;

	kernel_up(LOOPBACK_ONLY);
	in_cgroup(&p, "k $P raw-syscall 0.0.0.0 27002; k $S bind --v6only 0 :: 27003; "
		  "k $S bind --v6only 1 :: 27004; k $S mapped 27005; k $S bind --udp 0.0.0.0 27006");
	/* A dual-stack [::] becomes ::ffff:127.0.0.1 (reachable as 127.0.0.1 and
	 * localhost), a V6ONLY one ::1, a v4-mapped wildcard ::ffff:127.0.0.1. */
	cr_expect_str_eq(p.out, "bound 127.0.0.1 27002\nbound ::ffff:127.0.0.1 27003\n"
			 "bound ::1 27004\nbound ::ffff:127.0.0.1 27005\nbound 127.0.0.1 27006\n",
			 "%s", p.err);
}

Test(kernel, go_server_is_reachable_on_127_0_0_1_only)
{
	char log[700];
	pid_t pid;

	kernel_up(LOOPBACK_ONLY);
	snprintf(log, sizeof(log), "%s/log", K.dir);
	pid = bs_spawn(log, "exec %s %s serve 27007", K.in, HELPER("goserver"));
	/* (on a dual-stack [::]: reachable as 127.0.0.1) */
	cr_expect_str_eq(assert_tcp_loopback_only(27007, log), "::ffff:127.0.0.1");
	bs_stop(pid);
}

Test(kernel, deny_with_errno_and_ports_at_the_edges)
{
	struct bs_proc p;

	kernel_up("version = 1;\nrules = (\n"
		  "  { name = \"busy\"; match = { port = 27010; }; action = \"deny\"; errno = \"EADDRINUSE\"; },\n"
		  "  { name = \"top\"; match = { port = \"65535\"; }; action = \"deny\"; errno = \"EPERM\"; },\n"
		  "  { name = \"range\"; match = { port = \"27011-27012\"; proto = \"udp\"; }; action = \"deny\"; errno = \"ENETDOWN\"; }\n);\n");
	in_cgroup(&p, "k $S bind 0.0.0.0 27010; k $S bind 127.0.0.1 65535; k $S bind 127.0.0.1 65534; "
		  "k $S bind --udp :: 27012; k $S bind --udp :: 27013; k $S bind 127.0.0.1 27012");
	cr_expect_str_eq(p.out, "error bind EADDRINUSE\nerror bind EPERM\nbound 127.0.0.1 65534\n"
			 "error bind ENETDOWN\nbound :: 27013\nbound 127.0.0.1 27012\n", "%s", p.err);
}

Test(kernel, interface_and_port_rewrites)
{
	struct bs_proc p;

	kernel_up("version = 1;\nrules = (\n"
		  "  { name = \"move\"; match = { port = 27020; }; action = \"rewrite\"; to = \"loopback\"; to_port = 27021; },\n"
		  "  { name = \"lab\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"interface:bs0\"; },\n"
		  "  { name = \"nowhere\"; match = { address = \"10.0.0.0/8\"; }; action = \"rewrite\"; to = \"interface:nope0\"; }\n);\n");
	in_cgroup(&p, "k $S bind 0.0.0.0 27020; k $S bind 0.0.0.0 27022; k $S bind --v6only 1 :: 27023; "
		  "k $S bind 10.1.2.3 27024");
	cr_expect_str_eq(p.out, "bound 127.0.0.1 27021\nbound " LAB4 " 27022\nbound " LAB6 " 27023\n"
			 "error bind EADDRNOTAVAIL\n", "%s", p.err);
}

Test(kernel, interface_addresses_follow_changes_through_the_watch_daemon)
{
	char log[700], body[4096] = "";
	struct bs_proc p;
	pid_t w;

	/* An interface of this test's own (the others use bs0 meanwhile): a dummy, or
	 * one end of a veth pair where the dummy driver is not built. Host addresses
	 * (/32), so that deleting one does not take the others with it as a primary
	 * address takes its secondaries. */
	bs_sh(&p, 30, "{ ip link add bsk0 type dummy 2>/dev/null || "
	      "ip link add bsk0 type veth peer name bsk1; } && "
	      "ip addr add 192.0.2.10/32 dev bsk0 && ip link set bsk0 up");
	if (p.status)
		cr_skip("cannot make an interface (dummy or veth): %s", p.err);
	kernel_up("version = 1;\nrules = ({ name = \"lab\"; match = { address = \"wildcard\"; };"
		  " action = \"rewrite\"; to = \"interface:bsk0\"; });\n");
	in_cgroup(&p, "k $S bind 0.0.0.0 27025");
	cr_expect_str_eq(p.out, "bound 192.0.2.10 27025\n", "%s", p.err);
	snprintf(log, sizeof(log), "%s/watch", K.dir);
	w = bs_spawn(log, "exec %s system watch --pin %s --log %s/records", BINDSHIM, K.pin, K.dir);
	for (int i = 0; i < 100 && !strstr(body, "reading"); i++) {
		usleep(20000);
		bs_read_file(log, body, sizeof(body));
	}
	bs_sh(&p, 30, "ip addr add 192.0.2.11/32 dev bsk0 && ip addr del 192.0.2.10/32 dev bsk0");
	for (int i = 0; i < 150 && !strstr(body, "refreshed"); i++) {
		usleep(20000);
		bs_read_file(log, body, sizeof(body));
	}
	in_cgroup(&p, "k $S bind 0.0.0.0 27026");
	cr_expect_str_eq(p.out, "bound 192.0.2.11 27026\n", "%s", p.err);
	cr_expect(strstr(body, "tables refreshed"), "%s", body);
	bs_stop(w);
	/* Without the daemon, an address change is not seen. */
	in_cgroup(&p, "ip addr add 192.0.2.12/32 dev bsk0 && ip addr del 192.0.2.11/32 dev bsk0 && "
		  "k $S bind 0.0.0.0 27027");
	cr_expect_str_eq(p.out, "error bind EADDRNOTAVAIL\n", "%s", p.err);
	bs_sh(&p, 30, "ip link del bsk0");
}

Test(kernel, records_text_and_json_via_kernel)
{
	const char *body;
	struct bs_proc p;
	pid_t w;

	kernel_up("version = 1;\nrules = (\n"
		  "  { name = \"busy\"; match = { port = 27031; }; action = \"deny\"; errno = \"EADDRINUSE\"; },\n"
		  "  { name = \"wild\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; }\n);\n");
	w = watch_start("--log-format json");
	in_cgroup(&p, "k $S bind 0.0.0.0 27030; k $S bind 0.0.0.0 27031");
	body = watch_records(w, 2);
	cr_expect(strstr(body, "\"uid\":0,\"user\":\"root\",\"program\":\"probe-static\",\"call\":\"bind\","
			 "\"event\":\"rewrite\",\"proto\":\"tcp\",\"from\":\"0.0.0.0:27030\",\"to\":\"127.0.0.1:27030\","
			 "\"rule\":\"wild\",\"source\":\""), "%s", body);
	cr_expect(strstr(body, "\"event\":\"deny\",\"proto\":\"tcp\",\"from\":\"0.0.0.0:27031\","
			 "\"errno\":\"EADDRINUSE\",\"rule\":\"busy\""), "%s", body);
	cr_expect_eq(bs_count(body, "\"via\":\"kernel\"}"), 2, "%s", body);
	cr_expect(strstr(body, "\"pid\":"), "%s", body);
	/* The same as text. */
	w = watch_start("");
	in_cgroup(&p, "k $S bind 0.0.0.0 27032");
	body = watch_records(w, 1);
	cr_expect(strstr(body, "] probe-static: rewrite tcp 0.0.0.0:27032 -> 127.0.0.1:27032 "
			 "(rule \"wild\" "), "%s", body);
	cr_expect(strstr(body, ") via kernel\n"), "%s", body);
}

Test(kernel, a_bind_the_shim_rewrote_is_not_judged_again)
{
	char pol[700];
	struct bs_proc p;

	/* The kernel's policy denies 127.0.0.1 itself, but a wildcard bind becomes
	 * exactly 127.0.0.1:PORT: that is final. */
	kernel_up("version = 1;\nrules = (\n"
		  "  { name = \"wild\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; },\n"
		  "  { name = \"no-other\"; match = { address = \"any\"; }; action = \"deny\"; errno = \"EACCES\"; }\n);\n");
	in_cgroup(&p, "k $S bind 127.0.0.1 27040; k $S bind 127.0.0.2 27041; "
		  "k $S bind --v6only 0 ::ffff:127.0.0.1 27044; k $S bind --v6only 1 ::1 27045; "
		  "k $S bind --v6only 0 ::1 27046");
	/* What a dual-stack [::] becomes (::ffff:127.0.0.1) and a V6ONLY one (::1) stay;
	 * ::1 on a dual-stack socket is not what [::] gives there: denied. */
	cr_expect_str_eq(p.out, "bound 127.0.0.1 27040\nerror bind EACCES\n"
			 "bound ::ffff:127.0.0.1 27044\nbound ::1 27045\nerror bind EACCES\n", "%s", p.err);
	/* The shim, as /etc/ld.so.preload would have it, with the same policy. */
	snprintf(pol, sizeof(pol), "%s", K.policy);
	in_cgroup(&p, "k $B run -p %s -- $P bind --v6only 1 :: 27042; "
		  "k $B run -p %s -- $P bind 0.0.0.0 27043", pol, pol);
	cr_expect_str_eq(p.out, "bound ::1 27042\nbound 127.0.0.1 27043\n", "%s", p.err);
	cr_expect_eq(bs_count(p.err, "rewrite tcp"), 2, "the shim logged each once: %s", p.err);
}

/* Reads the kernel mode status output. */
static const char *status(void)
{
	static struct bs_proc p;

	bs_sh(&p, 30, "%s system status --pin %s", BINDSHIM, K.pin);
	return p.out;
}

Test(kernel, client_binds_and_never_bound_listeners)
{
	struct bs_proc p;
	pid_t server;

	kernel_up(LOOPBACK_ONLY);
	server = bs_spawn(NULL, IN_PEER "%s echo tcp 198.51.100.8 27050 1", PROBE);
	usleep(300000);
	in_cgroup(&p, "k $S client tcp 198.51.100.8 27050 --bind 0.0.0.0 0");
	if (K.lsm || K.hold) {
		/* listen() is watched: the port-0 bind stays, the client reaches the peer. */
		cr_expect(strstr(p.out, "reply ping from 198.51.100.7 "), "%s%s", p.out, p.err);
	} else {
		/* Without either: rewritten like a server's, so it cannot reach another
		 * host (the man page says so). */
		cr_expect(strstr(p.out, "bound 127.0.0.1 ") && strstr(p.out, "error connect "),
			  "%s%s", p.out, p.err);
		cr_expect(strstr(status(), "not judged (no BPF LSM, no sockops program)"));
	}
	bs_stop(server);
	in_cgroup(&p, "k $S listen-unbound; k $S port0");
	if (K.lsm) {
		cr_expect(!strncmp(p.out, "error listen EADDRNOTAVAIL\nread 0.0.0.0 ", 41) &&
			  bs_count(p.out, "error listen EADDRNOTAVAIL\n") == 2, "%s%s", p.out, p.err);
	} else if (K.hold) {
		/* Listening, held to lo: listeners_the_policy_does_not_allow_are_held_to_lo. */
		cr_expect(!strncmp(p.out, "listening 0.0.0.0 ", 18), "%s", p.out);
		cr_expect(strstr(p.out, "\nread 0.0.0.0 ") && strstr(p.out, "\nserving 0.0.0.0 "), "%s", p.out);
	} else {
		/* The documented hole without either: the kernel's autobind of a
		 * never-bound socket does not pass the bind hook. Port-0 binds are
		 * rewritten at bind. */
		cr_expect(!strncmp(p.out, "listening 0.0.0.0 ", 18), "%s", p.out);
		cr_expect(strstr(p.out, "serving 127.0.0.1 "), "%s", p.out);
	}
}

/* Writes DIR/try.py: `python3 try.py HOST PORT` prints "connected" or why not. */
static void write_try(const char *dir)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/try.py", dir);
	bs_write_file(path, "import socket, sys\ntry:\n"
		      "    socket.create_connection((sys.argv[1], int(sys.argv[2])), 3)\n"
		      "    print('connected')\n"
		      "except OSError as e:\n    print(e.strerror)\n");
}

/* Without BPF LSM a listen() cannot be refused; once it has happened, a listener
 * the policy does not allow where it is (never bound, a port-0 bind left for
 * listen) is held to the loopback interface: a peer on the veth link is refused,
 * loopback reaches it, and not even root can move it off lo. */
Test(kernel, listeners_the_policy_does_not_allow_are_held_to_lo)
{
	const char *body;
	struct bs_proc p;
	pid_t w;

	hold_up();
	write_try(K.dir);
	w = watch_start("");
	in_cgroup(&p, "D=%s\n"
		  "k $S listen-unbound --hold 4 > $D/a & k $S port0 --hold 4 > $D/b &\n"
		  "k $S listen-unbound --v6 --hold 4 > $D/c &\n"
		  "for f in a b c; do i=0; while ! grep -q 'listening\\|serving' $D/$f && "
		  "[ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done; done\n"
		  "for x in \"$(awk '{print $3}' $D/a) 198.51.100.7 127.0.0.1\" "
		  "\"$(awk '/serving/{print $3}' $D/b) 198.51.100.7 127.0.0.1\" "
		  "\"$(awk '{print $3}' $D/c) 2001:db8::7 ::1\"; do set -- $x\n"
		  "  echo \"peer $(" IN_PEER "python3 $D/try.py $2 $1) local $(python3 $D/try.py $3 $1)"
		  " $(ss -ltnH \"sport = :$1\" | grep -c '%%lo:')\"\n"
		  "done\n"
		  "$B audit --json | python3 -c 'import json, sys\n"
		  "print(\"held and exposed\", sum(s[\"exposed\"] for s in json.load(sys.stdin) "
		  "if s.get(\"interface\") == \"lo\"))'\n"
		  "k python3 -c 'import socket\n"
		  "s = socket.socket(); s.listen()\n"
		  "try:\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b\"\"); print(\"moved\")\n"
		  "except OSError as e:\n    print(e.strerror, s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b\"\\0\").decode())'\n"
		  "wait", K.dir);
	cr_expect_str_eq(p.out, "peer Connection refused local connected 1\n"
			 "peer Connection refused local connected 1\n"
			 "peer Connection refused local connected 1\n"
			 "held and exposed 0\nOperation not permitted lo\n", "%s", p.err);
	body = watch_records(w, 4);
	cr_expect_eq(bs_count(body, ": hold tcp "), 4, "%s", body);
	cr_expect(strstr(body, "probe-static: hold tcp [::]:"), "%s", body);
	cr_expect_eq(bs_count(body, "(rule \"wild\" "), 4, "%s", body);
	cr_expect_eq(bs_count(body, ") in listen() via kernel\n"), 4, "%s", body);
	cr_expect(strstr(status(), "listeners held to lo             4\n"), "%s", status());
	cr_expect(strstr(status(), "held listeners' device kept      1\n"), "%s", status());
}

/* One decision per socket: a socket bind() placed was judged there, by the bind
 * program, and is not judged again at listen() by another uid. A server that binds
 * the wildcard as root (allowed for uid 0), at a port or at port 0, and drops to
 * nobody before listen() keeps its wildcard listeners, reachable from the peer. */
Test(kernel, a_bound_socket_is_not_judged_again_at_listen)
{
	struct bs_proc p;

	if (!bs_real_root() || !bs_can_switch_user())
		cr_skip("changing uid needs root of the machine and another user");
	kernel_up("version = 1;\nrules = (\n"
		  "  { name = \"root\"; match = { uid = 0; }; action = \"allow\"; },\n"
		  "  { name = \"wild\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; }\n);\n");
	in_cgroup(&p, "k /usr/bin/python3 -c 'import os, socket, subprocess, sys\n"
		  "s = socket.socket(); s.bind((\"0.0.0.0\", 27061))\n"
		  "z = socket.socket(); z.bind((\"0.0.0.0\", 0))\n"
		  "os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)\n"
		  "z.listen(); print(\"port 0\", z.getsockname()[0], repr(z.getsockopt(socket.SOL_SOCKET, "
		  "socket.SO_BINDTODEVICE, 16).rstrip(b\"\\0\")))\n"
		  "s.listen(); print(s.getsockname()[0], repr(s.getsockopt(socket.SOL_SOCKET, "
		  "socket.SO_BINDTODEVICE, 16).rstrip(b\"\\0\")))\n"
		  "sys.stdout.flush(); s.settimeout(5)\n"
		  "c, a = s.accept(); print(\"accepted\", a[0])' & "
		  "sleep 0.5; " IN_PEER "/usr/bin/python3 -c 'import socket\n"
		  "socket.create_connection((\"198.51.100.7\", 27061), 3)'; wait");
	cr_expect_str_eq(p.out, "port 0 0.0.0.0 b''\n0.0.0.0 b''\naccepted 198.51.100.8\n", "%s", p.err);
}

/* Kernel mode under policy where listeners are held to lo, for programs nobody
 * runs (root's CAP_NET_RAW moves any device); K.dir/try.py written. Skips where
 * there is no other user. extra: more options to enable. */
static void nobody_up_with(const char *policy, const char *extra)
{
	if (!bs_can_switch_user())
		cr_skip("needs another user (root's CAP_NET_RAW moves any device): " BS_NO_OTHER_USER);
	hold_up_opts(policy, extra);
	write_try(K.dir);
}

static void nobody_up(const char *policy)
{
	nobody_up_with(policy, NULL);
}

/* Writes name with text in a fresh directory open to nobody; returns its path. */
static const char *nobody_script(const char *name, const char *text)
{
	static char path[700];

	snprintf(path, sizeof(path), "%s/%s", bs_open_tmpdir(), name);
	bs_write_file(path, text);
	return path;
}

/* Runs `python3 PY ARGS DONE` as nobody in the cgroup in the background (output to
 * $D/out), waits for its first n lines, runs then (a script that sees $D, K.dir),
 * and lets it end by making DONE. */
static void nobody_run(struct bs_proc *p, const char *py, const char *args, int n,
		       const char *then)
{
	in_cgroup(p, "D=%s; O=$(dirname %s)\n: > $D/out; rm -f $O/done\n"
		  "ulimit -n 8192; k " BS_AS_NOBODY " /usr/bin/python3 %s %s $O/done > $D/out &\n"
		  "i=0; while [ \"$(grep -c . $D/out)\" -lt %d ] && [ $i -lt 600 ]; do "
		  "sleep 0.05; i=$((i + 1)); done\n%s\ntouch $O/done; wait", K.dir, py, py, args, n,
		  then);
}

/* Red team: a bind the kernel refuses after the bind program let it pass (an
 * address not on this machine, a second bind), a v4-mapped wildcard
 * (::ffff:0.0.0.0, whose bind locks the address without placing it), and a
 * relisten of an accepted connection, which already sits on lo (its device cannot
 * be set again without CAP_NET_RAW): run as nobody, each listener ends held to lo
 * (the peer is refused), and each is recorded as held. */
Test(kernel, listeners_after_refused_or_mapped_binds_are_held_too)
{
	const char *py, *body;
	struct bs_proc p;
	pid_t w;

	nobody_up(LOOPBACK_ONLY);
	py = nobody_script("cases.py", "import ctypes, os, socket, sys, time\n"
		      "def case(name, s, addrs):\n"
		      "    for a in addrs:\n"
		      "        try:\n            s.bind(a)\n        except OSError:\n            pass\n"
		      "    s.listen()\n"
		      "    dev = s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16)\n"
		      "    print(name, dev.rstrip(b'\\0').decode() or '-', s.getsockname()[1], flush=True)\n"
		      "    return s\n"
		      "def dual():\n"
		      "    s = socket.socket(socket.AF_INET6)\n"
		      "    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
		      "    return s\n"
		      "keep = [case('absent', socket.socket(), [('198.51.100.99', 0)]),\n"
		      "        case('absent6', dual(), [('2001:db8::99', 0)]),\n"
		      "        case('second', socket.socket(), [('0.0.0.0', 0), ('127.0.0.1', 0)]),\n"
		      "        case('mapped', dual(), [('::ffff:0.0.0.0', 0)])]\n"
		      "l = case('listener', socket.socket(), [])\n"
		      "c = socket.create_connection(('127.0.0.1', l.getsockname()[1]))\n"
		      "a, _ = l.accept()\n"
		      "ctypes.CDLL(None).connect(a.fileno(), (ctypes.c_ubyte * 16)(), 16)  # AF_UNSPEC\n"
		      "keep.append(case('relisten', a, []))\n"
		      "while not os.path.exists(sys.argv[1]):\n"
		      "    time.sleep(0.05)\n");
	w = watch_start("");
	nobody_run(&p, py, "", 6, "while read name dev port; do\n"
		   "  echo \"$name $dev $(" IN_PEER "python3 $D/try.py 198.51.100.7 $port)\"\n"
		   "done < $D/out");
	cr_expect_str_eq(p.out, "absent lo Connection refused\nabsent6 lo Connection refused\n"
			 "second lo Connection refused\nmapped lo Connection refused\n"
			 "listener lo Connection refused\nrelisten lo Connection refused\n", "%s", p.err);
	body = watch_records(w, 6);
	cr_expect_eq(bs_count(body, ": hold tcp "), 6, "%s", body);
	cr_expect_eq(bs_count(body, "EPERM"), 0, "the relisten is held, not a failed hold: %s", body);
	cr_expect(strstr(status(), "listeners held to lo             6\n"), "%s", status());
}

/* The hold's limit: a listener its program bound to another interface before
 * listen() (SO_BINDTODEVICE needs no privilege the first time, nor does a scoped
 * IPv6 link-local bind or connect) cannot be moved to lo without CAP_NET_RAW. The
 * record says so ("hold ... EPERM") and status counts it apart; and the sk_lookup
 * program drops the SYNs that arrive for it on that interface, so the peer cannot
 * connect (red team round 3: it could). */
Test(kernel, a_listener_bound_to_another_device_is_reported_and_guarded)
{
	const char *py, *body;
	struct bs_proc p;
	pid_t w;

	nobody_up(LOOPBACK_ONLY);
	/* The device by setsockopt, and by an IPv6 link-local bind with a scope id,
	 * which the kernel applies before it finds the address absent (red team). */
	py = nobody_script("dev.py", "import os, socket, sys, time\n"
		      "def dev(s):\n"
		      "    return s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b'\\0').decode()\n"
		      "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'bs0')\n"
		      "s.listen(); print(s.getsockname()[0], dev(s), s.getsockname()[1], flush=True)\n"
		      "t = socket.socket(socket.AF_INET6)\n"
		      "try:\n    t.bind(('fe80::dead', 0, 0, socket.if_nametoindex('bs0')))\n"
		      "except OSError as e:\n    print(e.strerror, flush=True)\n"
		      "t.listen(); print(t.getsockname()[0], dev(t), t.getsockname()[1], flush=True)\n"
		      "while not os.path.exists(sys.argv[1]):\n    time.sleep(0.05)\n");
	w = watch_start("");
	nobody_run(&p, py, "", 3, "cat $D/out\n"
		   "set -- $(sed -n 1p $D/out); p4=$3; set -- $(sed -n 3p $D/out); p6=$3\n"
		   "echo \"peer $(" IN_PEER "python3 $D/try.py 198.51.100.7 $p4) "
		   "$(" IN_PEER "python3 $D/try.py 2001:db8::7 $p6)\"");
	cr_expect(strstr(p.out, "0.0.0.0 bs0 ") && strstr(p.out, "\nCannot assign requested address\n:: bs0 "),
		  "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "\npeer Connection refused Connection refused\n"), "%s%s", p.out, p.err);
	body = watch_records(w, 2);
	cr_expect(strstr(body, "python3: hold tcp 0.0.0.0:") && strstr(body, "python3: hold tcp [::]:"),
		  "%s", body);
	cr_expect_eq(bs_count(body, " EPERM (rule \"wild\" "), 2, "%s", body);
	cr_expect(strstr(status(), "listeners held to lo             0\n"), "%s", status());
	cr_expect(strstr(status(), "holds failed (other device)      2\n"), "%s", status());
	cr_expect(strstr(status(), "guarded now (hold failed)        0\n"), "closed: %s", status());
	cr_expect(strstr(status(), "not guarded (table full)         0\n"), "%s", status());
	cr_expect(!strstr(status(), "SYNs to them dropped             0\n"), "%s", status());
}

/* Writes OPEN/tied.py: `tied.py MODE DONE` makes nobody's listeners tied to bs0 as
 * MODE says, prints the port the peer should try, accepts once on the listener
 * that matters ("accepted" or "no connection"), and waits for DONE. */
static const char *tied_script(void)
{
	return nobody_script("tied.py", "import os, socket, sys, time\n"
		      "mode = sys.argv[1]\n"
		      "def tied(fam=socket.AF_INET, v6only=None):\n"
		      "    s = socket.socket(fam)\n"
		      "    if v6only is not None:\n"
		      "        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)\n"
		      "    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'bs0')\n"
		      "    return s\n"
		      "keep = []\n"
		      "if mode == 'mapped_wildcard':\n"
		      "    a = tied(socket.AF_INET6, v6only=0); a.bind(('::ffff:0.0.0.0', 0)); a.listen()\n"
		      "elif mode == 'mapped_address':\n"
		      "    a = tied(socket.AF_INET6, v6only=0); a.bind(('::ffff:198.51.100.7', 0)); a.listen()\n"
		      "elif mode == 'many':\n"
		      "    for i in range(4096):\n"
		      "        s = tied(); s.listen(); keep.append(s)\n"
		      "    a = tied(); a.listen()\n"
		      "print(a.getsockname()[1], flush=True)\n"
		      "a.settimeout(4)\n"
		      "try:\n    c, _ = a.accept(); c.sendall(b'exposed\\n'); print('accepted', flush=True)\n"
		      "except OSError as e:\n    print('no connection', flush=True)\n"
		      "while not os.path.exists(sys.argv[2]):\n    time.sleep(0.05)\n");
}

/* Runs tied.py MODE as nobody in the cgroup, has the peer connect to 198.51.100.7
 * at the port it printed, and returns the peer's outcome and the script's. */
static const char *tied_try(const char *mode)
{
	static struct bs_proc p;

	nobody_run(&p, tied_script(), mode, 1,
		   "echo \"peer $(" IN_PEER "python3 $D/try.py 198.51.100.7 $(sed -n 1p $D/out))\"\n"
		   "i=0; while [ \"$(grep -c . $D/out)\" -lt 2 ] && [ $i -lt 200 ]; do "
		   "sleep 0.05; i=$((i + 1)); done\n"
		   "sed -n 2p $D/out");
	return p.out;
}

#define GUARDED "peer Connection refused\nno connection\n"

/* Red team round 5: the guard compared addresses, and a dual-stack listener at
 * ::ffff:0.0.0.0 or at a v4-mapped address is an IPv6 socket to it: the peer's
 * IPv4 SYNs passed. It drops by port and interface now. */
Test(kernel, v4_mapped_listeners_tied_to_an_interface_are_guarded)
{
	const char *out;

	nobody_up("version = 1;\nrules = (\n"
		"  { name = \"public\"; match = { address = \"198.51.100.7\"; }; action = \"rewrite\"; to = \"loopback\"; },\n"
		"  { name = \"wild\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; }\n);\n");
	out = tied_try("mapped_wildcard");
	cr_expect_str_eq(out, GUARDED, "%s\n%s", out, status());
	out = tied_try("mapped_address");
	cr_expect_str_eq(out, GUARDED, "%s\n%s", out, status());
}

/* Red team round 6: a listener tied to an interface cannot be held, and the guard
 * counts it only once listen() made it listen; where its port was known before (a
 * one-port range, a port-0 bind left for listen()), a peer aiming at it got 8
 * usable connections in 15 rounds. A stream socket gets a device or such a port,
 * not both: run as nobody, each second step fails with EPERM, and a tied socket's
 * port-0 bind of the wildcard is rewritten at bind instead of left for listen().
 * UDP sockets, which do not listen, keep theirs (a review found them rewritten). */
Test(kernel, a_device_and_a_port_known_before_listen_are_refused_together)
{
	struct bs_proc p;

	nobody_up(LOOPBACK_ONLY);
	in_cgroup(&p, "k " BS_AS_NOBODY " /usr/bin/python3 -c 'import socket, struct\n"
		  "def tie(s):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b\"bs0\")\n"
		  "def rng(s):\n    s.setsockopt(socket.IPPROTO_IP, 51, struct.pack(\"I\", 40293 << 16 | 40230))\n"
		  "def bind0(s):\n    s.bind((\"0.0.0.0\", 0))\n"
		  "for name, steps in ((\"tie range\", (tie, rng)), (\"range tie\", (rng, tie)),\n"
		  "                    (\"bind tie\", (bind0, tie)), (\"tie bind\", (tie, bind0)),\n"
		  "                    (\"udp tie bind\", (tie, bind0))):\n"
		  "    s = socket.socket(type=socket.SOCK_DGRAM if name.startswith(\"udp\") else socket.SOCK_STREAM)\n"
		  "    try:\n"
		  "        for f in steps:\n            f(s)\n"
		  "        print(name, s.getsockname()[0])\n"
		  "    except OSError as e:\n        print(name, e.strerror)\n'");
	cr_expect_str_eq(p.out, "tie range Operation not permitted\nrange tie Operation not permitted\n"
			 "bind tie Operation not permitted\ntie bind 127.0.0.1\n"
			 "udp tie bind 0.0.0.0\n", "%s", p.err);
	cr_expect(strstr(status(), "device + early port refused      3\n"), "%s", status());
}

/* The start of a script run as nobody in the cgroup that tries calls on sockets:
 * idx is bs0's index, attempt(f) what calling f gave ("ok" or the errno's name),
 * tied(s) whether s is on bs0, unspec(s) connect(AF_UNSPEC), rng(s, port) an
 * IP_LOCAL_PORT_RANGE of 64 ports from port (narrower ones are refused). */
#define TRIES "k " BS_AS_NOBODY " /usr/bin/python3 -c 'import ctypes, errno, socket, struct\n" \
	"idx = socket.if_nametoindex(\"bs0\")\n" \
	"def attempt(f):\n" \
	"    try:\n        f(); return \"ok\"\n" \
	"    except OSError as e:\n        return errno.errorcode[e.errno]\n" \
	"def tied(s):\n    return \"tied\" if s.getsockopt(socket.SOL_SOCKET, 62) == idx else \"untied\"\n" \
	"def unspec(s):\n    ctypes.CDLL(None).connect(s.fileno(), (ctypes.c_ubyte * 28)(), 28)\n" \
	"def rng(s, port):\n" \
	"    s.setsockopt(socket.IPPROTO_IP, 51, struct.pack(\"I\", (port + 63) << 16 | port))\n"

/* An IPv6 link-local connect() or bind() with a scope id ties a socket to that
 * interface as SO_BINDTODEVICE does, but without the setsockopt the program
 * refuses after a one-port range or a port-0 bind left for listen(): a failed
 * connect, connect(AF_UNSPEC) and listen() made a listener tied to bs0 at a port
 * known before listen() (the window above). Run as nobody, each is refused now
 * with EPERM and the socket stays untied; without either they are left alone. */
Test(kernel, a_link_local_connect_or_bind_after_a_port_range_is_refused)
{
	struct bs_proc p;

	nobody_up(LOOPBACK_ONLY);
	in_cgroup(&p, TRIES
		  "for how, before in ((\"connect\", \"range\"), (\"bind\", \"range\"), (\"connect\", \"bind0\"),\n"
		  "                    (\"connect\", \"no range\"), (\"bind\", \"no range\")):\n"
		  "    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)\n"
		  "    if before == \"range\":\n        rng(s, 40231)\n"
		  "    if before == \"bind0\":\n        s.bind((\"::\", 0))\n"
		  "    s.setblocking(False)\n"
		  "    r = attempt(lambda: s.connect((\"fe80::1\", 9, 0, idx)) if how == \"connect\"\n"
		  "                else s.bind((\"fe80::1\", 0, 0, idx)))\n"
		  "    print(how, before, r if r == \"EPERM\" else \"fails\", tied(s))\n'");
	/* Unrefused, the connect fails with EINPROGRESS, or EADDRNOTAVAIL while
	 * bs0's own link-local address is new; the bind with EADDRNOTAVAIL. */
	cr_expect_str_eq(p.out, "connect range EPERM untied\nbind range EPERM untied\n"
			 "connect bind0 EPERM untied\n"
			 "connect no range fails tied\nbind no range fails tied\n",
			 "%s", p.err);
	cr_expect(strstr(status(), "device + early port refused      3\n"), "%s", status());
}

/* Red team: a listener held to lo kept its one-port range through
 * connect(AF_UNSPEC); a scoped link-local bind, failing, then moved it to bs0
 * (the kernel's bind overrides a device already set), and it listened there again
 * at its known port: 8 readable peer connections in 15-28 rounds. A held socket
 * gets no scoped address either (nor an interface- or link-local multicast one). */
Test(kernel, a_held_listener_is_not_moved_by_a_scoped_bind)
{
	struct bs_proc p;

	nobody_up(LOOPBACK_ONLY);
	in_cgroup(&p, TRIES
		  "for addr in (\"fe80::dead\", \"ff02::1\"):\n"
		  "    s = socket.socket(socket.AF_INET6)\n"
		  "    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
		  "    rng(s, 40232); s.listen(); unspec(s)\n"
		  "    r = attempt(lambda: s.bind((addr, 0, 0, idx)))\n"
		  "    s.listen()\n"
		  "    print(addr, r, \"on lo\" if s.getsockopt(socket.SOL_SOCKET, 62) == 1 else \"moved\")\n"
		  "    s.close()\n'");
	cr_expect_str_eq(p.out, "fe80::dead EPERM on lo\nff02::1 EPERM on lo\n", "%s", p.err);
}

/* Red team: a second bind of a bound socket, which the kernel refuses, passed the
 * bind program first and took "port-0 bind left for listen()" off the socket:
 * SO_BINDTODEVICE, or a scoped link-local connect(), then tied it with its port
 * known (a peer raced 8 readable connections through in 19-27 rounds). A bound
 * socket's bind is left to the kernel to refuse now, untouched. */
Test(kernel, a_refused_second_bind_leaves_a_port_0_bind_deferred)
{
	struct bs_proc p;

	nobody_up(LOOPBACK_ONLY);
	in_cgroup(&p, TRIES
		  "def run(what, f):\n    print(what, attempt(f))\n"
		  "s = socket.socket()\n"
		  "s.bind((\"0.0.0.0\", 0)); q = s.getsockname()[1]\n"
		  "run(\"second bind\", lambda: s.bind((\"198.51.100.7\", q)))\n"
		  "run(\"tie\", lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b\"bs0\"))\n"
		  "s = socket.socket(socket.AF_INET6); s.setblocking(False)\n"
		  "s.bind((\"::\", 0)); q = s.getsockname()[1]\n"
		  "run(\"second bind\", lambda: s.bind((\"2001:db8::7\", q)))\n"
		  "run(\"link-local connect\", lambda: s.connect((\"fe80::1\", 9, 0, idx)))\n"
		  "print(tied(s))\n'");
	cr_expect_str_eq(p.out, "second bind EINVAL\ntie EPERM\nsecond bind EINVAL\n"
			 "link-local connect EPERM\nuntied\n", "%s", p.err);
}

/* Red team: under a policy that rewrites every address (the shipped
 * dev-loopback.cfg), a port-0 bind of bs0's own link-local address with its scope
 * id was left for listen() like any port-0 bind, and the kernel then tied the
 * socket to bs0 with its port known: 8 readable connections from the peer in
 * 15-38 rounds. It is rewritten at bind now, as a tied socket's is. */
Test(kernel, a_port_0_bind_of_a_scoped_link_local_address_is_rewritten_at_bind)
{
	struct bs_proc p;
	char ll[100] = "";

	nobody_up("version = 1;\nrules = ({ name = \"any\"; match = { address = \"any\"; }; "
		  "action = \"rewrite\"; to = \"loopback\"; });\n");
	if (!bs0_link_local(ll, sizeof(ll))) {
		kernel_down();	/* a skipped test gets no fini */
		cr_skip("bs0 has no IPv6 link-local address here");
	}
	in_cgroup(&p, "k " BS_AS_NOBODY " /usr/bin/python3 -c 'import socket\n"
		  "idx = socket.if_nametoindex(\"bs0\")\n"
		  "s = socket.socket(socket.AF_INET6)\n"
		  "s.bind((\"%s\", 0, 0, idx))\n"
		  "print(s.getsockname()[0], \"tied\" if s.getsockopt(socket.SOL_SOCKET, 62) else \"untied\")\n'",
		  ll);
	cr_expect_str_eq(p.out, "::1 untied\n", "%s", p.err);
}

/* Red team round 6: root's process, given a listener nobody tied to an interface
 * (the guard counts it there), moved it to another device or none, away from the
 * guard's count, and the peer connected. Refused like a held listener's. */
Test(kernel, root_cannot_move_a_guarded_listener)
{
	struct bs_proc p;

	nobody_up(LOOPBACK_ONLY);
	in_cgroup(&p, "k /usr/bin/python3 -c 'import os, socket\n"
		  "a, b = socket.socketpair()\n"
		  "if os.fork() == 0:\n"
		  "    os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)\n"
		  "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b\"bs0\")\n"
		  "    s.listen(); socket.send_fds(b, [b\"l\"], [s.fileno()]); os._exit(0)\n"
		  "_, fds, _, _ = socket.recv_fds(a, 1, 1)\n"
		  "s = socket.socket(fileno=fds[0])\n"
		  "for dev in (b\"\", b\"lo\"):\n"
		  "    try:\n"
		  "        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev); print(\"moved\")\n"
		  "    except OSError as e:\n"
		  "        print(e.strerror, s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b\"\\0\").decode())\n"
		  "os.wait()'");
	cr_expect_str_eq(p.out, "Operation not permitted bs0\nOperation not permitted bs0\n", "%s", p.err);
}

/* Red team round 5: 4,096 exposed listeners filled the guard's hash, and the next
 * one was not guarded. The table has room for every port of an interface now. */
Test(kernel, four_thousand_exposed_listeners_do_not_fill_the_guard)
{
	const char *out;

	nobody_up(LOOPBACK_ONLY);
	out = tied_try("many");
	cr_expect_str_eq(out, GUARDED, "%s\n%s", out, status());
	cr_expect(strstr(status(), "not guarded (table full)         0\n"), "%s", status());
}

/* Runs tests/helpers/synrace's server (2,000 rounds at most, until 8 connections
 * from the peer got in) in the test's cgroup with mode (its words: "judged",
 * "tfo", "v6") against its peer (peer_mode: "tfo" or "") aiming at peer_addr, and
 * checks that no connection from the peer was usable: with end HELD (kernel mode
 * enabled from another network namespace, so that the guard sees none of it),
 * each was held and recorded, and it skips where none got in during the window in
 * all the rounds; with end NONE none got in, the guard dropped the SYNs. */
/* How synrace's connections from the peer end: held to lo when accepted, or none
 * at all (the guard dropped their SYNs until the listener was looked at). */
enum race_end { HELD, NONE };

static void race_listen_at(const char *policy, const char *mode, const char *peer_mode,
			   const char *peer_addr, enum race_end end);

static void race_listen(const char *policy, const char *mode, const char *peer_mode)
{
	race_listen_at(policy, mode, peer_mode, "198.51.100.7", HELD);
}

static void race_listen_at(const char *policy, const char *mode, const char *peer_mode,
			   const char *peer_addr, enum race_end end)
{
	char shm[700], out[700], peer_out[700], line[200] = "";
	const char *body;
	int rounds, remote = -1, dev0 = -1, dev1 = -1, data = -1, n = -1;
	const char *held;
	unsigned connected = 0, got = 1;
	struct bs_proc p;
	pid_t w, peer;
	FILE *f;

	/* Every round's records are counted: no rate limit. */
	guard_elsewhere = end == HELD;
	hold_up_opts(policy, "--record-rate 0");
	guard_elsewhere = false;
	snprintf(shm, sizeof(shm), "%s/shared", K.dir);
	snprintf(out, sizeof(out), "%s/server", K.dir);
	snprintf(peer_out, sizeof(peer_out), "%s/peer", K.dir);
	w = watch_start("");
	peer = bs_spawn(peer_out, IN_PEER "%s peer %s %s %s", HELPER("synrace"), shm, peer_addr,
			peer_mode);
	in_cgroup(&p, "k %s server %s 2000 %s > %s", HELPER("synrace"), shm, mode, out);
	for (int i = 0; i < 100 && (bs_read_file(peer_out, line, sizeof(line)) < 0 ||
				     !strstr(line, "\n")); i++)
		usleep(50000);
	bs_stop(peer);
	f = fopen(out, "r");
	cr_assert_eq(sscanf(line, "connected %u read %u", &connected, &got), 2, "peer: %s", line);
	cr_assert(f && fscanf(f, "rounds %d remote %d dev0 %d dev1 %d data %d", &rounds, &remote,
			      &dev0, &dev1, &data) == 5, "server: %s%s", p.out, p.err);
	fclose(f);
	cr_expect_eq(got, 0, "the peer read from %u of %u connections (server: %d remote, "
		     "%d on no device)", got, connected, remote, dev0);
	cr_expect_eq(dev0, 0, "%d of %d connections from the peer were not held", dev0, remote);
	body = watch_records(w, remote + rounds);
	if (end == NONE) {
		const char *dropped = strstr(status(), "SYNs to them dropped");

		cr_expect_eq(got, 0, "the peer read from %u of %u connections", got, connected);
		cr_expect_eq(remote, 0, "%d connections from the peer got in before the hold",
			     remote);
		cr_expect(rounds > 0 && dropped && atol(dropped + 20) > 0,
			  "the peer's SYNs reached no guard (%d rounds):\n%s", rounds, status());
		cr_expect_eq(records_with("synrace: hold tcp .* in listen() via kernel$"), rounds,
			     "%s", body);
		return;
	}
	if (remote == 0) {
		kernel_down();	/* a skipped test gets no fini */
		cr_skip("no connection of the peer's got in between listen() and the hold in %d "
			"rounds (connected %u)", rounds, connected);
	}
	cr_log_info("%d rounds: %d connections from the peer came in before the hold (%d with "
		    "data)", rounds, remote, data);
	/* Each connection the program moved to lo is counted and recorded. One whose
	 * request the kernel made after the hold is on lo already (the listener's
	 * device): held, not counted. With Fast Open most are made at once. */
	held = strstr(status(), "connections held to lo");
	cr_assert(held && sscanf(held, "connections held to lo %d", &n) == 1, "%s", status());
	cr_expect(n <= remote && (n > 0 || strstr(mode, "tfo")), "%d of %d", n, remote);
	cr_expect_eq(records_with("synrace: hold tcp 198.51.100.7:.*) in accept() via kernel$"), n,
		     "%s", body);
	cr_expect_eq(records_with("synrace: hold tcp 0.0.0.0:.*) in listen() via kernel$"), rounds,
		     "%s", body);
}

/* Red team: between the kernel making a socket listen and the sockops program
 * holding it, a listener takes SYNs from anywhere. A peer that knows the port (a
 * port-0 bind's getsockname tells it before listen()) connects as fast as it can
 * while the server listens, round after round. Such a port is pending from its
 * bind to the listen() looked at, and the guard drops SYNs from elsewhere than
 * lo to it: no connection of the peer's gets in at all (before, they got in and
 * were held to lo when accepted). */
Test(kernel, no_connection_gets_in_before_the_hold_of_a_port_0_bind)
{
	race_listen_at(LOOPBACK_ONLY, "", "", "198.51.100.7", NONE);
}

/* Red team: a connection from an IPv6 link-local address gets its arrival
 * interface from the kernel (so that replies leave there), and a connection with
 * an interface cannot be held to lo when it is accepted: from the peer's
 * link-local address, 7 or 8 of 8 connections made before the hold were usable
 * in 40-90 rounds. The pending port's SYNs are dropped instead. */
Test(kernel, no_connection_from_a_link_local_peer_gets_in_before_the_hold)
{
	char ll[80], addr[100];

	if (!bs0_link_local(ll, sizeof(ll)))
		cr_skip("bs0 has no IPv6 link-local address here");
	snprintf(addr, sizeof(addr), "%s%%bs1", ll);
	race_listen_at(LOOPBACK_ONLY, "v6", "", addr, NONE);
}

/* Where the guard does not run (a network namespace other than the one enable
 * ran in), what connects before the hold is held to lo with its listener when it
 * is accepted: the storage the kernel copies into each connection tells it. The
 * peer aims at a port-0 bind's port. */
Test(kernel, connections_from_before_a_hold_are_held_with_it)
{
	race_listen(LOOPBACK_ONLY, "", "");
}

/* A narrow IP_LOCAL_PORT_RANGE makes a never-bound listener's port known (of two
 * ports, listen() takes the odd one): the red team raced connections into it.
 * It cannot be pending as a port-0 bind's port is (any user could name another's
 * port, and have its SYNs dropped), so on a stream socket before listen() a
 * range of fewer than 64 ports is refused; a wider one, and one on a listener,
 * are left alone. */
Test(kernel, narrow_port_ranges_are_refused_before_listen)
{
	struct bs_proc p;

	nobody_up(LOOPBACK_ONLY);
	/* Also what the kernel narrows (red team): each end applies only inside
	 * the namespace's ip_local_port_range L-H, so 0-L, H-0 and 1-L are one port. */
	in_cgroup(&p, TRIES
		  "L, H = map(int, open(\"/proc/sys/net/ipv4/ip_local_port_range\").read().split())\n"
		  "for lo, hi in ((L, L), (L, L + 1), (L, L + 62), (L, L + 63), (0, L), (H, 0), (1, L),\n"
		  "               (0, 0)):\n"
		  "    s = socket.socket()\n"
		  "    print(attempt(lambda: s.setsockopt(socket.IPPROTO_IP, 51, "
		  "struct.pack(\"I\", hi << 16 | lo))))\n"
		  "s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen()\n"
		  "print(\"listening\", attempt(lambda: rng(s, L)))\n'");
	cr_expect_str_eq(p.out, "EPERM\nEPERM\nEPERM\nok\nEPERM\nEPERM\nEPERM\nok\nlistening ok\n",
			 "%s", p.err);
	cr_expect(strstr(status(), "narrow TCP port ranges refused   6\n"), "%s", status());
}

/* The namespace's ip_local_port_range, put back by ports_back (a fini). */
static char ports_were[32];

static void ports_back(void)
{
	kernel_down();		/* the suite's fini, which this one replaces */
	if (ports_were[0])
		bs_write_file("/proc/sys/net/ipv4/ip_local_port_range", ports_were);
}

/* A range is judged by the namespace's ip_local_port_range as it is now: watch
 * follows a change (within a second or so). 49990-0 is the ephemeral ports from
 * 49990 up: 11,010 of them under 32768-60999, 11 once the range ends at 50000. */
Test(kernel, narrow_port_ranges_follow_the_namespaces_port_range, .fini = ports_back)
{
	struct bs_proc p;
	pid_t w;
	const char *try = TRIES "s = socket.socket()\n"
		"print(attempt(lambda: s.setsockopt(socket.IPPROTO_IP, 51, struct.pack(\"I\", 49990))))\n'";

	bs_read_file("/proc/sys/net/ipv4/ip_local_port_range", ports_were, sizeof(ports_were));
	nobody_up(LOOPBACK_ONLY);
	w = watch_start("");
	in_cgroup(&p, "%s", try);
	cr_expect_str_eq(p.out, "ok\n", "%s", p.err);
	cr_assert(bs_write_file("/proc/sys/net/ipv4/ip_local_port_range", "32768 50000"));
	usleep(2500000);
	in_cgroup(&p, "%s", try);
	bs_stop(w);
	cr_expect_str_eq(p.out, "EPERM\n", "%s", p.err);
}

/* Red team: a range set after a port-0 bind took the bind's port off `pending`
 * (the first version counted ranges there too): the port stayed the socket's,
 * and its listen() was unguarded (7-8 of 8 connections readable). A range no
 * longer touches what is pending. */
Test(kernel, a_range_after_a_port_0_bind_leaves_its_port_pending)
{
	struct bs_proc p;

	nobody_up(LOOPBACK_ONLY);
	in_cgroup(&p, "D=%s; %s"
		  "import os, time\n"
		  "s = socket.socket(socket.AF_INET6); s.bind((\"::\", 0))\n"
		  "s.setsockopt(socket.IPPROTO_IP, 51, struct.pack(\"I\", 0))\n"
		  "print(s.getsockname()[1], flush=True)\n"
		  "while not os.path.exists(\"'$D'/done\"):\n    time.sleep(0.05)\n' > $D/port &\n"
		  "i=0; while [ ! -s $D/port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done\n"
		  "port=$(cat $D/port)\n"
		  "bpftool -j map lookup pinned %s/map_pending key $((port & 255)) $((port >> 8)) 0 0 | "
		  "python3 -c 'import json, sys; v = json.load(sys.stdin)[\"value\"]; "
		  "print(\"pending\", int(v[0], 16) if isinstance(v, list) else v)'\n"
		  "touch $D/done; wait", K.dir, TRIES, K.pin);
	cr_expect_str_eq(p.out, "pending 1\n", "%s", p.err);
}


/* Sets net.ipv4.tcp_fastopen to 3 (client and server) in the tests' network
 * namespace for the rest of a test; tfo_off(), its fini, puts back what it was. */
static char tfo_was[16];

static void tfo_on(void)
{
	bs_read_file("/proc/sys/net/ipv4/tcp_fastopen", tfo_was, sizeof(tfo_was));
	if (!bs_write_file("/proc/sys/net/ipv4/tcp_fastopen", "3"))
		cr_skip("cannot enable TCP Fast Open in the tests' namespace");
}

static void tfo_off(void)
{
	kernel_down();		/* the suite's fini, which this one replaces */
	if (tfo_was[0])
		bs_write_file("/proc/sys/net/ipv4/tcp_fastopen", tfo_was);
}

/* Red team: with TCP Fast Open (which the administrator enables for servers) a
 * connection is made at its SYN, so many are made before the hold (a never-bound
 * listener had nothing the kernel could copy into them: 93 of 147 were left on no
 * device, usable both ways; narrow ranges, which made such a port known, are
 * refused now). Where the guard does not run, they are held at accept. Data in
 * the SYN still reaches the server (README, kernel mode's residuals). */
Test(kernel, fast_open_connections_made_before_the_hold_are_held, .fini = tfo_off)
{
	tfo_on();
	race_listen(LOOPBACK_ONLY, "tfo", "tfo");
}

/* Red team: a bind the kernel refused (the socket was bound already) left its
 * "judged" mark, and a connection at that address made before the hold counted
 * as covered by it and was left alone (2 of 8 usable by the peer, with a policy
 * whose 1,001 rules make the decision at listen() slow enough for whole
 * handshakes to fit before the hold). Only a bind the kernel made (post_bind)
 * covers connections now. */
Test(kernel, connections_after_a_refused_bind_are_held)
{
	race_listen(slow_policy(), "judged", "");
}

/* Red team: a process that makes binds in a loop fills the ring buffer faster than
 * watch reads it; a failed hold's record (an exposed listener) was dropped among
 * the others. Failed holds have a ring of their own: while watch is not reading,
 * 20,000 binds fill the ring (records are dropped: status says so), then nobody
 * ties 20 listeners to bs0 before listen(); once watch reads again, all 20 failed
 * holds are recorded. */
/* While watch (started here) is stopped, root makes 20,000 rewritten UDP binds of
 * 0.0.0.0:port in the cgroup, then nobody runs python3 -c py there; watch then
 * reads what is left, until its records stop growing and (if until is not NULL)
 * have a line with until, 15 s at most; stopped then. */
static void flood_then_nobody(struct bs_proc *p, unsigned port, const char *py, const char *until)
{
	struct bs_proc d;
	pid_t w = watch_start("");

	kill(w, SIGSTOP);
	in_cgroup(p, "k %s loop 20000 0.0.0.0 %u\nk " BS_AS_NOBODY " /usr/bin/python3 -c '%s'",
		  KBINDS, port, py);
	kill(w, SIGCONT);
	bs_sh(&d, 30, "r=%s/records; n=-1; i=0; while { [ \"$(wc -c < $r)\" != \"$n\" ] || "
	      "! grep -q -- '%s' $r; } && [ $i -lt 50 ]; do n=$(wc -c < $r); i=$((i + 1)); "
	      "sleep 0.3; done", K.dir, until ? until : "");
	bs_stop(w);
}

Test(kernel, a_flood_of_records_does_not_hide_a_failed_hold)
{
	struct bs_proc p;

	/* One uid's records fill the ring: no rate limit. */
	nobody_up_with(LOOPBACK_ONLY, "--record-rate 0");
	flood_then_nobody(&p, 27097, "import socket\n"
			  "keep = []\n"
			  "for i in range(20):\n"
			  "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b\"bs0\")\n"
			  "    s.listen(); keep.append(s)\n"
			  "print(\"listening\", len(keep))", NULL);
	cr_expect_str_eq(p.out, "127.0.0.1 20000\nlistening 20\n", "%s", p.err);
	cr_expect_eq(records_with("python3: hold tcp 0.0.0.0:[0-9]* EPERM"), 20);
	cr_expect(strstr(status(), "holds failed (other device)      20\n"), "%s", status());
	cr_expect(strstr(status(), "failed-hold records dropped      0\n"), "%s", status());
	cr_expect(!strstr(status(), "records dropped (ring full)      0\n"),
		  "no record was dropped: no flood to test\n%s", status());
}

/* One uid's flood of binds can push no other uid's records out of the ring buffer,
 * nor fill the disk: each uid sends at most the rate (200 a second by default);
 * the rest are counted, and watch sums them up in a warning record per uid. While
 * watch is stopped, root makes 20,000 rewritten binds, then nobody one: nobody's
 * record is there (before the rate, the full ring dropped it), and root's written
 * records plus those summed up are 20,000 exactly. */
Test(kernel, one_uids_flood_of_records_pushes_out_no_other_uids)
{
	struct bs_proc p;
	long summed = 0, written;

	nobody_up(LOOPBACK_ONLY);
	cr_expect(strstr(status(), "records: at most 200 a second per uid"), "%s", status());
	flood_then_nobody(&p, 27098, "import socket\n"
			  "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((\"0.0.0.0\", 27099))\n"
			  "print(\"bound\", s.getsockname()[0])", "not written");
	cr_expect_str_eq(p.out, "127.0.0.1 20000\nbound 127.0.0.1\n", "%s", p.err);
	cr_expect_eq(records_with("python3: rewrite udp 0.0.0.0:27099 -> 127.0.0.1:27099"), 1,
		     "nobody's record");
	written = records_with("kbinds-static: rewrite udp 0.0.0.0:27098 -> 127.0.0.1:27098");
	bs_sh(&p, 10, "sed -n 's/.*kbinds-static: warning \\([0-9]*\\) more records of uid 0 not written: "
	      "over 200 a second (kernel mode)$/\\1/p' %s/records | awk '{s += $1} END {print s + 0}'",
	      K.dir);
	summed = atol(p.out);
	cr_expect_gt(summed, 0, "a flood to test");
	cr_expect_leq(written, 1000, "root's records written: %ld", written);
	cr_expect_eq(written + summed, 20000, "written %ld, summed up %ld", written, summed);
	cr_expect(strstr(status(), "records dropped (ring full)      0\n"), "%s", status());
	bs_sh(&p, 10, "%s system status --pin %s | sed -n 's/^ *records over the rate (summed) *//p'",
	      BINDSHIM, K.pin);
	cr_expect_eq(atol(p.out), summed, "status: %s", p.out);
	/* reload can lift the limit */
	bs_sh(&p, 30, "%s system reload -p %s --pin %s --record-rate 0", BINDSHIM, K.policy, K.pin);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(strstr(status(), "records: no limit per uid"), "%s", status());
}

/* Makes argv[1] listeners tied to bs0 (each of their holds fails). */
#define TIED_LISTENS "import socket, sys\n" \
	"for i in range(int(sys.argv[1])):\n" \
	"    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b\"bs0\")\n" \
	"    s.listen(); s.close()\n" \
	"print(\"listened\", sys.argv[1])\n"

/* One user's failed holds take no other user's place in their ring: each user may
 * have 64 waiting for watch, the rest are counted and summed up. While watch is
 * stopped, nobody makes 1,000 listeners whose holds fail, then uid 65533 one;
 * once watch reads again, 65533's record is there, and nobody's written and
 * summed up are 1,000. Before, nobody's filled the ring (about 630) and 65533's
 * was dropped. */
Test(kernel, one_users_failed_holds_push_out_no_other_users)
{
	struct bs_proc p, d;
	pid_t w;
	long written, summed;

	nobody_up(LOOPBACK_ONLY);
	w = watch_start("--log-format json");
	kill(w, SIGSTOP);
	in_cgroup(&p, "k " BS_AS_NOBODY " /usr/bin/python3 -c '%s' 1000\n"
		  "k setpriv --reuid=65533 --regid=65533 --clear-groups /usr/bin/python3 -c '%s' 1",
		  TIED_LISTENS, TIED_LISTENS);
	kill(w, SIGCONT);
	bs_sh(&d, 30, "r=%s/records; n=-1; i=0; while { [ \"$(wc -c < $r)\" != \"$n\" ] || "
	      "! grep -q 'not written' $r; } && [ $i -lt 50 ]; do n=$(wc -c < $r); "
	      "i=$((i + 1)); sleep 0.3; done", K.dir);
	bs_stop(w);
	cr_expect_str_eq(p.out, "listened 1000\nlistened 1\n", "%s", p.err);
	bs_sh(&d, 10, "python3 -c 'import json, sys, re\n"
	      "held = {}; summed = 0\n"
	      "for l in open(sys.argv[1]):\n"
	      "    r = json.loads(l)\n"
	      "    if r[\"event\"] == \"hold\": held[r[\"uid\"]] = held.get(r[\"uid\"], 0) + 1\n"
	      "    m = re.match(r\"(\\d+) more failed-hold records? of uid 65534 not written\", "
	      "r.get(\"message\", \"\"))\n"
	      "    if m: summed += int(m.group(1))\n"
	      "print(held.get(65533, 0), held.get(65534, 0), summed)' %s/records", K.dir);
	cr_assert_eq(sscanf(d.out, "1 %ld %ld", &written, &summed), 2, "%s%s", d.out, d.err);
	cr_expect_eq(written, 64, "nobody's written: %ld", written);
	cr_expect_eq(written + summed, 1000, "written %ld, summed up %ld", written, summed);
	cr_expect(strstr(status(), "failed-hold records dropped      0\n"), "%s", status());
	bs_sh(&d, 10, "%s system status --pin %s | sed -n 's/^ *failed holds over a user.s share *//p'",
	      BINDSHIM, K.pin);
	cr_expect_eq(atol(d.out), summed, "status: %s", d.out);
}

/* Failed holds as uids FIRST.. (argv[1]; root forks, each child setuid): argv[2]
 * of them at once per uid, one on each CPU (released by one pipe), then argv[3]
 * more each, one after another. */
#define HOLDS_AS_UIDS "import os, socket, sys\n" \
	"first, pairs, uids, more = (int(a) for a in sys.argv[1:5])\n" \
	"def hold():\n" \
	"    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b\"bs0\")\n" \
	"    s.listen(); s.close()\n" \
	"def as_uid(uid, cpu, r, n):\n" \
	"    pid = os.fork()\n" \
	"    if pid == 0:\n" \
	"        if cpu is not None: os.sched_setaffinity(0, {cpu})\n" \
	"        os.setgid(65534); os.setuid(uid)\n" \
	"        if r is not None: os.read(r, 1)\n" \
	"        for i in range(n): hold()\n" \
	"        os._exit(0)\n" \
	"    return pid\n" \
	"for u in range(first, first + uids):\n" \
	"    r, w = os.pipe()\n" \
	"    kids = [as_uid(u, cpu % 2, r, 1) for cpu in range(pairs * 2)]\n" \
	"    os.write(w, b\"x\" * len(kids))\n" \
	"    for k in kids: os.waitpid(k, 0)\n" \
	"    os.close(r); os.close(w)\n" \
	"for u in range(first, first + uids):\n" \
	"    os.waitpid(as_uid(u, None, None, more), 0)\n" \
	"print(\"done\")\n"

/* How many failed-hold records of uids from..to watch_start's records have, and how
 * many it summed up as not written. */
static void holds_of(long from, long to, long *written, long *summed)
{
	struct bs_proc d;

	bs_sh(&d, 10, "python3 -c 'import json, sys, re\n"
	      "w = s = 0\n"
	      "for l in open(sys.argv[1]):\n"
	      "    r = json.loads(l)\n"
	      "    if not %ld <= r[\"uid\"] <= %ld: continue\n"
	      "    if r[\"event\"] == \"hold\": w += 1\n"
	      "    m = re.match(r\"(\\d+) more failed-hold records? \", r.get(\"message\", \"\"))\n"
	      "    if m: s += int(m.group(1))\n"
	      "print(w, s)' %s/records", from, to, K.dir);
	*written = *summed = -1;
	sscanf(d.out, "%ld %ld", written, summed);
}

/* Red team: a user's first two failed holds, made at once on two CPUs, both found
 * no entry in `alerted` and went out, but only one insert counted: watch read two
 * of one sent, the unsigned difference wrapped, and every later failed hold of
 * that user was summed up, never written (203 uids of 300 on two CPUs). The entry
 * is made empty and each counted now, and the difference is signed. */
Test(kernel, two_first_failed_holds_at_once_block_no_later_ones)
{
	struct bs_proc p;
	long written, summed;
	pid_t w;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip("needs two CPUs: the race is two first failed holds at once");
	nobody_up(LOOPBACK_ONLY);
	w = watch_start("--log-format json");
	in_cgroup(&p, "k /usr/bin/python3 -c '%s' 71000 1 40 3", HOLDS_AS_UIDS);
	cr_expect_str_eq(p.out, "done\n", "%s", p.err);
	bs_sh(&p, 30, "r=%s/records; n=-1; i=0; while [ \"$(wc -l < $r)\" != \"$n\" ] && [ $i -lt 30 ]; "
	      "do n=$(wc -l < $r); i=$((i + 1)); sleep 0.5; done", K.dir);
	bs_stop(w);
	holds_of(71000, 71039, &written, &summed);
	cr_expect_eq(written, 40 * 5, "written %ld, summed up %ld", written, summed);
	cr_expect_eq(summed, 0, "summed up %ld", summed);
}

/* Red team: `alerted` was a plain hash of 4,096 users: once full, a new user's
 * failed holds had no share (one could fill the ring again), and watch, which
 * still counted what it read of them, filled `alertsaid`, after which a user in
 * `alerted` was blocked for good and the summing up repeated every second. It is
 * an LRU now, and watch counts only users `alerted` has, and makes room. After
 * 4,200 users' failed holds, with watch stopped: one new user's 700 do not push
 * out another's one. */
Test(kernel, a_new_user_has_a_share_after_thousands_of_others)
{
	struct bs_proc p;
	long written, summed;
	pid_t w;

	nobody_up(LOOPBACK_ONLY);
	w = watch_start("--log-format json");
	in_cgroup(&p, "k /usr/bin/python3 -c '%s' 80000 0 4200 1", HOLDS_AS_UIDS);
	cr_expect_str_eq(p.out, "done\n", "%s", p.err);
	usleep(1500000);
	kill(w, SIGSTOP);
	in_cgroup(&p, "k /usr/bin/python3 -c '%s' 90000 0 1 700; k /usr/bin/python3 -c '%s' 90001 0 1 1",
		  HOLDS_AS_UIDS, HOLDS_AS_UIDS);
	kill(w, SIGCONT);
	bs_sh(&p, 30, "r=%s/records; n=-1; i=0; while { [ \"$(wc -l < $r)\" != \"$n\" ] || "
	      "! grep -q \"uid 90000 not written\" $r; } && [ $i -lt 50 ]; do "
	      "n=$(wc -l < $r); i=$((i + 1)); sleep 0.3; done", K.dir);
	bs_stop(w);
	holds_of(90001, 90001, &written, &summed);
	cr_expect_eq(written, 1, "the second new user's failed hold written: %ld", written);
	holds_of(90000, 90000, &written, &summed);
	cr_expect_eq(written, 64, "written %ld", written);
	cr_expect_eq(written + summed, 700, "written %ld, summed up %ld", written, summed);
}

Test(kernel, lsm_listen_program_where_the_kernel_allows_it)
{
	kernel_up(LOOPBACK_ONLY);
	if (!K.lsm) {
		/* A skipped test gets no fini: clean up first. */
		kernel_down();
		cr_skip("this kernel has no usable BPF LSM (lsm_cgroup programs cannot be loaded: "
			"see /sys/kernel/security/lsm and lockdown); client_binds_and_never_bound_"
			"listeners checks the documented behaviour without it");
	}
	cr_expect(strstr(status(), "judged (BPF LSM)"));
}

Test(kernel, no_lsm_option_gives_the_documented_fallback)
{
	kernel_up_with(LOOPBACK_ONLY, "--no-lsm");
	cr_expect(!K.lsm);
	cr_expect(strstr(status(), "listen                     not attached"), "%s", status());
}

Test(kernel, ip_local_port_range_autobind_is_refused_for_udp)
{
	struct bs_proc p;

	/* The escape, natively: a one-port range (within the namespace's range) and a
	 * send bind 0.0.0.0:33333, and no bind() is ever called. */
	bs_sh(&p, 30, "%s portrange 33333", KBINDS);
	if (strstr(p.out, "ENOPROTOOPT"))
		cr_skip("this kernel has no IP_LOCAL_PORT_RANGE (Linux 6.3)");
	cr_expect_str_eq(p.out, "autobound 0.0.0.0 33333\n");
	kernel_up(LOOPBACK_ONLY);
	in_cgroup(&p, "k %s portrange 33334", KBINDS);
	cr_expect_str_eq(p.out, "error setsockopt EPERM\n", "%s", p.err);
	cr_expect(strstr(status(), "IP_LOCAL_PORT_RANGE refused      1"), "%s", status());
}

/* Red team R2-1 in kernel mode: an MPTCP socket whose connect failed listens on
 * the wildcard while it still reports 127.0.0.1. Refused at socket(), as on a
 * kernel without MPTCP; TCP as ever. */
Test(kernel, mptcp_sockets_are_refused)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s mptcp", HELPER("attack-static"));
	if (strstr(p.out, "mptcp EPROTONOSUPPORT") || strstr(p.out, "mptcp EINVAL"))
		cr_skip("this kernel has no MPTCP: nothing to refuse");
	cr_expect(!strncmp(p.out, "mptcp 0.0.0.0 ", 14), "natively: %s", p.out);
	kernel_up(LOOPBACK_ONLY);
	in_cgroup(&p, "k %s mptcp", HELPER("attack-static"));
	cr_expect_str_eq(p.out, "mptcp EPROTONOSUPPORT\n", "%s", p.err);
	in_cgroup(&p, "k $S bind 0.0.0.0 27120");
	cr_expect_str_eq(p.out, "bound 127.0.0.1 27120\n", "%s", p.err);
	cr_expect(strstr(status(), "MPTCP sockets refused            1"), "%s", status());
}

Test(kernel, reload_under_load_is_never_a_mix)
{
	char a[700], b[700], binds[700], out[4096];
	struct bs_proc p;
	long total = 0, reloads = 0;
	bool saw2 = false, saw3 = false;

	/* Two policies that answer differently at every step: a bind judged by a
	 * mix of both (one's header, the other's rules) would fail or land elsewhere. */
	kernel_up("version = 1;\ndefault = \"deny\";\nrules = (\n"
		  "  { name = \"a1\"; match = { address = \"10.0.0.0/8\"; }; action = \"deny\"; errno = \"EPERM\"; },\n"
		  "  { name = \"a2\"; match = { address = \"wildcard\"; port = 27070; }; action = \"rewrite\"; to = \"127.0.0.2\"; }\n);\n");
	snprintf(a, sizeof(a), "%s", K.policy);
	snprintf(b, sizeof(b), "%s/b.cfg", K.dir);
	snprintf(binds, sizeof(binds), "%s/binds", K.dir);
	bs_write_file(b, "version = 1;\ndefault = \"allow\";\nrules = (\n"
		      "  { name = \"b1\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"127.0.0.3\"; }\n);\n");
	/* Reload back and forth for as long as the binds go on. */
	bs_sh(&p, 300, "%s %s loop 50000 0.0.0.0 27070 > %s & pid=$!; n=0; "
	      "while kill -0 $pid 2>/dev/null; do "
	      "%s system reload -p %s --pin %s >/dev/null && n=$((n + 1)); "
	      "%s system reload -p %s --pin %s >/dev/null && n=$((n + 1)); done; wait $pid; "
	      "echo $n", K.in, KBINDS, binds, BINDSHIM, b, K.pin, BINDSHIM, a, K.pin);
	reloads = atol(p.out);
	bs_read_file(binds, out, sizeof(out));
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
		char what[64];
		long n;

		cr_assert(sscanf(l, "%63s %ld", what, &n) == 2, "%s", l);
		saw2 |= !strcmp(what, "127.0.0.2");
		saw3 |= !strcmp(what, "127.0.0.3");
		cr_assert(!strcmp(what, "127.0.0.2") || !strcmp(what, "127.0.0.3"),
			  "a bind landed on %s (%ld times)", what, n);
		total += n;
	}
	cr_expect_eq(total, 50000);
	cr_expect_geq(reloads, 4, "%s", p.err);
	cr_expect(saw2 && saw3, "both policies judged some binds");
}

Test(kernel, disable_leaves_nothing_attached_or_pinned)
{
	struct bs_proc p;

	kernel_up(LOOPBACK_ONLY);
	bs_sh(&p, 30, "%s system disable --pin %s", BINDSHIM, K.pin);
	cr_expect_eq(p.status, 0, "%s", p.err);
	K.enabled = false;
	cr_expect_eq(access(K.pin, F_OK), -1, "the pin directory is gone");
	bs_sh(&p, 30, "bpftool cgroup show %s 2>&1; ls -A %s | grep -v debug", K.cg, K.bpffs);
	cr_expect(!strstr(p.out, "bs_"), "still attached: %s", p.out);
	in_cgroup(&p, "k $S bind 0.0.0.0 27080; $B system status --pin %s", K.pin);
	cr_expect(!strncmp(p.out, "bound 0.0.0.0 27080\nkernel mode: disabled (nothing pinned", 57),
		  "%s", p.out);
}

Test(kernel, status_explain_and_audit)
{
	char log[700];
	struct bs_proc p;
	pid_t pid, w, tied;

	kernel_up(LOOPBACK_ONLY);
	cr_expect(strstr(status(), "cgroup/bind4               attached to "), "%s", status());
	cr_expect(strstr(status(), "records dropped (ring full)      0"), "%s", status());
	bs_sh(&p, 30, "BINDSHIM_PIN=%s %s explain --kernel '[::]:8000'; "
	      "%s explain --kernel --v6only -p %s '[::]:8000'", K.pin, BINDSHIM, BINDSHIM, K.policy);
	cr_expect(strstr(p.out, "rewrite [::]:8000 -> [::ffff:127.0.0.1]:8000\nrule \"wild\" "),
		  "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "rewrite [::]:8000 -> [::1]:8000\n"), "%s", p.out);
	snprintf(log, sizeof(log), "%s/log", K.dir);
	/* watch remembers what the program placed, from its records. */
	w = watch_start("");
	pid = bs_spawn(log, "exec %s %s bind --listen --hold 20 0.0.0.0 27090", K.in, STATIC_PROBE);
	cr_assert(bs_wait_port("tcp", 27090, 10000, NULL, 0));
	/* A port-0 bind placed at bind (a tied socket's): its record has port 0. */
	tied = bs_spawn(NULL, "exec %s /usr/bin/python3 -c 'import socket, time\n"
			"s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b\"lo\")\n"
			"s.bind((\"0.0.0.0\", 0)); s.listen(); time.sleep(20)'", K.in);
	usleep(500000);
	bs_sh(&p, 30, "BINDSHIM_PIN=%s %s audit -l", K.pin, BINDSHIM);
	bs_stop(pid);
	bs_stop(tied);
	bs_stop(w);
	cr_expect(strstr(p.out, "Placed by the kernel program"), "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "127.0.0.1:27090") && strstr(p.out, "asked 0.0.0.0:27090, rule \"wild\""),
		  "%s", p.out);
	cr_expect(strstr(p.out, "asked 0.0.0.0:0, rule \"wild\""), "%s", p.out);
}

Test(kernel, unprivileged_users_cannot_enable_and_uid_rules_apply)
{
	struct bs_proc p;

	kernel_up("version = 1;\nrules = ({ name = \"nobody\"; match = { uid = 65534; }; action = \"deny\"; errno = \"EACCES\"; });\n");
	bs_sh(&p, 30, BS_AS_NOBODY " %s system enable -p %s --cgroup %s --pin %s/other", BINDSHIM,
	      K.policy, K.cg, K.bpffs);
	cr_expect_neq(p.status, 0, "%s%s", p.out, p.err);
	in_cgroup(&p, "k " BS_AS_NOBODY " $S bind 127.0.0.1 27095; k $S bind 127.0.0.1 27096");
	cr_expect_str_eq(p.out, "error bind EACCES\nbound 127.0.0.1 27096\n", "%s", p.err);
}

Test(kernel, enable_twice_and_bad_reloads_change_nothing)
{
	char bad[700];
	struct bs_proc p;

	kernel_up(LOOPBACK_ONLY);
	bs_sh(&p, 30, "%s system enable -p %s --cgroup %s --pin %s", BINDSHIM, K.policy, K.cg, K.pin);
	cr_expect_eq(p.status, 1);
	cr_expect(strstr(p.err, "already enabled"), "%s", p.err);
	snprintf(bad, sizeof(bad), "%s/bad.cfg", K.dir);
	bs_write_file(bad, "version = 1;\nrules = ({ match = { port = 70000; }; action = \"deny\"; });\n");
	bs_sh(&p, 30, "%s system reload -p %s --pin %s", BINDSHIM, bad, K.pin);
	cr_expect_eq(p.status, 1);
	cr_expect(strstr(p.err, "bad.cfg:2: "), "%s", p.err);
	in_cgroup(&p, "k $S bind 0.0.0.0 27100; $B system bogus; echo $?; "
		  "$B explain --kernel -l 0.0.0.0:1");
	cr_expect_str_eq(p.out, "bound 127.0.0.1 27100\n2\n", "%s", p.err);
	cr_expect(strstr(p.err, "give -p FILE"), "%s", p.err);
}

/* strace, for a command that may be built with ASan: LeakSanitizer cannot run
 * under ptrace, and fails the command at its exit. */
#define STRACE "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace "

/* kernel_up(LOOPBACK_ONLY) for a test that slows bindshim system down with strace
 * (skips, before making anything, where there is none). */
static void strace_up(void)
{
	struct bs_proc p;

	bs_sh(&p, 30, "command -v strace");
	if (p.status != 0)
		cr_skip("needs strace, to slow bindshim system down");
	kernel_up(LOOPBACK_ONLY);
}

/* A disable that finds the first maps of an enable still pinning (each bpf() call
 * of the enable slowed by strace) waits for it, then removes everything. Before,
 * it removed what it found and the enable pinned the rest: the enable failed (its
 * directory gone), or said "enabled" with its links removed. */
Test(kernel, a_disable_during_an_enable_waits_for_it_and_removes_everything)
{
	struct bs_proc p;

	strace_up();
	bs_sh(&p, 30, "%s system disable --pin %s", BINDSHIM, K.pin);
	cr_assert_eq(p.status, 0, "%s", p.err);
	bs_sh(&p, 60, STRACE "-f -o /dev/null -e trace=bpf -e inject=bpf:delay_exit=3000 "
	      "%s system enable -p %s --cgroup %s --pin %s >/dev/null 2>%s/enable.err & e=$!\n"
	      "while [ ! -e %s/map_state ] && kill -0 $e 2>/dev/null; do :; done\n"
	      "%s system disable --pin %s >/dev/null; echo disable $?\n"
	      "wait $e; echo enable $?; grep -v libbpf %s/enable.err | grep -v warning\n"
	      "bpftool cgroup show %s | grep -c bs_; ls -A %s | grep -v debug",
	      BINDSHIM, K.policy, K.cg, K.pin, K.dir, K.pin, BINDSHIM, K.pin, K.dir, K.cg, K.bpffs);
	K.enabled = access(K.pin, F_OK) == 0;
	cr_expect_str_eq(p.out, "disable 0\nenable 0\n0\n", "%s", p.err);
}

/* Runs `bindshim system CMD` ($PIN, $POL, $CG set) with each of its bpf() and
 * unlink() calls slowed by strace, kills it once UNTIL (a shell test) holds, and
 * then says what status, reload, disable and enable make of what it left. */
static const char *killed_half_way(const char *cmd, const char *until)
{
	static struct bs_proc p;

	bs_sh(&p, 90, "B=%s; PIN=%s; POL=%s; CG=%s; D=%s\n"
	      STRACE "-f -o /dev/null -e trace=bpf,unlink,unlinkat "
	      "-e inject=bpf,unlink,unlinkat:delay_exit=50000 $B system %s >/dev/null 2>&1 & s=$!\n"
	      "i=0; until %s || [ $i -gt 2000 ]; do sleep 0.02; i=$((i + 1)); done\n"
	      "pkill -KILL -P $s; kill -KILL $s; wait\n"
	      "$B system status --pin $PIN >$D/status; echo status $?; head -1 $D/status\n"
	      "$B system reload -p $POL --pin $PIN >/dev/null; echo reload $?\n"
	      "echo enable says $($B system enable -p $POL --cgroup $CG --pin $PIN 2>&1 | "
	      "grep -c 'or was interrupted')\n"
	      "$B system disable --pin $PIN >/dev/null; echo disable $?\n"
	      "echo attached $(bpftool cgroup show $CG | grep -c bs_); ls -A %s | grep -v debug\n"
	      "$B system enable -p $POL --cgroup $CG --pin $PIN >/dev/null; echo enable $?",
	      BINDSHIM, K.pin, K.policy, K.cg, K.dir, cmd, until, K.bpffs);
	return p.out;
}

/* Red team: an enable or a disable killed half way left pins that every command
 * misread: links without `state` ("disabled", yet programs attached and the
 * policy enforced; disable said "not enabled", enable "already enabled"), or
 * maps without links (the same, nothing attached). `state` is pinned last and
 * removed first now: a directory without it is said to be half done, reload
 * refuses it, and disable removes it whole. */
Test(kernel, an_enable_or_disable_killed_half_way_is_said_and_undone_by_disable)
{
	struct bs_proc p;
	const char *out;
	char expect[1200];

	strace_up();
	snprintf(expect, sizeof(expect), "status 1\nkernel mode: pinned at %s, but an enable or "
		 "disable is under way there, or was interrupted (bindshim system disable removes "
		 "what it left)\nreload 1\nenable says 1\ndisable 0\nattached 0\nenable 0\n", K.pin);
	out = killed_half_way("disable --pin $PIN", "[ ! -e $PIN/map_state ]");
	cr_expect_str_eq(out, expect, "disable killed:\n%s", out);
	bs_sh(&p, 30, "%s system disable --pin %s", BINDSHIM, K.pin);
	cr_assert_eq(p.status, 0, "%s", p.err);
	out = killed_half_way("enable -p $POL --cgroup $CG --pin $PIN", "[ -e $PIN/link_bind4 ]");
	cr_expect_str_eq(out, expect, "enable killed:\n%s", out);
}

/* Red team: a disable waiting for the lock of a directory that was removed and
 * made again meanwhile (a disable and a new enable) locked the old one, which
 * nobody else takes, and removed the new enable's pins while that enable was
 * still pinning: it said "enabled" with links gone, and nothing could undo it.
 * The directory locked must be the one there: here the pins move away while the
 * test holds their lock (standing for the other disable), and a slowed enable
 * pins anew; the waiting disable waits for it, then removes it whole. */
Test(kernel, a_disable_that_waited_through_a_new_enable_removes_it_whole)
{
	struct bs_proc p;

	strace_up();
	bs_sh(&p, 90, "export B=%s PIN=%s POL=%s CG=%s D=%s\n"
	      "flock -o $PIN sh -c '$B system disable --pin $PIN >$D/d.out 2>&1 & echo $! >$D/d\n"
	      "i=0; while ! ls -l /proc/$(cat $D/d)/fd 2>/dev/null | grep -q \" -> $PIN$\" && "
	      "[ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done\n"
	      "mv $PIN ${PIN}old\n"
	      STRACE "-f -o /dev/null -e trace=bpf -e inject=bpf:delay_exit=3000 "
	      "$B system enable -p $POL --cgroup $CG --pin $PIN >$D/e.out 2>&1 & echo $! >$D/e\n"
	      "i=0; until ls $PIN 2>/dev/null | grep -q link_ || [ $i -gt 1000 ]; do "
	      "sleep 0.01; i=$((i + 1)); done'\n"
	      "while kill -0 $(cat $D/d) 2>/dev/null || kill -0 $(cat $D/e) 2>/dev/null; do "
	      "sleep 0.1; done\n"
	      "cut -d: -f1 $D/d.out; grep -v libbpf $D/e.out | grep -v warning | cut -d: -f1 | head -1\n"
	      "echo pinned $(ls -A $PIN 2>/dev/null | wc -l)\n"
	      "$B system disable --pin ${PIN}old >/dev/null; echo attached $(bpftool cgroup show $CG | grep -c bs_)",
	      BINDSHIM, K.pin, K.policy, K.cg, K.dir);
	K.enabled = false;
	cr_expect_str_eq(p.out, "kernel mode disabled\nkernel mode enabled\npinned 0\nattached 0\n",
			 "%s", p.err);
}

/* Red team: an enable whose directory was removed between its mkdir and its lock
 * (a disable) locked the one a second enable made and filled meanwhile, failed
 * to pin over it, and removed all of that enable's pins on its way out: the
 * second said "enabled", and nothing was attached. An enable fills only the
 * empty directory it made (its mkdir slowed by strace here). */
Test(kernel, an_enable_that_lost_its_directory_leaves_another_enables_alone)
{
	struct bs_proc p;

	strace_up();
	bs_sh(&p, 60, "B=%s; PIN=%s; POL=%s; CG=%s\n"
	      "n=$(bpftool cgroup show $CG | grep -c bs_); $B system disable --pin $PIN >/dev/null\n"
	      STRACE "-f -o /dev/null -e trace=mkdir -e inject=mkdir:delay_exit=1500000 "
	      "$B system enable -p $POL --cgroup $CG --pin $PIN >/dev/null 2>&1 & e=$!\n"
	      "i=0; until [ -d $PIN ] || [ $i -gt 500 ]; do sleep 0.01; i=$((i + 1)); done\n"
	      "$B system disable --pin $PIN >/dev/null; echo disable $?\n"
	      "$B system enable -p $POL --cgroup $CG --pin $PIN >/dev/null; echo enable $?\n"
	      "wait $e; echo first enable $?\n"
	      "$B system status --pin $PIN >/dev/null; echo status $?\n"
	      "[ $(bpftool cgroup show $CG | grep -c bs_) = $n ] && echo attached as before",
	      BINDSHIM, K.pin, K.policy, K.cg);
	K.enabled = true;
	cr_expect_str_eq(p.out, "disable 0\nenable 0\nfirst enable 1\nstatus 0\nattached as before\n",
			 "%s", p.err);
}

/* Red team: where the bpf file system lets anyone make a directory (mounted
 * without a mode: 1777), nobody made the pin directory and held a lock on it:
 * disable waited for good. And nobody's symbolic link to root's pins led
 * status, reload and disable there to them: disable removed them all. A path
 * another user made, or a link, is refused now, and a lock is waited for 30 s at
 * most. */
Test(kernel, a_pin_path_another_user_made_is_refused_not_followed_or_waited_for)
{
	struct bs_proc p;
	char open_fs[700];

	kernel_up(LOOPBACK_ONLY);
	snprintf(open_fs, sizeof(open_fs), "%s/openbpf", bs_open_tmpdir());
	mkdir(open_fs, 0755);
	if (mount("bpf", open_fs, "bpf", 0, "mode=1777") < 0)
		cr_assert_fail("cannot mount a bpf file system at %s: %s", open_fs, strerror(errno));
	bs_sh(&p, 30, BS_AS_NOBODY " /usr/bin/python3 -c 'import fcntl, os, time\n"
	      "os.mkdir(\"%s/bs\"); fd = os.open(\"%s/bs\", os.O_RDONLY)\n"
	      "fcntl.flock(fd, fcntl.LOCK_EX); print(\"held\", flush=True); time.sleep(30)' & n=$!\n"
	      "sleep 1; timeout 20 %s system disable --pin %s/bs; echo disable $?\n"
	      "kill $n", open_fs, open_fs, BINDSHIM, open_fs);
	cr_expect_str_eq(p.out, "held\ndisable 1\n", "%s", p.err);
	cr_expect(strstr(p.err, "not made by bindshim (a symbolic link, or another user's directory): "
			  "remove it"), "%s", p.err);
	bs_sh(&p, 30, BS_AS_NOBODY " ln -s %s %s/ln\n"
	      "B=%s; L=%s/ln\n"
	      "$B system status --pin $L | grep -c 'not made by bindshim'\n"
	      "$B system reload -p %s --pin $L 2>&1 | grep -c 'not made by bindshim'\n"
	      "$B system disable --pin $L 2>&1 | grep -c 'not made by bindshim'\n"
	      "$B system status --pin %s >/dev/null; echo still enabled $?",
	      K.pin, open_fs, BINDSHIM, open_fs, K.policy, K.pin);
	umount2(open_fs, MNT_DETACH);
	cr_expect_str_eq(p.out, "1\n1\n1\nstill enabled 0\n", "%s", p.err);
}

/* Red team: status read while a disable removed the pins said they were "pinned
 * by another version of bindshim" (a map gone after `state` was opened). It says
 * what is there now: disabled, or half done. */
Test(kernel, status_during_a_disable_is_not_another_version)
{
	struct bs_proc p;

	strace_up();
	bs_sh(&p, 60, STRACE "-f -o /dev/null -e trace=bpf -e inject=bpf:delay_exit=1500000:when=1 "
	      "%s system status --pin %s >%s/status 2>&1 & s=$!\n"
	      "sleep 0.7; %s system disable --pin %s >/dev/null; wait $s; echo $?; cat %s/status",
	      BINDSHIM, K.pin, K.dir, BINDSHIM, K.pin, K.dir);
	K.enabled = false;
	cr_expect(!strstr(p.out, "another version"), "%s", p.out);
	cr_expect(!strncmp(p.out, "3\nkernel mode: disabled", 23) ||
		  !strncmp(p.out, "1\nkernel mode: pinned at", 24), "%s", p.out);
}

/* pid's exit status once it ends, ms at most; -1 (and stopped) if it does not. */
static int exit_within(pid_t pid, int ms)
{
	int st;

	for (int i = 0; i < ms / 20; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(20000);
	}
	bs_stop(pid);
	return -1;
}

/* Red team: a watch stopped (SIGSTOP) through a disable and a new enable went on
 * reading the old maps, which nothing writes: the new enable's records stayed in
 * its ring, and status said no watch ran. It ends now (status 1, so that its
 * unit starts it again). */
Test(kernel, a_watch_that_slept_through_a_new_enable_ends)
{
	struct bs_proc p;
	char log[700];
	pid_t w;

	kernel_up(LOOPBACK_ONLY);
	w = watch_start("");
	kill(w, SIGSTOP);
	bs_sh(&p, 30, "%s system disable --pin %s && %s system enable -p %s --cgroup %s --pin %s",
	      BINDSHIM, K.pin, BINDSHIM, K.policy, K.cg, K.pin);
	cr_assert_eq(p.status, 0, "%s", p.err);
	kill(w, SIGCONT);
	cr_expect_eq(exit_within(w, 5000), 1, "the watch ended with status 1");
	snprintf(log, sizeof(log), "%s/watch", K.dir);
	bs_sh(&p, 10, "cat %s", log);
	cr_expect(strstr(p.out, "kernel mode was disabled and enabled again: run watch again"),
		  "%s", p.out);
}

/* A reload that waited for the lock while kernel mode was disabled and enabled
 * again (here: the pins moved away, to a name without a dot, which bpffs refuses,
 * and a new enable) changes nothing and says so; before, it wrote the old maps
 * and said "reloaded" while the new policy stayed. */
Test(kernel, a_reload_that_waited_through_a_new_enable_says_it_reloaded_nothing)
{
	char deny[700];
	struct bs_proc p;

	kernel_up(LOOPBACK_ONLY);
	snprintf(deny, sizeof(deny), "%s/deny.cfg", K.dir);
	bs_write_file(deny, "version = 1;\nrules = ({ match = { port = 27105; }; action = \"deny\"; "
		      "errno = \"EACCES\"; });\n");
	bs_sh(&p, 60, "flock -o %s sh -c '%s system reload -p %s --pin %s >%s/reload.out 2>&1 & echo $! >%s/r\n"
	      /* until reload waits on the lock: the directory open */
	      "i=0; while ! ls -l /proc/$(cat %s/r)/fd 2>/dev/null | grep -q \" -> %s$\" && "
	      "[ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done\n"
	      "mv %s %sold\n"
	      "%s system enable -p %s --cgroup %s --pin %s >/dev/null 2>&1; echo enable $?'\n"
	      "wait; while kill -0 $(cat %s/r) 2>/dev/null; do sleep 0.1; done; cat %s/reload.out\n"
	      "%s system disable --pin %sold >/dev/null; echo old disabled $?",
	      K.pin, BINDSHIM, deny, K.pin, K.dir, K.dir, K.dir, K.pin, K.pin, K.pin, BINDSHIM,
	      K.policy, K.cg, K.pin, K.dir, K.dir, BINDSHIM, K.pin);
	cr_expect(strstr(p.out, "enable 0\n"), "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "disabled or enabled again meanwhile: nothing reloaded (run it again)"),
		  "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "old disabled 0\n"), "%s%s", p.out, p.err);
	in_cgroup(&p, "k $S bind 0.0.0.0 27105");
	cr_expect_str_eq(p.out, "bound 127.0.0.1 27105\n", "%s", p.err);
}

Test(kernel, exe_rules_never_match_and_enable_says_so)
{
	struct bs_proc p;

	kernel_up("version = 1;\nrules = (\n"
		  "  { name = \"trusted\"; match = { exe = \"*\"; }; action = \"allow\"; },\n"
		  "  { name = \"short\"; match = { program = \"probe-stat??\"; port = 27110; }; action = \"deny\"; errno = \"EPERM\"; },\n"
		  "  { name = \"wild\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; }\n);\n");
	in_cgroup(&p, "k $S bind 0.0.0.0 27110; k $S bind 0.0.0.0 27111; "
		  "$B explain --kernel -p %s --program probe-static 0.0.0.0:27110", K.policy);
	cr_expect(!strncmp(p.out, "error bind EPERM\nbound 127.0.0.1 27111\ndeny 0.0.0.0:27110 EPERM\n"
			   "rule \"short\" ", 68), "%s%s", p.out, p.err);
}

/* The record rate (red team of it: tests from its review). */

/* The sum of the "N more records of uid UID not written" warnings in file. */
static long summed_up(const char *file, int uid)
{
	struct bs_proc p;

	bs_sh(&p, 10, "sed -n 's/.*: warning \\([0-9]*\\) more records* of uid %d\\( and its "
	      "subordinate uids ([0-9]* of them, latest uid [0-9]*)\\)* not written.*/\\1/p' %s "
	      "| awk '{s += $1} END {print s + 0}'", uid, file);
	return atol(p.out);
}

/* Waits until file stops growing and has a summing up (12 s at most). */
static void settle(const char *file)
{
	struct bs_proc p;

	bs_sh(&p, 30, "n=-1; i=0; while [ \"$(wc -c < %s)\" != \"$n\" ] || "
	      "! grep -q 'not written' %s && [ $i -lt 30 ]; do n=$(wc -c < %s); i=$((i + 1)); "
	      "sleep 0.4; done", file, file, file);
}

/* Red team: a watch started again said again every count the one before had said
 * (what was said lived in the watch process); it is kept in a pinned map now. */
Test(kernel, a_watch_started_again_says_no_count_twice)
{
	char rec[700], first[700];
	struct bs_proc p;
	long a, b;
	pid_t w;

	kernel_up(LOOPBACK_ONLY);
	snprintf(rec, sizeof(rec), "%s/records", K.dir);
	snprintf(first, sizeof(first), "%s/records.1", K.dir);
	w = watch_start("");
	in_cgroup(&p, "k %s loop 5000 0.0.0.0 27120", KBINDS);
	settle(rec);
	bs_stop(w);
	rename(rec, first);
	a = summed_up(first, 0);
	cr_expect_gt(a, 0, "a flood to test");
	w = watch_start("");
	usleep(1500000);
	bs_stop(w);
	b = summed_up(rec, 0);
	cr_expect_eq(b, 0, "the second watch said again %ld of the first's %ld", b, a);
	bs_sh(&p, 10, "grep -c 'kbinds-static: rewrite' %s", first);
	cr_expect_eq(atol(p.out) + a + b, 5000, "written + summed = %ld + %ld + %ld", atol(p.out), a, b);
}

/* Two processes of one uid at once on two CPUs, watch reading all along: records
 * written and summed up are exactly the binds. */
Test(kernel, counts_over_the_rate_are_exact_under_concurrency)
{
	char rec[700];
	struct bs_proc p;
	long summed, written;
	pid_t w;

	kernel_up(LOOPBACK_ONLY);
	snprintf(rec, sizeof(rec), "%s/records", K.dir);
	w = watch_start("");
	in_cgroup(&p, "k %s loop 30000 0.0.0.0 27121 & k %s loop 30000 0.0.0.0 27122 & wait",
		  KBINDS, KBINDS);
	cr_expect_eq(bs_count(p.out, "127.0.0.1 30000\n"), 2, "%s%s", p.out, p.err);
	settle(rec);
	usleep(1200000);
	bs_stop(w);
	written = records_with("kbinds-static: rewrite");
	summed = summed_up(rec, 0);
	cr_expect_eq(written + summed, 60000, "written %ld, summed up %ld\n%s", written, summed, status());
}

/* Listeners placed while their uid is over the rate (no record): audit lists them
 * (the program puts them in the audit map itself). */
Test(kernel, audit_lists_listeners_placed_over_the_rate)
{
	const char *py;
	char then[1500];
	struct bs_proc p;

	nobody_up(LOOPBACK_ONLY);
	py = nobody_script("over.py", "import os, socket, sys, time\n"
			   "for i in range(1000):\n"
			   "    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', 27130)); u.close()\n"
			   "a = socket.socket(); a.bind(('0.0.0.0', 27131)); a.listen()\n"
			   "b = socket.socket(); b.listen()\n"
			   "print(a.getsockname()[0], a.getsockname()[1], b.getsockname()[0], b.getsockname()[1], flush=True)\n"
			   "while not os.path.exists(sys.argv[1]):\n    time.sleep(0.05)\n");
	snprintf(then, sizeof(then), "cat $D/out; BINDSHIM_PIN=%s $B audit -l; %s system status --pin %s",
		 K.pin, BINDSHIM, K.pin);
	nobody_run(&p, py, "", 1, then);
	cr_expect(strstr(p.out, "asked 0.0.0.0:27131"), "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "\ntcp   0.0.0.0:") && strstr(p.out, "uid 65534  inode"),
		  "the held never-bound listener: %s%s", p.out, p.err);
	cr_expect(!strstr(p.out, "records over the rate (summed)   0\n"), "over the rate: %s", p.out);
}

/* Under policy and one record a second per uid, with watch reading: root runs
 * python3 -c py in the cgroup (its output in p) until the records settle. Returns
 * the records' path. */
static const char *at_one_record_a_second(struct bs_proc *p, const char *policy, const char *py)
{
	static char rec[700];
	pid_t w;

	kernel_up_with(policy, "--record-rate 1");
	snprintf(rec, sizeof(rec), "%s/records", K.dir);
	w = watch_start("");
	in_cgroup(p, "k /usr/bin/python3 -c '%s'", py);
	settle(rec);
	bs_stop(w);
	return rec;
}

/* A command name with a newline does not start a line in the summing up either. */
Test(kernel, a_summing_up_escapes_the_command_name)
{
	struct bs_proc p;
	const char *rec = at_one_record_a_second(&p, LOOPBACK_ONLY, "import ctypes, socket\n"
		"ctypes.CDLL(None).prctl(15, b\"x\\nbindshim[1] y\", 0, 0, 0)\n"
		"for i in range(5):\n"
		"    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((\"0.0.0.0\", 27150)); u.close()\n");

	bs_sh(&p, 10, "cat %s", rec);
	cr_expect(!strstr(p.out, "\nbindshim[1] y"), "%s", p.out);
	cr_expect_eq(bs_count(p.out, "\n"), 2, "%s", p.out);
}

/* A denial over the rate is counted as one: the summing up says how many of the
 * records not written were denials (a denied bind among harmless ones a second is
 * not lost without a trace). Every record is written or summed up: 5 rewrites and
 * 3 denials, at most one record a second. */
Test(kernel, a_summing_up_counts_the_denials_apart)
{
	struct bs_proc p;
	long denials;
	const char *rec = at_one_record_a_second(&p, "version = 1;\nrules = (\n"
		"  { name = \"no\"; match = { port = 27161; }; action = \"deny\"; errno = \"EACCES\"; },\n"
		"  { name = \"wild\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = \"loopback\"; }\n);\n",
		"import socket\n"
		"for port in (27160, 27161, 27160, 27161, 27160, 27161, 27160, 27160):\n"
		"    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
		"    try: u.bind((\"0.0.0.0\", port))\n"
		"    except OSError as e: print(e.errno)\n"
		"    u.close()\n");

	cr_expect_str_eq(p.out, "13\n13\n13\n", "%s", p.err);
	cr_expect_eq(records_with("python3: \\(rewrite\\|deny\\) udp") + summed_up(rec, 0), 8,
		     "every record written or summed up");
	bs_sh(&p, 10, "sed -n 's/.* not written (\\([0-9]*\\) denied): over 1 a second.*/\\1/p' %s "
	      "| awk '{s += $1} END {print s + 0}'", rec);
	denials = atol(p.out);
	cr_expect_eq(records_with("python3: deny udp 0.0.0.0:27161 EACCES") + denials, 3,
		     "denials written or counted apart (%ld summed up)", denials);
	cr_expect_gt(denials, 0, "a denial over the rate to test");
}

/* Python that binds a UDP socket to 0.0.0.0:PORT once as each UID (a child each,
 * one after the other): "UID:PORT ..."; prints "took S", the whole seconds it took
 * (a slow machine's binds span more seconds of the rate). */
#define BIND_AS_UIDS "import os, socket, sys, time\n" \
	"t = time.monotonic()\n" \
	"for a in sys.argv[1:]:\n" \
	"    uid, port = map(int, a.split(\":\"))\n" \
	"    pid = os.fork()\n" \
	"    if pid == 0:\n" \
	"        os.setgid(65534); os.setuid(uid)\n" \
	"        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((\"0.0.0.0\", port))\n" \
	"        os._exit(0)\n" \
	"    os.waitpid(pid, 0)\n" \
	"print(\"took\", int(time.monotonic() - t))\n"

/* The records one a second lets through binds that took BIND_AS_UIDS's output's
 * seconds: the windows they span. */
static long one_a_second(const char *out)
{
	const char *t = strstr(out, "took ");

	return 2 + (t ? atol(t + 5) : 0);
}

/* Kernel mode under LOOPBACK_ONLY at one record a second per uid, the
 * subordinate uid ranges text in a file of their own; returns its path. Skips
 * unless the test is root of the machine (binding as other uids). */
static const char *subuid_up(const char *text)
{
	static char sub[700];
	char opts[800];

	if (!bs_real_root())
		cr_skip("binding as other uids needs root of the machine");
	snprintf(sub, sizeof(sub), "%s/subuid", bs_tmpdir());
	bs_write_file(sub, text);
	snprintf(opts, sizeof(opts), "--record-rate 1 --subuid %s", sub);
	kernel_up_with(LOOPBACK_ONLY, opts);
	return sub;
}

/* A user's subordinate uids (subuid(5); a user namespace runs processes as any of
 * them) count against the user's record rate: 40 of them could send 40 times the
 * rate before. Uids just outside the range count as themselves; a reload reads the
 * ranges again, and a range no longer there counts as itself. */
Test(kernel, subordinate_uids_count_as_their_owner)
{
	const char *sub = subuid_up("# test\nbob:x:1\n4242:300000:65536\n");
	char rec[700], uids[1000];
	struct bs_proc p;
	long written;
	pid_t w;
	size_t n = 0;

	cr_expect(strstr(status(), "at most 1 a second per uid (more are counted and summed up); "
		  "1 subordinate uid range counted as its owner's\n"), "%s", status());
	snprintf(rec, sizeof(rec), "%s/records", K.dir);
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(uids + n, sizeof(uids) - n, " %d:27170", 300000 + i * 1637);
	w = watch_start("");
	in_cgroup(&p, "k /usr/bin/python3 -c '" BIND_AS_UIDS "'%s 299999:27171 365536:27171", uids);
	settle(rec);
	bs_stop(w);
	written = records_with("python3: rewrite udp 0.0.0.0:27170 ");
	cr_expect_leq(written, one_a_second(p.out), "one a second for the 40 subordinate uids: %ld "
		      "written (%s)", written, p.out);
	cr_expect_eq(written + summed_up(rec, 4242), 40, "every record written or summed up");
	cr_expect_eq(records_with("python3: rewrite udp 0.0.0.0:27171 "), 2, "outside the range");
	bs_sh(&p, 10, "grep -c 'of uid 4242 and its subordinate uids ([0-9]* of them, latest uid "
	      "3[0-9]*) not written' %s", rec);
	cr_expect_gt(atoi(p.out), 0, "said as the owner's");

	bs_write_file(sub, "4242:400000:65536\n");
	bs_sh(&p, 30, "%s system reload -p %s --pin %s --subuid %s", BINDSHIM, K.policy, K.pin, sub);
	cr_assert_eq(p.status, 0, "%s", p.err);
	w = watch_start("");
	in_cgroup(&p, "k /usr/bin/python3 -c '" BIND_AS_UIDS "' 300000:27172 301000:27172 "
		  "400000:27173 401000:27173 402000:27173 403000:27173 404000:27173 405000:27173");
	settle(rec);
	bs_stop(w);
	cr_expect_eq(records_with("python3: rewrite udp 0.0.0.0:27172 "), 2, "no longer a range");
	written = records_with("python3: rewrite udp 0.0.0.0:27173 ");
	cr_expect_leq(written, one_a_second(p.out), "the new range: one a second (%ld)", written);
	cr_expect_eq(written + summed_up(rec, 4242), 6, "every record written or summed up");
}

/* Red team: kernel mode enabled by an older bindshim, then the package upgraded
 * (the unit's `system enable` fails as already enabled, and the new watch runs
 * against the old maps): watch read the rate map's 40-byte values as 48-byte ones
 * ("bindshim[0] on3: warning 4 more records ..., 27706 of them denials"). Maps of
 * another layout are refused by watch, status and reload, and left out by audit
 * and explain --kernel, each saying why; disable still removes them. */
Test(kernel, maps_of_another_layout_are_refused_not_misread)
{
	struct bs_proc p;

	kernel_up(LOOPBACK_ONLY);
	bs_sh(&p, 10, "rm %s/map_rate && bpftool map create %s/map_rate type lru_hash key 4 "
	      "value 40 entries 4096 name bs_rate", K.pin, K.pin);
	cr_assert_eq(p.status, 0, "%s", p.err);
	bs_sh(&p, 10, "timeout 2 %s system watch --pin %s --log /dev/null", BINDSHIM, K.pin);
	cr_expect_eq(p.status, 1, "watch ran against a map of another layout: %s", p.err);
	cr_expect(strstr(p.err, "pinned by another version of bindshim"), "%s", p.err);
	bs_sh(&p, 10, "%s system status --pin %s; echo $?; %s system reload -p %s --pin %s; echo $?",
	      BINDSHIM, K.pin, BINDSHIM, K.policy, K.pin);
	cr_expect(strstr(p.out, "but its maps were pinned by another version") &&
		  strstr(p.out, "\n1\n1\n"), "%s%s", p.out, p.err);
	bs_sh(&p, 10, "BINDSHIM_PIN=%s %s audit; BINDSHIM_PIN=%s %s explain --kernel 0.0.0.0:1",
	      K.pin, BINDSHIM, K.pin, BINDSHIM);
	cr_expect(strstr(p.out, "Kernel mode: its maps were pinned by another version"), "%s", p.out);
	cr_expect(strstr(p.err, "pinned by another version of bindshim: disable and enable kernel "
			  "mode again); explaining the system policy instead"), "%s", p.err);
	bs_sh(&p, 10, "%s system disable --pin %s", BINDSHIM, K.pin);
	cr_expect_eq(p.status, 0, "%s", p.err);
	K.enabled = p.status != 0;
	cr_expect_neq(access(K.pin, F_OK), 0, "disable left %s", K.pin);
}

/* An older version pinned fewer maps (before `owners`): a map missing next to the
 * state is another layout too, not "kernel mode is not enabled"; disable removes
 * the rest. */
Test(kernel, a_map_an_older_version_lacked_is_another_layout)
{
	struct bs_proc p;

	kernel_up(LOOPBACK_ONLY);
	bs_sh(&p, 10, "rm %s/map_owners; %s system status --pin %s; echo $?; "
	      "%s system reload -p %s --pin %s; echo $?", K.pin, BINDSHIM, K.pin, BINDSHIM,
	      K.policy, K.pin);
	cr_expect(strstr(p.out, "but its maps were pinned by another version") &&
		  strstr(p.out, "\n1\n") && !strstr(p.out, "reloaded"), "%s%s", p.out, p.err);
	cr_expect(strstr(p.err, "pinned by another version of bindshim"), "%s", p.err);
	bs_sh(&p, 10, "%s system disable --pin %s", BINDSHIM, K.pin);
	cr_expect_eq(p.status, 0, "%s", p.err);
	K.enabled = p.status != 0;
	cr_expect_neq(access(K.pin, F_OK), 0, "disable left %s", K.pin);
}

/* Red team (rt12) of the subordinate uids. */

/* Binds as the 20 uids from first on port, with `watch` writing records; returns how
 * many were written (summed_up() of the records file says the rest). */
static long bind_as_20_uids(unsigned long first, int port, long *most)
{
	char uids[1000], rec[700], re[100];
	struct bs_proc p;
	size_t n = 0;
	pid_t w;

	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(uids + n, sizeof(uids) - n, " %lu:%d", first + (unsigned long)i,
				      port);
	snprintf(rec, sizeof(rec), "%s/records", K.dir);
	w = watch_start("");
	in_cgroup(&p, "k /usr/bin/python3 -c '" BIND_AS_UIDS "'%s", uids);
	*most = one_a_second(p.out);
	settle(rec);
	bs_stop(w);
	snprintf(re, sizeof(re), "python3: rewrite udp 0.0.0.0:%d ", port);
	return records_with(re);
}

/* Binds as the 20 uids from first on port: one record a second written, the rest
 * summed up as owner's; what says which range it is. */
static void twenty_count_as(unsigned long first, int port, int owner, const char *what)
{
	char rec[700];
	long most, written = bind_as_20_uids(first, port, &most);

	snprintf(rec, sizeof(rec), "%s/records", K.dir);
	cr_expect_leq(written, most, "%s: %ld written", what, written);
	cr_expect_eq(written + summed_up(rec, owner), 20, "%s: every record written or summed up",
		     what);
}

/* A reload adds the new blocks before it removes the old ones, so a trie holding
 * both needs room for both: 4,000 users with useradd's 65,536 subordinate uids each
 * (48,000 blocks), 2,000 of them gone and 2,000 new ones added (48,000 blocks again)
 * made 72,000 at once; the updates past 65,536 failed unsaid, the new users' last
 * ranges counted as their uids, and status still said 4,000 ranges. */
Test(kernel, a_reload_with_many_changed_ranges_loses_none)
{
	char old[700], new[700], opts[800];
	struct bs_proc p;
	unsigned long first = 100000ul + 65536ul * 5999;

	if (!bs_real_root())
		cr_skip("binding as other uids needs root of the machine");
	snprintf(old, sizeof(old), "%s/subuid.old", bs_tmpdir());
	snprintf(new, sizeof(new), "%s/subuid.new", bs_tmpdir());
	bs_sh(&p, 10, "awk 'BEGIN { for (k = 0; k < 4000; k++) print 10000 + k \":\" 100000 + 65536 * k "
	      "\":65536\" }' > %s; awk 'BEGIN { for (k = 2000; k < 6000; k++) print 10000 + k \":\" "
	      "100000 + 65536 * k \":65536\" }' > %s", old, new);
	snprintf(opts, sizeof(opts), "--record-rate 1 --subuid %s", old);
	kernel_up_with(LOOPBACK_ONLY, opts);
	bs_sh(&p, 30, "%s system reload -p %s --pin %s --subuid %s", BINDSHIM, K.policy, K.pin, new);
	cr_assert_eq(p.status, 0, "%s", p.err);
	twenty_count_as(first, 27174, 15999, "uid 15999's subordinate uids");
}

/* newuidmap reads subuid(5) numbers with strtoul base 0 (shadow's getulong), and the
 * fields past the third it ignores: 'nobody:0200000:65536' gives nobody uids
 * 65536-131071 (octal), which bindshim took for 200000-265535; '0x...' and a
 * fourth field it skipped. The uids newuidmap gives counted as themselves. */
Test(kernel, subuid_numbers_are_read_as_newuidmap_reads_them)
{
	subuid_up("4242:0200000:65536\n4243:0x7a120:0x10000\n4244:700000:65536:x\n");
	twenty_count_as(65536, 27175, 4242, "octal 0200000");
	twenty_count_as(500000, 27176, 4243, "hexadecimal 0x7a120");
	twenty_count_as(700000, 27177, 4244, "a fourth field");
}

/* The file `enable --subuid FILE` read is not kept (the record rate is): a plain
 * `reload` after editing the policy (README's) read /etc/subuid instead, and when
 * it has not the ranges, every range was gone, unsaid. A --subuid file that
 * cannot be read (no such file, a directory, a read error) was taken for an empty
 * one, unsaid too. */
Test(kernel, a_reload_keeps_the_subuid_file_enable_was_given)
{
	struct bs_proc p;

	subuid_up("4242:300000:65536\n");
	bs_sh(&p, 30, "%s system reload -p %s --pin %s", BINDSHIM, K.policy, K.pin);
	cr_assert_eq(p.status, 0, "%s", p.err);
	twenty_count_as(300000, 27178, 4242, "after a plain reload");
	bs_sh(&p, 30, "%s system reload -p %s --pin %s --subuid %s", BINDSHIM, K.policy, K.pin,
	      K.dir);
	cr_expect(p.status != 0 || strstr(p.err, K.dir), "a directory as --subuid, unsaid: %s%s",
		  p.out, p.err);
}

/* The summing up named a subordinate uid (r->sub, never cleared) for records none
 * of which was a subordinate uid's: after a reload took the range away, uid 4242's
 * own records over the rate were 'of uid 4242 and its subordinate uids (latest
 * 300002)'. */
Test(kernel, a_summing_up_names_no_subordinate_uid_that_sent_none)
{
	const char *sub = subuid_up("4242:300000:65536\n");
	char rec[700];
	struct bs_proc p;
	pid_t w;

	snprintf(rec, sizeof(rec), "%s/records", K.dir);
	w = watch_start("");
	in_cgroup(&p, "k /usr/bin/python3 -c '" BIND_AS_UIDS "' 300000:27179 300001:27179 300002:27179");
	bs_write_file(sub, "");
	bs_sh(&p, 30, "sleep 1.5; %s system reload -p %s --pin %s --subuid %s; sleep 1.1", BINDSHIM,
	      K.policy, K.pin, sub);
	cr_assert_eq(p.status, 0, "%s", p.err);
	in_cgroup(&p, "k /usr/bin/python3 -c '" BIND_AS_UIDS "' 4242:27180 4242:27180 4242:27180 "
		  "4242:27180 4242:27180");
	usleep(1500000);
	bs_stop(w);
	/* However the summing up falls in seconds: the subordinate uids' count is
	 * theirs (those of 27179 not written), no more. */
	bs_sh(&p, 10, "sed -n 's/.* and its subordinate uids (\\([0-9]*\\) of them.*/\\1/p' %s | "
	      "awk '{s += $1} END {print s + 0}'", rec);
	cr_expect_eq(atol(p.out), 3 - records_with("python3: rewrite udp 0.0.0.0:27179 "),
		     "the subordinate uids' records over the rate, and none of uid 4242's own");
	cr_expect_eq(summed_up(rec, 4242) + records_with("python3: rewrite udp 0.0.0.0:27179 ") +
		     records_with("python3: rewrite udp 0.0.0.0:27180 "), 8,
		     "every record written or summed up");
}

/* Red team (rt13). */

/* newuidmap (shadow 4.13, Debian 12's uidmap) reads a range's numbers with strtoul:
 * blanks before a number and a '+' are taken ('nobody: 300000:+65536' maps uids
 * 300000-300009 into nobody's user namespace: tried). bindshim refused such a line
 * ("not OWNER:FIRST:COUNT; its uids count as themselves"), so each of the 65,536
 * uids newuidmap gives the owner had a record rate of its own. */
Test(kernel, subuid_numbers_with_blanks_or_a_plus_are_read_as_newuidmap_reads_them)
{
	subuid_up("4242: 300000:65536\n4243:+400000:\t65536\n");
	cr_expect(strstr(status(), "2 subordinate uid ranges counted as their owner's"), "%s",
		  status());
	twenty_count_as(300000, 27181, 4242, "' 300000'");
	twenty_count_as(400000, 27182, 4243, "'+400000' and a tab");
}

/* The --subuid file is kept for the next reload as it was written: a relative path
 * ('system enable --subuid subuid' in /etc/bindshim) is read again from wherever
 * the reload runs: from / (a unit, a script) the plain reload failed ("subuid: No
 * such file or directory"; the edited policy not loaded), and where a file of that
 * name is, it is that file's ranges that count. */
Test(kernel, a_relative_subuid_file_is_the_same_file_at_reload)
{
	const char *dir = bs_tmpdir();
	struct bs_proc p;

	if (!bs_real_root())
		cr_skip("binding as other uids needs root of the machine");
	bs_put(dir, "subuid", "4242:300000:65536\n", 0644);
	kernel_up_with(LOOPBACK_ONLY, NULL);
	bs_sh(&p, 30, "%s system disable --pin %s && cd %s && %s system enable -p %s --cgroup %s "
	      "--pin %s --record-rate 1 --subuid subuid", BINDSHIM, K.pin, dir, BINDSHIM,
	      K.policy, K.cg, K.pin);
	cr_assert_eq(p.status, 0, "%s", p.err);
	bs_sh(&p, 30, "cd / && %s system reload -p %s --pin %s", BINDSHIM, K.policy, K.pin);
	cr_expect_eq(p.status, 0, "a plain reload from /: %s", p.err);
	twenty_count_as(300000, 27183, 4242, "after a plain reload from /");
}

/* Nothing stops a second `system watch` (an administrator's, in a terminal, while
 * bindshim-watch.service runs): the two share the ring, each record goes to one of
 * them, and the daemon's log (the audit trail) lacks the other's share, counted
 * nowhere. A second watch should be refused, or every record reach the first. */
Test(kernel, a_second_watch_takes_no_records_from_the_first)
{
	char other[700];
	struct bs_proc p;
	pid_t w, w2;
	int first;

	kernel_up_with(LOOPBACK_ONLY, "--record-rate 0");
	snprintf(other, sizeof(other), "%s/records.other", K.dir);
	w = watch_start("");
	w2 = bs_spawn(other, "exec %s system watch --pin %s --log stderr", BINDSHIM, K.pin);
	usleep(300000);
	for (int i = 0; i < 20; i++) {
		in_cgroup(&p, "k %s loop 50 0.0.0.0 27184", KBINDS);
		usleep(250000);
	}
	usleep(500000);
	bs_stop(w2);
	/* Stopped, the first watch writes what it has not yet. */
	watch_records(w, 1000);
	first = records_with("kbinds-static: rewrite udp 0.0.0.0:27184 ");
	cr_expect_eq(first, 1000, "the first watch wrote %d of 1,000 records; the second took "
		     "the rest", first);
}

/* One watch at a time: a second one says which watch has the records and stops;
 * status names the one that runs; a watch killed outright (no chance to give the
 * records back) does not keep the next one out. */
Test(kernel, a_second_watch_is_refused_and_a_killed_one_holds_nothing)
{
	struct bs_proc p;
	pid_t w;

	kernel_up(LOOPBACK_ONLY);
	w = watch_start("");
	bs_sh(&p, 10, "%s system watch --pin %s --log /dev/null", BINDSHIM, K.pin);
	cr_expect_eq(p.status, 1, "%s", p.err);
	cr_expect(strstr(p.err, "another watch (pid ") && strstr(p.err, ") reads the records; "
		  "stop it first"), "%s", p.err);
	cr_expect(strstr(status(), "\nwatch: pid "), "%s", status());
	kill(w, SIGKILL);	/* no chance to give the records back */
	bs_stop(w);
	cr_expect(strstr(status(), "\nwatch: not running"), "%s", status());
	w = watch_start("");
	in_cgroup(&p, "k %s loop 1 0.0.0.0 27186", KBINDS);
	watch_records(w, 1);
	cr_expect_eq(records_with("kbinds-static: rewrite udp 0.0.0.0:27186 "), 1,
		     "the watch after a killed one reads the records");
}

/* The policy file is kept as written too: after `system enable -p policy.cfg` in
 * its directory, the watch daemon (started from /, as a unit is) cannot read it,
 * and writes its records to stderr instead of where the policy's `log` says; the
 * records name "policy.cfg", and status says "policy: policy.cfg". (With the same
 * path given absolute, this passes.) */
Test(kernel, a_relative_policy_path_is_the_same_file_for_watch)
{
	char pol[1000], log[700], out[700];
	struct bs_proc p;
	pid_t w;

	snprintf(log, sizeof(log), "%s/audit.log", bs_tmpdir());
	snprintf(pol, sizeof(pol), "version = 1;\nlog = { to = \"%s\"; };\nrules = ({ name = "
		 "\"wild\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; to = "
		 "\"loopback\"; });\n", log);
	kernel_up_with(pol, NULL);
	bs_sh(&p, 30, "%s system disable --pin %s && cd %s && %s system enable -p policy.cfg "
	      "--cgroup %s --pin %s", BINDSHIM, K.pin, K.dir, BINDSHIM, K.cg, K.pin);
	cr_assert_eq(p.status, 0, "%s", p.err);
	snprintf(out, sizeof(out), "%s/watch.out", K.dir);
	w = bs_spawn(out, "cd / && exec %s system watch --pin %s", BINDSHIM, K.pin);
	usleep(300000);
	in_cgroup(&p, "k %s loop 1 0.0.0.0 27185", KBINDS);
	usleep(600000);
	bs_stop(w);
	bs_sh(&p, 10, "grep -c 'rewrite udp 0.0.0.0:27185 .*%s/policy.cfg' %s", K.dir, log);
	cr_expect_eq(atoi(p.out), 1, "the record, in the policy's log, naming the policy file");
}

/* Files kept for later (a plain reload, watch, status) must fit meta whole: a
 * policy or --subuid path that does not is refused up front, not cut (a cut one
 * names another file, or none). Review: the -p path was cut without a word. */
Test(kernel, paths_too_long_to_keep_are_refused)
{
	char pol[600], sub[600], shortpol[600];
	struct bs_proc p;

	bs_sh(&p, 10, "%s system status --pin /nonexistent", BINDSHIM);
	if (strstr(p.err, "not built"))
		cr_skip("bindshim was built without the kernel backend (clang, libbpf, bpftool)");
	snprintf(pol, sizeof(pol), "%s/%0280d.cfg", bs_tmpdir(), 0);
	snprintf(sub, sizeof(sub), "%s/%0280d", bs_tmpdir(), 1);
	snprintf(shortpol, sizeof(shortpol), "%s/p.cfg", bs_tmpdir());
	bs_write_file(pol, LOOPBACK_ONLY);
	bs_write_file(shortpol, LOOPBACK_ONLY);
	bs_write_file(sub, "");
	/* (a cgroup that is not there: nothing is ever attached, whatever happens) */
	bs_sh(&p, 10, "%s system enable -p %s --cgroup /nonexistent --pin %s/pin; echo $?; "
	      "%s system reload -p %s --subuid %s --pin %s/pin; echo $?", BINDSHIM, pol, bs_tmpdir(),
	      BINDSHIM, shortpol, sub, bs_tmpdir());
	cr_expect(strstr(p.err, pol) && strstr(p.err, ": path too long (kept for later: 255 bytes "
		  "at most)\n"), "%s", p.err);
	cr_expect(strstr(p.err, sub), "the --subuid path: %s", p.err);
	cr_expect_str_eq(p.out, "1\n1\n", "%s", p.err);
}
