#!/bin/bash
# boot: hvo.cpu=no-invpcid memory_hotplug.memmap_on_memory=1
# vm: --cpu max,-erms,-invpcid --dimm 1024
# Folios in hot-added memory whose memmap lives in that memory itself
# (memmap_on_memory: the first pages of each block hold the block's own
# struct pages, PageVmemmapSelfHosted) must not be optimized: their
# vmemmap pages go away with the block and are never freed one by one.
# The kernel's HVO refuses them; hvo_shared must too. Node 2 has no memory
# but a 1 GiB pc-dimm that the guest hot-adds at boot, so every folio on
# node 2 has a self-hosted vmemmap; node 0's folios are the control.
# Shares its boot, and a CPU without INVPCID, with no-invpcid.
. "$(dirname "$0")/../lib.sh"

plan 13
N=32
node2=/sys/devices/system/node/node2
ok "node 2 is online, with hot-added memory" -- test -d "$node2"
ok "  ... and memmap_on_memory is on" -- \
	grep -qx Y /sys/module/memory_hotplug/parameters/memmap_on_memory
clean_start
mm0=$(memmap_pages)

# The anchor: the kernel's own HVO on node 2.
echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap
pool_set 2048 2 "$N"
is "$(pool_get 2048 2)" "$N" "$N folios on node 2"
is "$(memmap_pages)" "$mm0" "the kernel's HVO leaves their self-hosted vmemmap alone"
pool_set 2048 2 0
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap

modprobe hvo_shared
pool_set 2048 2 "$N"
pool_set 2048 0 "$N"
is "$(stat skipped_self_hosted)" "$N" "hvo_shared refuses the $N folios on node 2"
is "$(stat node2.Normal.order9.folios_optimized)$(stat node2.Movable.order9.folios_optimized)" "" \
	"  ... none of them counted as optimized"
is "$(stat folios_optimized)" "$N" "  ... while the $N on node 0 are optimized"
is "$(( mm0 - $(memmap_pages) ))" "$(stat vmemmap_pages_freed)" \
	"  ... and nr_memmap_* fell by node 0's pages only"
ok "verify is ok" -- grep -q "^ok: $N folios" <<<"$(tail -n 1 /sys/kernel/debug/hvo_shared/verify)"
out=$("$(helper hugemap)" file $((2 * N)) 2048)
tap $? "data and kpageflags of every folio on both nodes: $out"

# Takeover at load refuses them too.
rmmod hvo_shared
modprobe hvo_shared
is "$(stat skipped_self_hosted)" "$N" "takeover at load refuses the node 2 folios too"
pool_set 2048 2 0
pool_set 2048 0 0
rmmod hvo_shared
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline"
ok "no bad page in the kernel log" -- sh -c '! dmesg | grep -Eq "Bad page|BUG:"'
tap_done
