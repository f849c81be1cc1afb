# Helpers for tests that run inside the QEMU guest. Sourced.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

STATS=/sys/kernel/debug/hvo_shared/stats
PARAMS=/sys/module/hvo_shared/parameters

# value_of KEY FILE: the word after KEY on the line of FILE that starts with
# it. FILE is read whole, at once (one snapshot), and parsed by the shell:
# under TCG an awk or grep costs 50 ms, and tests look up hundreds.
value_of() {
	local k v _
	while read -r k v _; do
		[ "$k" = "$1" ] && { echo "$v"; return 0; }
	done <<<"$(<"$2")"
}

# meminfo KEY: the value of KEY in /proc/meminfo, in kB.
meminfo() { value_of "$1:" /proc/meminfo; }

# vmstat KEY: a counter from /proc/vmstat.
vmstat() { value_of "$1" /proc/vmstat; }

# stat KEY: a value from the module's stats file.
stat() { value_of "$1" "$STATS"; }

loaded() { [ -d /sys/module/hvo_shared ]; }

unload() { ! loaded || rmmod hvo_shared; }

# Mark the kernel log so that a test can read only what came after.
dmesg_mark() { DMESG_MARK=$(dmesg | wc -l); }
dmesg_since() { dmesg | tail -n +"$((DMESG_MARK + 1))"; }

# Free memory in kB, counting the pages parked on per-CPU free lists,
# which MemFree leaves out and which absorb the pages HVO frees. One
# process: under TCG each one costs a tenth of a second or more.
free_kb() {
	awk '$1 == "MemFree:" { m = $2 } $1 == "count:" { n += $2 }
	     END { print m + 4 * n }' /proc/meminfo /proc/zoneinfo
}

# stable CMD...: run CMD until two of its numbers in a row, 0.2 s apart,
# differ by at most STABLE_TOL (default 256; 10 s at most) and print the
# last. For counters that trail what was done: per-CPU vmstat deltas,
# pages on their way to the buddy. An idle guest's free memory never
# holds still to the kB: kernel threads move a few dozen pages to and fro.
STABLE_TOL=${STABLE_TOL:-256}
stable() {
	local prev cur i
	prev=$("$@")
	for i in $(seq 50); do
		sleep 0.2
		cur=$("$@")
		[ $(( cur > prev ? cur - prev : prev - cur )) -le "$STABLE_TOL" ] && break
		prev=$cur
	done
	echo "$cur"
}

# Fold every CPU's vmstat deltas into the totals /proc/meminfo shows, then
# wait until free memory stops moving.
quiesce() {
	echo 1 >/proc/sys/vm/stat_refresh
	stable free_kb >/dev/null
}

# Free page cache and slab, for tests that compare free memory before and
# after (a file read in between would otherwise count as a leak or a
# saving) or that need large contiguous blocks. Others use quiesce.
settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	quiesce
}

# Test programs: the one tests/vm/run built on the host (HVO_TEST_BIN),
# else compiled in the guest on first use (gcc is in the root). NAME.so
# is a library to LD_PRELOAD.
BIN=/tmp/hvo-bin
helper() {
	local name=$1 src
	if [ -n "${HVO_TEST_BIN:-}" ] && [ -x "$HVO_TEST_BIN/$name" ]; then
		echo "$HVO_TEST_BIN/$name"
		return 0
	fi
	src="$(dirname "${BASH_SOURCE[0]}")/bin/${name%.so}.c"
	mkdir -p "$BIN"
	if [ "$name" != "${name%.so}" ]; then
		[ -x "$BIN/$name" ] || gcc -O2 -Wall -shared -fPIC -o "$BIN/$name" "$src" || return 1
	else
		[ -x "$BIN/$name" ] || gcc -O2 -Wall -o "$BIN/$name" "$src" || return 1
	fi
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
pool_get() { local n; read -r n <"$(pool_path "$1" "$2")" && echo "$n"; }

# vmemmap pages in use, boot and run time together.
memmap_pages() { echo $(( $(vmstat nr_memmap_pages) + $(vmstat nr_memmap_boot_pages) )); }

mount_hugetlbfs() {
	mkdir -p /dev/hugepages
	mountpoint -q /dev/hugepages || mount -t hugetlbfs none /dev/hugepages
}

# A known starting point: module out, kernel HVO off, hugetlbfs mounted,
# counters folded.
clean_start() {
	unload
	mount_hugetlbfs
	echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
	quiesce
}

# One past the highest PFN of any zone, from /proc/zoneinfo.
end_pfn() {
	awk '$1 == "spanned" { s = $2 } $1 == "start_pfn:" && $2 + s > m { m = $2 + s }
	     END { print m }' /proc/zoneinfo
}

# zone_ranges: "NODE ZONE START_PFN END_PFN" of every populated zone.
zone_ranges() {
	awk '$1 == "Node" { n = $2; sub(",", "", n); z = $4 } $1 == "spanned" { s = $2 }
	     $1 == "start_pfn:" && s > 0 { print n, z, $2, $2 + s }' /proc/zoneinfo
}

# huge_folios [PAGES]: "PFN NODE ZONE" of every hugetlb folio of PAGES base
# pages (all sizes if not given), from /proc/kpageflags and /proc/zoneinfo.
huge_folios() {
	local hp
	hp=$(helper hugepfns) || return 1
	"$hp" | awk -v want="${1:-0}" -v zones="$(zone_ranges)" '
		BEGIN { nz = split(zones, l, "\n")
			for (i = 1; i <= nz; i++) {
				split(l[i], f, " ")
				zn[i] = f[1]; zz[i] = f[2]; lo[i] = f[3]; hi[i] = f[4]
			} }
		want && $2 != want { next }
		{ for (i = 1; i <= nz; i++)
			if ($1 >= lo[i] && $1 < hi[i]) { print $1, zn[i], zz[i]; next }
		  print $1, "?", "?" }'
}

# spanned_pmds PAGES: the vmemmap PMDs (2 MiB of struct pages, 32768 PFNs
# each) that the hugetlb folios of PAGES base pages span, one per line.
spanned_pmds() {
	local hp
	hp=$(helper hugepfns) || return 1
	"$hp" | awk -v want="$1" '$2 == want {
		for (i = int($1 / 32768); i <= int(($1 + $2 - 1) / 32768); i++) print i }' | sort -nu
}

# vmemmap_pmds: "INDEX leaf|table PFN|none" for every vmemmap PMD, read
# from the kernel's page tables (/proc/kcore).
vmemmap_pmds() {
	local vp
	vp=$(helper vmemmap-pmds) || return 1
	"$vp" "$(end_pfn)"
}

# new_splits BEFORE PAGES: how many vmemmap PMDs the folios of PAGES base
# pages span that were still leaves in BEFORE (vmemmap_pmds output taken
# before they were optimized): the PMD splits optimizing them needed.
new_splits() {
	spanned_pmds "$2" | awk -v before="$1" '
		BEGIN { n = split(before, l, "\n")
			for (i = 1; i <= n; i++) { split(l[i], f, " "); st[f[1]] = f[2] } }
		st[$1] == "leaf" { c++ } END { print c + 0 }'
}

# new_tails BEFORE PAGES ORDER [NODE]: how many (node, zone) the folios of
# PAGES base pages are in (on NODE only, if given) whose ORDER slot was
# empty in BEFORE (vmemmap_tails output): the shared tail pages optimizing
# them had to allocate.
new_tails() {
	huge_folios "$2" | awk -v before="$1" -v o="$3" -v node="${4:-}" '
		node != "" && $2 != node { next }
		BEGIN { n = split(before, l, "\n")
			for (i = 1; i <= n; i++) { split(l[i], f, " "); if (f[3] == o) st[f[1] " " f[2]] = f[4] } }
		!seen[$2 " " $3]++ && st[$2 " " $3] == "0" { c++ } END { print c + 0 }'
}

# vmemmap_tails: "NODE ZONE ORDER 0|1" for the kernel's shared tail slots,
# read through BTF and /proc/kcore (bin/vmemmap-tails.c); 1 if the slot
# holds a page. 00-tracepoints holds it against bpftrace's reading
# (bin/vmemmap-tails.bt), which takes seconds to start under TCG.
vmemmap_tails() {
	local vt
	vt=$(helper vmemmap-tails) || return 1
	"$vt"
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
