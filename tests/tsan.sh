#!/bin/sh
# make tsan: the shim under many threads, forks and signals, built with
# ThreadSanitizer (halt_on_error: any race fails). The single-threaded unit tests
# run under ASan instead (Criterion's arena and TSan do not mix).
set -eu
B=$BS_BUILD
export BINDSHIM_BUILTIN=loopback BINDSHIM_LOG=/dev/null

echo "== stress: 64 threads x 200 binds, 2 threads forking"
"$B/tests/linked/stress" 64 200 2
echo "== binds from signal handlers"
"$B/tests/linked/sigbind" 2000
echo "== 16 threads, the first bind of the process among them"
"$B/tests/linked/probe" threads 16 23000
echo "tsan: no race reported"
