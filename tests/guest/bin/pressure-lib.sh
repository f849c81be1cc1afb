# shellcheck shell=bash
# Sourced by pressure-1g.sh and pressure-restore.sh, which run under
# mlockall.so and must not fork while the memory is held: builtins only.

# hold_memory NR_HUGEPAGES_FILE HEADROOM: grow the 2 MiB pool, compact what
# is left into 2 MiB blocks, grow again (three times): only scraps smaller
# than a huge page stay free. Then give HEADROOM folios back, so that
# reading a file needs no reclaim.
hold_memory() {
	local n
	for _ in 1 2 3; do
		echo 100000 >"$1"
		echo 1 >/proc/sys/vm/compact_memory
	done
	read -r n <"$1"
	echo $((n - $2)) >"$1"
}
