#!/bin/sh
# Installs what is missing (Debian, apt-get), and only that, by group:
#   sh tests/deps.sh build      to build bindshim: a C compiler, make, libconfig-dev
#   sh tests/deps.sh runtime    to run it and make demo: libconfig, python3, ip, unshare
#   sh tests/deps.sh test       make check: Criterion, the servers the integration
#                               tests run, Go, static busybox, valgrind and strace
#                               (the cost suite), ab (make bench), clang's libFuzzer,
#                               and what make deb and its test need
# With no group: all three.
set -eu
[ $# -gt 0 ] || set -- build runtime test
missing=""
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need_file() { [ -e "$1" ] || missing="$missing $2"; }

build_deps() {
	need_cmd cc gcc
	need_cmd make make
	need_file /usr/include/libconfig.h libconfig-dev
	# the shim opens libconfig by its soname, read from the library with objdump
	need_cmd objdump binutils
}

runtime_deps() {
	ldconfig -p 2>/dev/null | grep -q 'libconfig\.so\.' || missing="$missing libconfig9"
	need_cmd python3 python3
	need_cmd ip iproute2
	need_cmd unshare util-linux
	need_cmd nsenter util-linux
}

test_deps() {
	need_file /usr/include/criterion/criterion.h libcriterion-dev
	need_cmd node nodejs
	need_cmd socat socat
	need_cmd redis-server redis-server
	need_cmd redis-benchmark redis-tools
	# --enforce tests: a pure-Go program and a static busybox
	need_cmd go golang-go
	need_file /bin/busybox busybox-static
	need_cmd nginx nginx-light
	# the cost suite and make bench: callgrind, strace, and a load generator for nginx
	need_cmd valgrind valgrind
	need_cmd strace strace
	need_cmd ab apache2-utils
	need_cmd setcap libcap2-bin
	need_cmd setpriv util-linux
	need_cmd pkill procps
	# man page lint; make deb and the package test
	need_cmd groff groff-base
	need_cmd mandoc mandoc
	need_cmd dpkg-buildpackage dpkg-dev
	need_cmd dh debhelper
	need_cmd lintian lintian
	# kernel mode (bindshim system): clang -target bpf, libbpf, bpftool for the skeleton
	need_file /usr/include/bpf/bpf_helpers.h libbpf-dev
	[ -x /usr/sbin/bpftool ] || command -v bpftool >/dev/null 2>&1 || missing="$missing bpftool"
	# make fuzz: clang with its libFuzzer runtime
	if command -v clang >/dev/null 2>&1; then
		need_file "$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a" libclang-rt-dev
	else
		missing="$missing clang libclang-rt-dev"
	fi
}

for group in "$@"; do
	case $group in
	build) build_deps ;;
	runtime) runtime_deps ;;
	test) test_deps ;;
	*) echo "deps: unknown group \"$group\" (build, runtime or test)" >&2; exit 2 ;;
	esac
done

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
