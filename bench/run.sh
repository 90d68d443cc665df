#!/bin/sh
# make bench: one table, every path side by side, measured in one run.
#
# The socket+bind+listen+close cycle (bench/cycle.c, a fixed port with
# SO_REUSEADDR, so every run binds the same port) runs natively and under each
# layer in alternation, ROUNDS times; each row gives the fastest run's ns per
# cycle and its ratio to the fastest native run. Syscalls per cycle are counted
# by strace -f over every process involved (N=200 cycles minus N=100, so process
# start cancels out). The floor of a record to a file is native plus one write(2)
# per cycle of a line as long as bindshim's record, to a file in the directory of
# the file row's log, opened with the log's flags. force_bind, the nearest peer
# shim, is fetched from its public source into the build directory and built there
# when it can be; kernel mode runs on a cgroup of the bench's own, always detached
# again. As root the whole bench runs in a private network and mount namespace.
#
# Environment: ROUNDS (7), N (20000 cycles; supervised runs N/10), BENCH_PORT,
# SERVER_ROUNDS (7), FORCE_BIND_GIT (where to clone force_bind from), BENCH_DATE
# (the header's date).
set -eu
B=$(cd "${BS_BUILD:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" = 0 ] && [ "${BS_BENCH_INNER:-}" != 1 ] && command -v unshare >/dev/null; then
	exec env BS_BENCH_INNER=1 BS_BUILD="$B" unshare --net --mount --propagation private -- \
		sh "$0" "$@"
fi
[ "${BS_BENCH_INNER:-}" = 1 ] && ip link set lo up
ROUNDS=${ROUNDS:-7}
N=${N:-20000}
NS=$((N / 10))
P=${BENCH_PORT:-26990}
SHIM=$B/libbindshim.so
FB_GIT=${FORCE_BIND_GIT:-https://github.com/catalinboie/force_bind}
T=$(mktemp -d)
CG=""
PIN=""
WATCH=""
cleanup() {
	[ -n "$WATCH" ] && kill "$WATCH" 2>/dev/null && wait "$WATCH" 2>/dev/null
	if [ -n "$PIN" ]; then
		"$B/bindshim" system disable --pin "$PIN/bs" >/dev/null 2>&1 || true
		umount "$PIN" 2>/dev/null || true
		rmdir "$PIN" 2>/dev/null || true
	fi
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export B SHIM P T

# --- what runs where ------------------------------------------------------------

echo 'int bs_bench_empty(void) { return 0; }' | ${CC:-cc} -shared -fPIC -O2 -x c -o "$T/libempty.so" -

# force_bind: fetched and built in the build directory, never in the tree.
FB=$B/bench/force_bind
fb_why=""
if [ ! -f "$FB/force_bind.so" ]; then
	rm -rf "$FB" && mkdir -p "$FB"
	if ! command -v git >/dev/null; then
		fb_why="git is not installed"
	elif ! timeout 120 git clone -q "$FB_GIT" "$FB/src" >"$FB/fetch.log" 2>&1; then
		fb_why="cannot fetch $FB_GIT: $(grep -v '^warning' "$FB/fetch.log" | head -1)"
	elif ! (cd "$FB/src" && ver=$(sed -n 's/^VER="\(.*\)"/\1/p' duilder.conf) &&
		sed "s/@VER@/$ver/" force_bind_config.h.in >force_bind_config.h &&
		${CC:-cc} -O2 -fPIC -shared -D_GNU_SOURCE -w -o ../force_bind.so force_bind.c -ldl &&
		echo "force_bind $ver ($(git rev-parse --short HEAD))" >../version) >"$FB/build.log" 2>&1; then
		fb_why="does not build here: $(tail -1 "$FB/build.log")"
	fi
fi
FB_NAME=$(cat "$FB/version" 2>/dev/null || echo force_bind)
export FB

sup_why=""
"$B/bindshim" run --enforce -l --log /dev/null -- true 2>"$T/why" || sup_why=$(head -1 "$T/why")

# Kernel mode: a cgroup of our own under the cgroup2 root, never the root itself.
k_why=""
if [ "$(id -u)" != 0 ]; then
	k_why="needs root"
elif ! "$B/bindshim" system --help >/dev/null 2>&1; then
	k_why="bindshim was built without the kernel backend"
else
	root=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	if [ -z "$root" ]; then
		k_why="no cgroup v2 mount"
	else
		PIN=$(mktemp -d)
		CG=$root/bindshim-bench-$$
		cat >"$T/k.cfg" <<'CFG'
version = 1;
rules = (
  { name = "ssh"; match = { port = 22; }; action = "deny"; },
  { name = "trusted"; match = { program = "sshd*"; }; action = "allow"; },
  { name = "lab"; match = { address = "198.51.100.0/24"; }; action = "allow"; },
  { name = "wild"; match = { address = "wildcard"; }; action = "rewrite"; to = "loopback"; }
);
CFG
		if ! mount -t bpf bpf "$PIN" 2>"$T/kerr" || ! mkdir "$CG" 2>>"$T/kerr" ||
		    ! "$B/bindshim" system enable -p "$T/k.cfg" --cgroup "$CG" --pin "$PIN/bs" \
			--record-rate 0 >/dev/null 2>>"$T/kerr"; then
			k_why="BPF not permitted here: $(grep . "$T/kerr" | tail -1)"
		else
			# Every rewrite recorded, as below the rate: watch reads them all.
			"$B/bindshim" system watch --pin "$PIN/bs" --log /dev/null 2>/dev/null &
			WATCH=$!
		fi
	fi
fi
export CG

# The length of bindshim's record in the file row (newline included), for the floor.
BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=$T/rec.log LD_PRELOAD=$SHIM "$B/bench/cycle" 10 0.0.0.0 "$P" \
	>/dev/null
REC=$(head -1 "$T/rec.log" | wc -c)
rm -f "$T/rec.log"
export REC

# The variants: shell commands that run BN cycles (BN in the environment).
LOOP='BINDSHIM_BUILTIN=loopback LD_PRELOAD=$SHIM'
RUN='$B/bindshim run -l --log /dev/null --'
INCG='sh -c "echo \$\$ > $CG/cgroup.procs && exec \"\$0\" \"\$@\""'
v_native='$B/bench/cycle $BN 0.0.0.0 $P'
v_native_lo='$B/bench/cycle $BN 127.0.0.1 $P'
v_empty='LD_PRELOAD=$T/libempty.so $B/bench/cycle $BN 0.0.0.0 $P'
v_fb='FORCE_BIND_ADDRESS_V4=127.0.0.1 FORCE_NET_REUSEADDR=1 FORCE_NET_VERBOSE=1 FORCE_NET_LOG=$T/fb.log LD_PRELOAD=$FB/force_bind.so $B/bench/cycle $BN 0.0.0.0 $P'
v_allowed="$LOOP"' BINDSHIM_LOG=/dev/null $B/bench/cycle $BN 127.0.0.1 $P'
v_null="$LOOP"' BINDSHIM_LOG=/dev/null $B/bench/cycle $BN 0.0.0.0 $P'
v_file="$LOOP"' BINDSHIM_LOG=$T/rec.log $B/bench/cycle $BN 0.0.0.0 $P; rm -f $T/rec.log'
v_floor='$B/bench/cycle $BN 0.0.0.0 $P $T/floor.log $REC; rm -f $T/floor.log'
v_sup="$RUN"' $B/bench/cycle $BN 0.0.0.0 $P'
v_static='$B/bench/cycle-static $BN 0.0.0.0 $P'
v_sup_static="$RUN"' $B/bench/cycle-static $BN 0.0.0.0 $P'
v_kernel="$INCG"' $B/bench/cycle $BN 0.0.0.0 $P'

# Which variants run: name, cycles per run.
set -- native "$N" native_lo "$N" empty "$N" null "$N" floor "$N" file "$N" allowed "$N"
[ -z "$fb_why" ] && set -- "$@" fb "$N"
[ -z "$sup_why" ] && set -- "$@" sup "$NS" static "$N" sup_static "$NS"
[ -z "$k_why" ] && set -- "$@" kernel "$N"
VARIANTS=$*

# --- measure --------------------------------------------------------------------

run() { # variant cycles
	eval "cmd=\$v_$1"
	BN=$2 sh -c "$cmd"
}
fastest() { sort -n | head -1; }

i=0
while [ $i -lt "$ROUNDS" ]; do
	set -- $VARIANTS
	while [ $# -gt 0 ]; do
		run "$1" "$2" >>"$T/t.$1"
		shift 2
	done
	i=$((i + 1))
done
set -- $VARIANTS
while [ $# -gt 0 ]; do
	fastest <"$T/t.$1" >"$T/min.$1"
	shift 2
done

# Syscalls per cycle over every process involved: strace -f, 200 cycles minus 100.
syscalls() { # variant
	command -v strace >/dev/null || { echo "-"; return; }
	for n in 100 200; do
		eval "cmd=\$v_$1"
		BN=$n strace -f -c -o "$T/sc.$n" sh -c "$cmd" >/dev/null 2>&1 || { echo "-"; return; }
	done
	a=$(awk '$NF == "total" {print $(NF - 2)}' "$T/sc.100")
	b=$(awk '$NF == "total" {print $(NF - 2)}' "$T/sc.200")
	echo "$a $b" | awk '{printf "%.0f", ($2 - $1) / 100}'
}

ns() { cat "$T/min.$1"; }
ratio() { echo "$(ns "$1") $(ns "$2")" | awk '{printf "%.2f", $1 / $2}'; }
row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5"; }
cycle_row() { # variant label baseline note
	row "$2" "$(awk '{printf "%.0f ns", $1}' "$T/min.$1")" "$(ratio "$1" "$3")" \
		"$(syscalls "$1")" "$4"
}
over() { # variant floor: ns per cycle over the floor, and the ratio to it
	echo "$(ns "$1") $(ns "$2")" | awk '{printf "%+.0f ns over the floor (%.2fx)", $1 - $2, $1 / $2}'
}
per_call() { # variant baseline: µs per supervised call (a cycle has two)
	echo "$(ns "$1") $(ns "$2")" | awk '{printf "%.1f", ($1 - $2) / 2 / 1000}'
}

# --- the table --------------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "# make bench, ${BENCH_DATE:-$(date -u +%Y-%m-%d)}"
echo
echo "machine: ${cpu:-$(uname -m)}, $(nproc) CPUs; kernel Linux $(uname -r);" \
	"$(getconf GNU_LIBC_VERSION 2>/dev/null || echo "libc unknown"); load average at start" \
	"$(cut -d' ' -f1 /proc/loadavg)"
echo "cycles: socket + SO_REUSEADDR + bind(0.0.0.0:$P) + listen + close; each run's fastest" \
	"tenth, fastest of $ROUNDS alternating runs of $N cycles ($NS supervised); ratios to native" \
	"from the same run"
echo
row "path" "per cycle" "ratio to native" "syscalls per cycle" "note"
row "---" "---:" "---:" "---:" "---"
cycle_row native "native" native "the baseline"
cycle_row empty "empty preloaded library" native "what any LD_PRELOAD costs"
if [ -z "$fb_why" ]; then
	cycle_row fb "$FB_NAME" native "rewrites every IPv4 bind; buffered log (fopen)"
else
	row "force_bind" "not measured" "-" "-" "$fb_why"
fi
cycle_row allowed "bindshim, allowed (127.0.0.1)" native_lo "ratio to native 127.0.0.1"
cycle_row null "bindshim, rewrite, record to /dev/null" native "preload only"
cycle_row floor "floor: native + one write(2) of a record" native \
	"a $REC-byte line per cycle to a file beside the next row's log, opened as bindshim opens it (O_APPEND)"
cycle_row file "bindshim, rewrite, record to a file" native \
	"preload only; one write(2) per record; $(over file floor)"
if [ -z "$sup_why" ]; then
	cycle_row sup "supervised (bindshim run), dynamic program" native \
		"$(per_call sup null) µs per supervised call (over the shim alone)"
	cycle_row sup_static "supervised (bindshim run), static program" static \
		"$(per_call sup_static static) µs per supervised call"
else
	row "supervised (bindshim run)" "not measured" "-" "-" "$sup_why"
fi
# Records the ring buffer had no room for, so far.
kdrops() {
	"$B/bindshim" system status --pin "$PIN/bs" | sed -n 's/^ *records dropped (ring full) *//p'
}

# The time the kernel spends in bindshim's programs per cycle, from the kernel's
# own accounting (kernel.bpf_stats_enabled): no noise from the rest of the cycle.
prog_time() {
	command -v bpftool >/dev/null && [ -w /proc/sys/kernel/bpf_stats_enabled ] || return 1
	was=$(cat /proc/sys/kernel/bpf_stats_enabled)
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	BN=$N sh -c "$v_kernel" >/dev/null
	echo "$was" >/proc/sys/kernel/bpf_stats_enabled
	for l in "$PIN"/bs/link_*; do
		id=$(bpftool link show pinned "$l" 2>/dev/null | sed -n 's/.*prog \([0-9]*\).*/\1/p' | head -1)
		[ -n "$id" ] && bpftool prog show id "$id" | head -1
	done | sed -n 's/.*name \([a-z0-9_]*\).*run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \2 \3/p' |
		awk -v n="$N" '{ t += $2; s = s sprintf("%s%s %.0f", s ? ", " : "", $1, $2 / n) }
			END { if (t) printf "%.0f|%s", t / n, s; else exit 1 }'
}
if [ -z "$k_why" ]; then
	cycle_row kernel "kernel mode (bindshim system, cgroup bind4)" native "4-rule policy, rewritten in the kernel; every rewrite recorded (watch to /dev/null; $(kdrops) dropped)"
	if pt=$(prog_time); then
		row "kernel mode: time in bindshim's programs" "${pt%%|*} ns" "-" "-" \
			"kernel.bpf_stats_enabled over $N cycles, ns per cycle: ${pt#*|}"
	fi
else
	row "kernel mode (bindshim system)" "not measured" "-" "-" "$k_why"
fi

# A process that never binds: the seccomp filter and the cgroup programs, per
# syscall (getppid and 1-byte reads), alternating; then process start.
versus() { # label prefix note: native vs under prefix, ns per syscall
	fa=$T/va; fb=$T/vb; ff=$T/vf; : >"$fa"; : >"$fb"; : >"$ff"; i=0
	while [ $i -lt "$ROUNDS" ]; do
		"$B/bench/syscalls" 200000 >>"$fa"
		"$B/bench/syscalls" 200000 filter >>"$ff"
		sh -c "$2 \$0 200000" "$B/bench/syscalls" >>"$fb"
		i=$((i + 1))
	done
	a=$(fastest <"$fa"); b=$(fastest <"$fb"); f=$(fastest <"$ff")
	row "$1" "$(printf '%.0f ns' "$b") per syscall" "$(echo "$a $b" | awk '{printf "%.2f", $2 / $1}')" \
		"1" "$3 (native $(printf '%.0f' "$a") ns, an allow-everything seccomp filter $(printf '%.0f' "$f") ns)"
}
if [ -z "$sup_why" ]; then
	versus "never binds: supervised (bindshim run)" "$B/bindshim run -l --log /dev/null --" \
		"the kernel's action cache skips our filter for these"
fi
if [ -z "$k_why" ]; then
	versus "never binds: kernel mode cgroup" "$INCG" "its programs run on bind, listen, setsockopt, socket creation and close, IPv6 connect and TCP connection events"
fi

if command -v valgrind >/dev/null; then
	count() { # LIB|-: instructions of /bin/true in a fixed small environment
		env -i PATH=/usr/bin:/bin ${1:+LD_PRELOAD=$1} valgrind --tool=callgrind \
			--callgrind-out-file=/dev/null /bin/true 2>&1 |
			sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
	}
	a=$(count ""); e=$(count "$T/libempty.so"); s=$(count "$SHIM")
	row "/bin/true start: instructions (callgrind)" "$s" \
		"$(echo "$a $s" | awk '{printf "%.3f", $2 / $1}')" "-" \
		"empty library $e: shim/empty $(echo "$e $s" | awk '{printf "%.3f", $2 / $1}'); native $a"
else
	row "/bin/true start: instructions" "not measured" "-" "-" "valgrind is not installed"
fi
a=$("$B/bench/faults" 20 - /bin/true); e=$("$B/bench/faults" 20 "$T/libempty.so" /bin/true)
s=$("$B/bench/faults" 20 "$SHIM" /bin/true)
row "/bin/true start: minor page faults" "$s" "$(echo "$a $s" | awk '{printf "%.2f", $2 / $1}')" "-" \
	"empty library $e ($(echo "$e $s" | awk '{printf "%+d", $2 - $1}') for the shim); native $a"

# Servers under the default supervised `bindshim run`, on loopback.
SROUNDS=${SERVER_ROUNDS:-7}
server() { # label script port tool
	if [ -n "$sup_why" ]; then
		row "$1" "not measured" "-" "-" "$sup_why"
	elif [ "$(id -u)" != 0 ]; then
		row "$1" "not measured" "-" "-" "needs root (a private network namespace)"
	elif ! command -v "$4" >/dev/null || ! command -v "$5" >/dev/null; then
		row "$1" "not measured" "-" "-" "$4 or $5 is not installed (make deps)"
	else
		: >"$T/wakes"
		set -- "$1" $(WAKES=$T/wakes ROUNDS=$SROUNDS sh "$SRC/bench/$2" \
			"$B/bindshim run -l --log /dev/null --" "$3")
		row "$1" "$(printf '%.0f req/s' "$3")" "$(echo "$2 $3" | awk '{printf "%.3f", $2 / $1}')" \
			"-" "native $(printf '%.0f' "$2") req/s; best of $SROUNDS alternating runs; the supervisor was switched to $(sort -n "$T/wakes" | tail -1) times at most during a run's load"
	fi
}
server "redis (redis-benchmark SET/GET), supervised" redis.sh 6390 redis-server redis-benchmark
server "nginx (ab, 8 clients, no keep-alive), supervised" nginx.sh 26980 nginx ab

# The policy engine: one decision, indexed.
"$B/bench/decide" >"$T/decide"
for n in 10 10000; do
	row "policy decision, $n rules" \
		"$(awk -v n=$n '$1 == n && $2 == "last" {printf "%.0f ns", $4}' "$T/decide")" "-" "0" \
		"last rule matches (no match: $(awk -v n=$n '$1 == n && $2 == "no" {printf "%.0f ns", $4}' "$T/decide"))"
done
