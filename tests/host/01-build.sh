#!/bin/bash
# Host-side build checks, in the cached build roots (never the host kernel):
# a warning-free W=1 build, DKMS for 7.3 and 7.2, one readable refusal for
# 6.12, hvoctl's packaging install, and kernel style.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/lib.sh"

version=$(make -s --no-print-directory -C "$REPO" version)
plan 18

# build_in ROOT KDIR: build a copy of the DKMS source tree, print the log.
build_in() {
	in_root "$1" sh -c "rm -rf /tmp/hvo-build &&
		cp -r /usr/src/hvo_shared-$version /tmp/hvo-build &&
		make -C /tmp/hvo-build KDIR=$2 W=1 module 2>&1"
}

# kernel_builds K: DKMS install and W=1 build for kernel K, results into
# $work/K.*. Each kernel has its own build root: both run at once, one
# per core (the host part is before every guest boot).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kernel_builds() {
	kernel_vars "$1"
	echo "$KVER" >"$work/$1.kver"
	"$REPO/tests/vm/install-module" "$1" >"$work/$1.install" 2>&1
	echo $? >"$work/$1.install.rc"
	in_root "$ROOT" dkms status hvo_shared >"$work/$1.status" 2>/dev/null
	build_in "$ROOT" "/lib/modules/$KVER/build" >"$work/$1.w1" 2>&1
	echo $? >"$work/$1.w1.rc"
}
for k in 7.3 7.2; do kernel_builds "$k" & done
wait
for k in 7.3 7.2; do
	kver=$(cat "$work/$k.kver")
	tap "$(cat "$work/$k.install.rc")" "dkms install for $kver"
	[ "$(cat "$work/$k.install.rc")" = 0 ] || sed 's/^/#   /' "$work/$k.install"
	ok "dkms status says installed for $kver" -- \
		grep -q "hvo_shared/$version, $kver, x86_64: installed" "$work/$k.status"
	tap "$(cat "$work/$k.w1.rc")" "W=1 build for $kver"
	warn=$(grep -c 'warning:' "$work/$k.w1")
	is "$warn" 0 "W=1 build for $kver has no warnings"
	[ "$warn" = 0 ] || grep 'warning:' "$work/$k.w1" | head -n 5 | sed 's/^/#   /'
done

kernel_vars 7.3
old=$(basename "$(ls -d "$ROOT"/usr/src/linux-headers-6.12.*-amd64 | head -n 1)")
old=${old#linux-headers-}
log=$(build_in "$ROOT" "/lib/modules/$old/build")
tap $(( $? == 0 )) "build against $old headers fails"
errs=$(grep -c 'error:' <<<"$log")
is "$errs" 1 "  ... with exactly one error line"
ok "  ... which is the #error naming the missing compound_info" -- \
	grep -q '#error "hvo_shared: these kernel headers lack mask-encoded compound_info' <<<"$log"

# Packagers install hvoctl under DESTDIR, built from a copy of the tree
# (31-hvoctl checks it as make install puts it on PATH in the guest).
rm -rf "$ROOT/tmp/hvo-tools" "$ROOT/tmp/hvo-inst"
mkdir -p "$ROOT/tmp/hvo-tools/tools"
cp -r "$REPO/Makefile" "$REPO/VERSION" "$ROOT/tmp/hvo-tools/"
cp -r "$REPO/tools/hvoctl" "$REPO/tools/bpftrace" "$REPO/tools/systemd" "$ROOT/tmp/hvo-tools/tools/"
rm -f "$ROOT/tmp/hvo-tools/tools/hvoctl/hvoctl"
in_root "$ROOT" make -s -C /tmp/hvo-tools tools-install DESTDIR=/tmp/hvo-inst PREFIX=/usr >/dev/null 2>&1
ok "make tools-install DESTDIR=...: hvoctl, its manual page, the .bt tools, the systemd timer" -- \
	test -x "$ROOT/tmp/hvo-inst/usr/sbin/hvoctl" -a -s "$ROOT/tmp/hvo-inst/usr/share/man/man8/hvoctl.8" \
	-a -x "$ROOT/tmp/hvo-inst/usr/sbin/hvo-events.bt" \
	-a -s "$ROOT/tmp/hvo-inst/usr/lib/systemd/system/hvo-shared-metrics.timer"
in_root "$ROOT" make -s -C /tmp/hvo-tools tools-uninstall DESTDIR=/tmp/hvo-inst PREFIX=/usr >/dev/null 2>&1
is "$(find "$ROOT/tmp/hvo-inst" -type f | wc -l)" 0 "make tools-uninstall removes them all"
rm -rf "$ROOT/tmp/hvo-tools" "$ROOT/tmp/hvo-inst"

out=$(in_root "$ROOT" dkms build "hvo_shared/$version" -k "$old" 2>&1)
tap $(( $? == 0 )) "dkms refuses to build for $old"
ok "  ... and says why: needs Linux 7.2" -- \
	grep -q "kernel $old is not supported: shared tails need mask-encoded compound_info (Linux 7.2 or later)" <<<"$out"

# checkpatch exits non-zero on any finding, and when it is broken: both
# fail, and the findings are shown.
checkpatch=${CHECKPATCH:-$HVO_CACHE/src/linux-source-7.3/scripts/checkpatch.pl}
ok "checkpatch.pl is there ($checkpatch)" -- test -x "$checkpatch"
style=$("$checkpatch" --no-tree --terse --show-types -f \
	"$REPO"/src/*.[ch] "$REPO"/include/*.h 2>&1)
tap $? "checkpatch --no-tree -f exits 0 on src/ and include/"
[ -z "$style" ] || sed 's/^/#   /' <<<"$style" | head -n 20
is "$(grep -cE 'ERROR|WARNING|CHECK' <<<"$style")" 0 "  ... with no findings"
tap_done
