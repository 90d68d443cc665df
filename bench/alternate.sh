# Sourced by the server benches: runs rps "" (native) and rps "$E" (under the
# prefix) alternately ROUNDS times and prints the best of each, as the cycle rows
# take the fastest run (noise on a shared machine only ever takes throughput
# away): "NATIVE UNDER". With WAKES set, each supervised run appends to that file
# how many times the supervisor was switched to during its load (between
# load_begins and load_ends): a request it had to answer would be one at least.
best() { sort -n | tail -1; }
alternate() {
	na=""; fa=""; i=0
	while [ $i -lt "$ROUNDS" ]; do
		na="$na $(rps "")"
		fa="$fa $(under=1; rps "$E")"
		i=$((i + 1))
	done
	echo "$(echo $na | tr ' ' '\n' | best) $(echo $fa | tr ' ' '\n' | best)"
}
# The context switches of process $1 so far (nothing if it is not there).
switches() { awk '/ctxt_switches/ {s += $2} END {if (NR) print s}' "/proc/$1/status" 2>/dev/null; }
# Notes the supervisor under launcher $1 (bindshim run's child) in a supervised
# run (a native server's child is its own worker).
load_begins() {
	sup=$([ -n "$under" ] && awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null)
	w0=$( [ -n "$sup" ] && switches "$sup")
}
load_ends() {
	[ -n "$WAKES" ] && [ -n "$w0" ] && w1=$(switches "$sup") && echo $((w1 - w0)) >>"$WAKES"
	return 0
}
