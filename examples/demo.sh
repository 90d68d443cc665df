#!/bin/sh
# make demo: a real dev server that asks for every interface, wrapped by bindshim.
# Python's http.server binds 0.0.0.0 by default; under bindshim it serves on
# loopback only. The demo picks a free port, shows where the server listens (as ss
# does), then proves it: a request on loopback is answered by this very server, and
# the same port is refused from a second network namespace ("another machine",
# 198.51.100.2, documentation addresses on a veth pair). Then it serves until Ctrl-C
# (DEMO_SECONDS=N: N seconds). Needs python3; the namespace part needs root or
# unprivileged user namespaces, and says why it is skipped otherwise.
set -eu
cd "$(dirname "$0")/.."
B=${BS_BUILD:-build}
HERE=198.51.100.1
PEER=198.51.100.2

# Runs itself again in a network namespace of its own (lo, and a veth to a second
# namespace), so the proof touches nothing of this machine's network.
if [ -z "${BS_DEMO_NS:-}" ]; then
	user=""
	[ "$(id -u)" = 0 ] || user="--user --map-root-user"
	# shellcheck disable=SC2086
	if why=$(unshare $user --net true 2>&1); then
		exec env BS_DEMO_NS=1 unshare $user --net -- sh "$0" "$@"
	fi
	BS_DEMO_NS="skipped: cannot make a network namespace here (${why:-unshare failed})"
fi

dir=$(mktemp -d /tmp/bindshim-demo.XXXXXX)
pid="" peer=""
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	[ -z "$peer" ] || kill "$peer" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
# Ctrl-C is how a demo ends: clean up and succeed (make then reports no error).
trap 'echo; echo "Stopped."; exit 0' INT TERM

# Second namespace: a sleeping process holds it; bs-demo0 <-> bs-demo1.
peer_ns() {
	unshare --net sleep 3600 &
	peer=$!
	i=0
	while [ "$(readlink /proc/$peer/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || return 1
		sleep 0.05
	done
	ip link add bs-demo0 type veth peer name bs-demo1 netns "$peer" &&
		ip addr add $HERE/24 dev bs-demo0 && ip link set bs-demo0 up &&
		nsenter -t "$peer" -n sh -c "ip link set lo up && ip addr add $PEER/24 dev bs-demo1 &&
			ip link set bs-demo1 up"
}
if [ "$BS_DEMO_NS" = 1 ]; then
	ip link set lo up
	peer_ns || BS_DEMO_NS="skipped: could not set up the veth pair"
fi

# Ports with a listener, from /proc/net (what ss reads): "ADDRESS:PORT" lines.
listeners() {
	python3 - "$@" <<'EOF'
import socket, struct, sys
want = int(sys.argv[1]) if len(sys.argv) > 1 else None
for name, fam in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
    try:
        lines = open("/proc/net/" + name).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        f = line.split()
        addr, port = f[1].split(":")
        if f[3] != "0A" or (want is not None and int(port, 16) != want):
            continue
        raw = bytes.fromhex(addr)
        # each 32-bit word is printed in host byte order
        raw = b"".join(struct.pack("=I", struct.unpack(">I", raw[i:i + 4])[0])
                       for i in range(0, len(raw), 4))
        host = socket.inet_ntop(fam, raw)
        print(("[%s]" % host if fam == socket.AF_INET6 else host) + ":" + str(int(port, 16)))
EOF
}

# The first port from 8000 on which nothing listens, on any address.
port=8000
while [ -n "$(listeners $port)" ]; do
	echo "Port $port is taken ($(listeners $port | tr '\n' ' ')); trying $((port + 1))."
	port=$((port + 1))
	[ $port -lt 8100 ] || { echo "demo: no free port in 8000-8099" >&2; exit 1; }
done

# A page only this server has, to prove which server answers.
token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "served by the bindshim demo, token $token" > "$dir/token.txt"

echo "\$ $B/bindshim run -- python3 -m http.server $port"
"$B/bindshim" run -- python3 -u -m http.server "$port" --directory "$dir" &
pid=$!
i=0
until [ -n "$(listeners $port)" ]; do
	kill -0 "$pid" 2>/dev/null || { echo "demo: the server exited" >&2; exit 1; }
	i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: the server did not start" >&2; exit 1; }
	sleep 0.1
done

echo
echo "Where it listens (python asked for 0.0.0.0:$port):"
if command -v ss >/dev/null 2>&1; then
	ss -ltn "sport = :$port" | sed 's/^/  /'
else
	listeners $port | sed 's/^/  LISTEN /'
fi

fetch() {
	python3 -c 'import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode().strip())
except Exception as e:
    print("refused: %s" % getattr(e, "reason", e)); sys.exit(1)' "$1"
}

echo
echo "GET http://127.0.0.1:$port/token.txt"
answer=$(fetch "http://127.0.0.1:$port/token.txt") || true
echo "  $answer"
case $answer in
*"token $token"*) echo "  -> answered on loopback, by the wrapped server (the token is ours)" ;;
*) echo "demo: the answer is not from the wrapped server" >&2; exit 1 ;;
esac

echo
if [ "$BS_DEMO_NS" = 1 ]; then
	echo "From another machine (a second network namespace, $PEER):"
	echo "connect to $HERE:$port"
	if answer=$(nsenter -t "$peer" -n sh -c "$(command -v python3) -c '
import socket, sys
s = socket.socket(); s.settimeout(3)
try:
    s.connect((\"$HERE\", $port)); print(\"connected: exposed!\"); sys.exit(1)
except ConnectionRefusedError as e:
    print(\"refused: %s\" % e.strerror)
except OSError as e:
    print(\"no answer at all (%s): the namespaces are not connected\" % e); sys.exit(2)'"); then
		echo "  $answer"
		echo "  -> not reachable from the network"
	else
		echo "  $answer"; echo "demo: the server is reachable from the network" >&2; exit 1
	fi
else
	echo "From another machine: $BS_DEMO_NS."
fi

echo
if [ -n "${DEMO_SECONDS:-}" ]; then
	sleep "$DEMO_SECONDS"
	echo "Done."
else
	echo "Serving on loopback only; Ctrl-C to stop."
	wait "$pid"
fi
