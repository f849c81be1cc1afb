#!/bin/bash
# Two NUMA nodes: per-node pools get per-node shared tails and per-node
# stats; the nodes= and hstates= policy decides what is optimized, also
# when changed at run time.
. "$(dirname "$0")/lib.sh"

plan 21
unload
# A zone's shared tail slot, once filled, stays filled until reboot: which
# are empty now decides which tails hvo_shared must allocate.
tails0=$(vmemmap_tails)
modprobe hvo_shared
quiesce
mm0=$(memmap_pages)

# node_stat NODE KEY [ORDER]: sum of KEY over that node's zones for ORDER (9).
node_stat() {
	awk -v p="node$1." -v k=".order${3:-9}.$2" \
		'index($1, p) == 1 && substr($1, length($1) - length(k) + 1) == k { n += $2 }
		 END { print n + 0 }' "$STATS"
}

pool_set 2048 0 24
pool_set 2048 1 40
is "$(pool_get 2048 0)" 24 "node0 pool is 24"
is "$(pool_get 2048 1)" 40 "node1 pool is 40"
is "$(node_stat 0 folios_optimized)" 24 "stats: node0 has 24 folios optimized"
is "$(node_stat 1 folios_optimized)" 40 "stats: node1 has 40 folios optimized"
is "$(node_stat 0 vmemmap_pages_freed)" 168 "stats: node0 freed 7 pages per folio"
is "$(node_stat 1 vmemmap_pages_freed)" 280 "stats: node1 freed 7 pages per folio"
for n in 0 1; do
	want=$(new_tails "$tails0" 512 9 "$n")
	is "$(node_stat "$n" shared_tail_pages)" "$want" \
		"stats: node$n allocated a shared tail for each of its zones whose slot was empty ($want)"
done
ok "every zone with folios now has an order-9 shared tail" -- test "$(vmemmap_tails |
	awk -v z=" $(huge_folios 512 | awk '{ print $2 "." $3 }' | sort -u | tr '\n' ' ')" \
	'$3 == 9 && index(z, " " $1 "." $2 " ") && $4 == 0' | wc -l)" = 0
pool_set 2048 1 10
is "$(node_stat 1 folios_optimized)" 10 "node1 shrank to 10: stats follow"
is "$(node_stat 0 folios_optimized)" 24 "node0 untouched"
pool_set 2048 "" 0

# Policy: node 1 only.
echo 1 >"$PARAMS/nodes"
pool_set 2048 0 16
pool_set 2048 1 16
is "$(node_stat 0 folios_optimized)" 0 "nodes=1: node0 folios left alone"
is "$(node_stat 1 folios_optimized)" 16 "nodes=1: node1 folios optimized"
is "$(( mm0 - $(memmap_pages) ))" $((7 * 16)) "nodes=1: nr_memmap_* fell for node1's folios only"
pool_set 2048 "" 0
echo all >"$PARAMS/nodes"

# Policy: 1 GiB only. 2 MiB folios are left alone, a 1 GiB one is not.
echo 1G >"$PARAMS/hstates"
pool_set 2048 "" 32
is "$(stat folios_optimized)" 0 "hstates=1G: 2 MiB folios left alone"
is "$(memmap_pages)" "$mm0" "hstates=1G: nr_memmap_* unchanged"
tails1=$(vmemmap_tails)
pool_set_1g 1
is "$(pool_get 1048576)" 1 "hstates=1G: a 1 GiB folio allocated"
where=$(huge_folios 262144)
diag "1 GiB folio (PFN node zone): $where"
is "$(( mm0 - $(memmap_pages) ))" 4095 "hstates=1G: nr_memmap_* fell by 4095 for the 1 GiB folio"
n1g=$(awk '{ print $2 }' <<<"$where")
is "$(node_stat "$n1g" vmemmap_pages_freed 18)" 4095 "stats: node$n1g order18 freed 4095 pages"
want=$(new_tails "$tails1" 262144 18)
is "$(node_stat "$n1g" shared_tail_pages 18)" "$want" \
	"stats: node$n1g order18 allocated a shared tail if its slot was empty ($want)"
pool_set 1048576 "" 0
pool_set 2048 "" 0
echo all >"$PARAMS/hstates"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline"
rmmod hvo_shared
tap_done
