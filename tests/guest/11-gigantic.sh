#!/bin/bash
# 1 GiB folios allocated at run time: 4095 of 4096 vmemmap pages given
# back per folio, and all of them back when the pool shrinks, 3584 of them
# from seven 2 MiB blocks, or page by page when no block is to be had
# (inject=restore_block). The PTE tables the split made stay, installed,
# as the kernel's HVO leaves them: no kernel page table is ever freed
# (docs/design.md, page tables).
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

tables0=$(table_pfns "$pmds" | tr '\n' ' ')
pool_set 1048576 "" 0
echo >&"${WATCH[1]}"
read -r n <&"${WATCH[0]}"
echo 0 >"$FLUSH/enable"
restores=$(grep -c 'tlb_flush: reason=restore' /sys/kernel/tracing/trace)
ok "tracefs: the shrink flushed every TLB for its restores ($restores)" -- test "$restores" -ge 1
is "$(pool_get 1048576)" 0 "1 GiB pool shrank to 0"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to where they started"
is "$(stat restore_total)" "$got" "stats: restore_total = $got"
is "$(stat folios_optimized)" 0 "stats: no folio left optimized"
is "$(pmd_states "$pmds")" "$((8 * got)) table" \
	"every vmemmap PMD the folios spanned is still a table"
is "$(table_pfns "$pmds" | tr '\n' ' ')" "$tables0" "  ... the same tables, still installed"
is "$n" $((8 * got)) "  ... and /proc/kpageflags still calls all $((8 * got)) page tables: none freed"
is "$(stat restore_blocks)" $((7 * got)) "stats: restore_blocks = 7 per folio"
is "$(stat restore_pages_filled)" $((4095 * got)) \
	"stats: restore_pages_filled = 4095 per folio, blocks included"
eval "exec ${WATCH[1]}>&-"
quiesce
# PageTables counts the page tables of the test's own processes too.
diag "PageTables moved by $(( $(meminfo PageTables) - pt0 )) kB"
settle
within "$(free_kb)" "$f0" 2048 "free memory back where it started: no page lost"

# Again, and restored page by page: no block for any 512 pages.
echo restore_block >"$PARAMS/inject"
echo 1 >"$PARAMS/inject_every"
pool_set_1g "$got"
is "$(pool_get 1048576)/$(stat folios_optimized)" "$got/$got" "$got new folios optimized"
pool_set 1048576 "" 0
echo none >"$PARAMS/inject"
is "$(memmap_pages)" "$mm0" "inject=restore_block: nr_memmap_* back to where they started"
is "$(stat restore_blocks)" $((7 * got)) "  ... restored page by page: no new block"
ok "  ... every block refused was injected ($(stat injected.restore_block))" -- \
	test "$(stat injected.restore_block)" -ge $((7 * got))
is "$(stat restore_pages_filled)" $((2 * 4095 * got)) "  ... each page filled from the shared tail"
rmmod hvo_shared
tap_done
