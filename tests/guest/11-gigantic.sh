#!/bin/bash
# 1 GiB folios allocated at run time: 4095 of 4096 vmemmap pages given
# back per folio, and all of them back when the pool shrinks.
. "$(dirname "$0")/lib.sh"

plan 10
N=${N:-2}
unload
modprobe hvo_shared
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

pool_set 1048576 "" 0
is "$(pool_get 1048576)" 0 "1 GiB pool shrank to 0"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to where they started"
is "$(stat restore_total)" "$got" "stats: restore_total = $got"
is "$(stat folios_optimized)" 0 "stats: no folio left optimized"
rmmod hvo_shared
tap_done
