# Paths and the chroot for the debug kernel (tests/debug/build, check) and
# the selftests build. Sourced after tests/vm/lib.sh.
# shellcheck shell=bash

kernel_vars 7.3
DBG=$HVO_CACHE/debug-kernel
DBG_BUILD=$DBG/build
KSRC=$(readlink -f "${KSRC:-$HVO_CACHE/src/linux-source-7.3}")
# Where the chroot sees them: the source read-only, the cache read-write.
DBG_IN=/mnt/hvo-debug
SRC_IN=/mnt/hvo-debug-src

# dbg_chroot CMD...: run CMD chrooted in the 7.3 root with proc, sys, dev,
# the kernel source (read-only) and the debug cache mounted, all in a
# private mount namespace. Unlike in_root, a guest boot or a DKMS install
# (whose in_root unmounts proc and dev on its way out) can run meanwhile
# without pulling /dev/null from under a 20-minute build, and the guest
# never sees these mounts in its 9p root.
dbg_chroot() {
	mkdir -p "$DBG_BUILD" "$ROOT$DBG_IN" "$ROOT$SRC_IN"
	unshare -m --propagation private /bin/sh -ec '
		r=$1 dbg=$2 src=$3 dbg_in=$4 src_in=$5
		shift 5
		for d in proc sys dev dev/pts; do mount --bind "/$d" "$r/$d"; done
		mount --bind "$dbg" "$r$dbg_in"
		mount --bind "$src" "$r$src_in"
		mount -o remount,bind,ro "$r$src_in"
		exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' sh "$ROOT" "$DBG" "$KSRC" "$DBG_IN" "$SRC_IN" "$@"
}

# dbg_make ARGS...: make in the debug tree, niced: the machine is shared.
dbg_make() {
	dbg_chroot nice -n 10 make -C "$SRC_IN" O="$DBG_IN/build" "$@"
}

# The release the built tree reports (7.3.4-hvodebug), empty before a build.
dbg_release() { cat "$DBG_BUILD/include/config/kernel.release" 2>/dev/null; }
