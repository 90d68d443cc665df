/* The attack suite: each way a hostile program tried to get a listener past
 * bindshim (tests/helpers/attack.c does the attacking), in each mode it applies
 * to: the shim alone (--preload-only, a dynamic program) and the supervisor (the
 * default: the same dynamic program, and a static one the shim never sees). Every
 * test asserts where the socket really is, and from the peer namespace where it
 * matters. Ports 25xxx. To add an attack: a command in attack.c, a test here. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tests/integration/support.h"

#define ATTACK HELPER("attack")
#define ATTACK_STATIC HELPER("attack-static")

/* The modes an attack runs in: run's options and the attacking program. */
struct mode {
	const char *opts;
	const char *prog;
	const char *name;
};

static const struct mode modes[] = {
	{"--preload-only -l", NULL, "shim alone"},
	{"-l", NULL, "supervisor, dynamic"},
	{"-l", "static", "supervisor, static"},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static const char *prog_of(const struct mode *m)
{
	return m->prog ? ATTACK_STATIC : ATTACK;
}

/* Runs `bindshim run OPTS -- attack ARGS` in mode m; output in p. */
#define RUN_ATTACK(p, m, fmt, ...) \
	bs_sh((p), 60, "%s run %s -- %s " fmt, BINDSHIM, (m)->opts, prog_of(m), __VA_ARGS__)

/* Copies the static attack program into a fresh directory, both open to every user
 * (nobody must be able to run it); returns the copy's path. */
static const char *attack_copy(void)
{
	static char copy[256];
	const char *dir = bs_tmpdir();
	struct bs_proc p;

	snprintf(copy, sizeof(copy), "%s/attack-static", dir);
	bs_sh(&p, 10, "cp %s %s && chmod 755 %s %s", ATTACK_STATIC, copy, dir, copy);
	return copy;
}

/* Finding 1: a rewritten fixed-port bind, a connect that fails, then listen. */
Test(attack, failed_connect_then_listen_stays_on_loopback)
{
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];
		unsigned port = 25001 + (unsigned)i;
		struct bs_proc p;
		pid_t pid = bs_spawn(NULL, "exec %s run %s -- %s restore-listen %u 198.51.100.8 1",
				     BINDSHIM, m->opts, prog_of(m), port);

		cr_expect(bs_wait_port("tcp", port, 10000, NULL, 0), "%s: no listener", m->name);
		assert_tcp_loopback_only(port, NULL);
		bs_stop(pid);
		/* The same with a connect(AF_UNSPEC) after it, and a port-0 bind. */
		RUN_ATTACK(&p, m, "restore-listen 0 198.51.100.8 1 %s", "unspec");
		cr_expect(strstr(p.out, "listening 127.0.0.1 "), "%s: %s%s", m->name, p.out, p.err);
	}
}

/* Finding 2: a UDP server's fixed-port bind sending to a remote host first. */
Test(attack, udp_fixed_port_is_never_given_back)
{
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];
		unsigned port = 25011 + (unsigned)i;
		char out[256], body[1024];
		pid_t pid;

		snprintf(out, sizeof(out), "%s/out", bs_tmpdir());
		pid = bs_spawn(out, "exec %s run %s -- %s udp-restore %u 198.51.100.8 9", BINDSHIM,
			       m->opts, prog_of(m), port);
		bs_wait_port("udp", port, 10000, NULL, 0);
		for (int k = 0; k < 5; k++) {
			struct bs_proc p;

			bs_sh(&p, 10, IN_PEER "python3 -c \"import socket; socket.socket(socket.AF_INET, "
			      "socket.SOCK_DGRAM).sendto(b'hi', ('" LAB4 "', %u))\"", port);
			usleep(100000);
		}
		for (int k = 0; k < 100; k++) {
			bs_read_file(out, body, sizeof(body));
			if (strstr(body, "nothing") || strstr(body, "received"))
				break;
			usleep(50000);
		}
		bs_stop(pid);
		bs_read_file(out, body, sizeof(body));
		cr_expect(strstr(body, "bound 127.0.0.1 ") && strstr(body, "\nnothing\n"), "%s: %s",
			  m->name, body);
	}
}

/* Finding 3: choosing the port an unbound UDP socket is given as it sends. */
Test(attack, ip_local_port_range_is_refused)
{
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];
		struct bs_proc p;
		char want[64];

		RUN_ATTACK(&p, m, "port-range %u", 25021 + (unsigned)i);
		cr_expect(strstr(p.out, "setsockopt ENOPROTOOPT\n"), "%s: %s", m->name, p.out);
		snprintf(want, sizeof(want), " %u\n", 25021 + (unsigned)i);
		cr_expect(!strstr(p.out, want), "%s: got the port it chose: %s", m->name, p.out);
		/* A raw setsockopt: only the supervisor sees it. */
		if (i == 0)
			continue;
		RUN_ATTACK(&p, m, "port-range %u raw", 25024 + (unsigned)i);
		cr_expect(strstr(p.out, "setsockopt ENOPROTOOPT\n"), "%s raw: %s", m->name, p.out);
	}
}

/* Finding 5: under the supervisor, the command's environment changes nothing: a
 * shim told to allow everything, to change nothing, to rewrite to the wildcard, or
 * no shim at all. */
Test(attack, supervised_command_cannot_configure_its_way_out)
{
	/* ($A: a policy that allows everything) */
	static const char *const envs[] = {
		"BINDSHIM_BUILTIN= BINDSHIM_POLICY=$A", "BINDSHIM_DRY_RUN=1",
		"BINDSHIM_BUILTIN=to:0.0.0.0", "BINDSHIM_BUILTIN= BINDSHIM_POLICY=$A LD_PRELOAD=",
	};
	char allow[256];

	snprintf(allow, sizeof(allow), "%s/allow.cfg", bs_tmpdir());
	bs_write_file(allow, "version = 1;\n");
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		struct bs_proc p;

		/* The last one execs a static program: no shim, whatever LD_PRELOAD says. */
		bs_sh(&p, 30, "A=%s; %s run -l -- env %s %s bind 0.0.0.0 %u", allow, BINDSHIM, envs[i],
		      i == 3 ? STATIC_PROBE : PROBE, 25030 + (unsigned)i);
		cr_expect(!strncmp(p.out, "bound 127.0.0.1 ", 16), "%s: %s%s", envs[i], p.out, p.err);
		cr_expect(strstr(p.err, " via seccomp\n"), "the supervisor decided: %s", p.err);
	}
}

/* Finding 6: the supervisor's listener, from the command, as root and as nobody. */
Test(attack, supervisor_cannot_be_reached_from_the_command)
{
	static const char *const as[] = {"", BS_AS_NOBODY};
	const char *copy = attack_copy();
	struct bs_proc p;

	for (size_t i = 0; i < 2; i++) {
		if (*as[i] && !bs_can_switch_user()) {
			skip_part("as nobody: " BS_NO_OTHER_USER);
			continue;
		}
		bs_sh(&p, 30, "%s %s run -l -- %s steal %u", as[i], BINDSHIM, copy, 25040 + (unsigned)i);
		cr_expect(strstr(p.out, "steal pidfd_getfd EPERM\n"), "[%s] %s", as[i], p.out);
		cr_expect(strstr(p.out, "steal ptrace EPERM\n"), "[%s] %s", as[i], p.out);
		cr_expect(strstr(p.out, "steal mem EACCES\n") || strstr(p.out, "steal mem EPERM\n"),
			  "[%s] %s", as[i], p.out);
		cr_expect(strstr(p.out, "steal no listener\nlistening 127.0.0.1 "), "[%s] %s%s", as[i],
			  p.out, p.err);
	}
}

/* Killed (from outside: the command cannot signal it where Landlock is), the
 * supervisor fails closed: binds fail, nothing passes unjudged. */
Test(attack, killing_the_supervisor_fails_closed)
{
	struct bs_proc p;
	const char *d = bs_tmpdir();

	/* The command binds only once the supervisor is gone (its files closed). */
	bs_sh(&p, 30, "%s run -l -- sh -c 'echo $PPID > %s/sup; until test -e %s/killed; do sleep 0.05; "
	      "done; %s bind 0.0.0.0 25045' & until test -s %s/sup; do sleep 0.05; done; "
	      "S=$(cat %s/sup); kill -KILL $S; while grep -qs '^State:.*[RSD]' /proc/$S/status; "
	      "do sleep 0.05; done; touch %s/killed; wait", BINDSHIM, d, d,
	      STATIC_PROBE, d, d, d);
	cr_expect_str_eq(p.out, "error bind ENOSYS\n", "%s", p.err);
	cr_expect(strstr(p.err, "the supervisor died"), "%s", p.err);
}

/* Finding 7: the buffer flipped from 127.0.0.1 to 0.0.0.0 while bind() runs. */
Test(attack, flipping_the_address_during_bind)
{
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];
		struct bs_proc p;

		RUN_ATTACK(&p, m, "toctou %u 3000", 25100 + (unsigned)i * 50);
		cr_expect_str_eq(p.out, "escaped 0 of 3000\n", "%s: %s", m->name, p.err);
	}
}

/* Finding 8: bound descriptors closed behind libc, numbers reused, then listen. */
Test(attack, reused_descriptor_numbers_are_judged_where_they_are)
{
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];
		struct bs_proc p;

		RUN_ATTACK(&p, m, "%s", "reuse");
		cr_expect(strstr(p.out, "closefrom-same-number yes\nclosefrom 127.0.0.1 ") &&
			  strstr(p.out, "\nclose_range 127.0.0.1 "), "%s: %s%s", m->name, p.out, p.err);
	}
}

/* Finding 9: glibc binds inside itself for bindresvport and rresvport. */
Test(attack, reserved_port_helpers_are_judged)
{
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];
		struct bs_proc p;

		RUN_ATTACK(&p, m, "%s", "resvport");
		cr_expect(strstr(p.out, "bindresvport 127.0.0.1 ") && strstr(p.out, "rresvport 127.0.0.1 ") &&
			  strstr(p.out, "bindresvport-udp 127.0.0.1 "), "%s: %s%s", m->name, p.out, p.err);
	}
}

/* Finding 10: the environment a child is started with. */
Test(attack, a_childs_environment_keeps_the_shim)
{
	struct bs_proc p;

	/* ld.so uses the last LD_PRELOAD entry; the exec hook read the first. */
	bs_sh(&p, 30, "%s run --preload-only -l -- %s env-dup %s 25150", BINDSHIM, ATTACK,
	      bs_build("libbindshim.so"));
	cr_expect_str_eq(p.out, "child bound 127.0.0.1 25150\n", "%s", p.err);
	/* An environment of 70,000 entries was passed on unrepaired. */
	bs_sh(&p, 30, "%s run --preload-only -l -- %s env-huge 25151", BINDSHIM, ATTACK);
	cr_expect_str_eq(p.out, "child bound 127.0.0.1 25151\n", "%s", p.err);
}

/* Finding 13: sendmmsg with a loopback message first and a remote one second. */
Test(attack, sendmmsg_to_loopback_then_a_remote_host)
{
	for (size_t i = 0; i < 2; i++) {
		const struct mode *m = &modes[i];
		struct bs_proc p;
		pid_t server = bs_spawn(NULL, IN_PEER "exec %s echo udp 198.51.100.8 %u 1", PROBE,
					25160 + (unsigned)i);

		usleep(300000);
		RUN_ATTACK(&p, m, "sendmmsg 198.51.100.8 %u", 25160 + (unsigned)i);
		bs_stop(server);
		cr_expect_str_eq(p.out, "sent 2\n", "%s (natively 2): %s", m->name, p.err);
	}
}

/* The supervisor never answers "continue": a descriptor swapped between an
 * AF_UNIX and an inet socket while it handles the unix bind cannot slip through,
 * also where it must bind as the target (another mount namespace). */
Test(attack, swapping_a_unix_socket_for_an_inet_one)
{
	/* The command keeps no CAP_SYS_ADMIN: it reaches another mount namespace
	 * through a user namespace. */
	static const char *const ctx[] = {"", "unshare -Urm", "unshare -Urm"};
	const char *copy = attack_copy();
	struct bs_proc p;

	for (size_t i = 0; i < 3; i++) {
		if (*ctx[i] && !bs_can_make_userns()) {
			skip_part("[%s%s] no user namespace can be made here (a chroot, or seccomp)",
				  ctx[i], i == 2 ? ", as nobody" : "");
			continue;
		}
		if (i == 2 && !bs_can_switch_user()) {
			skip_part("as nobody: " BS_NO_OTHER_USER);
			continue;
		}
		bs_sh(&p, 60, "%s %s run -l -- %s %s unix-race %u 1000", i == 2 ? BS_AS_NOBODY : "",
		      BINDSHIM, ctx[i], copy, 25170 + (unsigned)i);
		cr_expect_str_eq(p.out, "escaped 0 of 1000\n", "[%s] %s", ctx[i], p.err);
	}
}

/* Binding as the target: an AF_UNIX path in its own mount namespace, with its
 * working directory, umask and credentials. */
Test(attack, unix_paths_are_bound_where_and_as_the_target_would)
{
	const char *py = "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])";
	const char *dir = bs_tmpdir();
	struct bs_proc p;

	if (bs_can_make_userns()) {
		bs_sh(&p, 30, "%s run -l -- unshare -Urm sh -c 'mount -t tmpfs none %s && cd %s && "
		      "umask 077 && /usr/bin/python3 -c \"%s\" rel.sock && stat -c %%A %s/rel.sock'",
		      BINDSHIM, dir, dir, py, dir);
		cr_expect_str_eq(p.out, "srwx------\n", "%s", p.err);
		bs_sh(&p, 30, "test -e %s/rel.sock || echo not here", dir);
		cr_expect_str_eq(p.out, "not here\n", "bound in the target's mount namespace only");
	} else {
		skip_part("in another mount namespace: no user namespace can be made here (a chroot, "
			  "or seccomp)");
	}
	/* uid 0 without capabilities may not write a directory of its own mode 500 */
	bs_sh(&p, 30, "chmod 500 %s && %s run -l -- setpriv --inh-caps=-all --bounding-set=-all "
	      "/usr/bin/python3 -c \"%s\" %s/c.sock 2>&1 | tail -1", dir, BINDSHIM, py, dir);
	cr_expect(strstr(p.out, "PermissionError"), "a root supervisor lent no capability: %s", p.out);
	if (!bs_can_switch_user()) {
		skip_part("nobody's bind in root's directory: " BS_NO_OTHER_USER);
		return;
	}
	bs_sh(&p, 30, "chmod 700 %s && %s run -l -- " BS_AS_NOBODY " /usr/bin/python3 -c \"%s\" "
	      "%s/x.sock 2>&1 | tail -1", dir, BINDSHIM, py, dir);
	cr_expect(strstr(p.out, "PermissionError"), "a root supervisor lent nothing: %s", p.out);
}

/* Red team R3-1: listen() judged a socket where getsockname() put it (127.0.0.1,
 * left by a refused connect), then listened; another thread's connect(AF_UNSPEC)
 * in between unbinds it, and the kernel's listen binds the wildcard. A socket no
 * bind of ours put there is now moved to one bound there first. */
Test(attack, listen_racing_a_disconnect_stays_on_loopback)
{
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];
		struct bs_proc p;

		RUN_ATTACK(&p, m, "%s", "listen-race 3000");
		cr_expect_str_eq(p.out, "escaped 0 of 3000\n", "%s: %s", m->name, p.err);
		RUN_ATTACK(&p, m, "%s", "listen-race 1000 6");
		cr_expect_str_eq(p.out, "escaped 0 of 1000\n", "%s, IPv6: %s", m->name, p.err);
	}
}

/* Red team R2-1: an MPTCP socket whose connect failed still reports 127.0.0.1,
 * and its listen() binds the wildcard. Refused as on a kernel without MPTCP. */
Test(attack, mptcp_is_refused)
{
	struct bs_proc p;

	bs_sh(&p, 30, "%s mptcp", ATTACK);
	if (strstr(p.out, "mptcp EPROTONOSUPPORT") || strstr(p.out, "mptcp EINVAL"))
		cr_log_info("this kernel has no MPTCP: only the refusal is shown here");
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];

		RUN_ATTACK(&p, m, "%s", "mptcp");
		cr_expect_str_eq(p.out, "mptcp EPROTONOSUPPORT\n", "%s: %s", m->name, p.err);
	}
}

/* Red team R2-2: rexec() and rcmd() listen for a stderr channel from inside libc,
 * where no preloaded listen() sees it. Judged before libc may do it; under the
 * supervisor alone (a static program) its listen is caught as any other. */
Test(attack, rexec_back_channel_is_judged)
{
	static const char *const want[] = {"rexec EACCES\n", "rexec EACCES\n",
					   "rexec listened on 127.0.0.1\nrexec ok\n"};
	char allow[512];
	struct bs_proc p;

	snprintf(allow, sizeof(allow), "%s/allow.cfg", bs_tmpdir());
	bs_write_file(allow, "version = 1;\n");
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];

		RUN_ATTACK(&p, m, "%s", "rexec");
		cr_expect_str_eq(p.out, want[i], "%s: %s", m->name, p.err);
	}
	cr_expect(strstr(p.err, "rewrite tcp 0.0.0.0:0 -> 127.0.0.1:0 (rule \"not-loopback\" builtin) in "
			 "listen() via seccomp"), "%s", p.err);
	RUN_ATTACK(&p, &modes[0], "%s", "rexec");
	cr_expect(strstr(p.err, "deny tcp 0.0.0.0:0 EACCES (rule \"not-loopback\" builtin) in rexec()\n"),
		  "%s", p.err);
	/* Where the policy leaves the wildcard alone, rexec works as it always did. */
	bs_sh(&p, 30, "%s run --preload-only -p %s -- %s rexec", BINDSHIM, allow, ATTACK);
	cr_expect_str_eq(p.out, "rexec listened on 0.0.0.0\nrexec ok\n", "%s", p.err);
}

/* The same for rcmd(), whose stderr channel libc binds to a reserved port of the
 * wildcard (its own rresvport_af) and listens on. */
Test(attack, rcmd_back_channel_is_judged)
{
	static const char *const want[] = {"rcmd EACCES\n", "rcmd EACCES\n",
					   "rcmd listened on 127.0.0.1\nrcmd ok\n"};
	struct bs_proc p;

	if (!bs_real_root())
		cr_skip_test("rcmd() needs root (it binds reserved ports)");
	bs_sh(&p, 30, "%s rcmd", ATTACK);
	cr_assert_str_eq(p.out, "rcmd listened on 0.0.0.0\nrcmd ok\n", "natively: %s", p.err);
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];

		RUN_ATTACK(&p, m, "%s", "rcmd");
		cr_expect_str_eq(p.out, want[i], "%s: %s", m->name, p.err);
	}
	RUN_ATTACK(&p, &modes[0], "%s", "rcmd");
	cr_expect(strstr(p.err, "deny tcp 0.0.0.0:0 EACCES (rule \"not-loopback\" builtin) in rcmd()\n"),
		  "%s", p.err);
}

Test(attack, sctp_is_refused)
{
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *m = &modes[i];
		struct bs_proc p;

		RUN_ATTACK(&p, m, "%s", "sctp");
		cr_expect(strstr(p.out, "seqpacket ESOCKTNOSUPPORT\n") &&
			  strstr(p.out, "sctp EPROTONOSUPPORT\n"), "%s: %s", m->name, p.out);
	}
}

/* A server that daemonizes outlives the command: still supervised, and its
 * records still reach bindshim's stderr. */
Test(attack, a_daemon_stays_supervised_after_the_command_exits)
{
	char err[256], body[4096] = "";
	struct bs_proc p;

	snprintf(err, sizeof(err), "%s/err", bs_tmpdir());
	/* (setsid: out of the process group the test harness kills afterwards) */
	cr_expect_eq(bs_sh(&p, 30, "setsid -w %s run -l -- sh -c '(sleep 0.5; exec %s bind --listen "
			   "--hold 5 0.0.0.0 25180 > /dev/null 2>&1) & exit 3' 2> %s", BINDSHIM,
			   STATIC_PROBE, err), 3, "the command's own status, at once");
	assert_tcp_loopback_only(25180, err);
	bs_read_file(err, body, sizeof(body));
	cr_expect(strstr(body, "rewrite tcp 0.0.0.0:25180 -> 127.0.0.1:25180 (rule \"not-loopback\" "
			 "builtin) via seccomp\n"), "%s", body);
}

/* Red team F1: the same descriptor tricks with the launcher, in each mode. */
Test(attack, descriptor_kind_tricks)
{
	static const char *const tricks[] = {"kind-dup2", "kind-vfork", "kind-clone"};

	for (size_t i = 0; i < NMODES; i++)
		for (size_t k = 0; k < 3; k++) {
			const struct mode *m = &modes[i];
			struct bs_proc p;

			RUN_ATTACK(&p, m, "%s %u", tricks[k], 25200 + (unsigned)(i * 3 + k));
			cr_expect(!strncmp(p.out, "listening 127.0.0.1 ", 20), "%s %s: %s%s", m->name,
				  tricks[k], p.out, p.err);
		}
}

/* Red team F7: the command's tree cannot take over a process of the same user
 * outside it (the user's shell, another server) to bind for it. */
Test(attack, processes_outside_the_tree_are_out_of_reach)
{
	static const char *const as[] = {"", BS_AS_NOBODY};
	const char *copy;
	struct bs_proc p;

	bs_sh(&p, 10, "%s", "exec 2>/dev/null; python3 -c 'import ctypes; print(ctypes.CDLL(None)."
	      "syscall(444, None, 0, 1))'");
	if (atoi(p.out) < 6)
		cr_skip_test("Landlock scopes (Linux 6.12) are not available here (ABI %s)", p.out);
	copy = attack_copy();
	for (size_t i = 0; i < 2; i++) {
		if (*as[i] && !bs_can_switch_user()) {
			skip_part("as nobody: " BS_NO_OTHER_USER);
			continue;
		}
		/* natively, a process can do this to another of its user's */
		bs_sh(&p, 30, "%s sh -c 'sleep 20 & S=$!; sleep 0.2; %s outside $S; "
		      "%s run -l -- %s outside $S; kill $S'", as[i], copy, BINDSHIM, copy);
		cr_expect(!strncmp(p.out, "outside ptrace ok\noutside mem ok\noutside pidfd_getfd ok\n", 54),
			  "[%s] natively: %s", as[i], p.out);
		cr_expect(strstr(p.out, "\noutside ptrace EPERM\noutside mem EACCES\n"
				 "outside pidfd_getfd EPERM\n"), "[%s] supervised: %s%s", as[i], p.out, p.err);
	}
}

/* Red team F8: a command run as root cannot reconfigure the network around the
 * policy: the capabilities for it are gone (binding a low port is not). */
Test(attack, a_root_command_keeps_no_network_reconfiguring_capabilities)
{
	static const int gone[] = {12, 13, 16, 17, 19, 21, 38, 39};
	struct bs_proc p;
	unsigned long long caps;

	if (geteuid() != 0)
		cr_skip_test("not root");
	bs_sh(&p, 30, "%s run -l -- %s caps", BINDSHIM, ATTACK_STATIC);
	cr_assert(sscanf(p.out, "caps %llx", &caps) == 1, "%s%s", p.out, p.err);
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		cr_expect(!(caps >> gone[i] & 1), "capability %d kept: %llx", gone[i], caps);
	cr_expect(caps >> 10 & 1, "CAP_NET_BIND_SERVICE lost: %llx", caps);
	bs_sh(&p, 30, "%s run --preload-only -l -- %s caps", BINDSHIM, ATTACK_STATIC);
	cr_expect(sscanf(p.out, "caps %llx", &caps) == 1 && (caps >> 12 & 1),
		  "--preload-only keeps root whole: %s", p.out);
}

/* Red team F5b: uid 0 writes the network sysctls with no capability at all; one
 * port in ip_local_port_range puts the next autobound UDP socket right there. */
Test(attack, a_root_command_cannot_write_network_sysctls)
{
	const char *range = "/proc/sys/net/ipv4/ip_local_port_range";
	char before[64];
	struct bs_proc p;

	if (geteuid() != 0)
		cr_skip_test("not root: the sysctls are not writable anyway");
	bs_read_file(range, before, sizeof(before));
	bs_sh(&p, 30, "%s run -l -- sh -c 'echo 25200 25200 > %s || echo refused; "
	      "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet || echo refused; "
	      "grep -q \" /proc/sys \" /proc/self/mountinfo && echo own /proc/sys'",
	      BINDSHIM, range);
	cr_expect_str_eq(p.out, "refused\nrefused\nown /proc/sys\n", "%s", p.err);
	bs_sh(&p, 30, "cat %s /proc/sys/net/ipv4/conf/all/route_localnet", range);
	cr_expect(!strncmp(p.out, before, strlen(before)) && !strcmp(p.out + strlen(before), "0\n"),
		  "%s", p.out);
	/* Nor through a process outside the tree, where Landlock keeps it out. */
	if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1) >= 6) {
		bs_sh(&p, 30, "%s run -l -- sh -c 'echo 25200 25200 > /proc/1/root%s || echo refused'",
		      BINDSHIM, range);
		cr_expect_str_eq(p.out, "refused\n", "%s", p.err);
	}
}

/* Red team R2-3: a root supervisor, a command that became nobody and made a user
 * namespace of its own (where CapEff is every capability): a low port, a socket
 * file in a directory only root may write, each refused as natively; in a network
 * namespace of its own, the low port is its to take, as natively. */
Test(attack, a_root_supervisor_lends_nothing_to_a_user_namespace)
{
	const char *d = bs_tmpdir();
	const char *as = BS_AS_NOBODY " --";
	struct bs_proc p;

	if (!bs_real_root() || !bs_can_switch_user())
		cr_skip_test("needs root and a user nobody to switch to");
	if (!bs_can_make_userns())
		cr_skip_test("no user namespace can be made here (a chroot, or seccomp)");
	chmod(d, 0700);
	bs_sh(&p, 30, "%s run -l -- %s unshare -Urm sh -c '%s bind 127.0.0.1 80; "
	      "%s unix %s/lent.sock'; test -e %s/lent.sock && echo lent", BINDSHIM, as, PROBE,
	      PROBE, d, d);
	cr_expect_str_eq(p.out, "error bind EACCES\nerror bind EACCES\n", "%s", p.err);
	bs_sh(&p, 30, "%s run -l -- %s unshare -Urmn sh -c 'ip link set lo up && %s bind 127.0.0.1 80'",
	      BINDSHIM, as, PROBE);
	cr_expect_str_eq(p.out, "bound 127.0.0.1 80\n", "%s", p.err);
	/* A user namespace without a mount namespace of its own (red team R3-2): a
	 * socket file where its uid may make one is made, as natively. */
	bs_sh(&p, 30, "D=$(mktemp -d) && chmod 1777 $D && %s run -l -- %s unshare -Ur %s unix $D/s; "
	      "rm -rf $D", BINDSHIM, as, PROBE);
	cr_expect(!strncmp(p.out, "bound unix ", 11), "%s%s", p.out, p.err);
}

/* Red team R3, by reading: a socket the supervisor puts in place of the command's
 * (a listen moves it) is owned by the command's uid, not by a root supervisor's,
 * whose sockets could join root's SO_REUSEPORT groups on loopback. */
Test(attack, a_moved_socket_belongs_to_the_command)
{
	const char *as = BS_AS_NOBODY " --";
	struct bs_proc p;

	if (!bs_real_root() || !bs_can_switch_user())
		cr_skip_test("needs root and a user nobody to switch to");
	bs_sh(&p, 30, "%s run -l --log /dev/null -- %s %s port0 --hold 2 & i=0; L=; "
	      "while [ -z \"$L\" ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); "
	      "L=$(awk 'NR > 1 && $4 == \"0A\" && $2 ~ /^0100007F:/ { print $8 }' /proc/net/tcp); "
	      "done; wait; echo \"$L\"", BINDSHIM, as, STATIC_PROBE);
	cr_expect(strstr(p.out, "serving 127.0.0.1 ") && strstr(p.out, "\n65534\n"), "%s%s", p.out,
		  p.err);
}

/* Red team: the supervisor copies a bind's address out of the caller; with the
 * address on a userfaultfd page whose faults nobody resolves, the copy stalled
 * the supervisor for good (the launcher never returned, no bind of the tree was
 * answered again). A command cannot get a userfaultfd, either way: as root (who
 * may open /dev/userfaultfd) it got one through the device's ioctl; the syscall
 * gives one where vm.unprivileged_userfaultfd is 1. */
Test(attack, the_command_gets_no_userfaultfd)
{
	struct bs_proc p;
	int rc;

	if (access("/dev/userfaultfd", R_OK | W_OK) != 0)
		cr_skip("cannot open /dev/userfaultfd here (root's, Linux 6.1): nothing to get a "
			"userfaultfd from without vm.unprivileged_userfaultfd");
	rc = bs_sh(&p, 20, "%s run -l -- %s 26410", BINDSHIM, HELPER("uffd"));
	cr_expect_eq(rc, 0, "%s%s", p.out, p.err);
	cr_expect_str_eq(p.out, "userfaultfd EPERM\nioc_new EPERM\n", "%s", p.err);
}

/* Aborts the FUSE connection a helper named ("conn N") and ends the fusehold
 * processes on mount point mnt (only this test's: tests run two at a time): a
 * supervisor stalled on that file system may be in an uninterruptible wait, which
 * nothing else ends (the code before the watchdog's fixes). */
static void abort_fuse(const char *out, const char *mnt)
{
	struct bs_proc p;
	const char *c = strstr(out, "conn ");

	if (c)
		bs_sh(&p, 10, "mountpoint -q /sys/fs/fuse/connections || mount -t fusectl none "
		      "/sys/fs/fuse/connections; echo 1 > /sys/fs/fuse/connections/%d/abort",
		      atoi(c + 5));
	bs_sh(&p, 10, "sleep 1; pkill -KILL -f 'tests/helpers/[f]usehold [a-z]* %s' || true", mnt);
}

/* Runs `bindshim run -l -- fusehold MODE BS_TMPDIR/mnt` as root into p, sees
 * whether any fusehold process of it was left running (*left), then cleans up
 * after it (abort_fuse); skips where no FUSE file system can be mounted in a user
 * namespace. Returns the launcher's status. */
static int fusehold(struct bs_proc *p, const char *mode, bool *left)
{
	struct bs_proc q;
	char mnt[600];
	int rc;

	snprintf(mnt, sizeof(mnt), "%s/mnt", bs_tmpdir());
	rc = bs_sh(p, 20, "%s run -l -- %s %s %s", BINDSHIM, HELPER("fusehold"), mode, mnt);
	/* (the bracket keeps pgrep from finding its own shell) */
	bs_sh(&q, 10, "pgrep -f 'tests/helpers/[f]usehold [a-z]* %s' || true", mnt);
	*left = q.out[0] != '\0';
	abort_fuse(p->out, mnt);
	if (strstr(p->out, "no fuse"))
		cr_skip("cannot mount a FUSE file system in a user namespace here: %s", p->out);
	return rc;
}

/* fusehold MODE under the supervisor: its bind stalls the supervisor, whose
 * watchdog kills the tree after 5 s; the launcher returns the command's status (7),
 * says why, and nothing of the command is left running. */
static void expect_the_tree_killed_after_5_s(const char *mode)
{
	struct bs_proc p;
	bool left;
	int rc = fusehold(&p, mode, &left);

	cr_expect_eq(rc, 7, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "mapped\n"), "%s", p.out);
	cr_expect(strstr(p.err, "the supervisor waited 5 s on the command"), "%s", p.err);
	cr_expect(!left, "processes of the command left running");
}

/* Red team: a bind's address on a page of a FUSE file system the command serves
 * itself, whose reads it never answers (as root here; where /dev/fuse is open to
 * all and user namespaces are allowed, Debian's default, as anyone), stalled the
 * supervisor as it copied the address: no bind of the tree was answered again and
 * the launcher waited as long as the file system lived. The supervisor's watchdog
 * kills the tree once such a wait has lasted 5 s: the launcher returns the
 * command's status, says why, and nothing is left. */
Test(attack, a_page_nobody_serves_stops_the_supervisor_5_s_at_most)
{
	expect_the_tree_killed_after_5_s("plain");
}

/* Red team of the watchdog: the socket being bound (AF_UNIX, its address on the
 * page nobody serves) carries the /dev/fuse descriptor in flight. The supervisor
 * took its own copy of the socket before copying the address: killing the whole
 * tree leaves the file system alive in that copy, and the supervisor waits on it
 * for ever (uninterruptibly: readahead), the launcher with it. */
Test(attack, a_fuse_descriptor_in_flight_on_the_bound_socket_outlives_the_tree)
{
	expect_the_tree_killed_after_5_s("inflight");
}

/* Red team of the watchdog: an unprivileged command (the supervisor's very
 * credentials, so same_fs) binds an AF_UNIX path through /proc/SERVER/root into a
 * FUSE mount of its own that never answers a LOOKUP: the supervisor binds it
 * itself (unix_path_bind), a step the watchdog does not watch. */
Test(attack, an_af_unix_path_through_proc_root_into_fuse_stops_the_supervisor_5_s_at_most)
{
	struct bs_proc p;
	const char *tmp = bs_tmpdir();
	char dir[600];
	int rc;

	snprintf(dir, sizeof(dir), "%s/u", tmp);
	bs_sh(&p, 10, "mkdir -p %s && chmod 777 %s %s && mknod -m 0666 %s/fuse c 10 229", dir,
	      tmp, dir, dir);
	rc = bs_sh(&p, 20, "FUSEDEV=%s/fuse setpriv --reuid=65534 --regid=65534 "
		   "--clear-groups %s run -l -- %s unixpath %s/mnt", dir, BINDSHIM,
		   HELPER("fusehold"), dir);
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/mnt");
	abort_fuse(p.out, dir);
	if (strstr(p.out, "no fuse") || !strstr(p.out, "binding"))
		cr_skip("cannot mount a FUSE file system in a user namespace here: %s%s", p.out,
			p.err);
	cr_expect(strstr(p.err, "the supervisor waited 5 s on the command"), "%s%s", p.out, p.err);
	cr_expect(!p.timed_out, "the launcher waited: %s%s (%d)", p.out, p.err, rc);
}

/* Red team (rt14): the supervisor closes its copy of a bound socket as a step the
 * watchdog takes for a lingering close (interrupted, nothing killed). That close
 * is the socket's last when the command dropped its own descriptor meanwhile (here
 * while the supervisor's binding child looks the AF_UNIX path up on the command's
 * FUSE mount), and the release of what is in flight on it runs there: a file of
 * that mount with a page dirty in its writeback cache is written back, FUSE_WRITE
 * is never answered, and the supervisor waits uninterruptibly (folio_wait_bit),
 * the /dev/fuse descriptor in flight behind it keeping the file system alive. No
 * bind of the tree is answered again, the command's exit is never reaped, and the
 * launcher waits for ever: expected, as for any other wait on the command, the
 * tree killed after 5 s and the launcher returning the command's status. */
Test(attack, a_dirty_fuse_file_in_flight_stops_the_supervisor_in_its_close_5_s_at_most)
{
	struct bs_proc p;
	bool left;
	int rc = fusehold(&p, "dirty", &left);

	cr_expect(strstr(p.out, "dirty\n"), "%s", p.out);
	cr_expect(!p.timed_out, "the launcher waited: %s%s", p.out, p.err);
	cr_expect_eq(rc, 7, "%s%s", p.out, p.err);
	cr_expect(strstr(p.err, "the supervisor waited 5 s on the command"), "%s", p.err);
	cr_expect(!left, "processes of the command left running");
}

/* Red team (rt15): the watchdog finds the command's FUSE connections through the
 * files its processes hold open and the mounts of their namespaces, and neither
 * names one a process holds through a mapping alone: the bind's address is on a
 * page of the command's FUSE file nobody serves, another page of that file dirty
 * in a shared mapping of a daemon's (writeback cache), the file's descriptors
 * closed, the mount detached (umount -l), /dev/fuse (which names no connection)
 * kept. Killed, the daemon writes the page back in its exit (exit_mmap, before its
 * descriptors go) and waits there for good, keeping /dev/fuse and so the file
 * system; the supervisor waits in its copy of the address for good, the command's
 * exit is never reaped, and the launcher waits for ever. Expected: as for any other
 * wait on the command, the tree killed after 5 s and the launcher returning. */
Test(attack, a_fuse_file_held_by_a_mapping_alone_outlives_the_kill)
{
	struct bs_proc p;
	bool left;
	int rc = fusehold(&p, "detached", &left);

	cr_expect(strstr(p.out, "mapped\n"), "%s", p.out);
	cr_expect(!p.timed_out, "the launcher waited: %s%s (%d)", p.out, p.err, rc);
	cr_expect(strstr(p.err, "the supervisor waited 5 s on the command"), "%s", p.err);
}

/* Where the watchdog cannot abort the command's FUSE file system (no fusectl mount
 * where the supervisor runs, as in many containers; or a connection another uid
 * owns), processes of the command stuck on it survive the kill: the daemon of
 * fusehold's dirty mode, in its exit. The supervisor waited for them for good,
 * holding the launcher's stderr; it now gives up on them 5 s after the kill, says
 * so and ends (the launcher had returned the command's status already). */
Test(attack, processes_that_cannot_be_ended_are_left_not_waited_for)
{
	const char *d = bs_tmpdir();
	struct bs_proc p;
	char mnt[600];

	snprintf(mnt, sizeof(mnt), "%s/mnt", d);
	bs_sh(&p, 40, "unshare -m --propagation private sh -c 'umount /sys/fs/fuse/connections "
	      "2>/dev/null; exec %s run -l -- %s dirty %s' >%s/out 2>%s/err; echo rc $?; i=0; "
	      "while ! grep -q 'cannot be ended' %s/err && [ $i -lt 250 ]; do sleep 0.1; "
	      "i=$((i + 1)); done; cat %s/out %s/err", BINDSHIM, HELPER("fusehold"), mnt, d, d, d,
	      d, d);
	abort_fuse(p.out, mnt);
	if (strstr(p.out, "no fuse"))
		cr_skip("cannot mount a FUSE file system in a user namespace here: %s", p.out);
	cr_expect(strstr(p.out, "rc 7\n"), "the launcher: %s%s", p.out, p.err);
	cr_expect(strstr(p.out, "the supervisor waited 5 s on the command"), "%s", p.out);
	cr_expect(strstr(p.out, "bindshim run: processes of the command cannot be ended (stuck on "
			 "a file system of their own, 5 s after they were killed): the supervisor "
			 "leaves them\n"), "%s", p.out);
}
