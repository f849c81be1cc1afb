#!/bin/bash
# boot: hugepagesz=1G hugepages=1 hugepagesz=2M hugepages=32
# Pools from the kernel command line, in use before the module loads:
# the 1 GiB folio holds a hugetlbfs file's data (its vmemmap is bootmem),
# 16 of the 2 MiB folios are mapped by a process that checks them in a
# loop. Takeover leaves them alone; adopt optimizes them; restore gives
# them back; the data never changes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bin/kpaths.sh"

plan 16
G=/dev/hugepages-1G

hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
mount_hugetlbfs
mkdir -p $G
mountpoint -q $G || mount -t hugetlbfs -o pagesize=1G none $G
is "$(pool_get 1048576) $(pool_get 2048)" "1 32" "one 1 GiB and 32 2 MiB folios from the command line"
quiesce
mm0=$(memmap_pages)

out=$("$hugemap" fill 1 1048576 $G/data)
tap $? "the 1 GiB folio holds a hugetlbfs file's data: $out"
watch_start used anon 16
tap $? "a process maps 16 folios of 2 MiB and checks them in a loop"

modprobe hvo_shared
is "$(stat folios_optimized)" 16 "takeover optimizes the 16 free folios only"
echo 1 >"$PARAMS/adopt"
tap $? "adopt returns success"
is "$(stat adopt_total)" 17 "adopt: the 1 GiB folio and the 16 of 2 MiB in use"
is "$(awk '$1 ~ /\.order18\.folios_optimized$/ { n += $2 } END { print n + 0 }' "$STATS")" 1 \
	"  ... the 1 GiB one counted under order 18"
consistent "adopt"
out=$("$hugemap" verify 1 1048576 $G/data)
tap $? "  ... the 1 GiB folio's data is intact: $out"

echo 1 >"$PARAMS/restore"
tap $? "restore returns success"
is "$(memmap_pages)" "$mm0" "  ... nr_memmap_* back at baseline"
out=$("$hugemap" verify 1 1048576 $G/data)
tap $? "  ... the 1 GiB folio's data is intact: $out"

watch_end used
rm -f $G/data
rmmod hvo_shared
pool_set 1048576 "" 0
pool_set 2048 "" 0
is "$(memmap_pages)" "$mm0" "pools drained after rmmod: nr_memmap_* at baseline"
tap_done
