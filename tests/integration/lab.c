/* Shared lab machines: install, system-wide mode, locked policies, audit. Every
 * change to /etc, /usr/local or /dev happens in an overlay or mount of the test's
 * own mount namespace. Ports 23xxx. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "tests/integration/support.h"

/* A temp dir everyone may enter (tests run programs as nobody), holding a copy of
 * the shim everyone may read. */
static const char *lab_dir(void)
{
	const char *d = bs_open_tmpdir();
	struct bs_proc p;

	bs_sh(&p, 10, "cp %s %s/ && chmod 644 %s/libbindshim.so", bs_build("libbindshim.so"), d, d);
	return d;
}

/* Writes a file (mode 0644) in dir; returns its path. */
#define put(dir, name, text) bs_put((dir), (name), (text), 0644)

/* The prefix that runs a command as nobody; where no other user can be had (a user
 * namespace that maps only its uid 0), none, and the test says so: that uid 0 is no
 * more root to bindshim than nobody is (rules on uid match neither). */
static const char *as_nobody(void)
{
	if (bs_can_switch_user())
		return BS_AS_NOBODY;
	skip_part("as nobody (run as this user namespace's uid 0 instead): " BS_NO_OTHER_USER);
	return "";
}

/* Script lines that mount a tmpfs on /dev with /dev/null in it (a syslog socket goes
 * there): bound from the real one, which a user namespace may not mknod. */
#define FRESH_DEV "touch $D/null && mount --bind /dev/null $D/null && mount -t tmpfs none /dev && " \
	"touch /dev/null && mount --bind $D/null /dev/null\n"

/* Runs a script in a private mount namespace whose /etc is an overlay kept in dir.
 * The script sees $D (dir), $B (bindshim), $P (probe) and $SRC (source tree). */
__attribute__((format(printf, 3, 4)))
static int in_lab(struct bs_proc *p, const char *dir, const char *fmt, ...)
{
	char script[8192], body[6144];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	cr_assert_lt(n, (int)sizeof(body));
	snprintf(script, sizeof(script),
		 "set -e\nD=%s; B=%s; P=%s; SRC=%s\n%s\n"
		 "mkdir -p /etc/bindshim\n%s\n",
		 dir, BINDSHIM, PROBE, bs_src(""), bs_sh_overlay("/etc", "$D"), body);
	put(dir, "lab.sh", script);
	return bs_sh(p, 120, "unshare --mount --propagation private sh %s/lab.sh", dir);
}

Test(lab, make_install_and_uninstall)
{
	const char *d = lab_dir();
	struct bs_proc p;

	bs_sh(&p, 120, "make -s -C %s B=%s install DESTDIR=%s/root PREFIX=/usr/local >/dev/null && "
	      "cd %s/root/usr/local && ls bin/bindshim lib/bindshim/libbindshim.so "
	      "share/man/man1/bindshim.1 share/man/man5/bindshim.cfg.5 "
	      "share/doc/bindshim/examples/dev-loopback.cfg share/doc/bindshim/README.md "
	      "share/bash-completion/completions/bindshim",
	      bs_src(""), bs_build(""), d, d);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	/* The installed launcher finds the installed shim in PREFIX/lib/bindshim. */
	in_lab(&p, d, "mount --bind $D/root/usr/local /usr/local\n"
	       "/usr/local/bin/bindshim run -l -- $P bind 0.0.0.0 23001\n"
	       "/usr/local/bin/bindshim run -l -- sh -c 'echo $LD_PRELOAD'");
	cr_expect_str_eq(p.out, "bound 127.0.0.1 23001\n/usr/local/lib/bindshim/libbindshim.so\n",
			 "%s", p.err);
	/* A moved tree (or a DESTDIR one never installed at its PREFIX): the launcher
	 * finds its shim relative to itself, in ../lib/bindshim. */
	bs_sh(&p, 60, "cp -a %s/root/usr/local %s/moved && %s/moved/bin/bindshim run -- %s bind "
	      "0.0.0.0 23002 && %s/moved/bin/bindshim run -- sh -c 'echo $LD_PRELOAD'",
	      d, d, d, PROBE, d);
	cr_expect(!strncmp(p.out, "bound 127.0.0.1 23002\n", 22) && strstr(p.out, "/moved/lib/bindshim/"
		  "libbindshim.so\n"), "%s%s", p.out, p.err);
	bs_sh(&p, 60, "make -s -C %s B=%s uninstall DESTDIR=%s/root PREFIX=/usr/local >/dev/null; "
	      "find %s/root -type f | wc -l", bs_src(""), bs_build(""), d, d);
	cr_expect_str_eq(p.out, "0\n", "files left after uninstall");
}

Test(lab, system_wide_mode_covers_every_process)
{
	const char *d = lab_dir();
	char body[4096], log[512];
	struct bs_proc p;

	snprintf(log, sizeof(log), "%s/audit.log", d);
	put(d, "system.cfg", "version = 1;\nlog = { to = \"LOG\"; };\n"
	    "rules = ( { name = \"loopback\"; match = { address = ( \"127.0.0.0/8\", \"::1\" ); };"
	    " action = \"allow\"; },\n  { name = \"lab\"; action = \"rewrite\"; to = \"loopback\"; } );\n");
	/* No launcher and no environment: a plain python, and a program run as nobody. */
	in_lab(&p, d, "sed \"s|LOG|$D/audit.log|\" $D/system.cfg > /etc/bindshim/policy.cfg\n"
	       "touch $D/audit.log && chmod 666 $D/audit.log\n"
	       "echo $D/libbindshim.so > /etc/ld.so.preload\n"
	       "env -u LD_PRELOAD python3 -c 'import socket; s = socket.socket(); "
	       "s.bind((\"0.0.0.0\", 23010)); print(s.getsockname()[0])'\n"
	       "%s $P bind 0.0.0.0 23011", as_nobody());
	cr_expect_str_eq(p.out, "127.0.0.1\nbound 127.0.0.1 23011\n", "%s", p.err);
	bs_read_file(log, body, sizeof(body));
	cr_expect(strstr(body, "python3: rewrite tcp 0.0.0.0:23010 -> 127.0.0.1:23010 (rule \"lab\" "
			 "/etc/bindshim/policy.cfg:4)"), "%s", body);
	cr_expect(strstr(body, "probe: rewrite tcp 0.0.0.0:23011"), "%s", body);
	cr_expect(access("/etc/ld.so.preload", F_OK) != 0, "the real /etc was touched");
}

Test(lab, locked_policy_cannot_be_loosened_from_the_environment)
{
	const char *d = lab_dir();
	char body[8192], log[512];
	struct bs_proc p;

	snprintf(log, sizeof(log), "%s/audit.log", d);
	put(d, "system.cfg", "version = 1;\nlocked = true;\nlog = { to = \"LOG\"; };\n"
	    "rules = (\n  { name = \"no-ssh\"; match = { port = 23022; }; action = \"deny\"; },\n"
	    "  { name = \"loopback\"; match = { address = ( \"127.0.0.0/8\", \"::1\" ); }; action = \"allow\"; },\n"
	    "  { name = \"lab\"; action = \"rewrite\"; to = \"loopback\"; }\n);\n");
	put(d, "allow.cfg", "version = 1;\n");
	put(d, "container.cfg", "version = 1;\nrules = ( { match = { address = \"127.0.0.1\"; }; "
	    "action = \"rewrite\"; to = \"0.0.0.0\"; } );\n");
	put(d, "tighter.cfg", "version = 1;\nrules = ( { name = \"mine\"; match = { port = 23026; }; "
	    "action = \"deny\"; errno = \"EPERM\"; } );\n");
	in_lab(&p, d, "sed \"s|LOG|$D/audit.log|\" $D/system.cfg > /etc/bindshim/policy.cfg\n"
	       "set +e\n"
	       "BINDSHIM_POLICY=$D/allow.cfg $B run -- $P bind 0.0.0.0 23020\n"
	       "$B run -p $D/allow.cfg -- $P bind 0.0.0.0 23021\n"
	       "$B run -p $D/allow.cfg -- $P bind 0.0.0.0 23022\n"
	       "$B run -p $D/container.cfg -- $P bind 127.0.0.1 23023\n"
	       "$B run -t " LAB4 " -- $P bind 0.0.0.0 23024\n"
	       "$B run -l --dry-run --log /dev/null -- $P bind 0.0.0.0 23025\n"
	       "$B run -p $D/tighter.cfg -- $P bind 127.0.0.1 23026\n"
	       "BINDSHIM_BUILTIN=to:0.0.0.0 BINDSHIM_LOG=/dev/null LD_PRELOAD=$D/libbindshim.so "
	       "$P bind ::1 23027\n"
	       "$B explain -p $D/container.cfg 127.0.0.1:23023");
	cr_expect(!strncmp(p.out,
			 "bound 127.0.0.1 23020\n"	/* BINDSHIM_POLICY=allow-all: still loopback */
			 "bound 127.0.0.1 23021\n"	/* bindshim run -p allow-all: the same */
			 "error bind EACCES\n"		/* the system's deny stands */
			 "error bind EACCES\n"		/* a user rewrite to 0.0.0.0 is refused */
			 "bound 127.0.0.1 23024\n"	/* -t LAB4: the system rewrote first */
			 "bound 127.0.0.1 23025\n"	/* --dry-run is ignored */
			 "error bind EPERM\n"		/* a user policy may restrict further */
			 "bound ::1 23027\n"		/* -t 0.0.0.0 only moves wildcards */
			 "deny 127.0.0.1:23023 EACCES\n", 185), "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "(refused: the locked system policy does not allow the target)"),
		  "%s", p.out);
	bs_read_file(log, body, sizeof(body));
	/* --log /dev/null did not take the records from the administrator's log */
	cr_expect(strstr(body, "rewrite tcp 0.0.0.0:23025 -> 127.0.0.1:23025 (rule \"lab\""), "%s", body);
	cr_expect(strstr(body, "deny tcp 0.0.0.0:23022 EACCES (rule \"no-ssh\""), "%s", body);
	cr_expect(strstr(body, "deny tcp 127.0.0.1:23023 EACCES (rule \"rule 1\" "), "%s", body);
	cr_expect(!strstr(body, "dry-run"), "%s", body);
}

Test(lab, unlocked_system_policy_yields_to_the_user)
{
	const char *d = lab_dir();
	struct bs_proc p;

	put(d, "system.cfg", "version = 1;\nrules = ( { action = \"rewrite\"; to = \"loopback\"; } );\n");
	put(d, "allow.cfg", "version = 1;\n");
	in_lab(&p, d, "cp $D/system.cfg /etc/bindshim/policy.cfg\n"
	       "$B run -- $P bind 0.0.0.0 23030\n"
	       "BINDSHIM_POLICY=$D/allow.cfg $B run -- $P bind 0.0.0.0 23031");
	cr_expect_str_eq(p.out, "bound 127.0.0.1 23030\nbound 0.0.0.0 23031\n", "%s", p.err);
}

/* Runs a script in a network namespace of its own (lo up, and a veth bs0 up), so
 * that other tests' sockets do not show. The script sees $D (dir), $B (bindshim),
 * $P (probe), $S (probe-static), $L (the shim), and `w PORT...`, which waits until
 * something is bound on each port; a `table` script reads `bindshim audit` and prints
 * its rows as cells joined by "|" (pids as N), failing if a column is misaligned. */
__attribute__((format(printf, 3, 4)))
static int in_netns(struct bs_proc *p, const char *dir, const char *fmt, ...)
{
	char script[8192], body[6144];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	cr_assert_lt(n, (int)sizeof(body));
	put(dir, "table.py", "import sys\n"
	    "lines = sys.stdin.read().split('\\n')\n"
	    "assert lines.pop() == '', 'no final newline'\n"
	    "head = lines[0]\n"
	    "starts = [i for i, c in enumerate(head) if c != ' ' and (i == 0 or head[i - 1] == ' ')]\n"
	    "for l in lines:\n"
	    "    for s in starts[1:]:\n"
	    "        assert l[s - 1] == ' ' and l[s] != ' ', 'misaligned: ' + repr(l)\n"
	    "    cells = [l[a:b].rstrip() for a, b in zip(starts, starts[1:] + [None])]\n"
	    "    cells[3] = 'N' if cells[3].isdigit() else cells[3]\n"
	    "    print('|'.join(cells))\n");
	snprintf(script, sizeof(script),
		 "D=%s; B=%s; P=%s; S=%s; L=%s\n"
		 "w() { for port; do i=0; h=$(printf '%%04X' $port); while ! cat /proc/net/tcp "
		 "/proc/net/tcp6 /proc/net/udp /proc/net/udp6 /proc/net/udplite /proc/net/udplite6 "
		 "2>/dev/null | grep -q \"^ *[0-9]*: [0-9A-F]*:$h \" && [ $i -lt 200 ]; do "
		 "sleep 0.05; i=$((i + 1)); done; done; }\n"
		 "ip link set lo up\nip link add bs0 type veth peer name bs1\n"
		 "ip link set bs0 up\nip link set bs1 up\n%s\n",
		 dir, BINDSHIM, PROBE, STATIC_PROBE, bs_build("libbindshim.so"),
		 body);
	put(dir, "ns.sh", script);
	return bs_sh(p, 60, "unshare --net sh %s/ns.sh", dir);
}

Test(lab, audit_lists_exposed_sockets)
{
	const char *d = lab_dir();
	struct bs_proc p;

	put(d, "servers.py", "import os, socket, sys, time\n"
	    "a = socket.socket(); a.bind(('0.0.0.0', 23040)); a.listen()\n"
	    "b = socket.socket(); b.bind(('127.0.0.1', 23041)); b.listen()\n"
	    "if sys.argv[1] == 'all':\n"
	    "    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(('::', 23042))\n"
	    "    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(('127.0.0.1', 9))\n"
	    "else:\n"
	    "    a.close()\n"
	    "print(os.getpid(), flush=True); time.sleep(10)\n");
	put(d, "fields.py", "import json, sys\n"
	    "for s in json.load(sys.stdin):\n"
	    "    print(s['proto'], s['local'], s['exposed'], s['program'], s['user'], s['coverage'],\n"
	    "          s['action'], s.get('to'), s['source'], 'rule' in s, 'policy' in s)\n");
	in_netns(&p, d, "python3 $D/servers.py all | (read pid; $B audit | python3 $D/table.py; "
		 "$B audit > /dev/null; echo rc=$?; $B audit --json | python3 $D/fields.py; kill $pid)\n"
		 "python3 $D/servers.py quiet | (read pid; $B audit > /dev/null; echo rc=$?; kill $pid)");
	cr_expect(strstr(p.out, "PROTO|LOCAL|EXPOSED|PID|PROGRAM|USER|COVERAGE|POLICY\n"),
		  "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "tcp|0.0.0.0:23040|yes|N|python3|root|none|"
			 "rewrite -> 127.0.0.1:23040 (rule \"not-loopback\" builtin)\n"), "%s%s", p.out,
		  p.err);
	cr_expect(strstr(p.out, "tcp|127.0.0.1:23041|no|N|python3|root|none|allow (rule \"loopback\" "
			 "builtin)\n"), "%s", p.out);
	cr_expect(strstr(p.out, "udp|[::]:23042|yes|N|python3|root|none|"
			 "rewrite -> [::ffff:127.0.0.1]:23042 (rule \"not-loopback\" builtin)\n"), "%s",
		  p.out);
	cr_expect(!strstr(p.out, ":9|"), "a connected UDP client is not a listener:\n%s", p.out);
	/* JSON: structured fields, no prose "policy" */
	cr_expect(strstr(p.out, "tcp 0.0.0.0:23040 True python3 root [] rewrite 127.0.0.1:23040 "
			 "builtin True False\n"), "%s", p.out);
	cr_expect(strstr(p.out, "tcp 127.0.0.1:23041 False python3 root [] allow None "
			 "builtin True False\n"), "%s", p.out);
	cr_expect(strstr(p.out, "udp [::]:23042 True python3 root [] rewrite [::ffff:127.0.0.1]:23042 "
			 "builtin True False\n"), "%s", p.out);
	cr_expect(strstr(p.out, "rc=1\n") && strstr(p.out, "rc=0\n") &&
		  strstr(p.out, "rc=1\n") < strstr(p.out, "rc=0\n"),
		  "exit 1 when exposed, 0 when not: %s%s", p.out, p.err);
}

/* UDP-Lite is listed (and judged as udp); coverage tells a plain process, one with
 * the shim, one under a supervisor (static), and one under both. */
Test(lab, audit_covers_udplite_and_shows_coverage)
{
	const char *d = lab_dir();
	char pol[512], want[1024], other[2048] = "";
	bool nobody = bs_can_switch_user();
	struct bs_proc p;

	snprintf(pol, sizeof(pol), "%s",
		 put(d, "pol.cfg", "version = 1;\nrules = (\n"
		     "  { name = \"no-dgram\"; match = { proto = \"udp\"; port = 23043; };"
		     " action = \"deny\"; errno = \"EPERM\"; },\n"
		     "  { name = \"wild\"; match = { address = \"wildcard\"; }; action = \"rewrite\";"
		     " to = \"loopback\"; }\n);\n"));
	put(d, "plain.py", "import socket, time\n"
	    "l = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDPLITE)\n"
	    "l.bind(('0.0.0.0', 23043))\n"
	    "t = socket.socket(); t.bind(('0.0.0.0', 23048)); t.listen()\n"
	    "time.sleep(20)\n");
	put(d, "fields.py", "import json, sys\n"
	    "for s in json.load(sys.stdin):\n"
	    "    print(s['proto'], s['local'], s['coverage'], s['action'], s.get('to'),\n"
	    "          s.get('errno'), s.get('rule'), s['source'].replace(sys.argv[1], 'POL'))\n");
	if (nobody)
		snprintf(other, sizeof(other), "N='" BS_AS_NOBODY "'\n"
			 "$N $B audit -p %s | python3 $D/table.py | sed 's/^/nobody: /'\n"
			 "$N $B audit -p %s --json | python3 -c 'import json, sys; print(\"nobody:\", "
			 "[(s.get(\"pid\"), s[\"coverage\"]) for s in json.load(sys.stdin)])'\n",
			 pol, pol);
	/* The servers' output goes elsewhere: the test ends when the audits do. */
	in_netns(&p, d, "python3 $D/plain.py >/dev/null 2>&1 & k=$!\n"
		 "LD_PRELOAD=$L BINDSHIM_LOG=/dev/null python3 -c 'import socket, time; "
		 "s = socket.socket(); s.bind((\"127.0.0.1\", 23049)); s.listen(); time.sleep(20)' "
		 ">/dev/null 2>&1 & k=\"$k $!\"\n"
		 "$B run --enforce --log /dev/null -- $S bind --listen --hold 20 127.0.0.1 23050 "
		 ">/dev/null 2>&1 & k=\"$k $!\"\n"
		 "$B run --enforce --log /dev/null -- $P bind --listen --hold 20 127.0.0.1 23051 "
		 ">/dev/null 2>&1 & k=\"$k $!\"\n"
		 "w 23043 23048 23049 23050 23051\n"
		 "$B audit -p %s | python3 $D/table.py\n"
		 "$B audit -p %s --json | python3 $D/fields.py %s\n"
		 "%s"
		 "kill $k", pol, pol, pol, other);
	snprintf(want, sizeof(want), "udplite|0.0.0.0:23043|yes|N|python3|root|none|"
		 "deny EPERM (rule \"no-dgram\" %s:3)\n", pol);
	cr_expect(strstr(p.out, want), "%s%s", p.out, p.err);
	snprintf(want, sizeof(want), "tcp|0.0.0.0:23048|yes|N|python3|root|none|"
		 "rewrite -> 127.0.0.1:23048 (rule \"wild\" %s:4)\n", pol);
	cr_expect(strstr(p.out, want), "%s", p.out);
	cr_expect(strstr(p.out, "tcp|127.0.0.1:23049|no|N|python3|root|shim|allow (default)\n"),
		  "%s", p.out);
	cr_expect(strstr(p.out, "tcp|127.0.0.1:23050|no|N|probe-static|root|supervised|"
			 "allow (default)\n"), "%s", p.out);
	cr_expect(strstr(p.out, "tcp|127.0.0.1:23051|no|N|probe|root|shim+supervised|"
			 "allow (default)\n"), "%s", p.out);
	cr_expect(strstr(p.out, "udplite 0.0.0.0:23043 [] deny None EPERM no-dgram POL:3\n"),
		  "%s", p.out);
	cr_expect(strstr(p.out, "tcp 0.0.0.0:23048 [] rewrite 127.0.0.1:23048 None wild POL:4\n"),
		  "%s", p.out);
	cr_expect(strstr(p.out, "tcp 127.0.0.1:23049 ['shim'] allow None None None default\n"),
		  "%s", p.out);
	cr_expect(strstr(p.out, "tcp 127.0.0.1:23050 ['supervised'] allow None None None default\n"),
		  "%s", p.out);
	cr_expect(strstr(p.out, "tcp 127.0.0.1:23051 ['shim', 'supervised'] allow None None None "
			 "default\n"), "%s", p.out);
	/* Another user sees the sockets, not the processes: coverage unknown. */
	if (!nobody) {
		skip_part("audit as another user: " BS_NO_OTHER_USER);
		return;
	}
	cr_expect(strstr(p.out, "nobody: tcp|127.0.0.1:23051|no|-|-|root|?|allow (default)\n"),
		  "%s", p.out);
	cr_expect(strstr(p.out, "nobody: [(None, None), (None, None), (None, None), (None, None), "
			 "(None, None)]\n"), "%s", p.out);
}

/* Link-local listeners keep their scope, a device-bound wildcard shows its device,
 * a long IPv6 address keeps the columns aligned, and a program name with a
 * terminal escape, invalid UTF-8 and a newline stays in its cell. */
Test(lab, audit_keeps_scopes_and_aligns_long_addresses)
{
	const char *d = lab_dir();
	struct bs_proc p;

	put(d, "scoped.py", "import ctypes, os, socket, time\n"
	    "ctypes.CDLL(None).prctl(15, b'ev\\x1b[2Jil\\xff\\nudp x', 0, 0, 0)\n"
	    "i = socket.if_nametoindex('bs0')\n"
	    "a = socket.socket(socket.AF_INET6); a.bind(('fe80::7', 23044, 0, i)); a.listen()\n"
	    "u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(('fe80::7', 23045, 0, i))\n"
	    "g = socket.socket(socket.AF_INET6)\n"
	    "g.bind(('2001:db8:1234:5678:9abc:def0:1234:5678', 23046)); g.listen()\n"
	    "t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'bs0')\n"
	    "t.bind(('0.0.0.0', 23047)); t.listen()\n"
	    "print(os.getpid(), flush=True); time.sleep(10)\n");
	put(d, "fields.py", "import json, sys\n"
	    "for s in json.load(sys.stdin):\n"
	    "    print(s['proto'], s['local'], s.get('interface'), s['program'] == "
	    "'ev\\x1b[2Jil\\ufffd', s['to'])\n");
	in_netns(&p, d, "ip -6 addr add fe80::7/64 dev bs0 nodad\n"
		 "ip -6 addr add 2001:db8:1234:5678:9abc:def0:1234:5678/64 dev bs0 nodad\n"
		 "python3 $D/scoped.py | (read pid; $B audit | python3 $D/table.py; "
		 "$B audit --json | python3 $D/fields.py; kill $pid)");
	cr_expect(strstr(p.out, "tcp|[fe80::7%bs0]:23044|yes|N|ev\\x1b[2Jil\\xff|root|none|"
			 "rewrite -> [::1]:23044 (rule \"not-loopback\" builtin)\n"), "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "udp|[fe80::7%bs0]:23045|yes|N|ev\\x1b[2Jil\\xff|root|none|"
			 "rewrite -> [::1]:23045 (rule \"not-loopback\" builtin)\n"), "%s", p.out);
	cr_expect(strstr(p.out, "tcp|[2001:db8:1234:5678:9abc:def0:1234:5678]:23046|yes|N|"
			 "ev\\x1b[2Jil\\xff|root|none|rewrite -> [::1]:23046 (rule \"not-loopback\" builtin)\n"), "%s", p.out);
	cr_expect(strstr(p.out, "tcp|0.0.0.0%bs0:23047|yes|N|"), "%s", p.out);
	cr_expect_eq(bs_count(p.out, "|"), 5 * 7, "a header and four rows:\n%s", p.out);
	cr_expect(strstr(p.out, "tcp [fe80::7%bs0]:23044 bs0 True [::1]:23044\n"), "%s", p.out);
	cr_expect(strstr(p.out, "udp [fe80::7%bs0]:23045 bs0 True [::1]:23045\n"), "%s", p.out);
	cr_expect(strstr(p.out, "tcp [2001:db8:1234:5678:9abc:def0:1234:5678]:23046 None True "
			 "[::1]:23046\n"), "%s", p.out);
	cr_expect(strstr(p.out, "tcp 0.0.0.0%bs0:23047 bs0 True 127.0.0.1:23047\n"), "%s", p.out);
}

Test(lab, audit_trail_names_the_user)
{
	const char *d = lab_dir();
	struct bs_proc p;
	const char *as = as_nobody();
	char want[256];

	put(d, "syslogd.py", "import os, socket, sys\n"
	    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind('/dev/log')\n"
	    "os.chmod('/dev/log', 0o666); open(sys.argv[1], 'w').close()\n"
	    "s.settimeout(10); print(s.recv(4096).decode())\n");
	in_lab(&p, d, FRESH_DEV
	       "python3 $D/syslogd.py $D/ready &\n"
	       "i=0; while [ ! -e $D/ready ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done\n"
	       "%s $B run -l --log syslog -- $P bind 0.0.0.0 23050 > $D/out\n"
	       "wait", as);
	/* (uid 0 of a user namespace is named as that namespace's /etc/passwd names it) */
	snprintf(want, sizeof(want), "]: user=%s probe: rewrite tcp 0.0.0.0:23050",
		 *as ? "nobody uid=65534" : "root uid=0");
	cr_expect(strstr(p.out, want), "%s %s", p.out, p.err);
}

/* A user name is a field like any other: escaped in syslog's user= prefix and in
 * JSON, from the shim and from the supervisor. (/etc/passwd cannot hold a newline in
 * a name; it can hold a terminal escape, invalid UTF-8 and a backslash.) */
Test(lab, user_names_are_escaped)
{
	const char *d = lab_dir();
	char json[512], body[4096], want[256];
	/* uid 4242, or, where there is no other user, uid 0 under that name (listed
	 * first, so that it is the name of uid 0) */
	unsigned uid = bs_can_switch_user() ? 4242 : 0;
	struct bs_proc p;

	if (!uid)
		skip_part("as another user (uid 0 of this user namespace gets the name instead): "
			  BS_NO_OTHER_USER);
	snprintf(json, sizeof(json), "%s/u.json", d);
	put(d, "syslogd.py", "import os, socket, sys\n"
	    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind('/dev/log')\n"
	    "os.chmod('/dev/log', 0o666); open(sys.argv[1], 'w').close()\n"
	    "s.settimeout(10)\n"
	    "for i in range(2): print(s.recv(4096).decode('utf-8', 'backslashreplace'))\n");
	put(d, "user.py", "import json, sys\n"
	    "for l in open(sys.argv[1], encoding='utf-8'):\n"
	    "    print(json.loads(l)['user'] == 'ev\\x1b[1mil\\ufffd\\\\')\n");
	in_lab(&p, d, FRESH_DEV
	       "{ printf 'ev\\033[1mil\\377\\\\:x:%u:%u::/:/bin/false\\n'; cat /etc/passwd; } > $D/passwd\n"
	       "mount --bind $D/passwd /etc/passwd\n"
	       "cp %s $D/ && chmod 755 $D/probe-static\n"
	       "touch $D/u.json && chmod 666 $D/u.json\n"
	       "python3 $D/syslogd.py $D/ready &\n"
	       "i=0; while [ ! -e $D/ready ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done\n"
	       "U='%s'\n"
	       "$U env LD_PRELOAD=$D/libbindshim.so BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=syslog "
	       "$P bind 0.0.0.0 23060 > $D/out\n"
	       "$U $B run --enforce -l --log syslog -- $D/probe-static bind 0.0.0.0 23061 >> $D/out\n"
	       "wait\n"
	       "$U env LD_PRELOAD=$D/libbindshim.so BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=$D/u.json "
	       "BINDSHIM_LOG_FORMAT=json $P bind 0.0.0.0 23062 >> $D/out\n"
	       "$U $B run --enforce -l --log $D/u.json --log-format json -- "
	       "$D/probe-static bind 0.0.0.0 23063 >> $D/out\n"
	       "python3 $D/user.py $D/u.json",
	       uid, uid, STATIC_PROBE,
	       uid ? "setpriv --reuid=4242 --regid=4242 --clear-groups" : "");
	snprintf(want, sizeof(want), "]: user=ev\\x1b[1mil\\xff\\\\ uid=%u probe: rewrite tcp "
		 "0.0.0.0:23060 -> 127.0.0.1:23060 (rule \"not-loopback\" builtin)\n", uid);
	cr_expect(strstr(p.out, want), "%s %s", p.out, p.err);
	snprintf(want, sizeof(want), "]: user=ev\\x1b[1mil\\xff\\\\ uid=%u probe-static: rewrite tcp "
		 "0.0.0.0:23061 -> 127.0.0.1:23061 (rule \"not-loopback\" builtin) via seccomp\n", uid);
	cr_expect(strstr(p.out, want), "%s %s", p.out, p.err);
	cr_expect(strstr(p.out, "True\nTrue\n"), "%s %s", p.out, p.err);
	bs_read_file(json, body, sizeof(body));
	cr_expect_eq(bs_count(body, "\n"), 2, "%s", body);
}

/* Hold under attack, finding 4: a locked system policy holds whatever the user's
 * environment or policy is, broken or not; the shim in /etc/ld.so.preload, the
 * program run as nobody. And the same through the launcher. */
Test(lab, locked_policy_holds_when_the_users_choice_is_broken)
{
	const char *d = lab_dir();
	struct bs_proc p;

	put(d, "system.cfg", "version = 1;\nlocked = true;\nlog = { to = \"stderr\"; };\n"
	    "rules = (\n  { name = \"no-23060\"; match = { port = 23060; }; action = \"deny\"; },\n"
	    "  { name = \"loopback\"; match = { address = ( \"127.0.0.0/8\", \"::1\" ); }; action = \"allow\"; },\n"
	    "  { name = \"lab\"; action = \"rewrite\"; to = \"loopback\"; }\n);\n");
	put(d, "broken.cfg", "version = 1;\nrules = ( { action = \"jump\"; } );\n");
	put(d, "open.cfg", "version = 1;\nrules = ( { match = { address = \"127.0.0.1\"; }; "
	    "action = \"rewrite\"; to = \"198.51.100.7\"; } );\n");
	in_lab(&p, d, "cp $D/system.cfg /etc/bindshim/policy.cfg\n"
	       "echo $D/libbindshim.so > /etc/ld.so.preload\n"
	       "set +e\nN='%s'\n"
	       "$N env BINDSHIM_POLICY=/nonexistent BINDSHIM_DRY_RUN=1 $P bind 0.0.0.0 23061\n"
	       "$N env BINDSHIM_BUILTIN=to:bogus BINDSHIM_DRY_RUN=1 $P bind 0.0.0.0 23062\n"
	       "$N env BINDSHIM_POLICY=$D/broken.cfg $P bind 0.0.0.0 23060\n"
	       "$N env BINDSHIM_POLICY=$D/broken.cfg $P bind 127.0.0.1 23063\n"
	       "$N env BINDSHIM_POLICY=$D/open.cfg $P bind 127.0.0.1 23064\n"
	       "$N $B run --preload-only --dry-run -l -- $P bind 0.0.0.0 23065\n"
	       "$N $B run -p $D/open.cfg -- $P bind 0.0.0.0 23066 2>/dev/null\n"
	       "$N env BINDSHIM_POLICY=$D/fifo $P bind 0.0.0.0 23067", as_nobody());
	cr_expect_str_eq(p.out,
			 "bound 127.0.0.1 23061\n"	/* a missing user policy: the system's */
			 "bound 127.0.0.1 23062\n"	/* a bad builtin: the same */
			 "error bind EACCES\n"		/* a broken policy loosens nothing */
			 "bound 127.0.0.1 23063\n"
			 "error bind EACCES\n"		/* a rewrite off loopback is refused */
			 "bound 127.0.0.1 23065\n"	/* dry run ignored, via the launcher */
			 "error bind EACCES\n"		/* and supervised */
			 "bound 127.0.0.1 23067\n", "%s%s", p.out, p.err);
	cr_expect(strstr(p.err, "the locked system policy stays in force"), "%s", p.err);
}

/* Finding F3 of the red team: inside a user namespace of its own getuid() is 0;
 * a rule for root must not apply to a user who made one, whether the shim decides
 * or the supervisor alone (a static program), and whether the supervisor is outside
 * the namespace or in it (a rootless container). */
Test(lab, a_user_namespace_is_not_root)
{
	const char *d = lab_dir();
	bool root = bs_real_root();
	char want[256];
	struct bs_proc p;

	if (root && !bs_can_switch_user())
		cr_skip_test("as nobody: " BS_NO_OTHER_USER);
	/* Unprivileged (tests/netns.sh), the tests' uid 0 is itself that of a user
	 * namespace: what nobody tries, it tries as itself. */
	if (!root)
		skip_part("the rule for root, and nobody: the tests' uid 0 is that of a user "
			  "namespace, not root (it tries what nobody would, as itself)");
	put(d, "system.cfg", "version = 1;\nlocked = true;\n"
	    "rules = (\n  { name = \"root\"; match = { uid = 0; }; action = \"allow\"; },\n"
	    "  { name = \"reserved\"; match = { port = 23070; }; action = \"deny\"; }\n);\n");
	/* The supervisor alone first: once the shim is in /etc/ld.so.preload it is in
	 * bindshim too, and judges the binds the supervisor makes for the command. */
	in_lab(&p, d, "cp $D/system.cfg /etc/bindshim/policy.cfg\n"
	       "set +e\nN='%s'; S=%s\n"
	       "$N $B run -- unshare -Ur $S bind 0.0.0.0 23070 2>/dev/null\n"
	       "$N unshare -Ur $B run -- $S bind 0.0.0.0 23070 2>/dev/null\n"
	       "echo $D/libbindshim.so > /etc/ld.so.preload\n"
	       "$P bind 0.0.0.0 23070\n"
	       "$N $P bind 0.0.0.0 23070\n"
	       "$N unshare -Ur $P bind 0.0.0.0 23070\n"
	       "$N $B run -- unshare -Ur $P bind 0.0.0.0 23070 2>/dev/null",
	       root ? BS_AS_NOBODY : "", STATIC_PROBE);
	if (strstr(p.err, "unshare failed") || strstr(p.err, "Operation not permitted"))
		cr_skip_test("user namespaces are not available to unprivileged users here: %s", p.err);
	snprintf(want, sizeof(want), "error bind EACCES\n"	/* the supervisor, outside */
		 "error bind EACCES\n"		/* the supervisor in the namespace */
		 "%s"				/* root: the rule for root */
		 "error bind EACCES\n"		/* nobody */
		 "error bind EACCES\n"		/* nobody as "root" of its namespace */
		 "error bind EACCES\n",		/* and supervised */
		 root ? "bound 0.0.0.0 23070\n" : "error bind EACCES\n");
	cr_expect_str_eq(p.out, want, "%s%s", p.out, p.err);
}

/* Finding F1 of the red team: a descriptor number whose kind changed behind the
 * shim's hooks (glibc's __dup2, a vfork child, a CLONE_FILES clone) must not get
 * a bind or a listen past a locked policy, as nobody. */
Test(lab, descriptor_kind_tricks_under_a_locked_policy)
{
	const char *d = lab_dir();
	struct bs_proc p;

	put(d, "system.cfg", "version = 1;\nlocked = true;\n"
	    "rules = ( { name = \"lab\"; match = { address = \"wildcard\"; }; action = \"rewrite\"; "
	    "to = \"loopback\"; } );\n");
	in_lab(&p, d, "cp $D/system.cfg /etc/bindshim/policy.cfg\n"
	       "cp %s $D/attack && chmod 755 $D/attack\n"
	       "echo $D/libbindshim.so > /etc/ld.so.preload\n"
	       "N='%s'\n"
	       "$N $D/attack kind-dup2 23080\n$N $D/attack kind-vfork 23081\n"
	       "$N $D/attack kind-clone 23082", HELPER("attack"), as_nobody());
	cr_expect_str_eq(p.out, "listening 127.0.0.1 23080\nlistening 127.0.0.1 23081\n"
			 "listening 127.0.0.1 23082\n", "%s", p.err);
}

/* With the shim in /etc/ld.so.preload it is loaded into bindshim too: the binds the
 * supervisor makes for a command must not be judged again there, as a program
 * named "bindshim" that the system policy's rules for the command do not name. */
Test(lab, the_supervisor_is_not_judged_by_a_preloaded_shim)
{
	const char *d = lab_dir();
	struct bs_proc p;

	put(d, "system.cfg", "version = 1;\nrules = (\n"
	    "  { name = \"lab tools\"; match = { program = ( \"probe\", \"probe-static\" ); }; "
	    "action = \"allow\"; },\n"
	    "  { name = \"rest\"; action = \"rewrite\"; to = \"loopback\"; }\n);\n");
	in_lab(&p, d, "cp $D/system.cfg /etc/bindshim/policy.cfg\n"
	       "cp %s $D/ && chmod 755 $D/probe-static\n"
	       "echo $D/libbindshim.so > /etc/ld.so.preload\n"
	       "$B run -- $D/probe-static bind 0.0.0.0 23090\n"
	       "$B run -- $P bind 0.0.0.0 23091\n"
	       "$B run -- python3 -c 'import socket; s = socket.socket(); "
	       "s.bind((\"0.0.0.0\", 23092)); print(s.getsockname()[0])'",
	       STATIC_PROBE);
	cr_expect_str_eq(p.out, "bound 0.0.0.0 23090\nbound 0.0.0.0 23091\n127.0.0.1\n", "%s", p.err);
	cr_expect(!strstr(p.err, "bindshim:"), "records name the program, never bindshim: %s", p.err);
	cr_expect_eq(bs_count(p.err, "python3: rewrite tcp 0.0.0.0:23092 -> 127.0.0.1:23092 (rule "
				 "\"rest\" /etc/bindshim/policy.cfg:4)"), 1, "%s", p.err);
}
