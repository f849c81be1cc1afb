#!/bin/bash
# hvoctl stats --prometheus as Prometheus reads it: promtool check metrics
# (the text format's parser and its lint) on the real module's output and
# on a stats file of every key docs/stats.md documents; keys no hvoctl
# knows, and bytes no label may hold, still parse. Then the systemd
# unit's command, as its timer runs it: the textfile is replaced whole,
# never seen half written, and kept when hvoctl fails.
. "$(dirname "$0")/lib.sh"

plan 28
REPO=$(cd "$(dirname "$0")/../.." && pwd)
unload
mount_hugetlbfs

ok "promtool is in the root (tests/vm/prepare)" -- command -v promtool

# lint: promtool check metrics on stdin; prints its complaints, if any.
lint() { promtool check metrics 2>&1; }
# parses: stdin parses (promtool's exit 3 is lint alone, 1 a parse error).
parses() {
	local out rc
	out=$(promtool check metrics 2>&1)
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "# exit $rc: $out"; return 1; }
}

# --- the real module ---------------------------------------------------------
modprobe hvo_shared
pool_set 2048 0 8
pool_set 2048 1 8
prom=$(hvoctl stats --prometheus)
out=$(lint <<<"$prom")
tap $? "promtool check metrics: the real module's output, 16 folios"
is "$out" "" "  ... without a complaint"
is "$(awk '/^# TYPE .* counter$/ && $3 !~ /_total$/' <<<"$prom")" "" "  ... every counter ends in _total"
is "$(awk '$1 == "#" && $2 == "TYPE" { t[$3] = 1 } $1 == "#" && $2 == "HELP" { h[$3] = 1 }
	END { for (n in t) if (!h[n]) print n }' <<<"$prom")" "" "  ... every family has a HELP line"
is "$(grep -c '^hvo_shared_zone_folios_optimized{node="[01]",zone="[A-Za-z0-9]*",order="9"} ' <<<"$prom")" \
	"$(grep -c '^node[01]\.[A-Za-z0-9]*\.order9\.folios_optimized ' "$STATS")" \
	"  ... one zone sample per (node, zone, order) key, labelled"
is "$(awk '/^hvo_shared_zone_folios_optimized/ { s += $2 } END { print s }' <<<"$prom")" 16 \
	"  ... and they sum to the 16 folios"
is "$(awk '$1 == "hvo_shared_optimize_total" { print $2 }' <<<"$prom")" "$(stat optimize_total)" \
	"  ... optimize_total is hvo_shared_optimize_total"
is "$(awk '$1 == "hvo_shared_optimize_failed_total" { print $2 }' <<<"$prom")" "$(stat optimize_failed)" \
	"  ... optimize_failed is the counter hvo_shared_optimize_failed_total"
pool_set 2048 "" 0
unload

# --- every documented key ----------------------------------------------------
# docs/stats.md's table, each key with a value of its kind, and the five
# live keys per (node, zone, order).
F=/tmp/prom-stats
keys=$(sed -n 's/^| `\([a-z][a-z0-9_.]*\)` | \([a-z`]*\) |.*/\1 \2/p' "$REPO/docs/stats.md")
{
	n=1
	while read -r k kind; do
		case $kind in
		integer) echo "$k $n"; n=$((n + 1)) ;;
		*) echo "$k some-$k" ;;
		esac
	done <<<"$keys"
	for z in node0.DMA32.order9 node1.Normal.order18 node1.Movable.order9; do
		for k in folios_optimized vmemmap_pages_freed vmemmap_pages_allocated shared_tail_pages saved_bytes; do
			echo "$z.$k 3"
		done
	done
} >"$F"
ok "docs/stats.md lists 40 keys or more" -- test "$(wc -l <<<"$keys")" -ge 40
prom=$(HVOCTL_STATS=$F hvoctl stats --prometheus)
out=$(lint <<<"$prom")
tap $? "promtool check metrics: every documented key"
is "$out" "" "  ... without a complaint"
is "$(grep -c '^hvo_shared' <<<"$prom")" $(($(grep -c ' integer$' <<<"$keys") + 15 + 1)) \
	"  ... one sample per integer key and per-zone key, and hvo_shared_info"
is "$(grep -c 'untyped$\|^# hvo_shared: dropped' <<<"$prom")" 0 "  ... each one typed, none dropped"

# --- what a later module, or a broken file, may hold -------------------------
# Keys this hvoctl does not know (one with a dot, one that comes out as a
# known name, unit-like and upper-case ones), a node past MAX_NODES, a
# zone with a quote and a backslash, a string that is not UTF-8, a
# duplicate key: all still parse.
fake_lines=(
	'version 1' $'state a"b\\c\xff' 'new.family.key 3' 'new_family_key 4' 'h 1' 'KB 2'
	'optimize_failed_total 5' 'optimize_failed 6' 'zone_folios_optimized 7'
	'node0.Nor"m\al.order9.folios_optimized 8' 'node0.Normal.order9.new.field 9'
	'node0.Normal.order9.new_field 10' 'node2000.Normal.order9.folios_optimized 11'
	'node01.Normal.order9.saved_bytes 12' 'injected.x"y 13' 'big 18446744073709551615'
	'new.family.key 14' 'bad_number 1e3'
)
printf '%s\n' "${fake_lines[@]}" >"$F"
prom=$(HVOCTL_STATS=$F hvoctl stats --prometheus)
parses <<<"$prom"
tap $? "keys no hvoctl knows, odd labels and bytes: the output parses"
ok "  ... the zone label escaped" -- grep -qF 'zone="Nor\"m\\al"' <<<"$prom"

# --- the systemd unit, as its timer runs it ----------------------------------
ok "make tools-install put the service and the timer where systemd reads them" -- \
	test -s /usr/local/lib/systemd/system/hvo-shared-metrics.service -a \
	-s /usr/local/lib/systemd/system/hvo-shared-metrics.timer
cmd=$(sed -n 's/^ExecStart=//p' "$REPO/tools/systemd/hvo-shared-metrics.service")
prom=${cmd##* }
dir=${prom%/*}
# run_unit: ExecStart as systemd runs it: from /, a clean environment,
# a bare command name found in its search path.
run_unit() {
	# shellcheck disable=SC2086 # the command line, split as systemd splits it
	(cd / && env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin $cmd)
}
rm -rf "$dir"
mkdir -p "$dir"
modprobe hvo_shared
pool_set 2048 "" 8
run_unit
tap $? "the unit's command ($cmd): exit 0"
out=$(lint <"$prom")
tap $? "  ... $prom passes promtool check metrics"
is "$out" "" "  ... without a complaint"
is "$(command stat -c %a "$prom")" 644 "  ... readable by the collector's user (0644)"
inode=$(command stat -c %i "$prom")
want=$(wc -l <"$prom")
# A reader counts every look at the file that is not whole, while the
# command rewrites it 30 times (the pool holds still: same lines).
rm -f /tmp/prom-stop
( bad=0; while [ ! -e /tmp/prom-stop ]; do
	[ "$(wc -l <"$prom")" = "$want" ] || bad=$((bad + 1)); done; echo "$bad" >/tmp/prom-bad ) &
reader=$!
fails=0
for _ in $(seq 30); do run_unit || fails=$((fails + 1)); done
touch /tmp/prom-stop
wait "$reader"
is "$fails" 0 "30 runs more: exit 0"
is "$(cat /tmp/prom-bad)" 0 "  ... and a reader meanwhile never saw a partial file"
# One run more, its inode before and after: over 30 renames a file
# system may hand the same inode number back (the root is 9p, numbered by
# the host's file system), which only one rename cannot do, as the
# temporary file exists beside the old one.
inode=$(command stat -c %i "$prom")
run_unit
ok "  ... the file was replaced (renamed over), not rewritten in place" -- \
	test "$(command stat -c %i "$prom")" != "$inode"
is "$(ls -A "$dir")" "${prom##*/}" "  ... and no temporary file is left"
cp "$prom" /tmp/prom-before
pool_set 2048 "" 0
unload
run_unit 2>/dev/null
is "$?" 8 "the module unloaded: the command exits 8"
ok "  ... and the last file stays whole" -- cmp -s "$prom" /tmp/prom-before
is "$(ls -A "$dir")" "${prom##*/}" "  ... with no temporary file left"
rm -rf "$dir"
tap_done
