/* Shared lab machines: install, system-wide mode, locked policies, audit. Every
 * change to /etc, /usr/local or /dev happens in an overlay or mount of the test's
 * own mount namespace. Ports 23xxx. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/integration/support.h"

/* A temp dir everyone may enter (tests run programs as nobody), holding a copy of
 * the shim everyone may read. */
static const char *lab_dir(void)
{
	const char *d = bs_tmpdir();
	struct bs_proc p;

	chmod(d, 0755);
	bs_sh(&p, 10, "cp %s %s/ && chmod 644 %s/libbindshim.so", bs_build("libbindshim.so"), d, d);
	return d;
}

/* Writes a file readable by all; returns its path (static per slot). */
static const char *put(const char *dir, const char *name, const char *text)
{
	static char paths[8][512];
	static int n;
	char *p = paths[n++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	bs_write_file(p, text);
	chmod(p, 0644);
	return p;
}

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
	       "setpriv --reuid=65534 --regid=65534 --clear-groups $P bind 0.0.0.0 23011");
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

Test(lab, audit_lists_exposed_sockets)
{
	const char *d = lab_dir();
	struct bs_proc p;

	put(d, "servers.py", "import socket, sys, time\n"
	    "a = socket.socket(); a.bind(('0.0.0.0', 23040)); a.listen()\n"
	    "b = socket.socket(); b.bind(('127.0.0.1', 23041)); b.listen()\n"
	    "if sys.argv[1] == 'all':\n"
	    "    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(('::', 23042))\n"
	    "    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(('127.0.0.1', 9))\n"
	    "else:\n"
	    "    a.close()\n"
	    "print(flush=True); time.sleep(10)\n");
	put(d, "fields.py", "import json, sys\n"
	    "for s in json.load(sys.stdin):\n"
	    "    print(s['proto'], s['local'], s['exposed'], s['program'], s['user'], s['policy'])\n");
	/* A network namespace of its own, so other tests' sockets do not show. */
	bs_sh(&p, 60, "unshare --net sh -c 'ip link set lo up; D=%s; "
	      "python3 $D/servers.py all | (read x; %s audit; echo rc=$?; "
	      "%s audit --json | python3 $D/fields.py); "
	      "python3 $D/servers.py quiet | (read x; %s audit > /dev/null; echo rc=$?)'",
	      d, BINDSHIM, BINDSHIM, BINDSHIM);
	cr_expect(strstr(p.out, "tcp   0.0.0.0:23040            yes     "), "%s", p.out);
	cr_expect(strstr(p.out, "python3          root       rewrite -> 127.0.0.1:23040 (builtin)"),
		  "%s", p.out);
	cr_expect(strstr(p.out, "tcp   127.0.0.1:23041          no      "), "%s", p.out);
	cr_expect(strstr(p.out, "udp   [::]:23042               yes     "), "%s", p.out);
	cr_expect(!strstr(p.out, ":9 "), "a connected UDP client is not a listener:\n%s", p.out);
	cr_expect(strstr(p.out, "tcp 0.0.0.0:23040 True python3 root rewrite -> 127.0.0.1:23040\n"),
		  "%s", p.out);
	cr_expect(strstr(p.out, "udp [::]:23042 True python3 root rewrite -> [::1]:23042\n"), "%s", p.out);
	cr_expect(strstr(p.out, "rc=1\n") && strstr(p.out, "rc=0\n") &&
		  strstr(p.out, "rc=1\n") < strstr(p.out, "rc=0\n"),
		  "exit 1 when exposed, 0 when not: %s%s", p.out, p.err);
}

Test(lab, audit_trail_names_the_user)
{
	const char *d = lab_dir();
	struct bs_proc p;

	put(d, "syslogd.py", "import os, socket, sys\n"
	    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind('/dev/log')\n"
	    "os.chmod('/dev/log', 0o666); open(sys.argv[1], 'w').close()\n"
	    "s.settimeout(10); print(s.recv(4096).decode())\n");
	in_lab(&p, d, "mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3\n"
	       "python3 $D/syslogd.py $D/ready &\n"
	       "i=0; while [ ! -e $D/ready ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done\n"
	       "setpriv --reuid=65534 --regid=65534 --clear-groups "
	       "$B run -l --log syslog -- $P bind 0.0.0.0 23050 > $D/out\n"
	       "wait");
	cr_expect(strstr(p.out, "]: user=nobody uid=65534 probe: rewrite tcp 0.0.0.0:23050"),
		  "%s %s", p.out, p.err);
}
