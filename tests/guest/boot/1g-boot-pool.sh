#!/bin/bash
# boot: hugepagesz=1G hugepages=1 init_on_alloc=0
# A 1 GiB folio allocated at boot from memblock, whose vmemmap is bootmem
# (reserved pages): taken over at load, 4095 pages given back through
# nr_memmap_boot_pages, restored on shrink.
. "$(dirname "$0")/../lib.sh"

plan 10

hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
mount_hugetlbfs
is "$(pool_get 1048576)" 1 "one 1 GiB folio from the kernel command line"
quiesce
boot0=$(vmstat nr_memmap_boot_pages) mm0=$(memmap_pages)
modprobe hvo_shared
is "$(stat folios_optimized)" 1 "modprobe took it over"
is "$(( boot0 - $(vmstat nr_memmap_boot_pages) ))" 4095 "nr_memmap_boot_pages fell by 4095"
is "$(( mm0 - $(memmap_pages) ))" 4095 "nr_memmap_* fell by 4095 in all"
is "$(stat vmemmap_pages_freed)" 4095 "stats: vmemmap_pages_freed 4095"
mkdir -p /dev/hugepages-1G
mount -t hugetlbfs -o pagesize=1G none /dev/hugepages-1G
out=$("$hugemap" file 1 1048576 /dev/hugepages-1G)
tap $? "the boot-time folio works through a hugetlbfs file: $out"
out=$("$hugemap" anon 1 1048576)
tap $? "  ... and through MAP_HUGETLB: $out"
pool_set 1048576 "" 0
is "$(pool_get 1048576)" 0 "the pool shrank to 0"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to where they were"
is "$(stat restore_total)" 1 "hvo_shared restored it"
rmmod hvo_shared
tap_done
