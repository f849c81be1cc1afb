#!/bin/bash
# boot: movablecore=2G nokaslr
# Memory hot(un)plug of a block holding optimized folios, some in use: on
# offline the ones in use are migrated to optimized folios elsewhere and
# every folio in the block is restored and dissolved; the block comes
# back online and is refilled. Then folios are pinned long-term (io_uring
# fixed buffers; those in ZONE_MOVABLE would be migrated first: how many
# were is reported). Its own boot: offlinable blocks need movablecore=.
# nokaslr: a kernel image placed at random can land in ZONE_MOVABLE (its
# pages PG_reserved) on the blocks the pool fills, and leave none that an
# offline can empty with folios in use (seen: "heads 26 free 26").
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bin/kpaths.sh"

plan 28
N=256
MEM=/sys/devices/system/memory

clean_start
dmesg_mark
mm0=$(memmap_pages)
modprobe hvo_shared
pool_set 2048 "" "$N"
is "$(pool_get 2048)" "$N" "$N folios in the pool"
in_movable() { awk '$1 ~ /\.Movable\.order9\.folios_optimized$/ { n += $2 } END { print n + 0 }' "$STATS"; }
movable=$(in_movable)
ok "stats: $movable of them optimized in ZONE_MOVABLE" -- test "$movable" -gt 0
consistent "pool grown"

# Most of them in use, with data, while a block is offlined: the pool
# hands out the folios it grew last first, those outside ZONE_MOVABLE,
# so only a mapping of nearly all of them reaches into it.
hold_start file $((N - 32)) /dev/hugepages
tap $? "$((N - 32)) folios mapped and filled"

# block_pfns BLOCK: the first and the end PFN of memory BLOCK.
per_block=$(( 0x$(cat $MEM/block_size_bytes) / 4096 ))
block_pfns() {
	local n=${1#"$MEM"/memory}
	echo $((n * per_block)) $(( (n + 1) * per_block ))
}
# block_folios BLOCK: "heads H free F ..." for the PFNs of memory BLOCK.
block_folios() { "$kp" scan $(block_pfns "$1"); }

# The ZONE_MOVABLE block with the most folios in use, of those with no
# PG_reserved page: memblock allocates top-down, and with movablecore= its
# boot allocations (node 1's memmap) can land in ZONE_MOVABLE, where they
# make a block that no offline can empty (seen: "unmovable page",
# reserved, at memory40's first PFN; the offline failed with EIO).
best= best_used=-1
for b in "$MEM"/memory*; do
	grep -qx Movable "$b/valid_zones" 2>/dev/null || continue
	[ "$(cat "$b/state")" = online ] || continue
	[ "$("$kp" reserved $(block_pfns "$b"))" = "reserved 0" ] || continue
	s=$(block_folios "$b")
	used=$(( $(field heads " $s") - $(field free "$s") ))
	[ "$(field heads " $s")" -gt 0 ] && [ "$used" -gt "$best_used" ] && best=$b best_used=$used
done
ok "a ZONE_MOVABLE block holding folios in use: ${best##*/}: $(block_folios "$best")" -- \
	test -n "$best" -a "$best_used" -gt 0
heads=$(field heads " $(block_folios "$best")")
p=$(pool_get 2048) total0=$(meminfo MemTotal) r0=$(stat restore_total) o0=$(stat optimize_total)
boot0=$(vmstat nr_memmap_boot_pages)
# boot_freed_kb: boot-time vmemmap freed since the offline began (fresh
# folios optimized), which free_reserved_page() added to MemTotal.
boot_freed_kb() { echo $(( 4 * (boot0 - $(vmstat nr_memmap_boot_pages)) )); }
timeout 120 sh -c "echo offline >$best/state"
tap $? "offline ${best##*/} with $heads folios, $best_used of them in use"
is "$(cat "$best/state")" offline "  ... it is offline"
is $(( total0 - $(meminfo MemTotal) )) $(( per_block * 4 - $(boot_freed_kb) )) \
	"  ... MemTotal down by one block (less $(boot_freed_kb) kB of boot vmemmap freed meanwhile)"
# A folio in use moves to a free folio on another node or to a fresh
# one (optimized: optimize_total counts it); either way every folio of
# the block leaves the pool, restored.
fresh=$(( $(stat optimize_total) - o0 ))
is "$(pool_get 2048)" $((p - heads + fresh)) "  ... its $heads folios left the pool, $fresh fresh migration targets joined it"
is $(( $(stat restore_total) - r0 )) "$heads" "  ... each restored before it was dissolved"
consistent "offline"
echo online_movable >"$best/state"
tap $? "online ${best##*/} again"
is "$(meminfo MemTotal)" $(( total0 + $(boot_freed_kb) )) "  ... MemTotal back"
hold_end
tap $? "data of the folios in use survived their migration: $(tail -n 1 "$HOLD_OUT")"
pool_set 2048 "" "$N"
is "$(pool_get 2048)" "$N" "pool regrown to $N"
consistent "online and regrow"

# Long-term pinning of folios in ZONE_MOVABLE migrates them first.
diag "$(in_movable) folios in ZONE_MOVABLE; zones: $(grep -h . $MEM/memory*/valid_zones | sort | uniq -c | tr '\n' ' ')"
out=$("$kp" pin 32)
tap $? "io_uring fixed buffers over 32 folios: $out"
diag "pinned folios migrated out of ZONE_MOVABLE first: $(field migrated "$out")"
consistent "long-term pin"

pool_set 2048 "" 0
rmmod hvo_shared
is "$(memmap_pages)" "$mm0" "pool drained and rmmod: nr_memmap_* exactly back at baseline"
dmesg_clean
tap_done
