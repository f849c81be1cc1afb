#!/bin/bash
# Optimized folios are ordinary huge pages to their users: a process maps
# the whole pool (hugetlbfs file, MAP_HUGETLB, SHM_HUGETLB), writes and
# reads a pattern, and /proc/kpageflags shows HEAD|HUGE on every head and
# TAIL|HUGE (never HEAD) on every tail. Then the pool shrinks and regrows
# and the same holds.
. "$(dirname "$0")/lib.sh"

plan 10

N=${N:-64}
hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
unload
mount_hugetlbfs
modprobe hvo_shared

check_pool() {
	local mode out
	for mode in file anon shm; do
		out=$("$hugemap" "$mode" "$N" 2048)
		tap $? "$1: $mode mapping of all $N folios: $out"
	done
}

pool_set 2048 "" "$N"
is "$(stat folios_optimized)" "$N" "all $N folios optimized"
check_pool "first pool"
is "$(meminfo HugePages_Free)" "$N" "all folios free again after the mappings"
pool_set 2048 "" $((N / 2))
pool_set 2048 "" "$N"
is "$(stat folios_optimized)" "$N" "all $N folios optimized after shrink and regrow"
ok "restores happened in between" -- test "$(stat restore_total)" -ge $((N / 2))
check_pool "regrown pool"
pool_set 2048 "" 0
rmmod hvo_shared
tap_done
