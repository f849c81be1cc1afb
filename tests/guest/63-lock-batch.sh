#!/bin/bash
# Interrupts-off sections bounded by a batch, not by the pool: while
# hvo_shared's pool actions hold hugetlb_lock (spin_lock_irq), they look
# at HVO_LOOK_BATCH (32) folios at most, whatever the pool's size. Read
# by tools/bpftrace/hvo-lockhold.bt around adopt (its free walk looks at
# every folio, all already optimized by takeover), restore (every free
# folio restored in place) and adopt again, on pools of 64 and 512 free
# 2 MiB folios: the most folios one hold looked at is the same for both,
# and at most 32. The longest hold is printed, not judged: under TCG a
# vCPU can be descheduled with the lock held.
. "$(dirname "$0")/lib.sh"

plan 7
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

clean_start
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
