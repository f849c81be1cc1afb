#!/bin/bash
# In the guest (see tests/selftests/run): the hugetlb category of the
# kernel's run_vmtests.sh, twice in one boot, first without hvo_shared,
# then with it loaded and optimizing the pool. Each test must end the same
# way both times; hvo_shared's own audit must pass after its run, and the
# vmemmap it freed must all come back when the pool drains.
. "$(dirname "$0")/../guest/lib.sh"

BIN=/opt/hvo-selftests
N=${N:-256}
LOGS=/hvo-job/selftests
# run_vmtests.sh's order; the cgroup scripts take -cgroup-v2 there too,
# and the two destructive tests (-d) run last.
TESTS=(
	hugetlb-mmap hugetlb-shm hugetlb-mremap hugetlb-madvise hugetlb_dio
	hugetlb_fault_after_madv hugetlb_madv_vs_map thuge-gen
	"charge_reserved_hugetlb.sh -cgroup-v2"
	"hugetlb_reparenting_test.sh -cgroup-v2"
	hugetlb-soft-offline hugetlb-read-hwpoison
)

# run_pass NAME: every test, as run_vmtests.sh runs it (exit 0 pass, 4
# skip, else fail), its output kept in $LOGS/NAME/. Sets VERDICT[i].
run_pass() {
	local pass=$1 i t rc soft t0 t1
	mkdir -p "$LOGS/$pass"
	for i in "${!TESTS[@]}"; do
		t=${TESTS[$i]}
		soft=$(cat /proc/sys/vm/enable_soft_offline)
		t0=$(cut -d' ' -f1 /proc/uptime)
		# $t splits on purpose: the cgroup scripts take an argument.
		(cd "$BIN" && timeout 900 ./$t) >"$LOGS/$pass/${t%% *}.log" 2>&1
		rc=$?
		t1=$(cut -d' ' -f1 /proc/uptime)
		echo "$soft" >/proc/sys/vm/enable_soft_offline
		case $rc in
		0) VERDICT[$i]=pass ;;
		4) VERDICT[$i]=skip ;;
		*) VERDICT[$i]="fail($rc)" ;;
		esac
		diag "$pass: ${t%% *}: ${VERDICT[$i]} in $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
		# A failure's reason, where the guest's log can be read later.
		[ "$rc" = 0 ] || [ "$rc" = 4 ] || tail -n 5 "$LOGS/$pass/${t%% *}.log" | sed 's/^/#   /'
	done
}

plan $(( ${#TESTS[@]} + 8 ))

clean_start
mm0=$(memmap_pages)
diag "baseline: nr_memmap_* $mm0 with an empty pool"

# 1. Without the module.
pool_set 2048 "" "$N"
is "$(pool_get 2048)" "$N" "pool of $N x 2 MiB without hvo_shared"
run_pass without
without=("${VERDICT[@]}")
pool_set 2048 "" 0

# 2. With it: the same pool, now optimized by hvo_shared, and the tests
# grow and shrink it further themselves (hugetlb_setup_default()).
ok "modprobe hvo_shared" -- modprobe hvo_shared
settle
mm1=$(memmap_pages)
pool_set 2048 "" "$N"
settle
is "$(stat folios_optimized)" "$(pool_get 2048)" "hvo_shared optimized every folio of the pool"
is "$(( mm1 - $(memmap_pages) ))" "$(stat vmemmap_pages_freed)" \
	"nr_memmap_* fell by what the stats say was freed"
run_pass with
with=("${VERDICT[@]}")
verify=$(cat /sys/kernel/debug/hvo_shared/verify)
last=$(tail -n 1 <<<"$verify")
diag "verify: $last; $(grep -E '^(optimize|restore)_(total|failed) ' "$STATS" | tr '\n' ' ')"
is "$last" "ok: $(stat folios_optimized) folios" "verify after the selftests: every folio consistent"
[[ $last == ok:* ]] || head -n 20 <<<"$verify" | sed 's/^/#   /'

# Drain: whatever the tests left, all of it.
pool_set 2048 "" 0
settle
is "$(pool_get 2048)" 0 "pool drained"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back at the baseline after draining"
ok "rmmod hvo_shared" -- rmmod hvo_shared

# 3. The verdicts, test by test.
for i in "${!TESTS[@]}"; do
	is "${with[$i]}" "${without[$i]}" "${TESTS[$i]%% *}: same result with hvo_shared (${without[$i]})"
done
tap_done
