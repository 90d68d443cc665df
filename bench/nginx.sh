#!/bin/sh
# nginx (one worker, a fixed 200 answer, no access log) natively and under PREFIX
# (bindshim run ...), ab as the load generator on loopback (keep-alive off: every
# request a connection), alternating ROUNDS times; prints the best requests per
# second of each: "NATIVE UNDER".
#   sh bench/nginx.sh PREFIX PORT
E=$1
PORT=${2:-26980}
ROUNDS=${ROUNDS:-7}
REQUESTS=${REQUESTS:-20000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 512; }
http {
	access_log off;
	server { listen $PORT; location / { return 200 "ok\n"; } }
}
CONF
rps() { # prefix
	$1 nginx -p "$dir" -c "$dir/nginx.conf" >/dev/null 2>&1 &
	pid=$!
	i=0
	while ! ab -q -n 1 "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
	load_begins $pid
	ab -q -n "$REQUESTS" -c 8 "http://127.0.0.1:$PORT/" 2>/dev/null |
		sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p'
	load_ends
	kill $pid
	wait $pid 2>/dev/null
	# the workers leave with the master
	i=0
	while ab -q -n 1 "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
}
. "$(dirname "$0")/alternate.sh"
alternate
