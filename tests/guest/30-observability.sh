#!/bin/bash
# The bpftrace tools, run for real against the loaded module while pools
# change; what they print is checked against what was done and against
# the stats file. (Tracepoints: 00-tracepoints; hvoctl: 31-hvoctl.)
. "$(dirname "$0")/lib.sh"

plan 15

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BT=$REPO/tools/bpftrace
WL=$REPO/tests/guest/bin
unload
mount_hugetlbfs

# --- bpftrace tools, attached at once, then the workload -------------------
# Each tool takes 2-10 s to start under TCG, so the three start together.
# A tool's child (-c) runs once every probe of it is attached: it writes
# its PID, which says the tool is ready, and sleeps; killing it ends the
# tool, which prints its maps.
T=/tmp/30-observability
rm -rf $T
mkdir -p $T
# (bpftrace splits -c's command at spaces, quotes or not: a script file.)
echo 'echo $$ >"$1"; exec sleep 600' >$T/child.sh
modprobe hvo_shared
for tool in hvo-latency hvo-events hvo-savings; do
	bpftrace -c "/bin/sh $T/child.sh $T/$tool.ready" "$BT/$tool.bt" >$T/$tool.out 2>&1 &
done
for _ in $(seq 120); do
	[ "$(cat $T/*.ready 2>/dev/null | wc -l)" = 3 ] && break
	sleep 1
done
ok "the three tools attached" -- test "$(cat $T/*.ready 2>/dev/null | wc -l)" = 3
/bin/bash "$WL/resize.sh" 2048 64
# shellcheck disable=SC2046 # a list of PIDs
kill $(cat $T/*.ready)
wait

out=$(cat $T/hvo-latency.out)
# printed BANNER: true if bpftrace's output has it; else say what it printed.
printed() {
	grep -q "^$1" <<<"$out" && return
	head -n 20 <<<"$out" | sed 's/^/#   bpftrace: /'
	return 1
}
ok "hvo-latency.bt printed its banner" -- printed 'Tracing hvo_shared optimize/restore latency'
# A bucket line is "[LO, HI)  COUNT |@@@|", or "[0]  COUNT |@|" and "[1]"
# for the first two: the count is the last word before the bar.
for m in optimize_usecs restore_usecs; do
	hist=$(sed -n "/^@$m\[9\]:/,/^$/p" <<<"$out")
	n=$(awk '/^\[/ { sub(/\|.*/, ""); n += $NF } END { print n + 0 }' <<<"$hist")
	is "$n" 64 "hvo-latency.bt: @$m[9] histogram counts 64 folios"
	[ "$n" = 64 ] || sed 's/^/#   /' <<<"$hist"
done

out=$(cat $T/hvo-events.out)
is "$(grep -cE '^[0-9:]{8} +[0-9]+ +bash +optimize +0x[0-9a-f]+ +9 +[01] +[0-9]+ +0 ' <<<"$out")" 64 \
	"hvo-events.bt: 64 optimize lines, each with pid and comm"
is "$(grep -cE ' restore +0x[0-9a-f]+ +9 ' <<<"$out")" 64 "hvo-events.bt: 64 restore lines"

out=$(cat $T/hvo-savings.out)
opt=$(awk '/^[0-9:]{8} / { n += $2 } END { print n + 0 }' <<<"$out")
rst=$(awk '/^[0-9:]{8} / { n += $3 } END { print n + 0 }' <<<"$out")
top=$(awk '/^[0-9:]{8} / && $5 > m { m = $5 } END { print m + 0 }' <<<"$out")
is "$opt" 64 "hvo-savings.bt: 64 folios optimized over the intervals"
is "$rst" 64 "hvo-savings.bt: 64 folios restored"
is "$top" $((64 * 7 * 4)) "hvo-savings.bt: running total peaked at 64 x 28 KiB"
rmmod hvo_shared

# attached_all OUTPUT RC FILE: bpftrace exited 0 with no error or warning,
# and every tracepoint FILE names exists in tracefs. bpftrace 0.23
# (trixie) prints "Attaching N probes...", 0.27 (sid) does not, and skips
# a tracepoint it cannot find with exit 0 and no word: so the probes are
# held against tracefs, not against what bpftrace says.
attached_all() {
	local tp
	[ "$2" = 0 ] && ! grep -qE 'ERROR|WARNING' <<<"$1" || return 1
	for tp in $(grep -oE '^tracepoint:[a-z_]+:[a-z_]+' "$3" | cut -d: -f2- | tr : /); do
		[ -d "/sys/kernel/tracing/events/$tp" ] || return 1
	done
	grep -qE '^tracepoint:' "$3"
}

# Failures come only under memory exhaustion, where bpftrace itself gets
# OOM-killed (boot/pressure exercises the failure path without it). Here:
# the tool loads, attaches every probe, runs bounded through a resize, and
# reports no failure where there was none; and the same check catches a
# copy of it with a misspelled tracepoint.
# hvo-latency.bt with a time limit starts beside it.
modprobe hvo_shared
timeout 60 bpftrace "$BT/hvo-latency.bt" 3 >$T/timed.out 2>&1 &
timed=$!
out=$(bpftrace -c "/bin/bash $WL/resize.sh 2048 16" "$BT/hvo-failures.bt" 0 2>&1)
rc=$?
ok "hvo-failures.bt ran clean and every tracepoint it names exists" -- attached_all "$out" "$rc" "$BT/hvo-failures.bt"
ok "  ... and printed its banner" -- printed 'Tracing hvo_shared failures'
is "$(grep -c 'failed:' <<<"$out")" 0 "hvo-failures.bt: no failure reported for a clean resize"
is "$(stat optimize_failed)$(stat restore_failed)" 00 "  ... as the stats file says"
# The copy is not run: bpftrace 0.27 would run it clean (see above), so
# the check must fail on what it holds against tracefs, with the good
# run's output and status.
sed 's/^tracepoint:hvo_shared:folio_optimize,$/tracepoint:hvo_shared:folio_optimise,/' \
	"$BT/hvo-failures.bt" >/tmp/hvo-failures-broken.bt
! attached_all "$out" "$rc" /tmp/hvo-failures-broken.bt
tap $? "a copy with a misspelled probe fails the same check"
wait $timed
tap $? "hvo-latency.bt 3 exits by itself after 3 seconds"
rmmod hvo_shared
rm -rf $T
tap_done
