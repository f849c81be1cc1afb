#!/bin/bash
# Interrupts-off sections bounded by a batch, not by the pool: while
# hvo_shared's pool actions hold hugetlb_lock (spin_lock_irq), they look
# at HVO_LOOK_BATCH (32) folios at most, whatever the pool's size. Read
# by tools/bpftrace/hvo-lockhold.bt around adopt (its free walk looks at
# every folio, all already optimized by takeover), restore (every free
# folio restored in place) and adopt again, on pools of 64 and 512 free
# 2 MiB folios: the most folios one hold looked at is the same for both,
# and at most 32. Takeover runs inside modprobe, before bpftrace could
# name a function of the module, so takeover and giveback are read the
# same way through tracefs kprobe events, which may name one of a module
# not loaded yet. The longest hold is printed, not judged: under TCG a
# vCPU can be descheduled with the lock held.
. "$(dirname "$0")/lib.sh"

plan 12
BT=$(dirname "$0")/../../tools/bpftrace

# measure N: "LOOKED_MAX HOLD_MAX_US HOLDS" for the three actions on N folios.
measure() {
	local out
	pool_set 2048 "" "$1"
	modprobe hvo_shared
	cat >/tmp/lock-batch.sh <<-EOS
		echo 1 >$PARAMS/adopt
		echo 1 >$PARAMS/restore
		echo 1 >$PARAMS/adopt
	EOS
	out=$(bpftrace -c "/bin/sh /tmp/lock-batch.sh" "$BT/hvo-lockhold.bt" 2>&1)
	rmmod hvo_shared
	pool_set 2048 "" 0
	echo "$(sed -n 's/^@looked_max: //p' <<<"$out") $(sed -n 's/^@hold_max_usecs: //p' <<<"$out")" \
		"$(sed -n 's/^@holds: //p' <<<"$out")"
}

# The tracefs events: hugetlb_lock taken and released, and the walks'
# per-folio tests, by modprobe and rmmod only, in an instance of their
# own.
TR=/sys/kernel/tracing
INST=$TR/instances/hvo-lock-batch
events_on() {
	local lock e
	lock=$(awk '$3 == "hugetlb_lock" { print $1; exit }' /proc/kallsyms)
	{
		echo "p:hvolk/lock _raw_spin_lock_irq lock=%di:x64"
		echo "p:hvolk/unlock _raw_spin_unlock_irq lock=%di:x64"
		echo "p:hvolk/look hvo_shared:hvo_should_optimize"
		echo "p:hvolk/ours hvo_shared:hvo_is_ours"
	} >>$TR/kprobe_events || return 1
	mkdir -p $INST
	for e in lock unlock; do
		echo "lock == 0x$lock && (comm == \"modprobe\" || comm == \"rmmod\")" \
			>$INST/events/hvolk/$e/filter || return 1
	done
	for e in look ours; do
		echo 'comm == "modprobe" || comm == "rmmod"' >$INST/events/hvolk/$e/filter || return 1
	done
	echo 1 >$INST/events/hvolk/enable
}
events_off() {
	{ echo 0 >$INST/events/hvolk/enable; } 2>/dev/null
	rmdir $INST 2>/dev/null
	local e
	for e in lock unlock look ours; do echo "-:hvolk/$e" >>$TR/kprobe_events; done 2>/dev/null
}

# measure_load N: "LOOKED_MAX HOLD_MAX_US HOLDS" for takeover, then for
# giveback, of a pool of N free folios the kernel's HVO optimized: both
# walks look at every one and want none (a walk's hold ends at the first
# folio it wants), so only the batch bounds a hold.
measure_load() {
	echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap
	pool_set 2048 "" "$1"
	echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
	echo >$INST/trace
	modprobe hvo_shared giveback=1
	rmmod hvo_shared
	pool_set 2048 "" 0
	awk '{
		for (i = 2; i < NF && $i !~ /^[0-9]+\.[0-9]+:$/; i++) ;
		if (i >= NF) next
		ts = substr($i, 1, length($i) - 1); e = $(i + 1); sub(/:$/, "", e)
		pid = $1; sub(/.*-/, "", pid); act = $1 ~ /^rmmod-/ ? 2 : 1
		if (e == "lock") { start[pid] = ts; looked[pid] = 0 }
		else if (e == "unlock" && pid in start) {
			us = int((ts - start[pid]) * 1000000)
			holds[act]++
			if (us > hold[act]) hold[act] = us
			if (looked[pid] > lmax[act]) lmax[act] = looked[pid]
			delete start[pid]
		} else if ((e == "look" || e == "ours") && pid in start) looked[pid]++
	}
	END { for (a = 1; a <= 2; a++) printf "%d %d %d\n", lmax[a], hold[a], holds[a] }' $INST/trace
}

clean_start
events_off
ok "tracefs kprobe events on hugetlb_lock and on hvo_shared's folio tests, before it loads" -- events_on
{ read -r t_small t_small_us t_small_holds; read -r g_small g_small_us g_small_holds; } <<<"$(measure_load 64)"
{ read -r t_large t_large_us t_large_holds; read -r g_large g_large_us g_large_holds; } <<<"$(measure_load 512)"
events_off
diag "takeover: 64 folios: $t_small_holds holds, longest $t_small_us us; 512: $t_large_holds holds, longest $t_large_us us"
diag "giveback: 64 folios: $g_small_holds holds, longest $g_small_us us; 512: $g_large_holds holds, longest $g_large_us us"
# Each walk takes the lock at least once per batch of 32 looked at, and
# looks at 32 in one hold: the bound, reached.
ok "takeover: the holds of 64 and 512 folios were read ($t_small_holds, $t_large_holds)" -- \
	test "${t_small_holds:-0}" -ge 2 -a "${t_large_holds:-0}" -ge 16
is "$t_small $t_large" "32 32" "  ... at most 32 folios looked at in one hold, for both"
ok "giveback: the holds of 64 and 512 folios were read ($g_small_holds, $g_large_holds)" -- \
	test "${g_small_holds:-0}" -ge 2 -a "${g_large_holds:-0}" -ge 16
is "$g_small $g_large" "32 32" "  ... at most 32 folios looked at in one hold, for both"

read -r small small_us small_holds <<<"$(measure 64)"
read -r large large_us large_holds <<<"$(measure 512)"
diag "64 folios: $small_holds holds, longest $small_us us; 512 folios: $large_holds holds, longest $large_us us"
ok "hvo-lockhold.bt counted the holds of the 64-folio pool ($small_holds)" -- test "${small_holds:-0}" -ge 64
ok "  ... and of the 512-folio pool ($large_holds)" -- test "${large_holds:-0}" -ge 512
ok "64 folios: at most 32 folios looked at in one hold ($small)" -- test "${small:-99}" -le 32
ok "512 folios: at most 32 folios looked at in one hold ($large)" -- test "${large:-99}" -le 32
is "$large" "$small" "  ... the same as for 64: the bound does not grow with the pool"
ok "the longest hold was measured for both ($small_us us, $large_us us)" -- \
	test -n "$small_us" -a -n "$large_us"
is "$(meminfo HugePages_Total)" 0 "the pool is gone"
tap_done
