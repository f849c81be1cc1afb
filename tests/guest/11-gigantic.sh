#!/bin/bash
# 1 GiB folios allocated at run time: 4095 of 4096 vmemmap pages given
# back per folio, and all of them back when the pool shrinks: 7 of a
# folio's 8 vmemmap PMDs as 2 MiB leaves again, their PTE tables freed
# (after a TLB flush for the PTEs, then one for the leaves);
# page by page when no 2 MiB block is to be had (inject=restore_block).
. "$(dirname "$0")/lib.sh"

# pmd_states PMDS: the state (leaf, table) of each vmemmap PMD in PMDS.
pmd_states() {
	vmemmap_pmds | awk -v want=" $1 " 'index(want, " " $1 " ") { print $2 }' | sort | uniq -c |
		awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }'
}

# table_pfns PMDS: the PFNs of the PTE tables that map the PMDs in PMDS.
table_pfns() {
	vmemmap_pmds | awk -v want=" $1 " 'index(want, " " $1 " ") && $3 { print $3 }'
}

plan 24
N=${N:-2}
unload
modprobe hvo_shared
# The tracing ring buffer grows to its full size (MiBs) when an event is
# first enabled: here, before free memory is measured.
FLUSH=/sys/kernel/tracing/events/hvo_shared/tlb_flush
echo 1 >"$FLUSH/enable"
echo 0 >"$FLUSH/enable"
settle
mm0=$(memmap_pages) f0=$(free_kb)
# pool_set_1g drops caches and compacts first: 1 GiB of contiguous memory
# per folio. Fewer than asked is a failure, not a smaller test: a guest
# that cannot give N GiB at run time cannot show that N folios work.
pool_set_1g "$N"
got=$(pool_get 1048576)
is "$got" "$N" "$N 1 GiB folios allocated at run time"
diag "1 GiB folios (PFN node zone): $(huge_folios 262144 | tr '\n' ' ')"
quiesce
is "$(( mm0 - $(memmap_pages) ))" $((4095 * got)) "nr_memmap_* fell by 4095 pages per 1 GiB folio"
is "$(stat vmemmap_pages_freed)" $((4095 * got)) "stats: vmemmap_pages_freed = 4095 per folio"
is "$(stat folios_optimized)" "$got" "stats: folios_optimized = $got"
sum=0
for k in $(awk '$1 ~ /\.order18\.folios_optimized$/ { print $1 }' "$STATS"); do
	sum=$((sum + $(stat "$k")))
done
is "$sum" "$got" "stats: per-node order18 folios add up to $got"
saved_kb=$(( $(stat saved_bytes) / 1024 ))
settle
cost_kb=$(( f0 - $(free_kb) ))
diag "1 GiB pool: free memory fell by $cost_kb kB for $got GiB; saved_bytes $saved_kb kB"
within "$cost_kb" $(( got * 1048576 - saved_kb )) 2048 \
	"free memory fell by the pool minus saved_bytes"

pmds=$(spanned_pmds 262144 | tr '\n' ' ')
is "$(pmd_states "$pmds")" "$((8 * got)) table" "each folio's 8 vmemmap PMDs are split"
# Watch their tables from a process started now: see bin/pgtable-watch.c.
coproc WATCH { "$(helper pgtable-watch)" $(table_pfns "$pmds"); }
read -r _ <&"${WATCH[0]}"
echo >&"${WATCH[1]}"
read -r n <&"${WATCH[0]}"
is "$n" $((8 * got)) "  ... by $((8 * got)) pages that /proc/kpageflags calls page tables"
quiesce
pt0=$(meminfo PageTables)
echo >/sys/kernel/tracing/trace
echo 1 >"$FLUSH/enable"

pool_set 1048576 "" 0
echo >&"${WATCH[1]}"
read -r n <&"${WATCH[0]}"
echo 0 >"$FLUSH/enable"
# A leaf replaces a table only after the PTEs under it map the block and
# every TLB was flushed (reason=restore): no collapse without a restore
# flush since the last collapse.
read -r collapses early <<<"$(grep -o 'tlb_flush: reason=[a-z]*' /sys/kernel/tracing/trace |
	awk '/=restore/ { r = 1 } /=collapse/ { c++; if (!r) bad++; r = 0 } END { print c + 0, bad + 0 }')"
ok "tracefs: the shrink flushed for its collapses ($collapses)" -- test "$collapses" -gt 0
is "$early" 0 "tracefs: every collapse came after a restore flush"
is "$(pool_get 1048576)" 0 "1 GiB pool shrank to 0"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to where they started"
is "$(stat restore_total)" "$got" "stats: restore_total = $got"
is "$(stat folios_optimized)" 0 "stats: no folio left optimized"
is "$(pmd_states "$pmds")" "$((7 * got)) leaf, $got table" \
	"7 of each folio's 8 vmemmap PMDs are 2 MiB leaves again"
is "$(stat restore_pmd_leaves)/$(stat pte_tables_freed)" "$((7 * got))/$((7 * got))" \
	"stats: restore_pmd_leaves and pte_tables_freed count them"
is "$(stat restore_pages_filled)" $((4095 * got)) \
	"stats: restore_pages_filled = 4095 per folio, blocks included"
is "$n" "$got" "  ... of their tables, only the head PMD's are still page tables"
eval "exec ${WATCH[1]}>&-"
quiesce
# PageTables counts the page tables of the test's own processes too.
pt=$(( pt0 - $(meminfo PageTables) ))
diag "PageTables fell by $pt kB (their tables: $((7 * got * 4)) kB)"
settle
within "$(free_kb)" "$f0" 2048 "free memory back where it started: no page lost"

# Again, over the leaves, and restored page by page: no block for any PMD.
echo restore_block >"$PARAMS/inject"
echo 1 >"$PARAMS/inject_every"
pool_set_1g "$got"
is "$(pool_get 1048576)/$(stat folios_optimized)" "$got/$got" "the leaves split again for $got new folios"
pmds=$(spanned_pmds 262144 | tr '\n' ' ')
pool_set 1048576 "" 0
echo none >"$PARAMS/inject"
is "$(memmap_pages)" "$mm0" "inject=restore_block: nr_memmap_* back to where they started"
is "$(pmd_states "$pmds")/$(stat restore_pmd_leaves)" "$((8 * got)) table/$((7 * got))" \
	"  ... restored page by page: every PMD still a table, no new leaf"
ok "  ... every block refused was injected ($(stat injected.restore_block))" -- \
	test "$(stat injected.restore_block)" -ge $((7 * got))
is "$(stat restore_pages_filled)" $((2 * 4095 * got)) "  ... each page filled from the shared tail"
rmmod hvo_shared
tap_done
