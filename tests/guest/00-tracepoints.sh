#!/bin/bash
# The six tracepoints (folio_adopt is 60-adopt's), each seen firing as often as the kernel's own
# state says it must, and a TLB flush between every PMD split and the
# remap of the PTEs under it. Runs first in a boot: tail_alloc fires only when a
# zone's shared tail slot is empty, and a slot, once filled, stays filled
# until reboot (so do split PMDs, for pmd_split). What fires is predicted
# from the slots (read through BTF and /proc/kcore, and held once against
# bpftrace's reading) and the vmemmap's page tables (read through
# /proc/kcore) taken before the pool grows.
. "$(dirname "$0")/lib.sh"

plan 18
N=${N:-64}
TRACING=/sys/kernel/tracing
EV=$TRACING/events/hvo_shared
unload
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
modprobe hvo_shared
for e in folio_optimize folio_restore folio_adopt tail_alloc pmd_split tlb_flush; do
	ok "tracefs has hvo_shared:$e" -- test -d "$EV/$e"
done
listed=$(bpftrace -l 'tracepoint:hvo_shared:*' 2>&1)
is "$(grep -c '^tracepoint:hvo_shared:' <<<"$listed")" 6 "bpftrace -l lists the 6 tracepoints"

tails0=$(vmemmap_tails) pmds0=$(vmemmap_pmds)
echo >"$TRACING/trace"
echo 1 >"$EV/enable"
pool_set 2048 0 $((N / 2))
pool_set 2048 1 $((N / 2))
want_tails=$(new_tails "$tails0" 512 9) want_splits=$(new_splits "$pmds0" 512)
# The suite's reader of the slots against bpftrace's, with some filled
# and some empty.
tails1=$(vmemmap_tails)
bt=$(bpftrace "$(dirname "$0")/bin/vmemmap-tails.bt" 2>&1 | awk 'NF == 4 && $4 ~ /^[01]$/')
is "$tails1" "$bt" "the slots as bin/vmemmap-tails reads them are bpftrace's ($(grep -c ' 1$' <<<"$tails1") filled, $(grep -c ' 0$' <<<"$tails1") empty)"
pool_set 2048 "" 0
echo 0 >"$EV/enable"
trace=$(cat "$TRACING/trace")
diag "slots empty before: $(awk '$3 == 9 && $4 == 0 { printf "%s.%s ", $1, $2 }' <<<"$tails0")"
is "$(grep -c 'folio_optimize: pfn=0x[0-9a-f]* order=9 nid=[01] zone=[0-9] result=0 duration_ns=[0-9]' <<<"$trace")" "$N" \
	"tracefs: $N folio_optimize events for $N folios"
is "$(grep -c 'folio_restore: .* order=9 .* result=0 ' <<<"$trace")" "$N" \
	"tracefs: $N folio_restore events"
got=$(grep -c 'tail_alloc: nid=[01] zone=[0-3] order=9$' <<<"$trace")
ok "tracefs: tail_alloc fired ($got; in a fresh boot every slot is empty)" -- test "$got" -gt 0
is "$got" "$want_tails" "tracefs: one tail_alloc per zone with folios whose slot was empty"
# The zones named by the events are the zones whose slots are filled now.
names=(DMA DMA32 Normal Movable)
ev=$(grep -o 'tail_alloc: nid=[01] zone=[0-3]' <<<"$trace" | sed 's/.*nid=\(.\) zone=\(.\)/\1 \2/' |
	while read -r n z; do echo "$n.${names[z]}"; done | sort | tr '\n' ' ')
filled=$(join <(awk '$3 == 9 && $4 == 0 { print $1 "." $2 }' <<<"$tails0" | sort) \
	<(vmemmap_tails | awk '$3 == 9 && $4 == 1 { print $1 "." $2 }' | sort) | tr '\n' ' ')
is "$ev" "$filled" "tracefs: tail_alloc names the zones whose slots went from empty to filled"
got=$(grep -c 'pmd_split: address=0x[0-9a-f]*000 pfn=0x[0-9a-f]*$' <<<"$trace")
ok "tracefs: pmd_split fired ($got)" -- test "$got" -gt 0
is "$got" "$want_splits" "tracefs: one pmd_split per leaf PMD the pool's vmemmap spanned"
is "$(grep -o 'pmd_split: address=0x[0-9a-f]*' <<<"$trace" | sort -u | wc -l)" "$got" \
	"tracefs: each pmd_split names a different PMD"
# A split PMD's 2 MiB translation must be gone from every TLB before a
# PTE under it changes: after a pmd_split, a tlb_flush (reason=split)
# comes before the next folio_optimize.
read -r flushes early <<<"$(awk '/pmd_split:/ { p = 1 }
	/tlb_flush: reason=split/ { if (p) f++; p = 0 }
	/folio_optimize:/ { if (p) bad++; p = 0 }
	END { print f + 0, bad + 0 }' <<<"$trace")"
is "$flushes" "$got" "tracefs: one TLB flush after each split, as vmemmap_split_pmd() does"
is "$early" 0 "tracefs: no folio remapped after a split before a TLB flush"
rmmod hvo_shared
tap_done
