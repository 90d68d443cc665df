#!/bin/sh
# The main job: a real dev server that asks for every interface, wrapped by bindshim.
# Python's http.server binds 0.0.0.0 by default; under bindshim it serves on loopback
# only. Shows the log record and what really listens, then keeps serving until
# Ctrl-C (DEMO_SECONDS=N stops it after N seconds).
set -eu
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
echo "\$ build/bindshim run -- python3 -m http.server $PORT"
build/bindshim run -- python3 -u -m http.server "$PORT" --directory examples &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT INT TERM
i=0
until grep -q ":$(printf '%04X' "$PORT") .* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: the server did not start" >&2; exit 1; }
	sleep 0.1
done
echo
echo "What listens on port $PORT (local address column):"
awk -v p=":$(printf '%04X' "$PORT")" '$2 ~ p"$" && $4 == "0A" {print "  " FILENAME ": " $2}' \
	/proc/net/tcp /proc/net/tcp6
echo "  (0100007F = 127.0.0.1 and 00000000000000000000000001000000 = ::1: loopback only)"
if command -v curl >/dev/null 2>&1; then
	echo; echo "\$ curl -s http://127.0.0.1:$PORT/ | head -3"
	curl -s "http://127.0.0.1:$PORT/" | head -3
fi
echo
if [ -n "${DEMO_SECONDS:-}" ]; then
	sleep "$DEMO_SECONDS"
else
	echo "Serving on loopback only; Ctrl-C to stop."
	wait $pid
fi
