#!/bin/bash
# A walk restores free folios in batches and clears their flags only after
# the batch's TLB flush; inject=batch_flush holds a batch asleep before
# that flush while the kernel frees the same folios (a pool shrink).
#
# Giveback at unload: the restore the kernel then runs must still be
# hvo_shared's, which finishes a folio of the open batch. Were the hooks
# gone, the kernel's own restore would see the flag still set, restore
# the folio again and leak the pages giveback mapped: nr_memmap_pages
# would not come back to where it was.
#
# Restore-all: the shrink must not wait for the batch; the kernel's frees
# of those folios finish while the batch still sleeps (before, they waited
# on the batch with a wake-up that could be lost).
. "$(dirname "$0")/lib.sh"

plan 16
N=8		# one batch (HVO_FLUSH_BATCH is 64)
DELAY=4000
clean_start
pool_set 2048 "" 0
mm0=$(memmap_pages)

# running PID: whether PID has not exited yet.
running() { kill -0 "$1" 2>/dev/null; }

# hold_batches: every batch sleeps DELAY ms before its flush.
hold_batches() {
	echo batch_flush >"$PARAMS/inject"
	echo 1 >"$PARAMS/inject_every"
	echo "$DELAY" >"$PARAMS/inject_delay_ms"
}

# shrink_beside PID: empty node 0's pool while PID runs; sets shrunk (the
# write's status) and still (whether PID had not finished by then).
shrink_beside() {
	pool_set 2048 0 0
	shrunk=$?
	still=$(running "$1" && echo yes || echo no)
}

# Giveback while the kernel frees the folios of its open batch.
dmesg_mark
modprobe hvo_shared
pool_set 2048 0 "$N"
is "$(stat folios_optimized)" "$N" "giveback: $N free folios optimized"
echo 1 >/sys/module/hvo_shared/parameters/giveback
hold_batches
rmmod hvo_shared &
rmmoder=$!
# The stats file goes first at unload: the batch's sleep shows as rmmod's
# wait channel instead.
asleep=no
for _ in $(seq 100); do
	[ "$(cat /proc/$rmmoder/wchan 2>/dev/null)" = msleep ] && asleep=yes && break
	sleep 0.1
done
is "$asleep" yes "  ... rmmod's giveback batch sleeps before its flush"
shrink_beside $rmmoder
wait $rmmoder
is "$?" 0 "  ... rmmod succeeded"
is "$shrunk" 0 "  ... the pool shrink while giveback's batch slept succeeded"
is "$still" yes "  ... and returned before the batch's flush (rmmod was still giving back)"
is "$(dmesg_since | grep -c 'gave back')" 1 "  ... giveback ran: $(dmesg_since | grep -o 'gave back.*')"
is "$(pool_get 2048 0)" 0 "  ... the pool is empty"
echo 1 >/proc/sys/vm/stat_refresh
is "$(memmap_pages)" "$mm0" "  ... nr_memmap_* exactly back at baseline: no page of the batch leaked"

# Restore-all while the kernel frees the folios of its open batch.
dmesg_mark
modprobe hvo_shared
pool_set 2048 0 "$N"
is "$(stat folios_optimized)" "$N" "restore-all: $N free folios optimized"
hold_batches
echo 1 >/sys/module/hvo_shared/parameters/restore &
restorer=$!
for _ in $(seq 100); do
	[ "$(stat injected.batch_flush)" -gt 0 ] && break
	sleep 0.1
done
inside=$(stat injected.batch_flush)
ok "  ... its batch sleeps before the flush ($inside)" -- test "$inside" -gt 0
shrink_beside $restorer
wait $restorer
is "$?" 0 "  ... restore-all succeeded"
is "$shrunk" 0 "  ... the pool shrink meanwhile succeeded"
is "$still" yes "  ... and did not wait for the batch (restore-all was still running)"
is "$(stat restore_all_total)" "$N" "  ... restore-all restored the $N folios"
is "$(stat folios_optimized)" 0 "  ... none is left listed"
echo none >/sys/module/hvo_shared/parameters/inject
rmmod hvo_shared
echo 1 >/proc/sys/vm/stat_refresh
is "$(memmap_pages)" "$mm0" "  ... after rmmod nr_memmap_* exactly back at baseline"
tap_done
