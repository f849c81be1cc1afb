#!/bin/bash
# A 2 MiB pool grown 0 -> N -> 0 three times in one boot: without HVO,
# with hvo_shared, and with the kernel's own HVO. hvo_shared must save 7
# vmemmap pages per folio, measured three ways that agree: its stats, the
# nr_memmap_* counters and MemFree; and exactly as much as the kernel's
# HVO, which must itself save its 7 pages per folio, both measured.
. "$(dirname "$0")/lib.sh"

plan 25

N=${N:-256}
# Free memory (MemFree plus per-CPU lists) drifts by slab and page cache
# between samples: 1 MiB, against a saving of 7 MiB per 256 folios.
MEMFREE_TOL=${MEMFREE_TOL:-1024}

unload
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap

# grow_and_measure: grow to N, print "memmap_delta free_delta_kb".
grow_and_measure() {
	local mm0 mf0
	settle
	mm0=$(memmap_pages) mf0=$(free_kb)
	pool_set 2048 "" "$N"
	settle
	echo "$(( mm0 - $(memmap_pages) )) $(( mf0 - $(free_kb) ))"
}

# 1. No HVO: what the pool itself costs.
mm_base=$(memmap_pages)
read -r d_none mf_none <<<"$(grow_and_measure)"
is "$(pool_get 2048)" "$N" "pool grew to $N without HVO"
is "$d_none" 0 "without HVO nr_memmap_* do not move"
pool_set 2048 "" 0

# 2. hvo_shared.
pmds0=$(vmemmap_pmds) tails0=$(vmemmap_tails)
modprobe hvo_shared
read -r d_mod mf_mod <<<"$(grow_and_measure)"
is "$(pool_get 2048)" "$N" "pool grew to $N with hvo_shared"
is "$d_mod" $((7 * N)) "nr_memmap_* fell by 7 pages per folio"
is "$(stat folios_optimized)" "$N" "stats: folios_optimized = $N"
is "$(stat vmemmap_pages_freed)" $((7 * N)) "stats: vmemmap_pages_freed = 7 per folio"
is "$(stat optimize_failed)" 0 "stats: no optimize failed"
alloc=$(stat vmemmap_pages_allocated) tails=$(stat shared_tail_pages)
diag "split page tables $alloc, shared tails $tails"
# One PTE table for every PMD of vmemmap (128 MiB of memory) that the
# folios span and that was still a 2 MiB leaf in the kernel's page tables
# before. Their cost is in the MemFree check below.
is "$alloc" "$(new_splits "$pmds0" 512)" \
	"stats: vmemmap_pages_allocated = the leaf PMDs the pool's vmemmap spans (page tables)"
is "$tails" "$(new_tails "$tails0" 512 9)" \
	"stats: shared_tail_pages = the zones the pool is in whose tail slot was empty"
is "$(stat saved_bytes)" $(( (7 * N - alloc - tails) * 4096 )) \
	"stats: saved_bytes = (freed - allocated - shared tails) * 4 KiB"
saved_kb=$(( mf_none - mf_mod ))
diag "MemFree: pool cost $mf_none kB without HVO, $mf_mod kB with hvo_shared: $saved_kb kB saved"
within "$saved_kb" $(( $(stat saved_bytes) / 1024 )) "$MEMFREE_TOL" \
	"MemFree saving matches saved_bytes"

pool_set 2048 "" 0
is "$(pool_get 2048)" 0 "pool shrank to 0 with hvo_shared"
is "$(memmap_pages)" "$mm_base" "nr_memmap_* back to where they started"
is "$(stat folios_optimized)" 0 "stats: no folio left optimized"
is "$(stat vmemmap_pages_freed)" 0 "stats: vmemmap_pages_freed back to 0"
is "$(stat restore_total)" "$N" "stats: restore_total = $N"
is "$(stat restore_failed)" 0 "stats: no restore failed"
is "$(stat restore_pages_filled)" $((7 * N)) \
	"stats: restore_pages_filled = 7 per folio: every page filled from the shared tail"

# Copied instead of filled (inject=restore_fill): the same end state.
echo restore_fill >"$PARAMS/inject"
echo 1 >"$PARAMS/inject_every"
pool_set 2048 "" "$N"
pool_set 2048 "" 0
echo none >"$PARAMS/inject"
is "$(pool_get 2048)/$(stat restore_total)" "0/$((2 * N))" "inject=restore_fill: $N more restored"
is "$(stat injected.restore_fill)" "$N" "  ... the fill refused for each"
is "$(stat restore_pages_filled)" $((7 * N)) "  ... and no page filled: all copied"
is "$(memmap_pages)" "$mm_base" "  ... nr_memmap_* back to where they started"
rmmod hvo_shared

# 3. The kernel's HVO, same pool, same boot.
echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap
read -r d_kernel mf_kernel <<<"$(grow_and_measure)"
pool_set 2048 "" 0
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
diag "kernel HVO: nr_memmap_* -$d_kernel, MemFree saving $(( mf_none - mf_kernel )) kB"
is "$d_kernel" $((7 * N)) "the kernel's HVO: nr_memmap_* fell by 7 pages per folio"
is "$d_mod" "$d_kernel" "hvo_shared saves exactly as many vmemmap pages as the kernel"
is "$(memmap_pages)" "$mm_base" "nr_memmap_* back after the kernel's run"
tap_done
