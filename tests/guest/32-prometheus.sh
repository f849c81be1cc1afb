#!/bin/bash
# hvoctl stats --prometheus as Prometheus reads it: promtool check metrics
# (the text format's parser and its lint) on the real module's output and
# on a stats file of every key docs/stats.md documents; keys no hvoctl
# knows, and bytes no label may hold, still parse.
. "$(dirname "$0")/lib.sh"

plan 16
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
tap_done
