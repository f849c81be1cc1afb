#!/bin/bash
# The bpftrace tools and hvoctl, run for real against the loaded module
# while pools change; what they print is checked against what was done
# and against the stats file. (The tracepoints themselves: 00-tracepoints.)
. "$(dirname "$0")/lib.sh"

plan 54

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BT=$REPO/tools/bpftrace
WL=$REPO/tests/guest/bin
unload
mount_hugetlbfs

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

# attached_all OUTPUT RC FILE: bpftrace exited 0 and attached every probe
# FILE names (one per probe line: BEGIN, END, tracepoint:, interval:),
# with no error or warning (a probe it cannot find is only a warning
# to some versions, which then run without it).
attached_all() {
	local want
	want=$(grep -cE '^(BEGIN|END|tracepoint:|interval:)' "$3")
	[ "$2" = 0 ] && grep -q "^Attaching $want probes\.\.\.$" <<<"$1" &&
		! grep -qE 'ERROR|WARNING' <<<"$1"
}

# Failures come only under memory exhaustion, where bpftrace itself gets
# OOM-killed (boot/pressure exercises the failure path without it). Here:
# the tool loads, attaches every probe, runs bounded through a resize, and
# reports no failure where there was none; and the same check catches a
# copy of it with a misspelled tracepoint.
modprobe hvo_shared
out=$(bpftrace -c "/bin/bash $WL/resize.sh 2048 16" "$BT/hvo-failures.bt" 2>&1)
rc=$?
ok "hvo-failures.bt attached all its probes" -- attached_all "$out" "$rc" "$BT/hvo-failures.bt"
ok "  ... and printed its banner" -- grep -q '^Tracing hvo_shared failures' <<<"$out"
is "$(grep -c 'failed:' <<<"$out")" 0 "hvo-failures.bt: no failure reported for a clean resize"
is "$(stat optimize_failed)$(stat restore_failed)" 00 "  ... as the stats file says"
sed 's/^tracepoint:hvo_shared:folio_optimize,$/tracepoint:hvo_shared:folio_optimise,/' \
	"$BT/hvo-failures.bt" >/tmp/hvo-failures-broken.bt
out=$(bpftrace -c /bin/true /tmp/hvo-failures-broken.bt 2>&1)
rc=$?
diag "a misspelled probe: exit $rc, $(grep -m1 -E 'ERROR|WARNING' <<<"$out")"
! attached_all "$out" "$rc" /tmp/hvo-failures-broken.bt
tap $? "a copy with a misspelled probe fails the same check"
out=$(timeout 60 bpftrace "$BT/hvo-latency.bt" 3 2>&1)
tap $? "hvo-latency.bt 3 exits by itself after 3 seconds"
rmmod hvo_shared

# --- hvoctl ---------------------------------------------------------------
make -s -C "$REPO/tools/hvoctl" install DESTDIR=/tmp/inst PREFIX=/usr >/dev/null
hvoctl=/tmp/inst/usr/sbin/hvoctl
ok "hvoctl and its manual page install under DESTDIR" -- \
	test -x "$hvoctl" -a -s /tmp/inst/usr/share/man/man8/hvoctl.8

# expect CODE PATTERN DESC -- CMD: exit status and a line of output.
expect() {
	local code=$1 pat=$2 desc=$3 out rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	is "$rc" "$code" "$desc: exit $code"
	ok "  ... says: $pat" -- grep -qE "$pat" <<<"$out"
}

expect 0 '^usage: hvoctl COMMAND' "hvoctl --help" -- "$hvoctl" --help
expect 2 '^usage:' "hvoctl with a bad command" -- "$hvoctl" frobnicate
expect 8 'hvo_shared is not loaded' "hvoctl stats before load" -- "$hvoctl" stats
expect 3 'must be run as root' "hvoctl load as nobody" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$hvoctl" load
expect 4 'is not installed for this kernel' "hvoctl load without the module installed" -- \
	unshare -m sh -c "mount -t tmpfs none /lib/modules && $hvoctl load"
expect 2 'a parameter was refused' "hvoctl load hstates=3M" -- "$hvoctl" load hstates=3M
ok "  ... and nothing is loaded" -- test ! -e /sys/module/hvo_shared

# A module whose vermagic names another kernel: the kernel refuses it.
ko=$(modinfo -n hvo_shared)
xz -dc "$ko" | sed 's/vermagic=[0-9]/vermagic=9/' | xz --check=crc32 --lzma2=dict=1MiB -c >/tmp/other-kernel.ko.xz
expect 5 'this kernel is not supported by hvo_shared' "hvoctl load of a module for another kernel" -- \
	unshare -m sh -c "mount --bind /tmp/other-kernel.ko.xz $ko && $hvoctl load"

expect 0 'hvo_shared loaded' "hvoctl load hstates=2M nodes=all" -- "$hvoctl" load hstates=2M nodes=all
is "$(cat "$PARAMS/hstates")" 2M "  ... with its parameters"
expect 7 'already loaded' "hvoctl load again" -- "$hvoctl" load
pool_set 2048 0 40
pool_set 2048 1 24
expect 0 "^hvo_shared [^ ]+: 64 folios on 2 nodes, [0-9.]+ MiB of vmemmap saved \\([0-9.]+%\\)$" \
	"hvoctl status summary" -- "$hvoctl" status
out=$("$hvoctl" status)
ok "hvoctl status: libkmod says live" -- grep -q '(live)$' <<<"$out"
is "$(awk '$1 == 0 { print $2 }' <<<"$out")" 40 "hvoctl status: node 0 has 40 folios"
is "$(awk '$1 == 1 { print $2 }' <<<"$out")" 24 "hvoctl status: node 1 has 24 folios"
mib=$(awk -v b="$(stat saved_bytes)" 'BEGIN { printf "%.1f", b / 1048576 }')
ok "hvoctl status: $mib MiB saved, as saved_bytes says" -- grep -q ", $mib MiB of vmemmap saved" <<<"$out"

json=$("$hvoctl" stats --json)
jq -e . >/dev/null <<<"$json"
tap $? "hvoctl stats --json is valid JSON"
is "$(jq -r 'to_entries[] | "\(.key) \(.value)"' <<<"$json")" "$(cat "$STATS")" \
	"hvoctl stats --json: every key and value equals the stats file"
is "$(jq '.folios_optimized | type' <<<"$json")" '"number"' "  ... integers are JSON numbers"
is "$("$hvoctl" stats)" "$(cat "$STATS")" "hvoctl stats: the stats file, key by key"
is "$("$hvoctl" watch -n 1 -c 2 | grep -c '^hvo_shared .*: 64 folios')" 2 "hvoctl watch -n 1 -c 2: two refreshes"
expect 6 'mount -t debugfs none /sys/kernel/debug' "hvoctl stats without debugfs" -- \
	unshare -m sh -c "umount -l /sys/kernel/debug && $hvoctl stats"

exec 3<"$STATS"
expect 7 'hvo_shared is busy' "hvoctl unload while the stats file is open" -- "$hvoctl" unload
exec 3<&-
pool_set 2048 "" 0
expect 0 'hvo_shared unloaded' "hvoctl unload" -- "$hvoctl" unload
expect 8 'not loaded' "hvoctl unload again" -- "$hvoctl" unload
tap_done
