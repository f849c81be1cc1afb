#!/bin/bash
# timeout: 300
# make demo's guest half (tests/demo runs tests/guest/demo.sh), run as is,
# so that the README's first command is part of the suite. Its figures
# must be measured ones: the pool it grew, every folio optimized, 7
# vmemmap pages saved per folio by the kernel's own counters, and
# saved_bytes as the stats' parts add up.
. "$(dirname "$0")/lib.sh"

plan 11
N=256

clean_start
echo 0 >/proc/sys/vm/nr_hugepages
settle
mm0=$(memmap_pages)
out=$(bash "$(dirname "$0")/demo.sh" 2>&1)
tap $? "demo.sh exits 0"
sed 's/^/#   /' <<<"$out"

# section CMD: the lines demo.sh printed under its "$ CMD" line, the n-th
# such section if given.
section() {
	awk -v cmd="\$ $1" -v want="${2:-1}" '
		$0 == cmd { n++; on = (n == want); next }
		/^\$ / { on = 0 } on' <<<"$out"
}
field() { awk -v k="$1" '$1 == k { print $2; exit }'; }

stats1=$(section "cat /sys/kernel/debug/hvo_shared/stats" 1)
stats2=$(section "cat /sys/kernel/debug/hvo_shared/stats" 2)
is "$(field state <<<"$stats1") $(field folios_optimized <<<"$stats1")" "active 0" \
	"after modprobe: the module active, nothing optimized"
is "$(section "grep -E HugePages_(Total|Free) /proc/meminfo" | awk '$1 == "HugePages_Total:" { print $2 }')" \
	"$N" "the pool it printed has the $N folios it asked for"
is "$(field folios_optimized <<<"$stats2")" "$N" "stats it printed: folios_optimized $N"
freed=$(field vmemmap_pages_freed <<<"$stats2")
is "$freed" $((7 * N)) "  ... vmemmap_pages_freed 7 per folio"
alloc=$(field vmemmap_pages_allocated <<<"$stats2") tails=$(field shared_tail_pages <<<"$stats2")
saved=$(field saved_bytes <<<"$stats2")
is "$saved" $(( (freed - alloc - tails) * 4096 )) "  ... saved_bytes = (freed - allocated - shared tails) * 4 KiB"
ok "  ... and positive ($saved)" -- test "${saved:-0}" -gt 0
vm=$(section "grep -E nr_memmap /proc/vmstat")
printed=$(( $(field nr_memmap_pages <<<"$vm") + $(field nr_memmap_boot_pages <<<"$vm") ))
# The kernel's counters, unfolded per-CPU deltas aside.
within "$printed" $((mm0 - 7 * N)) 128 \
	"the nr_memmap_* it printed are the baseline measured here less 7 pages per folio"
ok "it unloaded the module" -- test ! -d /sys/module/hvo_shared
is "$(pool_get 2048)" 0 "  ... and left the pool empty"
ok "dkms status says installed for $(uname -r)" -- \
	grep -q "$(uname -r), x86_64: installed" <<<"$(section "dkms status hvo_shared")"
tap_done
