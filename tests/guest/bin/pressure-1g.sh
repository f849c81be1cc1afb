#!/bin/bash
# Memory pressure for the tests: an optimized 1 GiB folio is shrunk while
# a 2 MiB pool (left alone by hstates=1G) holds all other memory, so that
# its restore (16 MiB) fails and hugetlb keeps it as surplus. Scraps of
# free memory sometimes suffice for the restore: then it tries again.
# Usage: pressure-1g.sh [hold]: with "hold", stop with the memory held
# and the folio kept; otherwise give memory back and free the folio.
g=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
m=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
for _ in 1 2 3 4 5; do
	echo 0 >$m
	echo 1 >/proc/sys/vm/compact_memory
	echo 1 >$g
	# Grow, compact what is left into 2 MiB blocks, grow again: only
	# scraps smaller than a huge page stay free.
	for _ in 1 2 3; do
		echo 100000 >$m
		echo 1 >/proc/sys/vm/compact_memory
	done
	echo 0 >$g
	[ "$(cat $g)" = 1 ] && break
done
[ "$1" = hold ] && exit 0
echo 0 >$m
echo 1 >$g
echo 0 >$g
# Fold per-CPU counters, so that the caller reads what was freed.
echo 1 >/proc/sys/vm/stat_refresh
