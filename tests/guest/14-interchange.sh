#!/bin/bash
# Folios stay interchangeable with the kernel's HVO: what hvo_shared
# optimized, the kernel restores after rmmod; what the kernel optimized,
# hvo_shared restores. The folios hold data across the rmmod or modprobe
# (a hugetlbfs file keeps them in use), keep it and their page flags, and
# the counters come back to their baseline either way.
. "$(dirname "$0")/lib.sh"

plan 15
N=${N:-128}
F=/dev/hugepages/interchange
hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
clean_start
rm -f "$F"
mm0=$(memmap_pages)

# hvo_shared optimizes, the kernel restores.
modprobe hvo_shared
pool_set 2048 "" "$N"
is "$(( mm0 - $(memmap_pages) ))" $((7 * N)) "hvo_shared optimized $N folios"
out=$("$hugemap" fill "$N" 2048 "$F")
tap $? "a hugetlbfs file filled all $N optimized folios: $out"
is "$(meminfo HugePages_Free)" 0 "  ... and holds them"
rmmod hvo_shared
out=$("$hugemap" verify "$N" 2048 "$F")
tap $? "after rmmod the file's data and every PFN's flags are intact: $out"
is "$(( mm0 - $(memmap_pages) ))" $((7 * N)) "  ... and the folios are still optimized"
rm "$F"
pool_set 2048 "" 0
is "$(pool_get 2048)" 0 "the kernel freed them all"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline after the kernel's restore"

# The kernel optimizes, hvo_shared restores.
echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap
pool_set 2048 "" "$N"
is "$(( mm0 - $(memmap_pages) ))" $((7 * N)) "the kernel optimized $N folios"
out=$("$hugemap" fill "$N" 2048 "$F")
tap $? "a hugetlbfs file filled all $N of the kernel's folios: $out"
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
modprobe hvo_shared
out=$("$hugemap" verify "$N" 2048 "$F")
tap $? "with hvo_shared loaded the file's data and flags are intact: $out"
rm "$F"
pool_set 2048 "" 0
is "$(pool_get 2048)" 0 "hvo_shared freed them all"
is "$(stat restore_total)" "$N" "hvo_shared restored all $N"
is "$(stat restore_failed)" 0 "  ... none failed"
is "$(stat folios_optimized)" 0 "without counting them as its own"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline after hvo_shared's restore"
rmmod hvo_shared
tap_done
