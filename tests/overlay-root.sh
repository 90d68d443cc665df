#!/bin/sh
# Runs the suite as in a container whose root filesystem is overlayfs (Docker and
# most CI runners), on this machine: in a private mount namespace, an overlay of /
# (lower: this machine's root; upper and work directories on a tmpfs), with the
# host's /proc, /sys and /dev, entered with chroot. Whatever the run writes (build
# tree, /tmp) goes to the tmpfs and is gone when it ends; the real tree is untouched.
#
#   sh tests/overlay-root.sh                  make test, in the overlay root
#   sh tests/overlay-root.sh CMD [ARG...]     any command, run from the source tree
#
# Run by hand, as root (make check does not run it).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
if [ "${BS_IN_OVERLAY_ROOT:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "overlay-root: needs root" >&2; exit 1; }
	exec env BS_IN_OVERLAY_ROOT=1 unshare --mount --propagation private -- sh "$0" "$@"
fi
[ $# -gt 0 ] || set -- make test
base=$(mktemp -d /tmp/bindshim-overlay-root.XXXXXX)
mount -t tmpfs bs-overlay-root "$base"
mkdir "$base/upper" "$base/work" "$base/root"
root=$base/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$root"
for d in proc sys dev; do
	mount --rbind "/$d" "$root/$d"
done
rc=0
chroot "$root" sh -c '
	echo "overlay-root: / is $(stat -f -c %T /), running: $*" >&2
	cd "$0" && exec "$@"' "$src" "$@" || rc=$?
umount -l "$base"
rmdir "$base"
exit $rc
