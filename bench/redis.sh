#!/bin/sh
# Redis under the --enforce filter vs native, with redis-benchmark as the client,
# alternating 7 times, medians (inside a private network namespace: unshare -n).
ip link set lo up
E=$1
rps() { # prefix
	$1 redis-server --port 6390 --save "" --appendonly no --daemonize no >/dev/null 2>&1 &
	pid=$!
	i=0
	while ! redis-cli -p 6390 ping >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	redis-benchmark -p 6390 -q -n 200000 -t set,get -c 10 2>/dev/null | tr '\r' '\n' |
		sed -n 's/.* \([0-9.]*\) requests per second.*/\1/p' | awk '{s += $1} END {print s / NR}'
	kill $pid
	wait $pid 2>/dev/null
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
na=""; fa=""
for i in 1 2 3 4 5 6 7; do
	na="$na $(rps "")"
	fa="$fa $(rps "$E")"
done
a=$(echo $na | tr ' ' '\n' | median)
b=$(echo $fa | tr ' ' '\n' | median)
printf 'median of 7: native %9.0f req/s  under the filter %9.0f req/s  %+.1f%%\n' "$a" "$b" \
	"$(echo "$a $b" | awk '{print ($2 / $1 - 1) * 100}')"
