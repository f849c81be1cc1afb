#!/bin/bash
# Memory pressure for boot/pressure: an optimized 1 GiB folio is shrunk
# while a 2 MiB pool (left alone by hstates=1G) holds all other memory, so
# that its restore (4095 pages, 16 MiB) fails and hugetlb keeps it as
# surplus. Then the 2 MiB pool is given back, and what was read while the
# memory was held is printed as "KEY VALUE" lines.
#
# Growing the pool evicts every clean page, this script's text included.
# Run it with LD_PRELOAD=mlockall.so: it neither forks nor execs nor
# writes its output until the memory is back. Bash refaulting its text
# from 9p at the min watermark, with kswapd evicting it again, once
# thrashed for ten minutes. HEADROOM 2 MiB folios are given back before
# the shrink, so that reading the files below need not reclaim. The
# restore still fails with up to 12 of them given back (freed huge pages
# wait on per-CPU lists, unseen by the watermarks); with 40 it succeeds,
# and boot/pressure fails.
. "${BASH_SOURCE%/*}/pressure-lib.sh"

HEADROOM=4
g=/sys/kernel/mm/hugepages/hugepages-1048576kB
m=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

# snap FILE KEY...: keep "KEY VALUE" for each KEY found in FILE.
snap() {
	local file=$1 k v _
	shift
	while read -r k v _; do
		k=${k%:}
		for want; do
			[ "$k" = "$want" ] && out+="$k $v"$'\n'
		done
	done <"$file"
}

for _ in 1 2 3 4 5; do
	echo 0 >$m
	echo 1 >/proc/sys/vm/compact_memory
	echo 1 >$g/nr_hugepages
	hold_memory $m $HEADROOM
	echo 0 >$g/nr_hugepages
	read -r n <$g/nr_hugepages
	[ "$n" = 1 ] && break
	# Scraps of free memory sufficed for the restore: try again.
done

# Fold per-CPU vmstat deltas, so that nr_memmap_* is exact.
echo 1 >/proc/sys/vm/stat_refresh
out=""
read -r n <$m
out+="pool_2m $n"$'\n'
read -r n <$g/nr_hugepages
out+="pool_1g $n"$'\n'
read -r n <$g/surplus_hugepages
out+="surplus_1g $n"$'\n'
snap /proc/meminfo MemFree
snap /proc/vmstat nr_memmap_pages nr_memmap_boot_pages
snap /sys/kernel/debug/hvo_shared/stats folios_optimized restore_failed

echo 0 >$m
printf %s "$out"
