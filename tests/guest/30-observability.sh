#!/bin/bash
# Tracepoints and the bpftrace tools, run for real against the
# loaded module while pools change; what they print is checked against
# what was done and against the stats file.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BT=$REPO/tools/bpftrace
WL=$REPO/tests/guest/bin
TRACING=/sys/kernel/tracing
unload
mount_hugetlbfs

# --- tracepoints ---------------------------------------------------------
modprobe hvo_shared
for e in folio_optimize folio_restore tail_alloc pmd_split; do
	ok "tracefs has hvo_shared:$e" -- test -d "$TRACING/events/hvo_shared/$e"
done
listed=$(bpftrace -l 'tracepoint:hvo_shared:*' 2>&1)
is "$(grep -c '^tracepoint:hvo_shared:' <<<"$listed")" 4 "bpftrace -l lists the 4 tracepoints"
echo >"$TRACING/trace"
echo 1 >"$TRACING/events/hvo_shared/folio_optimize/enable"
echo 1 >"$TRACING/events/hvo_shared/folio_restore/enable"
pool_set 2048 "" 6
pool_set 2048 "" 0
echo 0 >"$TRACING/events/hvo_shared/enable"
is "$(grep -c 'folio_optimize: pfn=0x[0-9a-f]* order=9 nid=[01] zone=[0-9] result=0 duration_ns=[0-9]' "$TRACING/trace")" 6 \
	"tracefs: 6 folio_optimize events for 6 folios"
is "$(grep -c 'folio_restore: .* order=9 .* result=0 ' "$TRACING/trace")" 6 \
	"tracefs: 6 folio_restore events"
rmmod hvo_shared

# --- bpftrace tools, each attached, then the workload, then it exits ------
modprobe hvo_shared
out=$(bpftrace -c "/bin/bash $WL/resize.sh 2048 64" "$BT/hvo-latency.bt" 2>&1)
ok "hvo-latency.bt printed its banner" -- grep -q '^Tracing hvo_shared optimize/restore latency' <<<"$out"
for m in optimize_usecs restore_usecs; do
	n=$(sed -n "/^@$m\[9\]:/,/^$/p" <<<"$out" | awk '/^\[/ { sub(/.*\) */, ""); n += $1 } END { print n + 0 }')
	is "$n" 64 "hvo-latency.bt: @$m[9] histogram counts 64 folios"
done

out=$(bpftrace -c "/bin/bash $WL/resize.sh 2048 8" "$BT/hvo-events.bt" 2>&1)
is "$(grep -cE '^[0-9:]{8} +[0-9]+ +bash +optimize +0x[0-9a-f]+ +9 +[01] +[0-9]+ +0 ' <<<"$out")" 8 \
	"hvo-events.bt: 8 optimize lines, each with pid and comm"
is "$(grep -cE ' restore +0x[0-9a-f]+ +9 ' <<<"$out")" 8 "hvo-events.bt: 8 restore lines"

out=$(bpftrace -c "/bin/bash $WL/resize.sh 2048 64" "$BT/hvo-savings.bt" 2>&1)
opt=$(awk '/^[0-9:]{8} / { n += $2 } END { print n + 0 }' <<<"$out")
rst=$(awk '/^[0-9:]{8} / { n += $3 } END { print n + 0 }' <<<"$out")
top=$(awk '/^[0-9:]{8} / && $5 > m { m = $5 } END { print m + 0 }' <<<"$out")
is "$opt" 64 "hvo-savings.bt: 64 folios optimized over the intervals"
is "$rst" 64 "hvo-savings.bt: 64 folios restored"
is "$top" $((64 * 7 * 4)) "hvo-savings.bt: running total peaked at 64 x 28 KiB"
rmmod hvo_shared

# Failures come only under memory exhaustion, where bpftrace itself gets
# OOM-killed (boot/pressure exercises the failure path without it). Here:
# the tool loads, runs bounded through a resize, and reports no failure
# where there was none.
modprobe hvo_shared
out=$(bpftrace -c "/bin/bash $WL/resize.sh 2048 16" "$BT/hvo-failures.bt" 2>&1)
ok "hvo-failures.bt attached and printed its banner" -- \
	grep -q '^Tracing hvo_shared failures' <<<"$out"
is "$(grep -c 'failed:' <<<"$out")" 0 "hvo-failures.bt: no failure reported for a clean resize"
is "$(stat optimize_failed)$(stat restore_failed)" 00 "  ... as the stats file says"
out=$(timeout 60 bpftrace "$BT/hvo-latency.bt" 3 2>&1)
tap $? "hvo-latency.bt 3 exits by itself after 3 seconds"
rmmod hvo_shared
tap_done
