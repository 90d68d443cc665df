#!/bin/sh
# Redis natively and under PREFIX (bindshim run ...), redis-benchmark as the client
# on loopback, alternating ROUNDS times; prints the best requests per second of
# each (SET and GET averaged): "NATIVE UNDER".
#   sh bench/redis.sh PREFIX PORT
E=$1
PORT=${2:-6390}
ROUNDS=${ROUNDS:-7}
REQUESTS=${REQUESTS:-100000}
rps() { # prefix
	$1 redis-server --port "$PORT" --save "" --appendonly no --daemonize no >/dev/null 2>&1 &
	pid=$!
	i=0
	while ! redis-cli -p "$PORT" ping >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	load_begins $pid
	redis-benchmark -p "$PORT" -q -n "$REQUESTS" -t set,get -c 10 2>/dev/null | tr '\r' '\n' |
		sed -n 's/.* \([0-9.]*\) requests per second.*/\1/p' | awk '{s += $1} END {print NR ? s / NR : 0}'
	load_ends
	kill $pid
	wait $pid 2>/dev/null
}
. "$(dirname "$0")/alternate.sh"
alternate
