#!/bin/bash
# The module as the guests get it, built in the cached build roots (never
# the host kernel): DKMS for 7.3 and 7.2, built with W=1 and without a
# warning, one readable refusal for 6.12, and hvoctl's packaging install.
# tests/check installs for the kernels whose guests boot before them, and
# runs this beside them: it checks those installs (HVO_INSTALLED) and
# makes the others itself. The other compiler and style checks are
# 05-warnings-style.
# beside: guests
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/lib.sh"

version=$(make -s --no-print-directory -C "$REPO" version)
plan 12

# kernel_builds K: DKMS install for kernel K, results into $work/K.*; an
# install tests/check made is read, not made again (its guests may be
# running from that root). Each kernel has its own build root: both run
# at once, one per core.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kernel_builds() {
	kernel_vars "$1"
	echo "$KVER" >"$work/$1.kver"
	if [ -s "${HVO_INSTALLED:-/nonexistent}/$1.rc" ]; then
		cp "$HVO_INSTALLED/$1.install" "$work/$1.install"
		cp "$HVO_INSTALLED/$1.rc" "$work/$1.install.rc"
	else
		"$REPO/tests/vm/install-module" "$1" >"$work/$1.install" 2>&1
		echo $? >"$work/$1.install.rc"
	fi
	in_root "$ROOT" dkms status hvo_shared >"$work/$1.status" 2>/dev/null
	cp "$ROOT/var/lib/dkms/hvo_shared/$version/$KVER/x86_64/log/make.log" "$work/$1.make.log" 2>/dev/null
}
for k in 7.3 7.2; do kernel_builds "$k" & done
wait
for k in 7.3 7.2; do
	kver=$(cat "$work/$k.kver")
	tap "$(cat "$work/$k.install.rc")" "dkms install for $kver"
	[ "$(cat "$work/$k.install.rc")" = 0 ] || sed 's/^/#   /' "$work/$k.install"
	ok "dkms status says installed for $kver" -- \
		grep -q "hvo_shared/$version, $kver, x86_64: installed" "$work/$k.status"
	ok "  ... DKMS's make.log is there" -- test -s "$work/$k.make.log"
	warn=$(grep -c 'warning:' "$work/$k.make.log" 2>/dev/null)
	is "${warn:-0}" 0 "  ... and its W=1 build has no warnings"
	[ "${warn:-0}" = 0 ] || grep 'warning:' "$work/$k.make.log" | head -n 5 | sed 's/^/#   /'
done

kernel_vars 7.3
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

old=$(old_kver "$ROOT")
out=$(in_root "$ROOT" dkms build "hvo_shared/$version" -k "$old" 2>&1)
tap $(( $? == 0 )) "dkms refuses to build for $old"
ok "  ... and says why: needs Linux 7.2" -- \
	grep -q "kernel $old is not supported: shared tails need mask-encoded compound_info (Linux 7.2 or later)" <<<"$out"

tap_done
