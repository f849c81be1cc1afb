#!/bin/bash
# Concurrency stress for hvo_shared (docs/reliability.md). Runs in the
# guest: tests/guest/40-stress.sh in its short form (40 s + 40 s), `make
# stress` for 30 minutes.
#
# Phase 1 (2/3 of STRESS_SECONDS): on both nodes and both page sizes at
# once, pools grow and shrink, map workers map/write/move_pages/verify/
# unmap, readers read the stats and verify files and /proc/meminfo,
# parameters are rewritten, and the module is unloaded and reloaded with
# giveback off and on. Phase 2 (the rest, 40 s at least): the same churn
# with the kernel's own HVO and no module, as the anchor. After each phase: every
# worker stopped, pools drained, module gone, nr_memmap_* exactly at the
# baseline, free memory back within FREE_TOL_KB, kernel log clean.
# STRESS_BUDGET (seconds), if set, bounds the whole run: see below.
. "$(dirname "$0")/../guest/lib.sh"
. "$(dirname "$0")/workers.sh"

TOTAL=${STRESS_SECONDS:-120}
POOL_2M=${STRESS_POOL_2M:-48}	# per node, at most: 96 MiB a node
POOL_1G=${STRESS_POOL_1G:-1}	# per node, at most
# A loss of free memory larger than this is a leak. What may stay
# allocated by design: one PTE table per vmemmap PMD split (6 GiB of
# memory has 96 MiB of vmemmap: 48 PMDs, 192 kB) and one shared tail page
# per (zone, order) (3 populated zones x 2 orders: 24 kB); the rest is
# the per-CPU list and slab drift that tests/guest/01-load-unload.sh
# allows for (2048 kB).
FREE_TOL_KB=${STRESS_FREE_TOL_KB:-2560}
# How long a worker may overrun the deadline (one 1 GiB grow under TCG
# takes up to 10 s).
GRACE=120
G1DIR=/dev/hugepages-1G

START=$(date +%s)
plan 26
STRESSMAP=$(helper stressmap)
tap $? "stressmap built"
W=$(mktemp -d /tmp/hvo-stress.XXXXXX)

# count NAME KEY: a worker's count ("key value" pairs, any number a
# line), 0 if it left none.
count() {
	awk -v k="$2" '{ for (i = 1; i < NF; i += 2) if ($i == k) { v = $(i + 1); f = 1 } }
		END { print f ? v : 0 }' "$W/$1.count" 2>/dev/null || echo 0
}

# sum GLOB KEY: KEY summed over the workers whose names match GLOB.
sum() {
	local f n=0
	for f in "$W"/$1.count; do
		[ -e "$f" ] && n=$((n + $(count "$(basename "$f" .count)" "$2")))
	done
	echo $n
}

# fails NAME...: the first problem lines the workers recorded.
fails() {
	local n
	for n in "$@"; do
		[ -s "$W/$n.fail" ] && sed "s/^/#   $n: /" "$W/$n.fail" | head -n 5
	done
	return 0
}

# Mark the kernel log with a line of our own: counting lines would break
# when the ring buffer wraps during a long run.
kmsg_mark() {
	MARK="hvo-stress: phase $1 starts, pid $$"
	echo "$MARK" >/dev/kmsg
}

# dmesg_bad: what the kernel logged since the mark at warning level or
# worse, or that looks like a splat, less the taint notes a first load of
# an unsigned out-of-tree module prints, and vmstat_refresh's note of a
# counter seen negative: the suite's settle() writes vm.stat_refresh, and
# under churn another CPU's update can land between the fold and the read
# (seen for nr_hugetlb with the kernel's HVO alone, module not loaded);
# and the clocksource watchdog's verdict on the emulated TSC, which a
# TCG guest on a busy host gets wrong (tsc against hpet, 44.28 against
# 44.30 ms) and which the kernel answers by switching to hpet.
dmesg_bad() {
	dmesg -r | sed -n "\|$MARK|,\$p" |
		grep -E '^<[0-4]>|WARNING:|BUG:|Oops|general protection|list_del corruption|Call Trace' |
		grep -vE 'loading out-of-tree module taints kernel|module verification failed|^<4>\[[ 0-9.]*\] (vmstat_refresh: |clocksource: |TSC found unstable)'
}

start_workers() {
	local n
	PIDS=()
	for n in "${NODES[@]}"; do
		pool_worker "$n" 2048 "$POOL_2M" & PIDS+=($!)
		pool_worker "$n" $G1 "$POOL_1G" & PIDS+=($!)
	done
	map_worker file 2048 8 /dev/hugepages & PIDS+=($!)
	map_worker anon 2048 8 /dev/hugepages & PIDS+=($!)
	# One 1 GiB worker, file and anon in turn: often only one 1 GiB
	# folio can be had, and two workers would starve each other.
	map_worker alt $G1 1 $G1DIR & PIDS+=($!)
	meminfo_worker & PIDS+=($!)
}

# stop_workers: wait for the deadline, then up to GRACE seconds for every
# worker to notice; kill the late ones. Sets LATE to how many were.
stop_workers() {
	local p running left
	# One reading of the clock: with two, the deadline could pass between
	# them and sleep get a negative number (seen under a loaded host).
	left=$(( END - $(date +%s) ))
	[ "$left" -le 0 ] || sleep "$left"
	touch "$W/stop"
	LATE=0
	# One probe a worker a round: probing the first live worker twice
	# let it exit in between, and the rest were killed as late.
	while [ "$(date +%s)" -lt $((END + GRACE)) ]; do
		running=0
		for p in "${PIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && { running=1; break; }
		done
		[ "$running" = 1 ] || break
		sleep 1
	done
	for p in "${PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			LATE=$((LATE + 1))
			pkill -P "$p"
			kill "$p"
		fi
	done
	wait
}

# Checks on what the workers of either phase saw: 5.
check_churn() {
	local name=$1 w rc maps bad=0 idle=0 n grow shrink ok=0 had
	# Whether a 1 GiB folio existed at all: pregrown, or a grow that
	# was not short. If none could be had, the 1 GiB worker may idle.
	had=$(( G1GOT + $(sum "pool-*-$G1" grow) - $(sum "pool-*-$G1" grow_short) ))
	for w in map-file-2048 map-anon-2048 map-alt-$G1; do
		diag "$name $w: $(grep -sv '^rc' "$W/$w.count" | tr '\n' ' ')"
		# No counts: the worker was killed, its verdict unknown.
		rc=$(count "$w" rc)
		[ -e "$W/$w.count" ] || rc=killed
		maps=$(count "$w" maps)
		[ "$rc" = 0 ] || bad=$((bad + 1))
		if [ "$w" = "map-alt-$G1" ] && [ "$had" -le 0 ]; then
			diag "$name: no 1 GiB folio could be had: $w may idle"
		elif [ "$maps" -le 0 ]; then
			idle=$((idle + 1))
		fi
	done
	is "$bad" 0 "$name: every map worker kept its data pattern (exit 0)"
	fails map-file-2048 map-anon-2048 map-alt-$G1
	is "$idle" 0 "$name: every map worker mapped and verified at least once"

	for n in "${NODES[@]}"; do
		for w in pool-$n-2048 pool-$n-$G1; do
			diag "$name $w: $(tr '\n' ' ' <"$W/$w.count" 2>/dev/null)"
		done
		grow=$(sum "pool-$n-*" grow) shrink=$(sum "pool-$n-*" shrink)
		[ "$grow" -gt 0 ] && [ "$shrink" -gt 0 ] && ok=$((ok + 1))
	done
	is "$ok" "${#NODES[@]}" "$name: pools grew and shrank on every node"

	diag "$name meminfo: $(tr '\n' ' ' <"$W/meminfo.count")"
	ok "$name: HugePages_* consistent in $(count meminfo samples) samples" -- \
		test "$(count meminfo bad)" = 0 -a "$(count meminfo samples)" -gt 0
	fails meminfo
	ok "$name: HVO was at work (nr_memmap_* fell to $(count meminfo memmap_min) from $MM0)" -- \
		test "$(count meminfo memmap_min)" -lt "$MM0"
}

# Checks on the module's own workers: 4.
check_module_workers() {
	local w
	for w in stats verify param module; do
		diag "module phase $w: $(tr '\n' ' ' <"$W/$w.count" 2>/dev/null)"
		[ -s "$W/$w.why" ] && diag "  ... reads failed: $(sort "$W/$w.why" | uniq -c | tr -s ' \n' ' ')"
	done
	if [ "$HAVE_VERIFY" = 1 ]; then
		ok "module phase: verify read 'ok' every time ($(count verify oks) reads)" -- \
			test "$(count verify bad)" = 0 -a "$(count verify oks)" -gt 0
	else
		diag "no $VERIFY in this build: the verify check is skipped"
		is "$(count verify bad)" 0 "module phase: verify never read anything but 'ok'"
	fi
	fails verify
	ok "module phase: stats read $(count stats reads) times, always whole" -- \
		test "$(count stats bad)" = 0 -a "$(count stats reads)" -gt 0
	fails stats
	ok "module phase: $(count param writes) parameter writes, none refused" -- \
		test "$(count param refused)" = 0 -a "$(count param writes)" -gt 0
	fails param
	ok "module phase: $(count module loads) loads and $(count module unloads) unloads, none failed" -- \
		test "$(( $(count module load_fail) + $(count module unload_fail) ))" = 0 \
			-a "$(count module loads)" -gt 0
	fails module
}

# Drain and check the end state: 4 (the module phase adds 1).
check_end() {
	local name=$1 want rec got=()
	is "$LATE" 0 "$name: every worker stopped within ${GRACE}s of the deadline"
	pool_set 2048 "" 0
	pool_set $G1 "" 0
	hp_sample
	want=()
	for rec in "${HP[@]}"; do
		got+=("${rec#* }")
		case $rec in node*) want+=("0 0 - 0") ;; *) want+=("0 0 0 0") ;; esac
	done
	is "${got[*]}" "${want[*]}" "$name: pools drained to 0 on every node and size"
	if [ "$name" = module ]; then
		rmmod_retry
		ok "module: unloaded at the end" -- test ! -e /sys/module/hvo_shared
	fi
	echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
	settle
	is "$(memmap_pages)" "$MM0" "$name: nr_memmap_pages + nr_memmap_boot_pages back at the baseline"
	local free1
	free1=$(free_kb)
	diag "$name: free (MemFree + per-CPU lists) $FREE0 -> $free1 kB," \
		"Slab $SLAB0 -> $(meminfo Slab) kB, PageTables $PT0 -> $(meminfo PageTables) kB"
	# Only a loss is a leak.
	within "$(( free1 < FREE0 ? free1 : FREE0 ))" "$FREE0" "$FREE_TOL_KB" \
		"$name: free memory back"
	local log
	log=$(dmesg_bad)
	is "$log" "" "$name: kernel log clean since the phase began"
}

# pregrow NAME: 1 GiB pools up before the clock starts (each folio takes
# seconds under TCG), so that the 1 GiB map workers need not wait for a
# first grow.
pregrow() {
	local n have=0
	for n in "${NODES[@]}"; do
		echo 1 >/proc/sys/vm/compact_memory
		pool_set $G1 "$n" "$POOL_1G"
		have=$((have + $(pool_get $G1 "$n")))
	done
	G1GOT=$have
	diag "$1: $have of $(( ${#NODES[@]} * POOL_1G )) 1 GiB folios before the churn"
}

# psi: the guest's stall totals so far (PSI, microseconds): cpu, memory
# and io "some", memory "full".
psi() {
	local r k rest out=()
	for r in cpu:some memory:some memory:full io:some; do
		while read -r k rest; do
			[ "$k" = "${r#*:}" ] && out+=("${rest##*total=}")
		done <"/proc/pressure/${r%:*}" 2>/dev/null
	done
	echo "${out[*]}"
}

# run_phase NAME SECONDS: the churn; NAME module adds the module workers.
run_phase() {
	local name=$1
	rm -f "$W"/*
	kmsg_mark "$name"
	# HVO on first, so that the pregrown 1 GiB folios are optimized.
	if [ "$name" = module ]; then
		modprobe hvo_shared
		HAVE_VERIFY=0
		[ -e "$VERIFY" ] && HAVE_VERIFY=1
	else
		echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap
	fi
	pregrow "$name"
	local up0 up1 wall0 spawned psi0 psi1 i
	read -r up0 _ </proc/uptime
	read -ra psi0 <<<"$(psi)"
	wall0=$(date +%s)
	END=$(( wall0 + $2 ))
	start_workers
	if [ "$name" = module ]; then
		stats_worker & PIDS+=($!)
		verify_worker & PIDS+=($!)
		param_worker & PIDS+=($!)
		module_worker & PIDS+=($!)
	fi
	spawned=$(( $(date +%s) - wall0 ))
	# Spawning has taken up to 29 s: a 1 GiB move_pages() copies the
	# folio in the kernel (folio_mc_copy()), most of a minute under
	# TCG, on one of the two vCPUs. Show what the tasks were doing.
	[ "$spawned" -lt 10 ] || ps -eo stat,wchan:28,comm | grep -E '^[DR]' | sed 's/^/# slow spawn: /'
	stop_workers
	# Workers stop by the wall clock: a slow spawn or a clock that
	# jumped shows here (a 7.2 anchor once had workers that never ran).
	read -r up1 _ </proc/uptime
	diag "$name: workers spawned in ${spawned}s; the phase took $(( $(date +%s) - wall0 ))s" \
		"by the wall clock, ${up1%.*}-${up0%.*} = $(( ${up1%.*} - ${up0%.*} ))s by uptime"
	read -ra psi1 <<<"$(psi)"
	for i in 0 1 2 3; do psi1[i]=$(( (${psi1[i]:-0} - ${psi0[i]:-0}) / 1000 )); done
	diag "$name: stalled (PSI, ms): cpu some ${psi1[0]}, memory some ${psi1[1]}," \
		"memory full ${psi1[2]}, io some ${psi1[3]}"
	diag "$name totals: pool ops $(( $(sum 'pool-*' grow) + $(sum 'pool-*' shrink) ))" \
		"(grow $(sum 'pool-*' grow), shrink $(sum 'pool-*' shrink)," \
		"1 GiB grows short $(sum "pool-*-$G1" grow_short) of $(sum "pool-*-$G1" grow))," \
		"folios cycled $(sum 'pool-*' folios_cycled), maps $(sum 'map-*' maps)," \
		"pages mapped $(sum 'map-*' pages), moved $(sum 'map-*' moved)," \
		"module cycles $(count module unloads)"
	check_churn "$name"
	[ "$name" = module ] && check_module_workers
	check_end "$name"
}

clean_start
mkdir -p $G1DIR
mountpoint -q $G1DIR || mount -t hugetlbfs -o pagesize=1G none $G1DIR
# One load first: what a first load allocates for good (module loader,
# kprobes, debugfs inodes) is not a leak.
modprobe hvo_shared && rmmod hvo_shared
settle
MM0=$(memmap_pages) FREE0=$(free_kb) SLAB0=$(meminfo Slab) PT0=$(meminfo PageTables)
diag "baseline: nr_memmap_* $MM0, free $FREE0 kB; ${TOTAL}s of churn"
run_phase module $(( TOTAL * 2 / 3 ))
# The anchor gets the rest, but never less than 40 s: under load 15 s
# once went by before any worker had cycled (after an rmmod of 94 s), and
# a 1 GiB map cycle alone can take 20 s under TCG. Within a budget
# (40-stress.sh has a timeout), a slow first phase shortens a longer
# anchor, keeping a minute for its drain and checks.
secs=$(( TOTAL - TOTAL * 2 / 3 ))
[ "$secs" -ge 40 ] || secs=40
if [ -n "${STRESS_BUDGET:-}" ] && [ "$secs" -gt 40 ]; then
	left=$(( STRESS_BUDGET - ($(date +%s) - START) - 60 ))
	[ "$left" -lt "$secs" ] && secs=$(( left > 40 ? left : 40 )) &&
		diag "kernel phase shortened to ${secs}s to stay within ${STRESS_BUDGET}s"
fi
run_phase kernel "$secs"
rm -rf "$W"
tap_done
