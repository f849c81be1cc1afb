#!/bin/bash
# A raw hwpoison flag on a free folio's tail is never shared away. With
# hwpoison_inject's filter rejecting the raw page but not the head (flags
# mask/value on KPF_COMPOUND_HEAD), memory_failure() poisons a free
# folio, then undoes it through folio_clear_hugetlb_hwpoison(): the flag
# moves to the raw tail page, and the folio stays free in the pool. Neither
# takeover nor adopt may optimize that folio (counted as dirty_tails): the
# raw page's struct page must keep its flag. /proc/kpageflags shows a
# hugetlb folio's hwpoison from its head only, so the struct pages are
# read through the vmemmap (bin/pageflags.c): the raw page's flags differ
# from its neighbour's by one bit, the flag.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bin/kpaths.sh"

plan 10
N=4
D=/sys/kernel/debug/hwpoison
KPF_HEAD=$((1 << 15))
pf=$(helper pageflags) || { tap 1 "build pageflags"; tap_done; exit; }

# raw_poisoned: the raw page's flags are its neighbour's plus one bit.
raw_poisoned() {
	local a b x
	{ read -r a; read -r b; } < <("$pf" "$raw" $((raw + 1)))
	x=$(( 0x$a ^ 0x$b ))
	[ "$x" -gt 0 ] && [ $(( x & (x - 1) )) = 0 ] && [ $(( 0x$a & x )) != 0 ]
}

clean_start
pool_set 2048 "" "$N"
is "$(meminfo HugePages_Free)" "$N" "a pool of $N free folios"
head=$(huge_folios 512 | awk 'NR == 1 { print $1 }')
# Struct page 100 is on the folio's second vmemmap page: shared if optimized.
raw=$((head + 100))
modprobe hwpoison_inject
echo 1 >"$D/corrupt-filter-enable"
echo "$KPF_HEAD" >"$D/corrupt-filter-flags-mask"
echo "$KPF_HEAD" >"$D/corrupt-filter-flags-value"
echo "$raw" >"$D/corrupt-pfn"
echo 0 >"$D/corrupt-filter-enable"
ok "the filter undid the poisoning: the raw page alone keeps a flag" -- raw_poisoned
is "$(bit "$head" 19)" 0 "  ... the folio is not HWPOISON in /proc/kpageflags"
is "$(meminfo HugePages_Free)" "$N" "  ... and is still free in the pool"

modprobe hvo_shared
is "$(stat folios_optimized)" $((N - 1)) "takeover optimizes the $((N - 1)) clean free folios"
is "$(stat adopt_skipped.dirty_tails)" 1 "  ... and skips the one with a raw hwpoison tail (dirty_tails)"
ok "  ... whose raw page keeps its flag" -- raw_poisoned
echo 1 >"$PARAMS/adopt"
is "$(stat folios_optimized)/$(stat adopt_skipped.dirty_tails)" "$((N - 1))/2" \
	"adopt skips it again (dirty_tails)"
ok "  ... and the raw page keeps its flag" -- raw_poisoned
consistent_free() { is "$(verify_line)" "ok: $((N - 1)) folios" "verify passes for the $((N - 1)) optimized"; }
consistent_free
rmmod hvo_shared
rmmod hwpoison_inject
pool_set 2048 "" 0
tap_done
