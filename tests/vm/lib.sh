# Common settings for the QEMU bench. Sourced, not run.
# shellcheck shell=bash

HVO_CACHE=${HVO_CACHE:-$HOME/.cache/hvo_shared}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# kernel_vars 7.3|7.2: which Debian kernel, suite and build root to use.
kernel_vars() {
	case "$1" in
	7.3)
		KVER=7.3.4+deb13-amd64
		SUITE=trixie
		SUITES="trixie trixie-backports"
		;;
	7.2)
		KVER=7.2.13+deb14-amd64
		SUITE=sid
		SUITES="sid"
		;;
	*)
		echo "unknown kernel '$1' (use 7.3 or 7.2)" >&2
		return 1
		;;
	esac
	ROOT=$HVO_CACHE/root-$1
}

# The Debian mirror this machine's own apt uses: no host is hard-coded.
debian_mirror() {
	local m
	m=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list |
		grep -v security | grep -oE 'https?://[^ ]+' | head -n1)
	echo "${m%/}"
}

# Run a command chrooted in $1 with proc/sys/dev mounted, then unmount.
in_root() {
	local root=$1 rc=0 d
	shift
	for d in proc sys dev dev/pts; do
		mountpoint -q "$root/$d" || mount --bind "/$d" "$root/$d"
	done
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" || rc=$?
	for d in dev/pts dev sys proc; do
		umount -l "$root/$d" 2>/dev/null || true
	done
	return $rc
}
