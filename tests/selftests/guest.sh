#!/bin/bash
# In the guest (see tests/selftests/run): the hugetlb category of the
# kernel's run_vmtests.sh, twice in one boot, without hvo_shared and with
# it loaded and optimizing the pool. Each test must end the same way both
# times; hvo_shared's own audit must pass after its runs, and every
# vmemmap page it freed must be accounted for and come back.
#
# Order: the destructive tests (soft-offline, read-hwpoison) leave hugetlb
# folios poisoned and in use for good (8 seen on 7.3.4), which then make
# the tests that size the pool exactly (hugetlb-mmap, madv_vs_map,
# charge_reserved) skip or fail. So the ordinary tests run without, then
# with the module; then the destructive ones with, then without it.
. "$(dirname "$0")/../guest/lib.sh"

BIN=/opt/hvo-selftests
N=${N:-256}
LOGS=/hvo-job/selftests
# run_vmtests.sh's order; the cgroup scripts take -cgroup-v2 there too.
SAFE=(
	hugetlb-mmap hugetlb-shm hugetlb-mremap hugetlb-madvise hugetlb_dio
	hugetlb_fault_after_madv hugetlb_madv_vs_map thuge-gen
	"charge_reserved_hugetlb.sh -cgroup-v2"
	"hugetlb_reparenting_test.sh -cgroup-v2"
)
# run_vmtests.sh -d
DESTRUCTIVE=(hugetlb-soft-offline hugetlb-read-hwpoison)
declare -A VERDICT

# HVO_SELFTESTS="name ...": only these (as HVO_TESTS does for run-all).
only() {
	local t
	for t in "$@"; do
		[ -z "${HVO_SELFTESTS:-}" ] || [[ " $HVO_SELFTESTS " == *" ${t%% *} "* ]] &&
			printf '%s\n' "$t"
	done
}
mapfile -t SAFE < <(only "${SAFE[@]}")
mapfile -t DESTRUCTIVE < <(only "${DESTRUCTIVE[@]}")

# run_tests PASS TEST...: each test as run_vmtests.sh runs it (exit 0
# pass, 4 skip, else fail), its output kept in $LOGS/PASS/. Sets
# VERDICT[PASS:TEST].
run_tests() {
	local pass=$1 t rc soft t0 t1
	shift
	mkdir -p "$LOGS/$pass"
	for t in "$@"; do
		soft=$(cat /proc/sys/vm/enable_soft_offline)
		t0=$(cut -d' ' -f1 /proc/uptime)
		# $t splits on purpose: the cgroup scripts take an argument.
		(cd "$BIN" && timeout 900 ./$t) >"$LOGS/$pass/${t%% *}.log" 2>&1
		rc=$?
		t1=$(cut -d' ' -f1 /proc/uptime)
		echo "$soft" >/proc/sys/vm/enable_soft_offline
		case $rc in
		0) VERDICT[$pass:$t]=pass ;;
		4) VERDICT[$pass:$t]=skip ;;
		*) VERDICT[$pass:$t]="fail($rc)" ;;
		esac
		diag "$pass: ${t%% *}: ${VERDICT[$pass:$t]} in $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
		# A failure's reason, here; the whole log stays in the job dir.
		[ "$rc" = 0 ] || [ "$rc" = 4 ] || tail -n 5 "$LOGS/$pass/${t%% *}.log" | sed 's/^/#   /'
	done
}

# verified WHEN: hvo_shared's audit passes and covers every folio it counts.
verified() {
	local verify last
	verify=$(cat /sys/kernel/debug/hvo_shared/verify)
	last=$(tail -n 1 <<<"$verify")
	diag "verify: $last; $(grep -E '^(optimize|restore)_(total|failed) ' "$STATS" | tr '\n' ' ')"
	is "$last" "ok: $(stat folios_optimized) folios" "verify after $1: every folio consistent"
	[[ $last == ok:* ]] || head -n 20 <<<"$verify" | sed 's/^/#   /'
}

plan $(( ${#SAFE[@]} + ${#DESTRUCTIVE[@]} + 10 ))

clean_start
mm0=$(memmap_pages)
diag "baseline: nr_memmap_* $mm0 with an empty pool"

# 1. The ordinary tests without the module.
pool_set 2048 "" "$N"
is "$(pool_get 2048)" "$N" "pool of $N x 2 MiB without hvo_shared"
run_tests without "${SAFE[@]}"
pool_set 2048 "" 0
is "$(pool_get 2048)" 0 "pool drained after the run without hvo_shared"

# 2. With it: the same pool, now optimized by hvo_shared; the tests grow
# and shrink it further themselves (hugetlb_setup_default()).
ok "modprobe hvo_shared" -- modprobe hvo_shared
settle
mm1=$(memmap_pages)
pool_set 2048 "" "$N"
settle
is "$(stat folios_optimized)" "$(pool_get 2048)" "hvo_shared optimized every folio of the pool"
is "$(( mm1 - $(memmap_pages) ))" "$(stat vmemmap_pages_freed)" \
	"nr_memmap_* fell by what the stats say was freed"
run_tests with "${SAFE[@]}"
verified "the ordinary tests"
run_tests with "${DESTRUCTIVE[@]}"
verified "the destructive tests"

# Drain. Poisoned folios stay in use, optimized: what nr_memmap_* lacks
# must be exactly what hvo_shared still holds. Unload leaves folios in use
# optimized by design (the kernel's HVO restores them when freed, which a
# poisoned folio never is): it must not move nr_memmap_* either way.
pool_set 2048 "" 0
settle
diag "after draining: $(pool_get 2048) folios left in the pool (poisoned, in use), $(stat folios_optimized) optimized"
is "$(( mm0 - $(memmap_pages) ))" "$(stat vmemmap_pages_freed)" \
	"after draining nr_memmap_* lack only what hvo_shared still holds"
mm2=$(memmap_pages)
ok "rmmod hvo_shared" -- rmmod hvo_shared
settle
is "$(memmap_pages)" "$mm2" "rmmod leaves the folios still in use optimized: nr_memmap_* unchanged"

# 3. The destructive tests without the module.
pool_set 2048 "" "$N"
run_tests without "${DESTRUCTIVE[@]}"
pool_set 2048 "" 0

# 4. The verdicts, test by test.
for t in "${SAFE[@]}" "${DESTRUCTIVE[@]}"; do
	is "${VERDICT[with:$t]}" "${VERDICT[without:$t]}" \
		"${t%% *}: same result with hvo_shared (${VERDICT[without:$t]})"
done
tap_done
