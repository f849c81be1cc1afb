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

# Quiesce before reading memory counters: free what is free-able.
settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
}
