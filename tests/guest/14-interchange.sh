#!/bin/bash
# Folios stay interchangeable with the kernel's HVO: what hvo_shared
# optimized, the kernel restores after rmmod; what the kernel optimized,
# hvo_shared restores. Counters come back to their baseline either way,
# and the data survives.
. "$(dirname "$0")/lib.sh"

N=${N:-128}
hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
clean_start
mm0=$(memmap_pages)

# hvo_shared optimizes, the kernel restores.
modprobe hvo_shared
pool_set 2048 "" "$N"
is "$(( mm0 - $(memmap_pages) ))" $((7 * N)) "hvo_shared optimized $N folios"
rmmod hvo_shared
out=$("$hugemap" file "$N" 2048)
tap $? "after rmmod the folios still work: $out"
pool_set 2048 "" 0
is "$(pool_get 2048)" 0 "the kernel freed them all"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline after the kernel's restore"

# The kernel optimizes, hvo_shared restores.
echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap
pool_set 2048 "" "$N"
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
is "$(( mm0 - $(memmap_pages) ))" $((7 * N)) "the kernel optimized $N folios"
modprobe hvo_shared
out=$("$hugemap" anon "$N" 2048)
tap $? "with hvo_shared loaded the kernel's folios work: $out"
pool_set 2048 "" 0
is "$(pool_get 2048)" 0 "hvo_shared freed them all"
is "$(stat restore_total)" "$N" "hvo_shared restored all $N"
is "$(stat folios_optimized)" 0 "without counting them as its own"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline after hvo_shared's restore"
rmmod hvo_shared
tap_done
