#!/bin/sh
# make fuzz: each target for FUZZ_TIME seconds from a seed corpus, inside a private
# network namespace (the bind target makes real binds). Prints the executions run.
set -eu
B=$(realpath "${BS_BUILD:-build-fuzz}")
T=${FUZZ_TIME:-60}
SRC=$(realpath "${BS_SRC:-.}")
export LSAN_OPTIONS="suppressions=$SRC/tests/fuzz/lsan.supp:print_suppressions=0"
C=$B/corpus
rm -rf "$B/crashes"
mkdir -p "$C/policy" "$C/bind" "$B/crashes"
cp "$SRC"/examples/*.cfg "$SRC"/tests/fixtures/*/*.cfg "$C/policy/"
# bind seeds (tests/fuzz/seeds/bind): kind byte, length (2 bytes), then a sockaddr.
# The corpus grows in the build directory only.
cp "$SRC"/tests/fuzz/seeds/bind/* "$C/bind/"
run() { # target corpus mode
	echo "== $1 ($3), $T s"
	BS_FUZZ_MODE=$3 "$B/fuzz/$1" -max_total_time="$T" -print_final_stats=1 \
		-artifact_prefix="$B/crashes/$1-" -close_fd_mask=1 "$C/$2" 2>&1 |
		grep -E 'stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|crash-|Done' || true
}
run policy_load policy allow
run bind_path bind allow
run bind_path bind loopback
if ls "$B/crashes/" | grep -q .; then
	echo "fuzz: crashes in $B/crashes" >&2
	exit 1
fi
