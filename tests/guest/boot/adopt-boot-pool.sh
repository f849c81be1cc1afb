#!/bin/bash
# boot: hugepagesz=1G hugepages=1 hugepagesz=2M hugepages=32 init_on_alloc=0
# Pools from the kernel command line, in use before the module loads:
# the 1 GiB folio holds a hugetlbfs file's data (its vmemmap is bootmem),
# 16 of the 2 MiB folios are mapped by a process that checks them in a
# loop. Loaded with adopt=1, as /etc/modprobe.d would at boot, the module
# optimizes every one of them with no other step (takeover the free ones,
# adopt those in use, once active); restore gives them back; the data
# never changes. Then restore under real memory
# pressure (a 2 MiB pool, left alone by hstates=1G, grown until no 2 MiB
# block is free): the 1 GiB folio's 4095 pages cannot be had, restore
# fails with ENOMEM and leaves it optimized and intact, and once memory is
# back a second restore completes. The process has ended by then: the
# pressure would have the OOM killer pick it. (init_on_alloc=0: growing that pool
# zeroes every page otherwise, seconds a GiB under TCG.)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bin/kpaths.sh"

plan 28
G=/dev/hugepages-1G

hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
mount_hugetlbfs
mkdir -p $G
mountpoint -q $G || mount -t hugetlbfs -o pagesize=1G none $G
is "$(pool_get 1048576) $(pool_get 2048)" "1 32" "one 1 GiB and 32 2 MiB folios from the command line"
quiesce
mm0=$(memmap_pages)

out=$("$hugemap" fill 1 1048576 $G/data)
tap $? "the 1 GiB folio holds a hugetlbfs file's data: $out"
watch_start used anon 16
tap $? "a process maps 16 folios of 2 MiB and checks them in a loop"

modprobe hvo_shared adopt=1
tap $? "modprobe hvo_shared adopt=1 succeeds"
is "$(stat folios_optimized) $(stat state)" "33 active" "  ... every folio of both pools is optimized, and the module active"
is "$(stat adopt_total)" 17 "  ... the 1 GiB folio and the 16 of 2 MiB in use by adopt"
is "$(awk '$1 ~ /\.order18\.folios_optimized$/ { n += $2 } END { print n + 0 }' "$STATS")" 1 \
	"  ... the 1 GiB one counted under order 18"
consistent "adopt"
out=$("$hugemap" verify 1 1048576 $G/data)
tap $? "  ... the 1 GiB folio's data is intact: $out"

blocks0=$(stat restore_blocks)
out=$(hvoctl restore 2>/dev/null)
tap $? "hvoctl restore returns success"
moved="restore_blocks +$(($(stat restore_blocks) - blocks0))"
is "$(grep -o 'restore_blocks +[0-9]*' <<<"$out")" \
	"$moved" "  ... it reports what the stats moved: $moved"
is "$moved" "restore_blocks +7" \
	"  ... the 1 GiB folio's vmemmap after its first 2 MiB came back as 7 blocks"
is "$(memmap_pages)" "$mm0" "  ... nr_memmap_* back at baseline"
out=$("$hugemap" verify 1 1048576 $G/data)
tap $? "  ... the 1 GiB folio's data is intact: $out"

watch_end used

# Under pressure, with no process left running that could be OOM-killed
# meanwhile (the file keeps the 1 GiB folio in use). The 2 MiB folios
# stay with the kernel (hstates=1G); bin/pressure-restore.sh grows their
# pool until only scraps are free and asks for the restore, up to three
# times, and reads what the checks below need before memory is back.
echo 1G >"$PARAMS/hstates"
failed0=$(stat restore_all_failed)
held=/tmp/adopt-pressure-held
LD_PRELOAD=$(helper mlockall.so) bash "$(dirname "$0")/../bin/pressure-restore.sh" 32 >$held
partial=$(value_of partial $held)
partial=${partial:-0}
diag "$(value_of tries $held) tries; 2 MiB pool at $(value_of pool_2m $held); MemFree $(value_of MemFree $held) kB"
tap $(( ! partial )) "restore under memory pressure fails"
is "$(sed -n 's/^error //p' $held)" "Cannot allocate memory" "  ... with ENOMEM"
is "$(stat folios_optimized)" 1 "  ... and leaves the 1 GiB folio optimized"
ok "  ... counted in restore_all_failed ($(stat restore_all_failed))" -- \
	test "$(stat restore_all_failed)" -gt "$failed0"
is "$(verify_line)" "ok: 1 folios" "  ... verify passes"
out=$("$hugemap" verify 1 1048576 $G/data)
tap $? "  ... the 1 GiB folio's data is intact: $out"
echo 1 >"$PARAMS/restore"
tap $? "with memory back, restore completes"
is "$(stat folios_optimized)" 0 "  ... no folio left optimized"
is "$(memmap_pages)" "$mm0" "  ... nr_memmap_* back at baseline"
out=$("$hugemap" verify 1 1048576 $G/data)
tap $? "  ... the 1 GiB folio's data is intact: $out"

rm -f $G/data
rmmod hvo_shared
pool_set 1048576 "" 0
pool_set 2048 "" 0
is "$(memmap_pages)" "$mm0" "pools drained after rmmod: nr_memmap_* at baseline"
tap_done
