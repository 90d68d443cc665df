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
