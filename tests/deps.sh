#!/bin/sh
# Installs what the build and the tests need, and only what is missing (Debian).
set -eu
missing=""
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need_file() { [ -e "$1" ] || missing="$missing $2"; }

need_cmd cc gcc
need_cmd make make
need_cmd pkg-config pkg-config
need_file /usr/include/libconfig.h libconfig-dev
need_file /usr/include/criterion/criterion.h libcriterion-dev
need_cmd python3 python3
need_cmd node nodejs
need_cmd socat socat
need_cmd redis-server redis-server
need_cmd redis-benchmark redis-tools
# --enforce tests: a pure-Go program and a static busybox
need_cmd go golang-go
need_file /bin/busybox busybox-static
need_cmd nginx nginx-light
need_cmd ip iproute2
need_cmd unshare util-linux
need_cmd nsenter util-linux
need_cmd valgrind valgrind
need_cmd setcap libcap2-bin
need_cmd setpriv util-linux
need_cmd objdump binutils
# kernel mode (bindshim system): clang -target bpf, libbpf, bpftool for the skeleton
need_file /usr/include/bpf/bpf_helpers.h libbpf-dev
[ -x /usr/sbin/bpftool ] || command -v bpftool >/dev/null 2>&1 || missing="$missing bpftool"
# make fuzz: clang with its libFuzzer runtime
if command -v clang >/dev/null 2>&1; then
	need_file "$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a" libclang-rt-dev
else
	missing="$missing clang libclang-rt-dev"
fi

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing:$missing (run as root, or install them)" >&2
		exit 1
	fi
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Installing nginx or redis may start them on the host; the tests use their own
# network namespace and never talk to those.
exit 0
