#!/bin/bash
# rmmod while a task runs module text that the active-task counter does not
# cover: between the ftrace redirect and hvo_enter(), and after hvo_exit().
# inject=delay_enter|delay_exit makes the task spin there (preemptible, no
# sleep) while rmmod runs on the other CPU. For the exit window the task
# first sleeps where it is counted (sleep_inside), so that the grace
# period inside unregister_ftrace_function() is over before it gets
# there. Without the grace periods in hvo_engine_exit() the module's text
# is freed under the task and it oopses when it resumes; with them rmmod
# waits for it.
#
# Then load and unload with a pause between two hooks (inject=hook_gap)
# while the pool grows and shrinks: every folio hvo_shared optimizes must
# be restored through its own hooks, or it stays listed after it has left
# hugetlb (hook order, docs/safety.md).
. "$(dirname "$0")/lib.sh"

plan 18
clean_start
no_oops() { ! dmesg_since | grep -Eq 'Oops|BUG:|WARNING:|general protection|Bad page'; }
mm0=$(memmap_pages)

for sites in delay_enter sleep_inside,delay_exit; do
	site=${sites%%,*}
	pool_set 2048 "" 0
	dmesg_mark
	modprobe hvo_shared inject=$sites inject_every=1 inject_delay_ms=2000
	pool_set 2048 0 16 &
	grower=$!
	# Wait until the grower is inside the window, then unload.
	for _ in $(seq 100); do
		[ "$(stat "injected.$site" 2>/dev/null || echo 0)" -gt 0 ] && break
		sleep 0.05
	done
	inside=$(stat "injected.$site")
	rmmod hvo_shared
	rc=$?
	wait $grower
	grow=$?
	ok "$site: a task was inside the window when rmmod started ($inside)" -- test "$inside" -gt 0
	is "$rc" 0 "  ... rmmod succeeded"
	is "$grow" 0 "  ... the pool write that was in the window returned"
	is "$(pool_get 2048 0)" 16 "  ... and the pool grew to 16"
	ok "  ... no oops, bad page or warning in the kernel log" -- no_oops
	pool_set 2048 0 0
done
# churn: grow and shrink node 0's 2 MiB pool until $stop exists; one line
# in $cycles per round.
stop=/tmp/churn.stop cycles=/tmp/churn.cycles
churn() {
	while [ ! -e $stop ]; do
		pool_set 2048 0 8
		pool_set 2048 0 0
		echo >>$cycles
	done
}
rounds() { wc -l <$cycles; }
rm -f $stop; : >$cycles
churn &
churner=$!
modprobe hvo_shared inject=hook_gap inject_every=1 inject_delay_ms=1500
during=$(rounds)
touch $stop
wait $churner
is "$(stat injected.hook_gap)" 3 "hook_gap: the load paused between each two of the 4 hooks"
ok "  ... while the pool grew and shrank ($during rounds)" -- test "$during" -ge 2
pool_set 2048 0 0
pool_set 2048 0 8
is "$(stat folios_optimized)" 8 "  ... then a pool of 8 counts 8 folios optimized"
is "$(stat optimize_failed)" 0 "  ... none failed"
ok "  ... verify is ok: $(tail -n 1 /sys/kernel/debug/hvo_shared/verify)" -- \
	grep -qx "ok: 8 folios" <<<"$(tail -n 1 /sys/kernel/debug/hvo_shared/verify)"
rm -f $stop; : >$cycles
churn &
churner=$!
dmesg_mark
rmmod hvo_shared
touch $stop
wait $churner
ok "  ... unload with the same pauses and churn ($(rounds) rounds): no oops or warning" -- no_oops
pool_set 2048 0 0
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline after the kernel freed both pools"
ok "module gone" -- test ! -e /sys/module/hvo_shared
tap_done
