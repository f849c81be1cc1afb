#!/bin/bash
# hvoctl builds warning-free at -O2 -Wall -Wextra (its Makefile's flags):
# with the 7.3 build root's gcc, and with the host's when it has libkmod's
# headers (gcc 12 and 14 both warned of a maybe-uninitialized length).
# beside: guests (tests/check runs it beside the suite's guests: it builds
# in a directory of its own, and the guests need none of it)
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/lib.sh"
plan 4

kernel_vars 7.3
src=$ROOT/tmp/hvo-hvoctl-build
rm -rf "$src"
mkdir -p "$src"
cp "$REPO"/tools/hvoctl/{Makefile,*.c,*.h} "$src/"
log=$(in_root "$ROOT" make -C /tmp/hvo-hvoctl-build HVOCTL_VERSION=test 2>&1)
tap $? "hvoctl builds in the 7.3 root ($(in_root "$ROOT" gcc -dumpfullversion))"
is "$(grep -c 'warning:' <<<"$log")" 0 "  ... with no warning"
grep 'warning:' <<<"$log" | head -n 5 | sed 's/^/#   /'
rm -rf "$src"

if pkg-config --exists libkmod 2>/dev/null && command -v gcc >/dev/null; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp "$REPO"/tools/hvoctl/{Makefile,*.c,*.h} "$tmp/"
	log=$(make -C "$tmp" CC=gcc HVOCTL_VERSION=test 2>&1)
	tap $? "hvoctl builds with the host's gcc $(gcc -dumpfullversion)"
	is "$(grep -c 'warning:' <<<"$log")" 0 "  ... with no warning"
	grep 'warning:' <<<"$log" | head -n 5 | sed 's/^/#   /'
else
	tap 0 "hvoctl with the host's gcc # SKIP no libkmod-dev or gcc on the host"
	tap 0 "  ... with no warning # SKIP"
fi
tap_done
