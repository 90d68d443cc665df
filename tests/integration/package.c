/* make deb: the Debian package builds, passes lintian, installs, covers a program
 * from the installed tree, and purges without a trace. Installing happens in
 * overlays of /usr, /etc and /var in a private mount namespace: the real system
 * never sees the package. Ports 28xxx. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/integration/support.h"

Test(package, deb_builds_lints_installs_and_purges, .timeout = 600)
{
	const char *d = bs_tmpdir();
	char deb[1024], before[256], usr[512], etc[512], var[512];
	struct bs_proc p;

	if (geteuid() != 0)
		cr_skip_test("installing a package (even in a private overlay) needs root");
	need_tool("dpkg-buildpackage", "dpkg-dev");
	need_tool("dh", "debhelper");
	need_tool("lintian", "lintian");
	/* Built from the source tree into the test's directory, in a clean environment
	 * (the variables of the make that started this suite, B=, SAN=..., which make
	 * exports, are not the package's), and niced: the timing tests running beside
	 * it go first. */
	bs_sh(&p, 540, "env -i PATH=\"$PATH\" nice -n 19 make -s -C %s B=%s/b deb", bs_src(""), d);
	cr_assert_eq(p.status, 0, "%s%s", p.out + (strlen(p.out) > 4000 ? strlen(p.out) - 4000 : 0),
		     p.err);
	cr_expect(!strstr(p.out, "\nE: ") && !strstr(p.out, "\nW: "),
		  "lintian errors or unexplained warnings:\n%s", strstr(p.out, "lintian") ?: p.out);
	bs_sh(&p, 10, "ls %s/b/deb/bindshim_*.deb", d);
	cr_assert_eq(p.status, 0, "no package: %s", p.err);
	snprintf(deb, sizeof(deb), "%.*s", (int)strcspn(p.out, "\n"), p.out);
	bs_sh(&p, 10, "dpkg-deb -c %s | awk '{print $6}' | sort | tr '\\n' ' '", deb);
	cr_expect(strstr(p.out, "./usr/bin/bindshim ") && strstr(p.out, "./usr/lib/bindshim/libbindshim.so ") &&
		  strstr(p.out, "./usr/share/man/man1/bindshim.1.gz ") &&
		  strstr(p.out, "./usr/share/man/man5/bindshim.cfg.5.gz ") &&
		  strstr(p.out, "./usr/share/bash-completion/completions/bindshim ") &&
		  strstr(p.out, "./usr/share/doc/bindshim/examples/dev-loopback.cfg ") &&
		  strstr(p.out, "./usr/share/doc/bindshim/copyright "), "%s", p.out);
	/* dpkg writes /var/lib/dpkg, which the machine's root owns: the uid 0 of a user
	 * namespace (tests/netns.sh, unprivileged) may not, even in an overlay. */
	if (!bs_real_root()) {
		skip_part("installing and purging: not the machine's root (a user namespace's "
			  "uid 0 may not write /var/lib/dpkg, even in an overlay)");
		return;
	}

	/* Install, use, purge, in overlays of this test's own mount namespace. */
	snprintf(usr, sizeof(usr), "%s/usr", d);
	snprintf(etc, sizeof(etc), "%s/etc", d);
	snprintf(var, sizeof(var), "%s/var", d);
	bs_sh(&p, 10, "dpkg -s bindshim 2>&1 | head -2");
	snprintf(before, sizeof(before), "%.255s", p.out);
	bs_sh(&p, 120, "unshare --mount --propagation private sh -ec '"
	      "%s; %s; %s\n"
	      "for m in /usr /etc /var; do [ \"$(stat -f -c %%T $m)\" = overlayfs ] || exit 98; done\n"
	      "dpkg -i %s > /dev/null\n"
	      "dpkg -s bindshim | grep ^Status\n"
	      "bindshim --version\n"
	      "bindshim run -- %s bind 0.0.0.0 28001\n"
	      "bindshim run -- sh -c \"echo \\$LD_PRELOAD\"\n"
	      "dpkg --purge bindshim > /dev/null\n"
	      "dpkg -s bindshim > /dev/null 2>&1 || echo purged\n"
	      "ls /usr/bin/bindshim /usr/lib/bindshim /usr/share/doc/bindshim /etc/bindshim 2>&1 | "
	      "grep -vc \"No such file\" || true\n"
	      "find %s/usr/ov/u %s/etc/ov/u -mindepth 1 ! -type d | wc -l\n"
	      "grep -q bindshim %s/var/ov/u/log/dpkg.log && echo dpkg wrote in the overlay'",
	      bs_sh_overlay("/usr", usr), bs_sh_overlay("/etc", etc), bs_sh_overlay("/var", var), deb, PROBE,
	      d, d, d);
	cr_expect_str_eq(p.out, "Status: install ok installed\nbindshim " BS_VERSION "\n"
			 "bound 127.0.0.1 28001\n/usr/lib/bindshim/libbindshim.so\npurged\n0\n0\n"
			 "dpkg wrote in the overlay\n",
			 "%s", p.err);
	bs_sh(&p, 10, "dpkg -s bindshim 2>&1 | head -2");
	cr_expect_str_eq(p.out, before, "the real dpkg database was touched");
}
