#!/bin/bash
# boot: memhp_default_state=offline check_pages=1 nogbpages
# vm: --mem 2048 --dimm 1024
# timeout: 300
# Memory hot-remove while a free folio's vmemmap PMD is being split (issue
# 27, item 3). hvo_optimize_prepare() splits the PMD over a free folio's
# vmemmap before anything holds the folio, and the split's PTE table
# allocation may sleep; meanwhile the folio can be dissolved and its
# memory block offlined and removed, as virtio-mem does with
# offline_and_remove_memory(). The removal frees the 2 MiB memmap block
# first and clears the PMD after (remove_pmd_table()): a split waking in
# between split_page()s a free block (its tail pages keep a reference, in
# the buddy allocator, a "Bad page state" when they are handed out) and
# installs a table that the clear leaks.
#
# Node 2 is a 1 GiB pc-dimm hot-added at boot, left offline
# (memhp_default_state=offline); one block is onlined movable and filled
# with free folios of 2 MiB, so that its memmap is a PMD leaf allocated
# from the buddy allocator (no memmap_on_memory) that only those folios
# use. nogbpages: the DIMM's direct map in 2 MiB pages, as virtio-mem's
# 128 MiB blocks get; in one 1 GiB page, removing one block of it oopses
# in the kernel itself (remove_pud_table() takes the leaf for a table).
# An adopt splits that PMD with inject=split_alloc sleeping before it
# looks at the PMD again; while it sleeps tests/guest/kmod/hvo_test_unplug.ko
# offlines and removes the block, holding the kernel's window between the
# free of the memmap block and the PMD's clear open until the PMD changes
# (at most poll_ms). Correct: the offline waits for the split (or the
# split is skipped), the removal never meets a split in progress: no table
# appears in that window and the freed block has no referenced page.
# Then the rest of memory is allocated as folios and freed again, so that
# a damaged block is handed out and reported (check_pages=1 checks every
# page allocated: "BUG: Bad page state ... nonzero _refcount").
# DELAY=MS in the environment changes the split's sleep: with 100 the
# split is over before the removal, the race checks fail and the rest
# must pass (the removal of a split PMD, as with the fix).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bin/kpaths.sh"

plan 23
DELAY=${DELAY:-6000}	# the split's sleep, ms
MEM=/sys/devices/system/memory
TRACING=/sys/kernel/tracing
UNPLUG=/opt/hvo-kmod/$(uname -r)/hvo_test_unplug.ko
UP=/sys/module/hvo_test_unplug/parameters
up() { cat "$UP/$1"; }

clean_start
dmesg_mark
mm0=$(memmap_pages)
bs=$(( 0x$(cat $MEM/block_size_bytes) ))
blocks=$(for b in /sys/devices/system/node/node2/memory[0-9]*; do echo "${b##*memory}"; done | sort -n)
nb=$(wc -w <<<"$blocks")
n=$(head -n 1 <<<"$blocks")
offline=$(for b in $blocks; do cat "$MEM/memory$b/state"; done | sort -u)
is "$nb $offline" "$((1024 * 1048576 / bs)) offline" \
	"node 2 has the DIMM's $nb memory blocks of $((bs >> 20)) MiB, all offline"
echo online_movable >"$MEM/memory$n/state"
tap $? "memory$n (node 2, PFN $((n * bs / 4096))) onlined movable"
total0=$(meminfo MemTotal)

# Its free folios: the pool's only ones.
pool_set 2048 2 $((bs >> 21))
p=$(pool_get 2048 2)
ok "$p free folios of 2 MiB on node 2, all in memory$n, none elsewhere" -- \
	test "$p" -gt 0 -a "$(pool_get 2048)" = "$p"

# Loaded now: a module's load waits for a split in progress (it takes
# init_mm's mmap lock for writing: set_memory_rox()).
insmod "$UNPLUG" start=$((n * bs)) size=$bs poll_ms=8000
tap $? "hvo_test_unplug loaded for memory$n"
modprobe hvo_shared takeover=0 inject=split_alloc inject_every=1 inject_delay_ms="$DELAY"
tap $? "hvo_shared loaded without takeover, splits sleeping $DELAY ms"
echo 1 >"$TRACING/events/hvo_shared/pmd_split/enable"
echo >"$TRACING/trace"

# The adopt, on CPU 1 (the removal's kthread is bound to CPU 0).
taskset -c 1 sh -c "echo 1 >$PARAMS/adopt" &
adopt=$!
for _ in $(seq 200); do
	[ "$(stat injected.split_alloc)" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
running=$(cat "$PARAMS/adopt")
is "$(stat injected.split_alloc) $running" "1 1" \
	"the adopt is splitting memory$n's memmap PMD, asleep (injected.split_alloc 1, adopt running)"

echo "hot-remove begins" >"$TRACING/trace_marker"
echo 1 >"$UP/go"
tap $? "hvo_test_unplug: offline_and_remove_memory of memory$n begins"
is "$(up leaf_at_go)" 1 "  ... with its memmap still one PMD leaf: the split has not touched it yet"
for _ in $(seq 600); do
	[ "$(up done)" = 1 ] && break
	sleep 0.1
done
is "$(up done) $(up result)" "1 0" "  ... and returns 0, after $(up ms) ms"
wait $adopt
tap $? "the adopt returns"
trace=$(grep -E 'pmd_split:|hot-remove begins' "$TRACING/trace")
echo 0 >"$TRACING/events/hvo_shared/pmd_split/enable"
diag "trace: $(tr -s ' ' <<<"$trace" | tr '\n' '|')"
# Its pmd_split event is traced once the split is done: after the marker.
order=$(awk '/hot-remove begins/ { m = NR } /pmd_split:/ { print (m ? "after" : "before") }' <<<"$trace" | sort -u | tr '\n' ' ')
is "$order" "after " "the split finished after the removal began (trace: marker, then pmd_split)"

diag "unplug: leaf_frees $(up leaf_frees) waited_ms $(up waited_ms) raced $(up raced) table_pfn $(up table_pfn) referenced $(up referenced)"
is "$(up raced)" 0 \
	"no PTE table replaced the PMD leaf between the free of its memmap block and its clear$( [ "$(up raced)" = 0 ] || echo " (table PFN $(up table_pfn), leaked)")"
is "$(up referenced)" 0 "no page of the freed memmap block is still referenced ($(up leaf_frees) block(s) freed as a leaf)"

ok "memory$n is gone from $MEM" -- test ! -e "$MEM/memory$n"
is $(( total0 - $(meminfo MemTotal) )) $(( bs >> 10 )) "MemTotal down by one block"
is "$(pool_get 2048) $(meminfo HugePages_Free)" "0 0" "its $p folios left the pool"
diag "stats: folios_optimized $(stat folios_optimized) optimize_total $(stat optimize_total) restore_total $(stat restore_total) adopt_skipped.busy $(stat adopt_skipped.busy) node2 pages_allocated $(stat node2.Movable.order9.vmemmap_pages_allocated)"
is "$(verify_line)" "ok: $(stat folios_optimized) folios" "verify is ok"
spb=$(stat struct_page_bytes)
rmmod hvo_shared
tap $? "hvo_shared unloads"
rmmod hvo_test_unplug
tap $? "hvo_test_unplug unloads"

# A damaged free block shows when it is handed out, and every page is
# checked then (check_pages=1): take all free memory as folios, then give
# it back. The watermarks are lowered meanwhile, or the reserve they keep
# (min_free_kbytes is 66 MB here, for THP) would keep the block out of
# reach. Builtins only while the pool is at its maximum: a fork then could
# meet the OOM killer.
settle
mfk=$(cat /proc/sys/vm/min_free_kbytes) wsf=$(cat /proc/sys/vm/watermark_scale_factor)
echo 128 >/proc/sys/vm/min_free_kbytes
echo 1 >/proc/sys/vm/watermark_scale_factor
nr=/proc/sys/vm/nr_hugepages
echo 100000 >$nr
read -r max <$nr
echo 0 >$nr
echo "$mfk" >/proc/sys/vm/min_free_kbytes
echo "$wsf" >/proc/sys/vm/watermark_scale_factor
ok "every free 2 MiB block allocated as a folio ($max, $((max * 2)) MiB) and freed again" -- \
	test "$max" -gt 0 -a "$(pool_get 2048)" = 0
bad=$(dmesg_since | grep 'Bad page state')
is "$bad" "" "no bad page handed out meanwhile"
quiesce
is "$(memmap_pages)" $(( mm0 - bs / 4096 * spb / 4096 )) \
	"nr_memmap_* at baseline less the removed block's memmap"
dmesg_clean
tap_done
