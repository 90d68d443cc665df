#!/bin/sh
# Runs a test binary inside a private network and mount namespace:
#   lo up; veth bs0 = 198.51.100.7/24, 2001:db8::7/64 (the "machine" under test);
#   its peer bs1 = 198.51.100.8/24, 2001:db8::8/64 in a second namespace (a "remote
#   host"), kept by a process whose pid is exported as BS_PEER_PID (nsenter -t it -n).
# No traffic leaves these namespaces.
set -eu
if [ "${BS_IN_NETNS:-}" != 1 ]; then
	# Not root (a developer's machine): a user namespace gives the same powers here.
	user=""
	[ "$(id -u)" = 0 ] || user="--user --map-root-user"
	# shellcheck disable=SC2086
	exec env BS_IN_NETNS=1 unshare $user --net --mount --propagation private -- sh "$0" "$@"
fi
ip link set lo up
unshare --net sleep 3600 &
peer=$!
# The tests' temporary files, in one directory that goes when they are done (open to
# all: some tests run programs as nobody).
TMPDIR=$(mktemp -d /tmp/bindshim-run.XXXXXX)
chmod 755 "$TMPDIR"
export TMPDIR
trap 'kill $peer 2>/dev/null; wait $peer 2>/dev/null || true; rm -rf "$TMPDIR"' EXIT INT TERM
# Wait (bounded) until the sleeper is inside its own namespace.
i=0
while [ "$(readlink /proc/$peer/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "netns: peer namespace did not start" >&2; exit 1; }
	sleep 0.05
done
ip link add bs0 type veth peer name bs1 netns "$peer"
ip addr add 198.51.100.7/24 dev bs0
ip -6 addr add 2001:db8::7/64 dev bs0 nodad
ip link set bs0 up
nsenter -t "$peer" -n sh -c '
	ip link set lo up
	ip addr add 198.51.100.8/24 dev bs1
	ip -6 addr add 2001:db8::8/64 dev bs1 nodad
	ip link set bs1 up'
export BS_PEER_PID=$peer
"$@"
