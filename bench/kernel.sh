#!/bin/sh
# make bench, kernel mode: the cost of the cgroup bind program per
# socket+bind+listen+close cycle, native vs in a cgroup under kernel mode,
# alternating in one run, and what a process that never binds pays (none: the
# programs run only on bind, listen and setsockopt). Runs in a private mount and
# network namespace, on a cgroup and bpffs of its own; prints ratios.
set -eu
B=${BS_BUILD:-build}
ROUNDS=${ROUNDS:-15}
N=${N:-20000}
if [ "${BS_KBENCH_INNER:-}" != 1 ]; then
	exec env BS_KBENCH_INNER=1 unshare --net --mount --propagation private -- sh "$0" "$@"
fi
ip link set lo up
root=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
[ -n "$root" ] || { echo "kernel mode bench: no cgroup v2 mount, skipped"; exit 0; }
dir=$(mktemp -d)
cg=$root/bindshim-bench-$$
mount -t bpf bpf "$dir"
mkdir "$cg"
trap '"$B/bindshim" system disable --pin "$dir/bs" >/dev/null 2>&1; umount "$dir"; rmdir "$cg" "$dir"' EXIT
cat >"$dir.cfg" <<'CFG'
version = 1;
rules = (
  { name = "ssh"; match = { port = 22; }; action = "deny"; },
  { name = "trusted"; match = { program = "sshd*"; }; action = "allow"; },
  { name = "lab"; match = { address = "198.51.100.0/24"; }; action = "allow"; },
  { name = "wild"; match = { address = "wildcard"; }; action = "rewrite"; to = "loopback"; }
);
CFG
if ! "$B/bindshim" system enable -p "$dir.cfg" --cgroup "$cg" --pin "$dir/bs" >/dev/null 2>"$dir.err"; then
	echo "kernel mode bench: cannot enable here, skipped:"; cat "$dir.err"; exit 0
fi
rm -f "$dir.cfg" "$dir.err"
incg() { sh -c "echo \$\$ > $cg/cgroup.procs && exec \"\$0\" \"\$@\"" "$@"; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
versus() { # label, args...: native vs in the cgroup
	label=$1; shift
	fa=$(mktemp); fb=$(mktemp); i=0
	while [ $i -lt "$ROUNDS" ]; do
		"$@" >>"$fa"; incg "$@" >>"$fb"; i=$((i + 1))
	done
	a=$(median <"$fa"); b=$(median <"$fb")
	printf '%-44s native %8.1f ns  kernel mode %8.1f ns  ratio %.2f\n' "$label" "$a" "$b" \
		"$(echo "$a $b" | awk '{print $2 / $1}')"
	rm -f "$fa" "$fb"
}
echo "== kernel mode: socket+bind+listen+close, median of $ROUNDS alternating runs of $N cycles (4-rule policy)"
versus "bind 127.0.0.1:0 (allowed)" "$B/bench/cycle-static" "$N" 127.0.0.1
versus "bind 0.0.0.0:0 (rewritten, recorded)" "$B/bench/cycle-static" "$N" 0.0.0.0
echo "== a process that never binds (getppid and 1-byte reads, ns per syscall)"
versus "native vs in the kernel-mode cgroup" "$B/bench/syscalls" 500000
"$B/bindshim" system status --pin "$dir/bs" | sed -n 's/^  \(records dropped.*\)/   (\1: no watch daemon in the bench)/p'
