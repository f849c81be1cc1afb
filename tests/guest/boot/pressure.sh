#!/bin/bash
# boot: hugepagesz=1G hugepages=1 init_on_alloc=0
# Under memory pressure a shrink cannot restore vmemmap: hugetlb keeps
# the folio as surplus, restore_failed counts the attempts, nothing is
# lost, and a later shrink, once memory is back, frees it.
#
# Pressure comes from hugetlb itself, which allocates without invoking the
# OOM killer: an optimized 1 GiB folio needs 4095 fresh pages (16 MiB) to
# be restored, and a 2 MiB pool that hvo_shared leaves alone (hstates=1G)
# is grown until no 2 MiB block is left. The 1 GiB folio comes from the
# kernel command line, since 1 GiB of contiguous memory is not always to
# be found at run time; hvo_shared takes it over at load. init_on_alloc=0
# (and so for 1g-boot-pool, which shares the boot): Debian zeroes every
# new page by default, which made growing the pool cost about a minute
# under TCG; nothing here depends on it.
. "$(dirname "$0")/../lib.sh"

plan 14

is "$(pool_get 1048576)" 1 "one 1 GiB folio from the kernel command line"
settle
mm0=$(memmap_pages) f0=$(free_kb)
modprobe hvo_shared hstates=1G
is "$(stat folios_optimized)" 1 "hvo_shared took it over"
# The numbers below were read while the memory was held.
held=/tmp/pressure-held
LD_PRELOAD=$(helper mlockall.so) bash "$(dirname "$0")/../bin/pressure-1g.sh" >$held
diag "2 MiB pool grown to $(value_of pool_2m $held) folios; MemFree $(value_of MemFree $held) kB"
ok "the 2 MiB pool is not optimized" -- test "$(value_of folios_optimized $held)" -le 1
diag "after shrinking under pressure: 1 GiB total $(value_of pool_1g $held), surplus $(value_of surplus_1g $held), restore_failed $(value_of restore_failed $held)"
is "$(value_of pool_1g $held)" 1 "the 1 GiB folio could not be restored and stayed in hugetlb"
is "$(value_of surplus_1g $held)" 1 "  ... as a surplus page"
is "$(value_of folios_optimized $held)" 1 "  ... still optimized"
ok "restore_failed counts it" -- test "$(value_of restore_failed $held)" -ge 1
is "$(( mm0 - $(value_of nr_memmap_pages $held) - $(value_of nr_memmap_boot_pages $held) ))" 4095 \
	"nr_memmap_*: its 4095 pages are still given back"
is "$(pool_get 1048576)/$(stat folios_optimized)" 1/1 \
	"with the memory back, the folio is still kept and optimized"

settle
# The surplus page becomes persistent again, then the shrink frees it.
pool_set 1048576 "" 1
pool_set 1048576 "" 0
is "$(meminfo HugePages_Total)" 0 "a later shrink, with memory back, frees it"
is "$(meminfo HugePages_Surp)" 0 "no surplus left"
is "$(stat folios_optimized)" 0 "no folio left optimized"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline"
settle
# The boot-time folio itself is back in the buddy allocator now.
within "$(free_kb)" $(( f0 + 1048576 )) 4096 \
	"free memory back to baseline plus the 1 GiB folio: no page lost"
rmmod hvo_shared
tap_done
