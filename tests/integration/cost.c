/*
 * What each path costs, as counts that do not depend on the machine's speed: the
 * syscalls of a rewritten bind and of a process start (strace -f -c), and the
 * instructions of a process start (callgrind). docs/cost.md says why each syscall
 * is there. Ports 26xxx.
 *
 * Per-cycle counts are exact: the helper runs 10 and then 30 socket+bind+listen+
 * close cycles, and the difference of the two runs over 20 cycles leaves out
 * everything a process does once (start, the first judged call, exit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/integration/support.h"

#define COST HELPER("cost")
#define SHIM bs_build("libbindshim.so")
#define EMPTY HELPER("libempty.so")

/* awk over strace -c outputs: "NAME CALLS" lines, file by file. */
#define STRACE_CALLS "$NF != \"total\" && $4 ~ /^[0-9]+$/"

/* The syscalls one cycle of `PREFIX cost cycle N addr port` makes, over every
 * process strace -f follows: "bind=1 close=1 ..." (sorted, zero counts left out). */
static const char *per_cycle(const char *prefix, const char *addr, unsigned port)
{
	static struct bs_proc p;
	const char *dir = bs_tmpdir();

	bs_sh(&p, 60, "for n in 10 30; do strace -f -c -o %s/sc.$n %s %s cycle $n %s %u "
	      ">/dev/null 2>%s/err.$n || { cat %s/err.$n; exit 1; }; done; "
	      "awk 'FNR == 1 {f++} " STRACE_CALLS " {c[f, $NF] = $4; n[$NF] = 1} "
	      "END {for (k in n) {d = (c[2, k] - c[1, k]) / 20; r = int(d + (d < 0 ? -0.5 : 0.5)); "
	      "if (r) printf \"%%s=%%d\\n\", k, r}}' %s/sc.10 %s/sc.30 | sort | tr '\\n' ' '",
	      dir, prefix, COST, addr, port, dir, dir, dir, dir);
	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	return p.out;
}

/* The count of name in a per-cycle list, or 0. */
static int count_of(const char *list, const char *name)
{
	char key[64];
	const char *at;

	snprintf(key, sizeof(key), "%s=", name);
	for (at = strstr(list, key); at && at != list && at[-1] != ' '; at = strstr(at + 1, key))
		;
	return at ? atoi(at + strlen(key)) : 0;
}

/* The sum of a per-cycle list. */
static int total_of(const char *list)
{
	int sum = 0;

	for (const char *eq = strchr(list, '='); eq; eq = strchr(eq + 1, '='))
		sum += atoi(eq + 1);
	return sum;
}

#define NATIVE_CYCLE "bind=1 close=1 listen=1 setsockopt=1 socket=1 "

Test(cost, native_cycle_is_five_syscalls)
{
	need_tool("strace", "strace");
	cr_expect_str_eq(per_cycle("", "0.0.0.0", 26001), NATIVE_CYCLE);
}

/* A rewritten bind recorded to a file: native, plus the record's one write(2), the
 * socket's kind asked of the kernel at bind (SO_TYPE: never a cached kind, which
 * a program could make lie), and where the socket really is at listen
 * (getsockname). Nothing per record: no getpid, getuid, fstat or sigprocmask. */
Test(cost, rewritten_bind_is_native_plus_three)
{
	char prefix[512], log[256], body[65536];
	const char *got;

	need_tool("strace", "strace");
	snprintf(log, sizeof(log), "%s/records.log", bs_tmpdir());
	snprintf(prefix, sizeof(prefix), "env BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=%s LD_PRELOAD=%s",
		 log, SHIM);
	got = per_cycle(prefix, "0.0.0.0", 26002);
	cr_expect_str_eq(got, "bind=1 close=1 getsockname=1 getsockopt=1 listen=1 setsockopt=1 "
			 "socket=1 write=1 ");
	/* and the records are all there: one line per bind, 10 + 30 */
	bs_read_file(log, body, sizeof(body));
	cr_expect_eq(bs_count(body, "rewrite tcp 0.0.0.0:26002 -> 127.0.0.1:26002"), 40, "%s", body);
}

/* The same for a port-0 bind, and one getsockname more at bind: the port it got,
 * so that listen() knows a bind holds the socket there (a socket a failed connect
 * left at an address is not held, and is moved before it listens). */
Test(cost, rewritten_port_zero_bind_is_native_plus_four)
{
	char prefix[512];

	need_tool("strace", "strace");
	snprintf(prefix, sizeof(prefix), "env BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=%s/r.log "
		 "LD_PRELOAD=%s", bs_tmpdir(), SHIM);
	cr_expect_str_eq(per_cycle(prefix, "0.0.0.0", 0), "bind=1 close=1 getsockname=2 getsockopt=1 "
			 "listen=1 setsockopt=1 socket=1 write=1 ");
}

/* An allowed bind costs nothing at bind; listen asks where the socket is. */
Test(cost, allowed_bind_is_native_plus_one)
{
	char prefix[512];

	need_tool("strace", "strace");
	snprintf(prefix, sizeof(prefix), "env BINDSHIM_BUILTIN=loopback LD_PRELOAD=%s", SHIM);
	cr_expect_str_eq(per_cycle(prefix, "127.0.0.1", 26003),
			 "bind=1 close=1 getsockname=1 listen=1 setsockopt=1 socket=1 ");
}

/* Under the supervisor (a dynamic program, the shim rewrites first): per cycle,
 * two notifications and not one /proc read, pidfd_open or process status parse,
 * nor a wait4 (children are reaped when one ends); in all, at most 28 syscalls
 * over the command and the supervisor (docs/cost.md lists them), not counting the
 * supervisor loop's poll (one per notification, more when a signal wakes the
 * loop: strace's own stops do). */
Test(cost, supervised_call_reads_no_proc_file)
{
	char prefix[512];
	const char *got;

	need_tool("strace", "strace");
	/* LeakSanitizer (make asan) cannot stop the world under strace's ptrace. */
	snprintf(prefix, sizeof(prefix), "env ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 "
		 "%s run -l --log %s/records.log --", BINDSHIM, bs_tmpdir());
	got = per_cycle(prefix, "0.0.0.0", 26004);
	cr_expect_eq(count_of(got, "ioctl"), 6, "RECV, ID_VALID, SEND per notification: %s", got);
	cr_expect_eq(count_of(got, "openat") + count_of(got, "open") + count_of(got, "read"), 0,
		     "a /proc file read per notification: %s", got);
	cr_expect_eq(count_of(got, "pidfd_open"), 0, "a pidfd opened per notification: %s", got);
	cr_expect_leq(count_of(got, "wait4"), 0, "children reaped per notification: %s", got);
	cr_expect_leq(total_of(got) - count_of(got, "poll"), 28, "%s", got);
}

/* A process that never binds, under the shim, makes the syscalls it makes under an
 * empty preloaded library: no policy opened, no user looked up, no libconfig
 * loaded, no log opened. The one mmap more is the loader mapping the shim's
 * zero-filled pages. */
Test(cost, start_makes_no_syscall_of_its_own)
{
	const char *dir = bs_tmpdir();
	char empty[4096], shim[4096], files[4096];
	struct bs_proc p;
	int me, ms;

	need_tool("strace", "strace");
	bs_sh(&p, 30, "for l in %s %s; do env -i PATH=/usr/bin:/bin BINDSHIM_BUILTIN=loopback "
	      "BINDSHIM_LOG=%s/records.log strace -f -c -o %s/sc.$(basename $l) "
	      "env LD_PRELOAD=$l %s idle || exit 1; done; "
	      "env -i PATH=/usr/bin:/bin BINDSHIM_POLICY=%s/p.cfg strace -f -e trace=%%file,%%network "
	      "-o %s/files env LD_PRELOAD=%s %s idle",
	      EMPTY, SHIM, dir, dir, COST, dir, dir, SHIM, COST);
	cr_assert_eq(p.status, 0, "%s", p.err);
	bs_sh(&p, 30, "awk '" STRACE_CALLS " && $NF != \"mmap\" {print $NF, $4}' %s/sc.libempty.so | sort",
	      dir);
	snprintf(empty, sizeof(empty), "%.4000s", p.out);
	bs_sh(&p, 30, "awk '" STRACE_CALLS " && $NF != \"mmap\" {print $NF, $4}' %s/sc.libbindshim.so | sort",
	      dir);
	snprintf(shim, sizeof(shim), "%.4000s", p.out);
	cr_expect_str_eq(shim, empty, "syscalls at start, shim vs an empty library");
	bs_sh(&p, 30, "awk '" STRACE_CALLS " && $NF == \"mmap\" {print $4}' %s/sc.libempty.so "
	      "%s/sc.libbindshim.so | tr '\\n' ' '", dir, dir);
	cr_assert_eq(sscanf(p.out, "%d %d", &me, &ms), 2, "%s", p.out);
	cr_expect_leq(ms - me, 1, "mmap: %d under the shim, %d under an empty library", ms, me);
	snprintf(files, sizeof(files), "%s/files", dir);
	bs_sh(&p, 30, "grep -E 'p\\.cfg|policy\\.cfg|passwd|nsswitch|libconfig|records\\.log|"
	      "socket|connect' %s", files);
	cr_expect_str_eq(p.out, "", "a process that never binds touched these");
}

/* Starting /bin/true under the shim costs at most 9% more instructions than under
 * an empty preloaded library (callgrind, a fixed small environment). Both are named
 * from this test's directory, whose path is as long in every run: the shim reads its
 * own path in LD_PRELOAD byte by byte (about 14 instructions a byte), and a long
 * build path would count. The shim's start is its constructor's name copy and
 * environment pass (next test); the rest is what linking libc costs any library
 * (docs/cost.md). Measured: 1.084 (1.091 while the constructor called getauxval);
 * make asan's build 1.025 (both libraries load the UBSan runtime). */
Test(cost, start_instructions_near_an_empty_library)
{
	struct bs_proc p;
	long empty, shim;

	need_tool("valgrind", "valgrind");
	bs_sh(&p, 120, "cd %s && ln -s %s libempty.so && ln -s %s libbindshim.so && "
	      "for l in libempty.so libbindshim.so; do env -i PATH=/usr/bin:/bin LD_PRELOAD=$PWD/$l "
	      "valgrind --tool=callgrind --callgrind-out-file=/dev/null /bin/true 2>&1 | "
	      "sed -n 's/.*Collected : *\\([0-9]*\\).*/\\1/p'; done | tr '\\n' ' '",
	      bs_tmpdir(), EMPTY, SHIM);
	cr_assert_eq(sscanf(p.out, "%ld %ld", &empty, &shim), 2, "%s %s", p.out, p.err);
	cr_log_info("/bin/true: %ld instructions under the shim, %ld under an empty library "
		    "(%.3f)\n", shim, empty, (double)shim / (double)empty);
	cr_expect_leq((double)shim / (double)empty, 1.09, "%ld vs %ld", shim, empty);
}

/* The shim's constructor calls nothing outside the shim: a libc function's first
 * call costs every process about 800 instructions of lazy binding (getauxval's did,
 * before it moved to exec). Callgrind counts only inside bs_start; every function
 * it saw there must be the shim's. */
Test(cost, start_calls_no_libc_function)
{
	const char *dir = bs_tmpdir();
	struct bs_proc p;

	need_tool("valgrind", "valgrind");
	need_tool("callgrind_annotate", "valgrind");
	bs_sh(&p, 120, "env -i PATH=/usr/bin:/bin LD_PRELOAD=%s valgrind -q --tool=callgrind "
	      "--toggle-collect=bs_start --callgrind-out-file=%s/start.cg /bin/true && "
	      "callgrind_annotate --auto=no %s/start.cg > %s/start.txt && "
	      "grep -q 'bs_exec_capture \\[' %s/start.txt || cat %s/start.txt",
	      SHIM, dir, dir, dir, dir, dir);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_str_eq(p.out, "", "the environment pass was not counted");
	bs_sh(&p, 30, "grep ' \\[.*\\]$' %s/start.txt | grep -v '/libbindshim\\.so\\]$'", dir);
	cr_expect_str_eq(p.out, "", "called at start, outside the shim:\n%s", p.out);
}

/* The instructions (callgrind: user space only) one socket+bind+listen+close cycle
 * of `PREFIX cost cycle N addr port` costs: runs of 10 and 30 cycles, the
 * difference over 20, so that start and exit cancel out. */
static long cycle_instructions(const char *prefix, const char *addr, unsigned port)
{
	struct bs_proc p;
	long i10, i30;

	bs_sh(&p, 120, "for n in 10 30; do %s valgrind --tool=callgrind --callgrind-out-file=/dev/null "
	      "%s cycle $n %s %u 2>&1 >/dev/null | sed -n 's/.*Collected : *\\([0-9]*\\).*/\\1/p'; "
	      "done | tr '\\n' ' '", prefix, COST, addr, port);
	cr_assert_eq(sscanf(p.out, "%ld %ld", &i10, &i30), 2, "%s %s", p.out, p.err);
	return (i30 - i10) / 20;
}

/* A rewritten bind's decision and its record, formatted and written, cost a few
 * thousand instructions (about 4,400 a cycle at -O2, 8,600 in make asan's UBSan
 * build; with stdio's formatting 20,600 at -O2), and an allowed one about 1,000
 * (1,500 under UBSan). */
Test(cost, a_record_costs_a_few_thousand_instructions)
{
	char rewrite[512], allow[512];
	long native, allowed, rewritten;

	need_tool("valgrind", "valgrind");
	snprintf(rewrite, sizeof(rewrite), "env BINDSHIM_POLICY=%s BINDSHIM_LOG=%s/records.log "
		 "LD_PRELOAD=%s", bs_src("examples/dev-loopback.cfg"), bs_tmpdir(), SHIM);
	snprintf(allow, sizeof(allow), "env BINDSHIM_POLICY=%s LD_PRELOAD=%s",
		 bs_src("examples/dev-loopback.cfg"), SHIM);
	native = cycle_instructions("", "0.0.0.0", 26005);
	allowed = cycle_instructions(allow, "127.0.0.1", 26006);
	rewritten = cycle_instructions(rewrite, "0.0.0.0", 26007);
	cr_log_info("instructions per cycle: native %ld, allowed %ld, rewritten and recorded %ld\n",
		    native, allowed, rewritten);
	cr_expect_leq(allowed - native, 2500, "allowed: %ld over native", allowed - native);
	cr_expect_leq(rewritten - native, 12000, "rewritten: %ld over native", rewritten - native);
}
