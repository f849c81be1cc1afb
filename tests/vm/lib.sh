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
	# HVO_ROOT: boot another root that has this kernel, such as a
	# throwaway overlay of this one (the package and boot tests).
	ROOT=${HVO_ROOT:-$HVO_CACHE/root-$1}
}

# old_kver ROOT: the 6.12 kernel whose headers a build root carries, to
# see the module refuse a kernel without mask-encoded compound_info.
old_kver() {
	local d
	d=$(ls -d "$1"/usr/src/linux-headers-6.12.*-amd64 2>/dev/null | head -n 1)
	d=$(basename "$d")
	echo "${d#linux-headers-}"
}

# The Debian mirror: HVO_MIRROR if set, else the one this machine's own
# apt uses for Debian itself (no host is hard-coded): the entry for
# deb.debian.org if there is one, else the first of debian.sources, else
# the first non-security entry of any source list.
debian_mirror() {
	local m files
	if [ -n "${HVO_MIRROR:-}" ]; then
		echo "${HVO_MIRROR%/}"
		return
	fi
	files=(/etc/apt/sources.list.d/debian.sources /etc/apt/sources.list
	       /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list)
	m=$(grep -hsE '^(URIs:|deb )' "${files[@]}" | grep -v security |
		grep -oE 'https?://[^ ]+' | grep -m1 -E '^https?://deb\.debian\.org/')
	[ -n "$m" ] || m=$(grep -hsE '^(URIs:|deb )' "${files[@]}" | grep -v security |
		grep -oE 'https?://[^ ]+' | head -n1)
	echo "${m%/}"
}

# Run a command chrooted in $1 with proc/sys/dev mounted, in a mount
# namespace of its own: guests boot from these roots over 9p while host
# tests build in them, and a bind mount (or its lazy unmount) under a
# guest's feet took /proc from a booting guest.
in_root() {
	local root=$1
	shift
	unshare --mount --propagation private -- bash -c '
		root=$1
		shift
		for d in proc sys dev dev/pts; do
			mount --bind "/$d" "$root/$d" || exit 125
		done
		exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' in_root "$root" "$@"
}

# What fails a guest run even when its command succeeded: these in the
# kernel's log, or a taint flag other than the two that loading any
# out-of-tree module built by DKMS sets (checked in a 7.3 guest: 12288
# after modprobe hvo_shared).
KLOG_BAD='WARNING:|BUG:|Oops|general protection|list_del corruption|Call Trace|UBSAN:|Kernel panic'
TAINT_ALLOWED=$(( (1 << 12) | (1 << 13) ))	# O out-of-tree, E unsigned
TAINT_LETTERS=PFSRMBUDAWCIOELKXTNJ

# klog_lines JOB: the kernel's own messages of a guest run, as
# "SOURCE:LINE: TEXT": its dmesg (complete if the job finished) and the
# lines of its console that the kernel printed (timestamped), which hold
# a crash's last words. Nothing the job or guest-init wrote is included.
klog_lines() {
	local job=$1
	[ -f "$job/dmesg" ] && grep -n '' "$job/dmesg" | sed 's/^/dmesg:/'
	[ -f "$job/console.log" ] && tr -d '\r' <"$job/console.log" | grep -n '' |
		grep -E '^[0-9]+:\[ *[0-9]+\.[0-9]+\] ' | sed 's/^/console:/'
	return 0
}

# taint_flags VALUE: the letters of the set bits, as the kernel prints them.
taint_flags() {
	local t=$1 i out=""
	for ((i = 0; i < ${#TAINT_LETTERS}; i++)); do
		(( t & (1 << i) )) && out+=${TAINT_LETTERS:i:1}
	done
	(( t >> ${#TAINT_LETTERS} )) && out+="+bits>=${#TAINT_LETTERS}"
	echo "$out"
}

# klog_check JOB: print what is wrong with the kernel's log and taint
# flags of a guest run; fail if anything is.
klog_check() {
	local job=$1 bad t rc=0
	bad=$(klog_lines "$job" | grep -E -- "$KLOG_BAD")
	if [ -n "$bad" ]; then
		echo "tests/vm/run: guest kernel log has warnings or oopses ($job: dmesg, console.log):"
		head -n 40 <<<"$bad"
		rc=1
	fi
	if [ -s "$job/tainted" ]; then
		t=$(cat "$job/tainted")
		if (( t & ~TAINT_ALLOWED )); then
			echo "tests/vm/run: guest kernel tainted: $t ($(taint_flags "$t")), allowed only $(taint_flags $TAINT_ALLOWED)"
			rc=1
		fi
	fi
	return $rc
}

# build_test_programs ROOT: compile tests/guest/bin/*.c (with their
# headers, *.h) with the root's own compiler and libc into
# ROOT/opt/hvo-tests, which the guest sees and
# tests/guest/lib.sh's helper uses (HVO_TEST_BIN). A program that fails
# to build is left out: the guest then builds it and reports the error.
# Built again only when the sources changed, aside, then swapped in: other
# guests may be running from the same root (tests/check runs the bench's
# self-test beside the suite).
build_test_programs() {
	local root=$1 want dir lock
	want=$(cat "$REPO"/tests/guest/bin/*.[ch] | sha256sum | cut -c1-16)
	mkdir -p "$root/opt"
	# One build at a time; whoever waited finds it done.
	exec {lock}>"$root/opt/.hvo-tests.lock"
	flock "$lock"
	if [ "$(cat "$root/opt/hvo-tests/stamp" 2>/dev/null)" != "$want" ]; then
		dir=/opt/hvo-tests.$$
		rm -rf "$root$dir"
		mkdir -p "$root$dir/src"
		cp "$REPO"/tests/guest/bin/*.[ch] "$root$dir/src/"
		# A source without main() is a library to LD_PRELOAD: NAME.so.
		in_root "$root" sh -c 'cd "$1" && for f in src/*.c; do
			n=${f#src/}; n=${n%.c}
			if grep -q "^int main" "$f"; then
				gcc -O2 -Wall -o "$n" "$f"
			else
				gcc -O2 -Wall -shared -fPIC -o "$n.so" "$f"
			fi || echo "tests/vm/run: could not build tests/guest/bin/$n.c; the guest will try" >&2
		done' _ "$dir"
		echo "$want" >"$root$dir/stamp"
		rm -rf "$root/opt/hvo-tests.old"
		[ ! -e "$root/opt/hvo-tests" ] || mv "$root/opt/hvo-tests" "$root/opt/hvo-tests.old"
		mv "$root$dir" "$root/opt/hvo-tests"
		rm -rf "$root/opt/hvo-tests.old"
	fi
	[ -z "${KVER:-}" ] || build_test_kmod "$root" "$KVER"
	exec {lock}>&-
}

# build_test_kmod ROOT KVER: the test kernel modules (tests/guest/kmod) for
# KVER, into ROOT/opt/hvo-kmod/KVER; built again only when their source
# changed. hvo_page_cost times the module's own fill: include/hvo_fill.h.
build_test_kmod() {
	local root=$1 kver=$2 dir want src
	src=("$REPO"/tests/guest/kmod/* "$REPO/include/hvo_fill.h")
	dir=$root/opt/hvo-kmod/$kver
	want=$(cat "${src[@]}" | sha256sum | cut -c1-16)
	[ "$(cat "$dir/stamp" 2>/dev/null)" = "$want" ] && [ -s "$dir/hvo_test_owner.ko" ] &&
		[ -s "$dir/hvo_page_cost.ko" ] && [ -s "$dir/hvo_call_time.ko" ] && return
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "${src[@]}" "$dir/"
	if in_root "$root" make -C "/lib/modules/$kver/build" M="/opt/hvo-kmod/$kver" modules \
		>"$dir/build.log" 2>&1; then
		echo "$want" >"$dir/stamp"
	else
		echo "tests/vm/run: could not build tests/guest/kmod for $kver (see $dir/build.log)" >&2
	fi
}
