#!/bin/bash
# Two NUMA nodes: per-node pools get per-node shared tails and per-node
# stats; the nodes= and hstates= policy decides what is optimized, also
# when changed at run time.
. "$(dirname "$0")/lib.sh"

unload
modprobe hvo_shared
settle
mm0=$(memmap_pages)

# node_stat NODE KEY: sum of KEY over that node's zones for order 9.
node_stat() {
	awk -v p="node$1." -v k=".order9.$2" \
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
ok "node0 has a shared tail or uses the kernel's" -- test "$(node_stat 0 shared_tail_pages)" -le 1
ok "node1 has a shared tail or uses the kernel's" -- test "$(node_stat 1 shared_tail_pages)" -le 1
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

# Policy: 1 GiB only, so 2 MiB folios are left alone.
echo 1G >"$PARAMS/hstates"
pool_set 2048 "" 32
is "$(stat folios_optimized)" 0 "hstates=1G: 2 MiB folios left alone"
is "$(memmap_pages)" "$mm0" "hstates=1G: nr_memmap_* unchanged"
pool_set 2048 "" 0
echo all >"$PARAMS/hstates"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline"
rmmod hvo_shared
tap_done
