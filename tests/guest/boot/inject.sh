#!/bin/bash
# boot: init_on_free=1
# vm: --mem 2048
# Injected allocation failures at every site (inject=, inject_every=,
# inject_probability=): each failure leaves the folio whole and counted,
# the bulk optimize retries, the next attempt succeeds, and no page is
# lost. Its own boot, so that no vmemmap PMD is split yet and the
# page-table site is reached, and no shared tail exists yet. init_on_free
# zeroes every freed page: a vmemmap page freed while still mapped would
# turn into broken struct pages, which kpageflags and verify would show.
# 2 GiB of memory: init_on_free zeroes all of it at boot, 4 s a GiB
# under TCG, and 64 folios of 2 MiB need no more.
. "$(dirname "$0")/../lib.sh"

plan 56
N=64
hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
clean_start
mm0=$(memmap_pages) f0=$(free_kb)

verify() { cat /sys/kernel/debug/hvo_shared/verify | tail -n 1; }

# check_intact WHAT: the pool holds N free folios that work, and the
# module's audit agrees with what it optimized.
check_intact() {
	is "$(meminfo HugePages_Free)" "$N" "$1: all $N folios still free in the pool"
	out=$("$hugemap" file "$N" 2048)
	tap $? "$1: data and kpageflags of every folio: $out"
	ok "$1: verify is ok" -- grep -q "^ok: $(stat folios_optimized) folios" <<<"$(verify)"
}

# 1. No page table for a split (single-folio path, at takeover of a pool
# grown without HVO): the split fails first, before anything else is
# allocated, and the folio stays whole. Folios whose vmemmap PMD was
# split already at boot are optimized.
pool_set 2048 0 "$N"
modprobe hvo_shared inject=pte_table inject_every=1
inj=$(stat injected.pte_table)
ok "pte_table: failures injected ($inj)" -- test "$inj" -gt 0
is "$(stat optimize_failed)" "$inj" "  ... each counted in optimize_failed"
is "$(stat folios_optimized)" $((N - inj)) "  ... the other folios optimized"
is "$(stat shared_tail_pages)" $((N > inj ? 1 : 0)) \
	"  ... a shared tail only if some folio was optimized"
check_intact pte_table
echo 1 >"$PARAMS/giveback"
rmmod hvo_shared
is "$(memmap_pages)" "$mm0" "  ... given back at unload: nr_memmap_* at baseline"

# 2. The shared tail cannot be allocated: the PMDs are split, then
# nothing is optimized, nothing else moves, every failure is counted.
modprobe hvo_shared inject=shared_tail inject_every=1
is "$(stat injected.shared_tail)" "$N" "shared_tail: a failure injected for each of $N folios"
is "$(stat optimize_failed)" "$N" "  ... each counted in optimize_failed"
is "$(stat folios_optimized)" 0 "  ... and none optimized"
is "$(stat shared_tail_pages)" 0 "  ... no shared tail allocated"
is "$(memmap_pages)" "$mm0" "  ... nr_memmap_* unchanged"
check_intact shared_tail

# 3. The next attempt succeeds: takeover at the next load.
echo none >"$PARAMS/inject"
rmmod hvo_shared
modprobe hvo_shared
is "$(stat folios_optimized)" "$N" "after inject=none, the next load optimizes all $N"
is "$(stat optimize_failed)" 0 "  ... without a failure"
is "$(( mm0 - $(memmap_pages) ))" "$(stat vmemmap_pages_freed)" \
	"  ... nr_memmap_* fell by what the stats say was freed"
check_intact "next attempt"
rmmod hvo_shared
pool_set 2048 0 0
is "$(memmap_pages)" "$mm0" "shrunk by the kernel after rmmod: nr_memmap_* back to baseline"

# 4. Bulk optimize (pool growth) with every second head copy or xarray
# entry failing: the memory freed so far is flushed back and the folio
# retried, and succeeds.
for site in head_copy xarray; do
	modprobe hvo_shared head_copy=1 inject=$site inject_every=2
	pool_set 2048 0 "$N"
	inj=$(stat "injected.$site")
	ok "$site: failures injected in bulk optimize ($inj)" -- test "$inj" -gt 0
	is "$(stat optimize_failed)" "$inj" "  ... each counted in optimize_failed"
	is "$(stat optimize_retried)" "$inj" "  ... and each retried"
	is "$(stat folios_optimized)" "$N" "  ... every retry succeeded: all $N optimized"
	check_intact "$site"
	pool_set 2048 0 0
	rmmod hvo_shared
done

# 5. By probability instead of every Nth visit.
modprobe hvo_shared inject=xarray inject_probability=50
pool_set 2048 0 "$N"
is "$(stat optimize_failed)" "$(stat injected.xarray)" \
	"inject_probability=50: failures counted ($(stat injected.xarray) of $(stat optimize_total) attempts)"
check_intact probability
echo none >"$PARAMS/inject"

# 6. Restore cannot get its pages: hugetlb keeps every folio, as surplus,
# still optimized; once the pages can be had, a later shrink frees them.
echo restore_pages >"$PARAMS/inject"
echo 1 >"$PARAMS/inject_every"
opt=$(stat folios_optimized)
pool_set 2048 0 0
is "$(stat restore_failed)" "$(stat injected.restore_pages)" "restore_pages: each failure counted in restore_failed"
is "$(meminfo HugePages_Surp)" "$opt" "  ... the $opt optimized folios stay in hugetlb as surplus"
is "$(stat folios_optimized)" "$opt" "  ... still optimized"
ok "  ... verify is ok" -- grep -q "^ok: $opt folios" <<<"$(verify)"
echo none >"$PARAMS/inject"
pool_set 2048 0 "$opt"
pool_set 2048 0 0
is "$(meminfo HugePages_Total)" 0 "with inject=none a later shrink frees them"
is "$(stat folios_optimized)" 0 "  ... no folio left optimized"

# 7. Bad values are refused and change nothing.
for bad in inject=bogus inject=pte_table,bogus inject_probability=101 \
	   inject_delay_ms=10001 inject_every=x; do
	name=${bad%%=*}
	echo "${bad#*=}" 2>/dev/null >"$PARAMS/$name"
	tap $(( $? == 0 )) "$bad is refused"
done
is "$(cat "$PARAMS/inject") $(cat "$PARAMS/inject_probability") $(cat "$PARAMS/inject_delay_ms")" \
	"none 50 1000" "  ... and the parameters are as they were"

rmmod hvo_shared
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline"
settle
# Page tables split on the way are kept (the kernel never merges them
# back): 64 folios span at most two PMDs' worth of vmemmap.
# Only a loss is a leak; more free memory than at the start is fine.
f1=$(free_kb)
within "$(( f1 < f0 ? f1 : f0 ))" "$f0" 2048 "free memory back to baseline: no page lost ($f0 -> $f1 kB)"
ok "no bad page or corrupted list in the kernel log" -- \
	sh -c '! dmesg | grep -Eq "Bad page|corruption|BUG"'
tap_done
