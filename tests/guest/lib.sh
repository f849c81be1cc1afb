# Helpers for tests that run inside the QEMU guest. Sourced.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

STATS=/sys/kernel/debug/hvo_shared/stats
PARAMS=/sys/module/hvo_shared/parameters

# meminfo KEY: the value of KEY in /proc/meminfo, in kB.
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

# vmstat KEY: a counter from /proc/vmstat.
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

# stat KEY: a value from the module's stats file.
stat() { awk -v k="$1" '$1 == k { print $2 }' "$STATS"; }

loaded() { [ -d /sys/module/hvo_shared ]; }

unload() { ! loaded || rmmod hvo_shared; }

# Mark the kernel log so that a test can read only what came after.
dmesg_mark() { DMESG_MARK=$(dmesg | wc -l); }
dmesg_since() { dmesg | tail -n +"$((DMESG_MARK + 1))"; }

# Free memory in kB, counting the pages parked on per-CPU free lists,
# which MemFree leaves out and which absorb the pages HVO frees.
free_kb() {
	echo $(( $(meminfo MemFree) + 4 * $(awk '$1 == "count:" { n += $2 } END { print n + 0 }' /proc/zoneinfo) ))
}

# Quiesce before reading memory counters: free what is free-able.
settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
}

# Test programs: the one tests/vm/run built on the host (HVO_TEST_BIN),
# else compiled in the guest on first use (gcc is in the root).
BIN=/tmp/hvo-bin
helper() {
	local name=$1 src
	if [ -n "${HVO_TEST_BIN:-}" ] && [ -x "$HVO_TEST_BIN/$name" ]; then
		echo "$HVO_TEST_BIN/$name"
		return 0
	fi
	src="$(dirname "${BASH_SOURCE[0]}")/bin/$name.c"
	mkdir -p "$BIN"
	[ -x "$BIN/$name" ] || gcc -O2 -Wall -o "$BIN/$name" "$src" || return 1
	echo "$BIN/$name"
}

# Pool size of hstate SIZE_KB (all nodes, or node N): pool KB [N] [COUNT]
pool_path() {
	if [ -n "${2:-}" ]; then
		echo "/sys/devices/system/node/node$2/hugepages/hugepages-$1kB/nr_hugepages"
	else
		echo "/sys/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages"
	fi
}
pool_set() { echo "$3" >"$(pool_path "$1" "$2")"; }
pool_get() { cat "$(pool_path "$1" "$2")"; }

# vmemmap pages in use, boot and run time together.
memmap_pages() { echo $(( $(vmstat nr_memmap_pages) + $(vmstat nr_memmap_boot_pages) )); }

mount_hugetlbfs() {
	mkdir -p /dev/hugepages
	mountpoint -q /dev/hugepages || mount -t hugetlbfs none /dev/hugepages
}

# A known starting point: module out, kernel HVO off, hugetlbfs mounted,
# caches dropped.
clean_start() {
	unload
	mount_hugetlbfs
	echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
	settle
}

# pool_set_1g COUNT: 1 GiB folios need 1 GiB of contiguous memory; after
# other tests it may only be found once caches are dropped and memory is
# compacted. Tries three times.
pool_set_1g() {
	local _
	for _ in 1 2 3; do
		settle
		echo 1 >/proc/sys/vm/compact_memory
		pool_set 1048576 "" "$1"
		[ "$(pool_get 1048576)" -ge "$1" ] && return 0
	done
	return 1
}
