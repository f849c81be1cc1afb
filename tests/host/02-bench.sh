#!/bin/bash
# The bench must be able to fail, and only for the kernel's reasons: a
# command's exit status comes back; every pattern of the kernel-log oracle
# fails a run when the kernel logs it, and none does when the job merely
# prints it; a taint fails a run, a panic stops it at once, a hung guest
# is killed, and a hung test file costs only itself.
# beside: guests (tests/check runs it beside the suite's guests; its own
# guests are small)
# timeout: 1800
export HVO_VM_MEM=${HVO_VM_MEM:-2048}
. "$(dirname "$0")/../lib/tap.sh"
cd "$(dirname "$0")/../.." || exit 1
plan 71

# The oracle's patterns, each as the kernel would print it.
planted=(
	"WARNING: CPU: 1 PID: 99 at mm/hvo-selftest.c:1 hvo_selftest+0x1/0x2"
	"BUG: unable to handle page fault for address: hvo-selftest"
	"Oops: 0000 [#1] PREEMPT SMP NOPTI hvo-selftest"
	"general protection fault, probably for non-canonical address hvo-selftest"
	"list_del corruption. prev->next should be hvo-selftest"
	"Call Trace: hvo-selftest"
	"UBSAN: array-index-out-of-bounds in hvo-selftest.c:1:2"
	"Kernel panic - not syncing: hvo-selftest"
)

# 1. A clean run: the job prints every pattern (to its output and to the
# console) and loads hvo_shared (taints O and E), and passes. Its output,
# 20000 lines, comes back whole and once.
words=$(printf '%s\n' "${planted[@]}")
out=$(tests/vm/run --no-build -- bash -c 'pwd; modprobe hvo_shared || exit 9
	echo "tainted=$(cat /proc/sys/kernel/tainted)"; rmmod hvo_shared
	printf "%s\n" "$1"; printf "%s\n" "$1" >&2; printf "%s\n" "$1" >/dev/console
	seq 1 20000' _ "$words" 2>&1)
is "$?" 0 "a job that prints the oracle's words, and loads hvo_shared, passes"
t=$(sed -n 's/^tainted=//p' <<<"$out")
ok "  ... with the kernel tainted O and E by it ($t)" -- test $(( ${t:-0} & 12288 )) = 12288
ok "  ... it ran in the host's current directory" -- grep -qx "$PWD" <<<"$out"
ok "  ... the kernel log check said nothing" -- bash -c '! grep -q "tests/vm/run: guest kernel" <<<"$1"' _ "$out"
is "$(grep -cxE '[0-9]+' <<<"$out")" 20000 "  ... its output came back whole"
is "$(grep -cx 20000 <<<"$out")" 1 "  ... and once"

# 2. Every pattern, planted in the kernel's log through /dev/kmsg, fails
# the run and is reported.
out=$(tests/vm/run --no-build -- bash -c 'printf "<4>%s\n" "$@" | while IFS= read -r l; do
	echo "$l" >/dev/kmsg; done' _ "${planted[@]}" 2>&1)
tap $(( $? == 0 )) "a job whose kernel log has the oracle's patterns fails"
for p in "${planted[@]}"; do
	ok "  ... and reports '${p%%[: ]*}'" -- grep -qF -- "] $p" <<<"$out"
done

# 3. A taint fails the run, and the command's own status still comes back.
out=$(tests/vm/run --no-build -- sh -c 'echo 64 >/proc/sys/kernel/tainted; exit 3' 2>&1)
is "$?" 3 "a guest command's exit status comes back"
ok "  ... and a taint (U) is reported" -- \
	grep -q "tests/vm/run: guest kernel tainted: 64 (U)" <<<"$out"

# 4. A panic ends the run at once, with the reason, and what the job
# wrote just before it still comes back, whole.
start=$SECONDS
out=$(tests/vm/run --no-build --timeout 600 -- sh -c 'seq 1 20000; echo c >/proc/sysrq-trigger; sleep 900' 2>&1)
is "$?" 125 "a guest kernel panic fails the run (exit 125)"
ok "  ... says so" -- grep -q "tests/vm/run: guest kernel panicked: Kernel panic - not syncing: sysrq triggered crash" <<<"$out"
ok "  ... and does not wait for the timeout ($((SECONDS - start)) s)" -- test $((SECONDS - start)) -lt 300
is "$(grep -cxE '[0-9]+' <<<"$out")" 20000 "  ... the output written just before it came back whole"

# 5. A hung guest is killed, once.
out=$(tests/vm/run --no-build --timeout 30 -- sleep 300 2>&1)
is "$?" 124 "a hung guest is killed at the timeout"
ok "  ... and its console log is kept" -- \
	test -s "$(sed -n 's/.*console: \(.*console.log\).*/\1/p' <<<"$out" | head -n 1)"
# A guest that runs out of time while still booting is not taken for a
# boot crash and retried: the time limit is the whole run's.
out=$(tests/vm/run --no-build --timeout 3 -- true 2>&1)
is "$?" 124 "a guest still booting at the timeout is killed"
ok "  ... once, not retried" -- bash -c '! grep -q retrying <<<"$1"' _ "$out"
# A boot that never reaches the job (here: allowed 1 s) is stopped and
# retried, twice at most, and then fails with the reason.
out=$(HVO_BOOT_TIMEOUT=1 tests/vm/run --no-build -- true 2>&1)
is "$?" 125 "a boot stuck before the job fails the run (exit 125)"
is "$(grep -c 'stuck for 1s before the job started; retrying' <<<"$out")" 2 "  ... after two retries"
ok "  ... and says so" -- grep -q "guest boot stuck for 1s before the job started, 3 times" <<<"$out"
# So is one whose console stays silent (here: for 1 s, which the firmware
# and the kernel's decompression always are; a real boot's longest gap
# before the job was 2.2 s, against the default 60).
out=$(HVO_BOOT_SILENCE=1 tests/vm/run --no-build -- true 2>&1)
is "$?" 125 "a boot whose console went silent fails the run (exit 125)"
is "$(grep -c 'silent for 1s before the job started; retrying' <<<"$out")" 2 "  ... after two retries"
ok "  ... and says so" -- grep -q "guest boot silent for 1s before the job started, 3 times" <<<"$out"

# 6. run-all: a hung test file is stopped at its "# timeout:", the exit
# status of one that fails without a failing check is shown (tests/check
# fails it, see 03-tally), and the next still runs.
dir=$(mktemp -d "$PWD/.bench-selftest.XXXX")
trap 'rm -rf "$dir"' EXIT
tap=$PWD/tests/lib/tap.sh
printf '%s\n' '#!/bin/bash' '# timeout: 5' ". $tap" 'plan 1' 'sleep 600' >"$dir/1-hang.sh"
printf '%s\n' '#!/bin/bash' ". $tap" 'plan 1' 'exit 4' >"$dir/2-crash.sh"
printf '%s\n' '#!/bin/bash' ". $tap" 'plan 1' 'ok "runs" -- true' 'tap_done' >"$dir/3-fine.sh"
out=$(tests/vm/run --no-build -- tests/guest/run-all "$dir"/[0-9]*.sh 2>&1)
tap $(( $? == 0 )) "run-all fails when a test file hangs or crashes"
ok "  ... the hung file timed out alone" -- \
	grep -qx "not ok - $dir/1-hang timed out after 5s" <<<"$out"
ok "  ... the crashed one's exit status is reported for the tally" -- \
	grep -qx "# exit status 4" <<<"$out"
ok "  ... and the next file still ran" -- grep -qx "ok 1 - runs" <<<"$out"
# 7. The per-call figures: the probe times each call of the HVO entry
# points, with its folios, for the kernel's HVO and through hvo_shared's
# hooks alike; the live workload makes passes and checks what it wrote.
out=$(tests/vm/run --no-build -- bash -c '. tests/guest/lib.sh; mount_hugetlbfs
	km=/opt/hvo-kmod/$(uname -r)/hvo_call_time.ko
	calls=/sys/kernel/debug/hvo_call_time/calls
	echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap
	fns=hugetlb_vmemmap_optimize_folios:optimize_list,hugetlb_vmemmap_restore_folios:restore_list
	insmod "$km" funcs=$fns
	pool_set 2048 "" 8; pool_set 2048 "" 0
	sed "s/^/kernel /" "$calls"; echo "kernel missed $(cat ${calls%/*}/missed)"
	echo >"$calls"; rmmod hvo_call_time
	echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
	insmod "$km" funcs=$fns
	pool_set 2048 "" 8; pool_set 2048 "" 0
	sed "s/^/none /" "$calls"; rmmod hvo_call_time
	modprobe hvo_shared
	insmod "$km" funcs=$fns
	pool_set 2048 "" 8
	echo "hvo_saved $(grep -m1 "^saved_bytes" /sys/kernel/debug/hvo_shared/stats)"
	pool_set 2048 "" 0
	sed "s/^/hvo /" "$calls"; rmmod hvo_call_time
	rmmod hvo_shared
	insmod "$km" funcs=no_such_function_hvo; echo "insmod_bad=$?"
	insmod "$km" funcs=hugetlb_vmemmap_optimize_folios:sideways; echo "insmod_kind=$?"
	pool_set 2048 "" 4
	hot=$(helper hugehot); "$hot" 2 >/tmp/hot.out & pid=$!
	until grep -q ready /tmp/hot.out; do sleep 0.1; done
	kill -USR1 $pid; sleep 1; kill -USR2 $pid; wait $pid; echo "hugehot_exit=$?"
	tail -n 1 /tmp/hot.out; echo "pass_lines=$(grep -c "^pass " /tmp/hot.out)"' 2>&1)
# calls WHO FUNC [FOLIOS]: how many calls of FUNC the probe timed for
# WHO, each for FOLIOS (8) folios changed and a duration.
calls() { grep -cE "^$1 $2 ${3:-8} [1-9][0-9]*$" <<<"$out"; }
is "$(calls kernel hugetlb_vmemmap_optimize_folios)" 1 "the probe timed the kernel's optimize of 8 folios, once"
is "$(calls kernel hugetlb_vmemmap_restore_folios)" 1 "  ... and its restore of them, once"
is "$(calls hvo hugetlb_vmemmap_optimize_folios)" 1 "  ... and hvo_shared's optimize, through its hooks, once"
is "$(calls hvo hugetlb_vmemmap_restore_folios)" 1 "  ... and hvo_shared's restore, through its hooks, once"
ok "  ... which did optimize them" -- bash -c '! grep -q "^hvo_saved saved_bytes 0$" <<<"$1" && grep -q "^hvo_saved saved_bytes [1-9]" <<<"$1"' _ "$out"
# With no HVO the kernel still calls both, with the 8 folios on its list
# (and a shrink calls restore once more, from try_to_free_low(), with an
# empty one): counted at return, every call is for none.
none_calls=$(grep -cE "^none hugetlb_vmemmap_(optimize|restore)_folios [0-9]+ [1-9][0-9]*$" <<<"$out")
none_some=$(grep -cE "^none hugetlb_vmemmap_(optimize|restore)_folios [1-9][0-9]* " <<<"$out")
ok "  ... with no HVO, the kernel's $none_calls calls changed no folio, and are counted so" -- \
	test "$none_calls" -ge 2 -a "$none_some" = 0
ok "  ... among them an optimize and a restore" -- bash -c 'grep -qE "^none hugetlb_vmemmap_optimize_folios 0 " <<<"$1" &&
	grep -qE "^none hugetlb_vmemmap_restore_folios 0 " <<<"$1"' _ "$out"
is "$(sed -n 's/^kernel missed //p' <<<"$out")" 0 "  ... and it says it missed no call"
ok "the probe refuses a function that does not exist" -- grep -qE '^insmod_bad=[1-9]' <<<"$out"
ok "  ... and a kind it does not know" -- grep -qE '^insmod_kind=[1-9]' <<<"$out"
is "$(sed -n 's/^hugehot_exit=//p' <<<"$out")" 0 "the live workload exits 0 after its passes"
ok "  ... reports passes and no wrong word" -- grep -qE '^done passes [1-9][0-9]* wrong 0$' <<<"$out"
ok "  ... one line per pass" -- test "$(sed -n 's/^pass_lines=//p' <<<"$out")" = \
	"$(sed -n 's/^done passes \([0-9]*\).*/\1/p' <<<"$out")"

# 8. The summaries compute what they claim, from planted rows, and give
# a verdict only where both sides were measured: ten calls of 1..10 us
# per folio give a median of 5, a 10th percentile of 1 and a 90th of 9;
# against a kernel at 10, 0.50 meets the optimize goal.
csv=$dir/calls.csv
for i in 1 2 3 4 5 6 7 8 9 10; do
	echo "call,hvo_shared,2048,grow,hugetlb_vmemmap_optimize_folios,2,$((i * 2000))"
	echo "call,kernel,2048,grow,hugetlb_vmemmap_optimize_folios,1,10000"
done >"$csv"
sum=$(tests/bench/summarize-calls "$csv")
ok "summarize-calls: median, spread, count, ratio and goal of planted calls" -- \
	grep -qF '| 2 MiB | optimize_folios | hvo_shared | 5.0 | 1.0-9.0 p10-p90 | 10 | 0.50 | <= 1.00: met |' <<<"$sum"
sed -i 's/,1,10000$/,1,4000/' "$csv"
ok "  ... and a goal missed is said to be" -- \
	grep -qF '| 2 MiB | optimize_folios | hvo_shared | 5.0 | 1.0-9.0 p10-p90 | 10 | 1.25 | <= 1.00: not met |' \
	<<<"$(tests/bench/summarize-calls "$csv")"
# The kernel's single-folio entry point is its own row, compared with
# hvo_shared's own single-folio calls only; a call that changed no folio
# is counted beside, not averaged in.
echo "call,hvo_shared,2048,grow,hugetlb_vmemmap_optimize_folio,1,50000" >>"$csv"
echo "call,hvo_shared,2048,grow,hugetlb_vmemmap_optimize_folios,0,900000" >>"$csv"
sum=$(tests/bench/summarize-calls "$csv")
ok "  ... single and bulk entry points apart: no kernel figure, no verdict" -- \
	grep -qF '| 2 MiB | optimize_folio | hvo_shared | 50.0 | 50.0-50.0 min-max | 1 | - | - |' <<<"$sum"
ok "  ... a call that changed no folio is counted beside, not in the median" -- \
	grep -qF '| 2 MiB | optimize_folios | hvo_shared | 5.0 | 1.0-9.0 p10-p90 | 10 (+1 that changed none) | 1.25 | <= 1.00: not met |' <<<"$sum"
# Calls the probe missed void the figures they touch: hvo_shared's here,
# and the kernel's there, which leaves hvo_shared's without a verdict.
echo "missed,hvo_shared,2048,shrink,3" >>"$csv"
ok "  ... missed calls: no figure, and says why" -- \
	grep -qF '| 2 MiB | optimize_folios | hvo_shared | - | - | 10 (+1 that changed none) | - | 3 calls missed: not a measurement |' \
	<<<"$(tests/bench/summarize-calls "$csv")"
sed -i 's/^missed,hvo_shared,/missed,kernel,/' "$csv"
sum=$(tests/bench/summarize-calls "$csv")
ok "  ... the kernel's missed: its row says so, and no verdict is given against it" -- \
	bash -c 'grep -qF "| 2 MiB | optimize_folios | kernel | - | - | 10 | - | 3 calls missed: not a measurement |" <<<"$1" &&
		grep -qF "| 2 MiB | optimize_folios | hvo_shared | 5.0 | 1.0-9.0 p10-p90 | 10 (+1 that changed none) | - | - |" <<<"$1"' _ "$sum"
sed -i '/^call,kernel,/d; /^missed,/d; /,0,900000$/d; /_folio,1,50000$/d' "$csv"
sum=$(tests/bench/summarize-calls "$csv")
ok "  ... without the kernel's rows: no ratio and no verdict" -- \
	grep -qF '| 2 MiB | optimize_folios | hvo_shared | 5.0 | 1.0-9.0 p10-p90 | 10 | - | - |' <<<"$sum"
ok "  ... and no line says met" -- bash -c '! grep -q "met" <<<"$1"' _ "$sum"

# Three rounds of each: too few for percentiles, so the spread says min-max.
# Restore per folio: 2 MiB 20 us against the kernel's 25 (0.80, goal
# 1.00), 1 GiB 6 ms against 10 (0.60, goal 0.50). Adopt of free folios
# against the kernel's optimize (10 us), restore-all against its restore.
for i in 1 2 3; do
	echo "call,kernel,2048,grow,hugetlb_vmemmap_optimize_folios,1,10000"
	echo "call,kernel,2048,shrink,hugetlb_vmemmap_restore_folios,4,100000"
	echo "call,hvo_shared,2048,shrink,hugetlb_vmemmap_restore_folios,4,$((70000 + i * 5000))"
	echo "call,kernel,1048576,shrink,hugetlb_vmemmap_restore_folios,1,10000000"
	echo "call,hvo_shared,1048576,shrink,hugetlb_vmemmap_restore_folios,1,6000000"
	echo "call,hvo_shared,2048,adopt_free,hvo_adopt_all,100,2000000"
	echo "call,hvo_shared,2048,restore_free,hvo_restore_all,100,3000000"
	echo "call,hvo_shared,2048,scale_adopt_free,hvo_adopt_all,512,10240000"
	echo "call,hvo_shared,2048,scale_adopt_free,hvo_adopt_all,5120,$((i == 2 ? 153600000 : 128000000))"
	echo "call,hvo_shared,2048,scale_restore_free,hvo_restore_all,512,10240000"
	echo "call,hvo_shared,2048,scale_restore_free,hvo_restore_all,5120,81920000"
done >"$csv"
sum=$(tests/bench/summarize-calls "$csv")
ok "  ... 2 MiB restore against the kernel's: min-max of 3, 0.80, met" -- \
	grep -qF '| 2 MiB | restore_folios | hvo_shared | 20.0 | 18.8-21.2 min-max | 3 | 0.80 | <= 1.00: met |' <<<"$sum"
ok "  ... 1 GiB restore: 0.60 against a goal of 0.50, not met" -- \
	grep -qF '| 1 GiB | restore_folios | hvo_shared | 6000.0 | 6000.0-6000.0 min-max | 3 | 0.60 | <= 0.50: not met |' <<<"$sum"
ok "  ... adopt against the kernel's optimize: 2.00, not met" -- \
	grep -qF '| 2 MiB | adopt_free | 20.0 | 20.0-20.0 min-max | 3 | 2.00 of its optimize_folios | <= 1.50: not met |' <<<"$sum"
ok "  ... restore-all against the kernel's restore, not its optimize: 1.20, met" -- \
	grep -qF '| 2 MiB | restore_free | 30.0 | 30.0-30.0 min-max | 3 | 1.20 of its restore_folios | <= 1.50: met |' <<<"$sum"
ok "  ... the scale line, computed: adopt 20 to 25 us, 1.25, met" -- \
	grep -qF 'scale, adopt: 3 sizes from 100 to 5120 folios, dearest median / cheapest = 1.25: <= 1.50: met' <<<"$sum"
ok "  ... restore-all 16 to 30 us, 1.88, not met" -- \
	grep -qF 'scale, restore: 3 sizes from 100 to 5120 folios, dearest median / cheapest = 1.88: <= 1.50: not met' <<<"$sum"
echo "missed,hvo_shared,2048,scale_adopt_free,1" >>"$csv"
sum=$(tests/bench/summarize-calls "$csv")
ok "  ... an action's missed calls void its scale line" -- \
	grep -qF 'scale, adopt: 1 calls missed: not a measurement' <<<"$sum"
ok "  ... and its column, and nothing else" -- \
	bash -c 'grep -qF "| 5120 | - (calls missed) | 16.0 (16.0-16.0 min-max) |" <<<"$1" &&
		grep -qF "| 2 MiB | adopt_free | 20.0 |" <<<"$1"' _ "$sum"
sed -i '/^missed,/d; /,hvo_restore_all,\|shrink/d' "$csv"
ok "  ... with one pool size measured, no scale verdict" -- \
	grep -qF 'scale, restore: fewer than two pool sizes measured: -' <<<"$(tests/bench/summarize-calls "$csv")"

# The resize tables: without the kernel's rows, no ratio against it.
res=$dir/results.csv
printf '%s\n' config,hstate_kb,folios,op,usec,memmap_pages_saved none,2048,10,grow,1000,0 \
	hvo_shared,2048,10,grow,1500,70 none,2048,10,shrink,100,0 hvo_shared,2048,10,shrink,300,0 >"$res"
sum=$(tests/bench/summarize "$res")
ok "summarize: without the kernel's rows, no ratio against it" -- \
	grep -qF '| 2 MiB | grow | hvo_shared | 0.150 | 1.50 | - | 7 |' <<<"$sum"
ok "  ... and no share of its shrink overhead" -- grep -qF '| 2 MiB | hvo_shared | 0.020 | - |' <<<"$sum"

# The live goals: adopt 1.5x idle and 95% of the workload (met); restore
# with no idle figure (no verdict) and 50% (not met).
live=$dir/live.csv
printf '%s\n' live,1,idle_adopt,100,1000,,,, live,1,before,100,0,1000,10,15, \
	live,1,adopt,100,1500,900,10,20,95 live,1,restore,100,5000,500,10,40,50 >"$live"
sum=$(tests/bench/summarize-calls "$csv" "$live")
ok "  ... live: adopt under the workload 1.50x idle, met" -- \
	grep -qF '| adopt time under the workload <= 2x idle | 1.50x | met |' <<<"$sum"
ok "  ... the workload at 95% during adopt, met" -- \
	grep -qF '| workload throughput during adopt >= 90% of it alone around it | 95% | met |' <<<"$sum"
ok "  ... restore with no idle figure: no verdict" -- \
	grep -qF '| restore time under the workload <= 2x idle | - | - |' <<<"$sum"
ok "  ... the workload at 50% during restore, not met" -- \
	grep -qF '| workload throughput during restore >= 90% of it alone around it | 50% | not met |' <<<"$sum"
tap_done
