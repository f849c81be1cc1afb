#!/bin/bash
# Per-zone stats: with a Movable zone (boot with movablecore=), node 1's
# 2 MiB folios fill its Movable zone first and then its Normal zone, and
# the stats' nodeN.ZONE.order9.* keys must follow where each folio really
# is, read from /proc/kpageflags and /proc/zoneinfo: folios, pages freed,
# page tables split, shared tails allocated, bytes saved, per zone.
. "$(dirname "$0")/lib.sh"

plan 10
unload
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
zones1=$(zone_ranges | awk '$1 == 1 { printf "%s%s", sep, $2; sep = " " }')
ok "node1 has a Normal and a Movable zone ($zones1; needs movablecore=)" -- \
	test "$zones1" = "Normal Movable"

# expected KEY: the per-zone lines of KEY the stats file should show for
# the 2 MiB folios in HF (huge_folios 512, read after the pools last
# changed: a scan of /proc/kpageflags takes seconds under TCG), computed
# from where they are.
# Splits are charged to the zone of the folio that needed them; zone
# boundaries here are PMD-aligned (1 GiB), so a PMD is one zone's.
expected() {
	awk -v key="$1" -v pmds="$pmds0" -v tails="$tails0" '
		BEGIN { n = split(pmds, l, "\n")
			for (i = 1; i <= n; i++) { split(l[i], f, " "); leaf[f[1]] = f[2] == "leaf" }
			n = split(tails, l, "\n")
			for (i = 1; i <= n; i++) { split(l[i], f, " "); if (f[3] == 9) empty[f[1] "." f[2]] = f[4] == 0 } }
		{ z = "node" $2 "." $3; folios[z]++; zone[z] = $2 "." $3
		  for (p = int($1 / 32768); p <= int(($1 + 511) / 32768); p++)
			if (leaf[p] && !seen[p]++) split_[z]++ }
		END { for (z in folios) {
			t = empty[zone[z]] ? 1 : 0
			v["folios_optimized"] = folios[z]
			v["vmemmap_pages_freed"] = 7 * folios[z]
			v["vmemmap_pages_allocated"] = split_[z] + 0
			v["shared_tail_pages"] = t
			v["saved_bytes"] = (7 * folios[z] - split_[z] - t) * 4096
			print z ".order9." key, v[key] } }' <<<"$HF" | grep -v ' 0$' | sort
}
# The file shows a zone's keys once it held anything: zeros are dropped
# on both sides.
actual() { grep "^node[0-9]*\.[A-Za-z0-9]*\.order9\.$1 " "$STATS" | grep -v ' 0$' | sort; }

pmds0=$(vmemmap_pmds) tails0=$(vmemmap_tails)
modprobe hvo_shared
# Enough folios on node1 to fill its Movable zone and spill into Normal.
movable=$(awk '$1 == "Node" { z = $2 $4 } z == "1,Movable" && $1 == "managed" { print $2 }' /proc/zoneinfo)
m=$(( movable / 512 + 64 ))
pool_set 2048 0 32
pool_set 2048 1 "$m"
is "$(( $(pool_get 2048 0) + $(pool_get 2048 1) ))" $((32 + m)) "pools of 32 + $m folios on node0 + node1"
HF=$(huge_folios 512)
where=$(awk '{ print "node" $2 "." $3 }' <<<"$HF" | sort | uniq -c | tr -s ' \n' ' ')
diag "folios per zone: $where"
ok "node1's folios are in both its zones" -- \
	test "$(awk '$2 == 1 { print $3 }' <<<"$HF" | sort -u | wc -l)" = 2
for key in folios_optimized vmemmap_pages_freed vmemmap_pages_allocated shared_tail_pages saved_bytes; do
	is "$(actual $key | tr '\n' ' ')" "$(expected $key | tr '\n' ' ')" "stats per zone: $key"
done
# Shrinking frees folios from whichever zone hugetlb picks: the stats
# follow, zone by zone.
pool_set 2048 1 $((m / 4))
HF=$(huge_folios 512)
is "$(actual folios_optimized | tr '\n' ' ')" "$(expected folios_optimized | tr '\n' ' ')" \
	"stats per zone after node1 shrank to $((m / 4)): folios_optimized"
pool_set 2048 "" 0
is "$(actual folios_optimized)" "" "stats per zone: no folio left in any zone"
rmmod hvo_shared
tap_done
