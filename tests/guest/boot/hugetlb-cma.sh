#!/bin/bash
# boot: hugetlb_cma=1:2G nokaslr
# vm: --mem 8192
# 1 GiB folios from the hugetlb CMA areas: optimized when allocated, data
# intact, one demoted to 512 CMA-backed 2 MiB folios (each then given back
# to CMA on its own), and every page released to CMA when the pools are
# drained. CMA's own counters (/sys/kernel/mm/cma/hugetlb*) say what was
# allocated from and released to it. The 2 GiB area is on node 1 (8 GiB,
# 4 per node): on 7.3 node 0 never found room for 1 GiB of CMA at boot.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bin/kpaths.sh"

plan 24
H1=/sys/kernel/mm/hugepages/hugepages-1048576kB
hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }

# cma KEY: KEY summed over the hugetlb CMA areas, in pages.
cma() { cat /sys/kernel/mm/cma/hugetlb*/"$1" | awk '{ n += $1 } END { print n + 0 }'; }

clean_start
dmesg_mark
mm0=$(memmap_pages)
ok "hugetlb CMA areas: $(cma total_pages) pages" -- test "$(cma total_pages)" -ge $((2 * 262144))
modprobe hvo_shared
a0=$(cma alloc_pages_success) f0=$(cma release_pages_success) av0=$(cma available_pages)
pool_set 1048576 1 2
is "$(pool_get 1048576)" 2 "two 1 GiB folios"
is $(( $(cma alloc_pages_success) - a0 )) $((2 * 262144)) "  ... both allocated from CMA"
is $(( av0 - $(cma available_pages) )) $((2 * 262144)) "  ... CMA's available pages down by 2 GiB"
consistent "1 GiB from CMA"
mkdir -p /dev/hugepages-1G
mountpoint -q /dev/hugepages-1G || mount -t hugetlbfs -o pagesize=1G none /dev/hugepages-1G
out=$("$hugemap" file 2 1048576 /dev/hugepages-1G)
tap $? "data and kpageflags of both: $out"

# Demote one: restored, split into 512 2 MiB folios that keep the CMA
# flag, optimized.
echo 1 >$H1/demote
is "$(pool_get 1048576) $(pool_get 2048)" "1 512" "demote: one 1 GiB folio became 512 of 2 MiB"
consistent "demote of a CMA folio"
out=$("$hugemap" file 512 2048)
tap $? "  ... data and kpageflags of the 512: $out"
pool_set 2048 "" 0
is "$(pool_get 2048)" 0 "the 512 folios freed"
is $(( $(cma release_pages_success) - f0 )) 262144 "  ... each released to CMA: 1 GiB in all"
consistent "2 MiB CMA folios freed"

pool_set 1048576 "" 0
is "$(pool_get 1048576)" 0 "the other 1 GiB folio freed"
is $(( $(cma release_pages_success) - f0 )) $((2 * 262144)) "  ... released to CMA: 2 GiB in all"
is "$(cma available_pages)" "$av0" "CMA's available pages back where they were"
is "$(stat folios_optimized)" 0 "no folio left optimized"
rmmod hvo_shared
is "$(memmap_pages)" "$mm0" "nr_memmap_* exactly back at baseline"
dmesg_clean
tap_done
