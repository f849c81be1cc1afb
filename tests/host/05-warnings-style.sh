#!/bin/bash
# What the compiler and checkpatch say of the source beyond the W=1 build
# that 01-build checks: one readable #error against 6.12's headers, and
# kernel style. Nothing here is installed or booted.
# beside: guests (tests/check runs it beside the suite's guests: it builds
# in a copy of the tree, and the guests need none of it)
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/lib.sh"

version=$(make -s --no-print-directory -C "$REPO" version)
plan 6

# build_in ROOT KDIR: build a copy of the DKMS source tree, print the log.
build_in() {
	in_root "$1" sh -c "rm -rf /tmp/hvo-build &&
		cp -r /usr/src/hvo_shared-$version /tmp/hvo-build &&
		make -C /tmp/hvo-build KDIR=$2 W=1 module 2>&1"
}

kernel_vars 7.3
old=$(old_kver "$ROOT")
log=$(build_in "$ROOT" "/lib/modules/$old/build")
tap $(( $? == 0 )) "build against $old headers fails"
errs=$(grep -c 'error:' <<<"$log")
is "$errs" 1 "  ... with exactly one error line"
ok "  ... which is the #error naming the missing compound_info" -- \
	grep -q '#error "hvo_shared: these kernel headers lack mask-encoded compound_info' <<<"$log"

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
