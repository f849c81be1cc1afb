#!/bin/bash
# Adopting folios in use, and restoring all, on demand: four processes
# map 64 of an 80-folio pool (hugetlbfs, MAP_HUGETLB, SysV SHM, and
# MAP_HUGETLB half pinned long-term by io_uring, half under O_DIRECT I/O
# all along) and check their data over and over while hvo_shared loads
# (takeover: the 16 free folios only), adopts the 64 in use, restores all
# (once with injected allocation failures: partial, reported, then
# completed), adopts again, is unloaded (the folios in use stay
# optimized) and loaded again, and restores all: those the earlier load
# left too. No process may see a wrong byte or a fault; after each step
# verify, nr_memmap_* and the pool agree (kpaths.sh: consistent).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bin/kpaths.sh"

plan 57
USED=16 FREE=16
INUSE=$((4 * USED))
N=$((INUSE + FREE))

clean_start
dmesg_mark
mm0=$(memmap_pages)
pool_set 2048 "" "$N"
is "$(pool_get 2048)" "$N" "a pool of $N folios of 2 MiB, no HVO"

watch_start file file "$USED"
tap $? "a process maps $USED folios of a hugetlbfs file and checks them in a loop"
watch_start anon anon "$USED"
tap $? "a process maps $USED folios with MAP_HUGETLB and checks them in a loop"
watch_start shm shm "$USED"
tap $? "a process maps $USED folios of SysV SHM_HUGETLB and checks them in a loop"
modprobe brd rd_nr=1 rd_size=4096
watch_start pin pin "$USED" /dev/ram0
tap $? "a process maps $USED folios with MAP_HUGETLB, pins $((USED / 2)) with io_uring and does O_DIRECT on the rest in a loop"
is "$(meminfo HugePages_Free)" "$FREE" "$FREE folios are left free"

# 1. Load: takeover optimizes the free folios only.
modprobe hvo_shared
is "$(stat folios_optimized)" "$FREE" "takeover optimizes the $FREE free folios, not those in use"

# 2. Adopt: the folios in use too, each traced.
EV=/sys/kernel/tracing/events/hvo_shared
echo >/sys/kernel/tracing/trace
echo 1 >"$EV/folio_adopt/enable"
echo 1 >"$EV/folio_restore/enable"
echo 1 >"$PARAMS/adopt"
tap $? "adopt returns success"
is "$(grep -c 'folio_adopt: .* result=0 ' /sys/kernel/tracing/trace)" $INUSE \
	"  ... one folio_adopt event with result=0 for each"
is "$(stat adopt_total)" $INUSE "adopt: the $INUSE folios in use are adopted"
is "$(stat adopt_failed)" 0 "  ... none failed"
consistent "adopt"
before=$(stat adopt_total)
echo 1 >"$PARAMS/adopt"
is "$(stat adopt_total)" "$before" "a second adopt finds nothing left to adopt"

# 3. Restore all: every folio, free and in use, gets its vmemmap back.
echo >/sys/kernel/tracing/trace
echo 1 >"$PARAMS/restore"
tap $? "restore returns success"
is "$(grep -c 'folio_restore: .* result=0 ' /sys/kernel/tracing/trace)" "$N" \
	"  ... one folio_restore event for each of the $N, free and in use"
echo 0 >"$EV/folio_adopt/enable"
echo 0 >"$EV/folio_restore/enable"
is "$(stat folios_optimized)" 0 "restore: no folio left optimized"
is "$(stat restore_all_total)" "$N" "  ... restore_all_total counts all $N"
# Filled from the shared tail, not copied: the second adopt below checks
# every tail of the folios in use against the shared one again.
is "$(stat restore_pages_filled)" $((7 * N)) "  ... each page filled from the shared tail"
is "$(memmap_pages)" "$mm0" "  ... nr_memmap_* back at baseline"
is "$(verify_line)" "ok: 0 folios" "  ... verify passes"

# 4. Restore with half the page allocations failing: partial, reported,
# retried to the end. Then adopt again, with hvoctl, then unload
# (giveback) and load: in use stays optimized.
echo 1 >"$PARAMS/adopt"
echo restore_pages >"$PARAMS/inject"
echo 2 >"$PARAMS/inject_every"
hvoctl restore >/dev/null 2>&1
is "$?" 7 "hvoctl restore without memory for every folio: exit 7 (some left)"
left=$(stat folios_optimized)
ok "  ... some restored, some left ($left of $N left)" -- test "$left" -gt 0 -a "$left" -lt "$N"
ok "  ... the failures counted (restore_all_failed $(stat restore_all_failed))" -- \
	test "$(stat restore_all_failed)" -gt 0
is "$(verify_line)" "ok: $left folios" "  ... verify passes for the $left left"
is "$(( mm0 - $(memmap_pages) ))" "$(stat vmemmap_pages_freed)" \
	"  ... nr_memmap_* down by exactly what is still freed"
echo none >"$PARAMS/inject"
hvoctl restore >/dev/null 2>&1
is "$?" 0 "  ... and the retry restores the rest: exit 0"
is "$(memmap_pages)" "$mm0" "  ... nr_memmap_* back at baseline"

out=$(hvoctl adopt 2>/dev/null)
is "$?" 0 "hvoctl adopt: exit 0"
ok "  ... reports the $INUSE adopted: $out" -- grep -q "adopt_total +$INUSE[ ;]" <<<"$out"
is "$(stat folios_optimized)" "$N" "adopt again: all $N optimized"
consistent "adopt again"
echo 1 >"$PARAMS/giveback"
rmmod hvo_shared
tap $? "rmmod with folios in use optimized"
is "$(( mm0 - $(memmap_pages) ))" $((INUSE * 7)) \
	"  ... giveback restored the free ones; the $INUSE in use stay optimized"
modprobe hvo_shared
is "$(stat folios_optimized)" "$FREE" "load again: takeover optimizes the free ones"
is "$(( mm0 - $(memmap_pages) ))" $(( (INUSE + FREE) * 7 )) \
	"  ... beside the $INUSE in use the earlier load optimized"

# 5. Bad input changes nothing.
for bad in 0 2 yes-no ""; do
	echo "$bad" >"$PARAMS/adopt" 2>/dev/null
	rc=$?
	ok "adopt='$bad' is refused" -- test "$rc" != 0
done
is "$(stat folios_optimized)" "$FREE" "  ... and nothing changed"

# 6. hvoctl restore gives back what this load optimized, the free ones,
# and the folios in use the earlier load left optimized.
out=$(hvoctl restore 2>/dev/null)
is "$?" 0 "hvoctl restore: exit 0"
ok "  ... reports all $N restored: $out" -- grep -q "restore_all_total +$N[ ;]" <<<"$out"
ok "  ... $INUSE of them inherited from the earlier load" -- \
	grep -q "restore_all_inherited +$INUSE[ ;]" <<<"$out"
is "$(memmap_pages)" "$mm0" "  ... nr_memmap_* back at baseline with the processes running"
is "$(verify_line)" "ok: 0 folios" "  ... verify passes"

# 7. The processes end: data intact all along; everything comes back.
watch_end file
watch_end anon
watch_end shm
watch_end pin
rmmod brd
rmmod hvo_shared
hvoctl adopt >/dev/null 2>&1
is "$?" 8 "hvoctl adopt without the module: exit 8 (not loaded)"
pool_set 2048 "" 0
is "$(pool_get 2048)" 0 "pool drained"
is "$(memmap_pages)" "$mm0" "nr_memmap_* back at baseline"
ok "no oops, bad page or warning in the kernel log" -- \
	sh -c '! dmesg | tail -n +'"$((DMESG_MARK + 1))"' | grep -Eq "Oops|BUG:|WARNING:|Bad page"'
tap_done
