#!/bin/sh
# make bench: decision cost, bind overhead (native vs shim, side by side in one
# run), and what the preload costs a process that never binds (callgrind).
set -eu
B=${BS_BUILD:-build}
SHIM=$B/libbindshim.so
ROUNDS=${ROUNDS:-15}
N=${N:-20000}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "== decision cost (ns per decision, best of 5; targets: <= 100 ns at 10 rules, <= 1 us at 10,000)"
"$B/bench/decide"
echo
echo "== the same with 1% of rules having no port key (scanned for every query)"
"$B/bench/decide" wide
echo

# Interleave native and shim runs so machine noise hits both alike.
cycle() { # $1 = addr, $2 = label
	nat=$(mktemp); shm=$(mktemp)
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		"$B/bench/cycle" "$N" "$1" >>"$nat"
		BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=/dev/null LD_PRELOAD=$SHIM \
			"$B/bench/cycle" "$N" "$1" >>"$shm"
		i=$((i + 1))
	done
	a=$(median <"$nat"); b=$(median <"$shm")
	printf '%-34s native %8.1f ns  shim %8.1f ns  overhead %+.1f%%\n' "$2" "$a" "$b" \
		"$(echo "$a $b" | awk '{print ($2 / $1 - 1) * 100}')"
	rm -f "$nat" "$shm"
}
echo "== socket+bind+listen+close, median of $ROUNDS alternating runs of $N cycles (target <= 3%)"
cycle 127.0.0.1 "bind 127.0.0.1:0 (allowed)"
cycle 0.0.0.0 "bind 0.0.0.0:0 (rewritten, logged)"
echo

# Alternates two commands ROUNDS times; prints their medians and the ratio.
versus() { # label, command A, command B
	fa=$(mktemp); fb=$(mktemp); i=0
	while [ $i -lt "$ROUNDS" ]; do
		sh -c "$2" >>"$fa"; sh -c "$3" >>"$fb"; i=$((i + 1))
	done
	a=$(median <"$fa"); b=$(median <"$fb")
	printf '%-46s %9.1f ns  vs %9.1f ns  %+.1f%%\n' "$1" "$a" "$b" \
		"$(echo "$a $b" | awk '{print ($2 / $1 - 1) * 100}')"
	rm -f "$fa" "$fb"
}
E="$B/bindshim run --enforce -l --log /dev/null --"
echo "== --enforce: socket+bind(0.0.0.0)+listen+close per cycle, $ROUNDS alternating runs"
versus "shim alone vs shim under the supervisor" \
	"BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=/dev/null LD_PRELOAD=$SHIM $B/bench/cycle 2000 0.0.0.0" \
	"$E $B/bench/cycle 2000 0.0.0.0"
versus "shim alone vs a static binary, supervisor judges" \
	"BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=/dev/null LD_PRELOAD=$SHIM $B/bench/cycle 2000 0.0.0.0" \
	"$E $B/bench/cycle-static 2000 0.0.0.0"
echo "== --enforce: the filter on the cheapest syscalls (getppid, 1-byte read), ns per syscall"
echo "   (any seccomp filter costs this much: the kernel's action cache skips our BPF for them)"
versus "native vs under the filter" "$B/bench/syscalls 500000" "$E $B/bench/syscalls 500000"
if command -v redis-benchmark >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	echo "== --enforce: a syscall-heavy server, redis SET/GET requests per second (target <= 5%)"
	unshare -n sh "$(dirname "$0")/redis.sh" "$E"
fi
echo

echo "== a process that never binds: instructions with and without the preload (callgrind; target <= 5%)"
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
	sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'; }
PY=$(python3 -c 'import sys; print(sys.executable)')
EMPTY=$(mktemp -d)/libempty.so
echo 'int bs_bench_empty(void) { return 0; }' | ${CC:-cc} -shared -fPIC -O2 -x c -o "$EMPTY" -
for cmd in "$PY -c pass" "/bin/sh -c :" "/bin/true"; do
	# shellcheck disable=SC2086
	a=$(count $cmd); b=$(env LD_PRELOAD=$SHIM sh -c "exec valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd" 2>&1 |
		sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')
	e=$(env LD_PRELOAD=$EMPTY sh -c "exec valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd" 2>&1 |
		sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')
	printf '%-24s native %11d  shim %11d (%+.2f%%)  an empty library %11d (%+.2f%%)\n' \
		"$(basename "$cmd")" "$a" "$b" "$(echo "$a $b" | awk '{print ($2 / $1 - 1) * 100}')" \
		"$e" "$(echo "$a $e" | awk '{print ($2 / $1 - 1) * 100}')"
done
rm -f "$EMPTY"

# Kernel mode (bindshim system): the cgroup programs' cost, in its own namespace.
if [ "$(id -u)" = 0 ]; then
	echo
	BS_BUILD=$B sh "$(dirname "$0")/kernel.sh"
fi
