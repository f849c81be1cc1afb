#!/bin/bash
# Memory pressure for boot/adopt-boot-pool: the restore of an adopted,
# in-use 1 GiB folio is asked for while a 2 MiB pool (left alone by
# hstates=1G) holds all other memory, so that it fails (4095 pages, 16
# MiB). Up to three tries: adopt, grow the pool as far as it goes, give
# HEADROOM folios back, restore. Then the pool is set back to its boot
# size, and what was read while the memory was held is printed as "KEY
# VALUE" lines; "error" is the failed write's message (its errno's).
#
# As pressure-1g.sh, and for the same reason (a 7.2 guest once thrashed
# here until its time limit, bash refaulting its own text from 9p at the
# min watermark): run with LD_PRELOAD=mlockall.so; no fork, no exec, no
# output until the memory is back.
. "${BASH_SOURCE%/*}/pressure-lib.sh"

HEADROOM=4
BOOT_POOL=${1:-32}
p=/sys/module/hvo_shared/parameters
m=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

partial=0 tries=0
for try in 1 2 3; do
	tries=$try
	echo 1 >$p/adopt
	hold_memory $m $HEADROOM
	if ! echo 1 >$p/restore 2>/tmp/pressure-restore.err; then
		partial=1
		break
	fi
done
read -r pool <$m
free=
while read -r k v _; do
	[ "$k" = MemFree: ] && free=$v
done </proc/meminfo

echo "$BOOT_POOL" >$m
# bash's message for the failed write, which names its errno.
err=
[ "$partial" = 1 ] && read -r err </tmp/pressure-restore.err
printf '%s\n' "partial $partial" "tries $tries" "pool_2m $pool" "MemFree $free" "error ${err##*: }"
