#!/bin/bash
# Guest side of make bench: time pool growth and shrink under each HVO
# configuration, in one boot, several rounds with the order rotated; and
# hvo_shared's adopt and restore-all of an existing pool, free and in use,
# at several pool sizes, and beside a live workload.
# Prints CSV: config,hstate_kb,folios,op,usec,memmap_pages_saved; op
# "tables" has the cycle's change in split vmemmap PMDs in the usec column.
# Each call of the four HVO entry points, and of hvo_shared's adopt and
# restore-all, timed in the kernel (tests/guest/kmod/hvo_call_time.c):
#   call,config,hstate_kb,op,function,folios,ns
# The live workload's figures, per phase (idle_adopt and idle_restore
# without it running; before, adopt, between, restore, after with it):
#   live,round,phase,folios,usec,passes_per_sec,p50_us,p99_us,share
# (share: an action's passes per second, in % of the mean of the
# windows of the workload alone just before and after it).
. "$(dirname "$0")/../guest/lib.sh"

ROUNDS=${ROUNDS:-3}
N2M=${N2M:-1024}
N1G=${N1G:-2}
# Pool sizes adopt and restore-all are timed at, 2 MiB folios, free.
SCALE=${SCALE:-512 2048 4096 5120}
# The live workload: one process per vCPU, each keeping LIVE_HOT folios
# hot, beside a free pool of LIVE_FREE.
LIVE_FREE=${LIVE_FREE:-4096}
LIVE_HOT=${LIVE_HOT:-16}
LIVE_GAP=${LIVE_GAP:-2}
# Not in the default set: hvo_shared_pages restores page by page, as
# before 1 GiB restores used 2 MiB blocks (inject=restore_block refuses
# every block); hvo_shared_copy copies each restored page, as before
# restores filled them from one struct page (inject=restore_fill).
CONFIGS=${CONFIGS:-none kernel hvo_shared hvo_shared_head_copy}

# Times are read from $EPOCHREALTIME, in microseconds, without a fork:
# under TCG a fork and exec of date(1) costs about 100 ms, as much as
# adopting 1000 folios took.

KMOD=/opt/hvo-kmod/$(uname -r)
CALLS=/sys/kernel/debug/hvo_call_time/calls
# The kernel's four HVO entry points: with hvo_shared loaded its hooks
# send them to its replacements, which the same kretprobes time.
ENTRY_POINTS=hugetlb_vmemmap_optimize_folio:optimize,hugetlb_vmemmap_optimize_folios:optimize_list,hugetlb_vmemmap_restore_folio:restore,hugetlb_vmemmap_restore_folios:restore_list

# timer_on FUNCS: time every call of FUNCS from now on; timer_off first
# (before hvo_shared goes, if one is hvo_shared's).
timer_on() { timer_off; insmod "$KMOD/hvo_call_time.ko" funcs="$1"; }
timer_off() { ! grep -q '^hvo_call_time ' /proc/modules || rmmod hvo_call_time; }

# calls CONFIG KB OP [FOLIOS]: the calls timed since the last, as CSV
# rows, each for the folios it changed (FOLIOS: for that many); and, if
# the probe missed any call meanwhile, a row missed,CONFIG,KB,OP,N.
calls() {
	local missed
	awk -v p="call,$1,$2,$3" -v n="${4:-}" '{ print p "," $1 "," (n == "" ? $2 : n) "," $3 }' "$CALLS"
	read -r missed <"${CALLS%/*}/missed"
	[ "$missed" = 0 ] || echo "missed,$1,$2,$3,$missed"
	echo >"$CALLS"
}

setup() {
	timer_off
	unload
	echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
	case $1 in
	kernel) echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap ;;
	hvo_shared) modprobe hvo_shared ;;
	hvo_shared_head_copy) modprobe hvo_shared head_copy=1 ;;
	hvo_shared_pages) modprobe hvo_shared inject=restore_block inject_every=1 ;;
	hvo_shared_copy) modprobe hvo_shared inject=restore_fill inject_every=1 ;;
	esac
	timer_on "$ENTRY_POINTS"
}

# tables: how many vmemmap PMDs are split into PTE tables now.
tables() { vmemmap_pmds | awk '$2 == "table" { n++ } END { print n + 0 }'; }

# measure CONFIG KB COUNT: a grow and a shrink, then how many vmemmap PTE
# tables the cycle left behind (negative: it gave back more than it split).
measure() {
	local t0 t1 mm0 saved got tb0
	settle
	# 1 GiB of contiguous memory per folio: compact first.
	[ "$2" = 1048576 ] && echo 1 >/proc/sys/vm/compact_memory
	mm0=$(memmap_pages)
	tb0=$(tables)
	t0=${EPOCHREALTIME/./}
	pool_set "$2" "" "$3"
	t1=${EPOCHREALTIME/./}
	got=$(pool_get "$2")
	saved=$(( mm0 - $(memmap_pages) ))
	echo "$1,$2,$got,grow,$(( t1 - t0 )),$saved"
	calls "$1" "$2" grow
	settle
	echo >"$CALLS"
	t0=${EPOCHREALTIME/./}
	pool_set "$2" "" 0
	t1=${EPOCHREALTIME/./}
	echo "$1,$2,$got,shrink,$(( t1 - t0 )),$(( mm0 - $(memmap_pages) ))"
	calls "$1" "$2" shrink
	echo "$1,$2,$got,tables,$(( $(tables) - tb0 )),0"
}

# action_at NAME [NICE]: write 1 to the module's NAME parameter, at nice
# NICE; prints when the write began and ended. action NAME: how long it
# took. Nothing else runs meanwhile (no pipe): under TCG a process
# starting beside the write takes as long as 1000 folios' adopt.
action_at() {
	local t0 t1
	[ -z "${2:-}" ] || renice -n "$2" -p "$BASHPID" >/dev/null
	t0=${EPOCHREALTIME/./}
	echo 1 >"$PARAMS/$1"
	t1=${EPOCHREALTIME/./}
	echo "$t0 $t1"
}
action() {
	local t
	t=$(action_at "$1")
	echo $(( ${t#* } - ${t% *} ))
}

# adopt_restore KB COUNT STATE [TAG]: a pool of COUNT folios grown with no
# HVO, free or in use (STATE in_use: filled as a hugetlbfs file, which
# keeps them), then hvo_shared loaded without takeover; times adopt and
# restore (restore-all), and checks the file's data afterwards. TAG
# prefixes the op (scale_: the pool-size series).
adopt_restore() {
	local kb=$1 n=$2 state=$3 tag=${4:-} dir=/dev/hugepages mm0 mm1 mm2 us got saved per back ok=ok
	[ "$kb" = 1048576 ] && dir=/dev/hugepages-1G
	setup none
	settle
	[ "$kb" = 1048576 ] && echo 1 >/proc/sys/vm/compact_memory
	pool_set "$kb" "" "$n"
	got=$(pool_get "$kb")
	if [ "$got" = 0 ]; then
		echo "# adopt/restore $kb $state: skipped, no folio could be had"
		return 0
	fi
	[ "$state" = in_use ] && { "$HUGEMAP" fill "$got" "$kb" "$dir/bench" >/dev/null || ok=fill-failed; }
	modprobe hvo_shared takeover=0
	timer_on hvo_adopt_all,hvo_restore_all
	settle
	echo >"$CALLS"
	mm0=$(memmap_pages)
	us=$(action adopt)
	mm1=$(memmap_pages)
	saved=$(( mm0 - mm1 ))
	echo "hvo_shared,$kb,$got,${tag}adopt_$state,$us,$saved"
	# Per folio it changed: the vmemmap pages it freed, over those one
	# folio frees (all but the head page's).
	per=$(( kb / 256 - 1 ))
	[ $(( saved % per )) = 0 ] || echo "# adopt $kb $state: $saved pages freed, not a multiple of $per"
	calls hvo_shared "$kb" "${tag}adopt_$state" $(( saved / per ))
	us=$(action restore)
	mm2=$(memmap_pages)
	echo "hvo_shared,$kb,$got,${tag}restore_$state,$us,$(( mm0 - mm2 ))"
	back=$(( mm2 - mm1 ))
	[ $(( back % per )) = 0 ] || echo "# restore $kb $state: $back pages back, not a multiple of $per"
	calls hvo_shared "$kb" "${tag}restore_$state" $(( back / per ))
	timer_off
	unload
	if [ "$state" = in_use ]; then
		"$HUGEMAP" verify "$got" "$kb" "$dir/bench" >/dev/null || ok=data-lost
		rm -f "$dir/bench"
	fi
	echo "# adopt/restore $kb $state: $ok"
	pool_set "$kb" "" 0
}

# live ROUND: adopt and restore-all beside a live workload: one hugehot
# (tests/guest/bin/hugehot.c) per vCPU, each keeping LIVE_HOT folios in
# use and hot, and LIVE_FREE free folios. Both actions are timed first
# with the workload mapped but idle, then with it running, at nice 0 and
# at nice 19, between LIVE_GAP seconds of it running alone; then each
# phase's share of the workload's passes, passes per second, and their
# p50 and p99 latency.
live() {
	local r=$1 n=$((LIVE_FREE + 2 * LIVE_HOT)) dir pids=() cpu t a b us act first
	setup none
	timer_off
	settle
	pool_set 2048 "" "$n"
	if [ "$(pool_get 2048)" != "$n" ]; then
		echo "# live: skipped, only $(pool_get 2048) of $n folios"
		pool_set 2048 "" 0
		return 0
	fi
	dir=$(mktemp -d)
	for cpu in 0 1; do
		taskset -c "$cpu" "$HUGEHOT" "$LIVE_HOT" >"$dir/hot.$cpu" &
		pids+=($!)
	done
	until [ "$(cat "$dir"/hot.* | grep -c '^ready$')" = 2 ]; do sleep 0.1; done
	modprobe hvo_shared takeover=0
	settle
	us=$(action adopt)
	echo "live,$r,idle_adopt,$n,$us,,,,"
	us=$(action restore)
	echo "live,$r,idle_restore,$n,$us,,,,"
	kill -USR1 "${pids[@]}"
	sleep "$LIVE_GAP"
	# Each action at nice 0, as a shell runs it, then at nice 19.
	t=${EPOCHREALTIME/./}
	first=$t
	for act in adopt restore nice_adopt nice_restore; do
		sleep "$LIVE_GAP"
		read -r a b < <(action_at "${act#nice_}" "$([ "$act" = "${act#nice_}" ] || echo 19)")
		echo "window $([ "$t" = "$first" ] && echo before || echo between) $t $a" >>"$dir/windows"
		echo "window $act $a $b" >>"$dir/windows"
		t=$b
	done
	sleep "$LIVE_GAP"
	echo "window after $t ${EPOCHREALTIME/./}" >>"$dir/windows"
	kill -USR2 "${pids[@]}"
	wait "${pids[@]}" || echo "# live: hugehot failed: $(grep -h '^done' "$dir"/hot.*)"
	unload
	# A pass is counted in a window for the part of it that lies there.
	# Windows are in time order, and so are each file's passes: one
	# sweep. Latencies go into 2% wide buckets for the percentiles.
	awk -v r="$r" -v n="$n" '
	FILENAME != last { last = FILENAME; wi = 1 }
	$1 == "window" { w[++nw] = $2; ws[nw] = $3; we[nw] = $4; next }
	$1 != "pass" { next }
	{
		e = $2 / 1000; lat = $3 / 1000; s = e - lat
		while (wi <= nw && we[wi] <= s) wi++
		b = lat > 1 ? int(log(lat) / log(1.02)) : 0
		for (i = wi; i <= nw && ws[i] < e; i++) {
			lo = s > ws[i] ? s : ws[i]; hi = e < we[i] ? e : we[i]
			if (hi <= lo) continue
			work[i] += (hi - lo) / lat
			h[i, b]++; k[i]++
			if (b > top[i]) top[i] = b
		}
	}
	function pct(i, p,   c, j) {
		for (j = 0; j <= top[i]; j++) if ((c += h[i, j]) >= p * k[i]) return 1.02 ^ (j + 1)
		return 0
	}
	END {
		for (i = 1; i <= nw; i++) pps[i] = work[i] * 1e6 / (we[i] - ws[i])
		# An action against the workload alone just before and after it:
		# alone, its throughput drifts by a third over a round under TCG.
		for (i = 1; i <= nw; i++) {
			sh = ""
			if (i > 1 && i < nw && w[i] !~ /^(before|between|after)$/)
				sh = sprintf("%.1f", 200 * pps[i] / (pps[i - 1] + pps[i + 1]))
			printf "live,%s,%s,%d,%d,%.1f,%.0f,%.0f,%s\n", r, w[i], n, we[i] - ws[i],
				pps[i], k[i] ? pct(i, 0.5) : 0, k[i] ? pct(i, 0.99) : 0, sh
		}
	}' "$dir/windows" "$dir"/hot.*
	rm -rf "$dir"
	pool_set 2048 "" 0
}

mount_hugetlbfs
mkdir -p /dev/hugepages-1G
mountpoint -q /dev/hugepages-1G || mount -t hugetlbfs -o pagesize=1G none /dev/hugepages-1G
HUGEMAP=$(helper hugemap)
HUGEHOT=$(helper hugehot)
# QEMU backs guest memory at its first touch: allocations that come first
# in a boot paid up to 8 times what later ones do for a restore's pages.
# Touch (and zero, init_on_alloc=1) most of it once, as a 2 MiB pool.
pool_set 2048 "" $(( $(awk '/^MemFree:/ { print $2 }' /proc/meminfo) * 9 / 10 / 2048 ))
pool_set 2048 "" 0

echo "config,hstate_kb,folios,op,usec,memmap_pages_saved"
set -- $CONFIGS
for r in $(seq "$ROUNDS"); do
	for c in "$@"; do
		setup "$c"
		# 1 GiB first: 2 MiB cycles leave scattered unmovable vmemmap
		# pages and page tables that can keep any 1 GiB range from
		# being had (a run with 2 MiB first had none after round 1).
		measure "$c" 1048576 "$N1G"
		measure "$c" 2048 "$N2M"
	done
	set -- "${@:2}" "$1"	# rotate the order each round
	for state in free in_use; do
		adopt_restore 2048 "$N2M" "$state"
		adopt_restore 1048576 "$N1G" "$state"
	done
	for n in $SCALE; do
		adopt_restore 2048 "$n" free scale_
	done
	live "$r"
done
# What each part of restoring one vmemmap page costs in this boot.
for r in 1 2 3; do
	insmod "/opt/hvo-kmod/$(uname -r)/hvo_page_cost.ko" && rmmod hvo_page_cost
done
dmesg | sed -n 's/.*hvo_page_cost: /# page cost: /p'
unload
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
