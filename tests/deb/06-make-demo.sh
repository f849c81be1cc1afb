#!/bin/bash
# make demo, the README's first command, as a user types it on the host:
# it prepares the 7.3 root, puts this tree's source in its /usr/src for
# DKMS (removing every hvo_shared installed there before), boots a guest
# whose `dkms install` builds the module, and shows it at work on a pool
# of 256 folios (tests/guest/demo.sh). Its figures must be measured ones:
# the pool it grew, every folio optimized, 7 vmemmap pages saved per folio
# by the kernel's own counters it printed before and after, and
# saved_bytes as the stats' parts add up.
# timeout: 1200
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/lib.sh"
cd "$REPO" || exit 1
plan 12
N=256

kernel_vars 7.3
version=$(make -s --no-print-directory version)
: >"$HVO_CACHE/make-demo.stamp"
# From a shell, as typed: not as a sub-make of make check-deb, whose
# MAKEFLAGS would have every make below print its directories.
out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make demo 2>&1)
tap $? "make demo exits 0"
sed 's/^/#   /' <<<"$out"

# section CMD [N]: the lines demo.sh printed under its "$ CMD" line, the
# N-th such section if given.
section() {
	awk -v cmd="\$ $1" -v want="${2:-1}" '
		$0 == cmd { n++; on = (n == want); next }
		/^\$ / { on = 0 } on' <<<"$out"
}
field() { awk -v k="$1" '$1 == k { print $2; exit }'; }
memmap() { section "grep -E nr_memmap /proc/vmstat" "$1" | awk '{ n += $2 } END { print n + 0 }'; }

ok "its dkms install built the module in the guest" -- \
	grep -q "^Building module" <<<"$(section "dkms install hvo_shared/$version -k $KVER")"
ko=$(find "$ROOT/lib/modules/$KVER/updates" -name 'hvo_shared.ko*' -newer "$HVO_CACHE/make-demo.stamp")
ok "  ... and installed it (${ko#"$ROOT"})" -- test -n "$ko"
stats1=$(section "cat /sys/kernel/debug/hvo_shared/stats" 1)
stats2=$(section "cat /sys/kernel/debug/hvo_shared/stats" 2)
is "$(field version <<<"$stats1") $(field state <<<"$stats1") $(field folios_optimized <<<"$stats1")" \
	"$version active 0" "after modprobe: version $version active, nothing optimized"
is "$(section "grep -E HugePages_(Total|Free) /proc/meminfo" | awk '$1 == "HugePages_Total:" { print $2 }')" \
	"$N" "the pool it printed has the $N folios it asked for"
is "$(field folios_optimized <<<"$stats2")" "$N" "stats it printed: folios_optimized $N"
freed=$(field vmemmap_pages_freed <<<"$stats2")
is "$freed" $((7 * N)) "  ... vmemmap_pages_freed 7 per folio"
alloc=$(field vmemmap_pages_allocated <<<"$stats2") tails=$(field shared_tail_pages <<<"$stats2")
saved=$(field saved_bytes <<<"$stats2")
is "$saved" $(( (freed - alloc - tails) * 4096 )) "  ... saved_bytes = (freed - allocated - shared tails) * 4 KiB"
ok "  ... and positive ($saved)" -- test "${saved:-0}" -gt 0
before=$(memmap 1) after=$(memmap 2)
# The kernel's counters, unfolded per-CPU deltas aside.
within "$(( before - after ))" $((7 * N)) 128 \
	"the nr_memmap_* it printed fell by 7 pages per folio ($before to $after)"
# demo.sh stops at the first command that fails (set -e).
ok "it emptied the pool and unloaded the module" -- \
	bash -c 'grep -q "^\$ echo 0 > /proc/sys/vm/nr_hugepages$" <<<"$1" && grep -q "^\$ rmmod hvo_shared$" <<<"$1"' _ "$out"
ok "dkms status says installed for $KVER" -- \
	grep -q "$KVER, x86_64: installed" <<<"$(section "dkms status hvo_shared")"
rm -f "$HVO_CACHE/make-demo.stamp"
tap_done
