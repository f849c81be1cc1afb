#!/bin/bash
# Every kernel path that touches a folio hvo_shared optimized, with the
# module loaded: demote, surplus at fault time, fork/COW, memfd, userfaultfd,
# punch-hole, O_DIRECT, long-term pinning, a cgroup limit, memory failure
# and soft offline of used and free folios, and rmmod with folios in use.
# After each path the module's audit (verify) must pass for every folio
# it counts, nr_memmap_* must be down by exactly what its stats say it
# freed, and every folio in the pools must be one it optimized; data is
# checked on the way, and at the end nr_memmap_* are back at baseline.
# Works with or without movablecore= (with it, pinning migrates folios
# out of ZONE_MOVABLE first). See docs/kernel-paths.md.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bin/kpaths.sh"

plan 98
N=${N:-64}
H1=/sys/kernel/mm/hugepages/hugepages-1048576kB
hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }

clean_start
dmesg_mark
mm0=$(memmap_pages)
modprobe hvo_shared
diag "baseline nr_memmap_* $mm0"

# 1. Demote 1 GiB -> 2 MiB: restore the 1 GiB folio (bulk restore), split
# it, optimize the 512 new folios (bulk optimize).
pool_set_1g 1
tap $? "a 1 GiB folio allocated at run time"
consistent "1 GiB folio"
is "$(cat $H1/demote_size)" 2048kB "demote_size is 2 MiB"
r0=$(stat restore_total) p2=$(pool_get 2048)
echo 1 >$H1/demote
is "$(pool_get 1048576)" 0 "demote: the 1 GiB pool is empty"
is "$(pool_get 2048)" $((p2 + 512)) "demote: 512 new 2 MiB folios"
is "$(( $(stat restore_total) - r0 ))" 1 "demote: the 1 GiB folio was restored before the split"
consistent "demote"
out=$("$hugemap" file 512 2048)
tap $? "demote: data and kpageflags of all 512 folios: $out"
pool_set 2048 "" "$N"
is "$(pool_get 2048)" "$N" "pool shrunk to $N"
consistent "shrink"

# 2. Surplus: with nr_overcommit_hugepages, a MAP_NORESERVE mapping larger
# than the pool allocates (and optimizes) at fault time; when it goes,
# the surplus folios are restored and freed.
echo 8 >/proc/sys/vm/nr_overcommit_hugepages
r0=$(stat restore_total)
hold_start noreserve $((N + 8))
tap $? "surplus: $((N + 8)) pages faulted from a pool of $N"
is "$(meminfo HugePages_Surp)" 8 "surplus: 8 folios allocated at fault time"
consistent "surplus in use"
hold_end
tap $? "surplus: data intact: $(tail -n 1 "$HOLD_OUT")"
consistent "surplus freed"
is "$(meminfo HugePages_Surp)" 0 "surplus: none left"
is "$(( $(stat restore_total) - r0 ))" 8 "surplus: the 8 surplus folios were restored as they left"
echo 0 >/proc/sys/vm/nr_overcommit_hugepages

# 3. Paths that map, copy and unmap folios without changing the pool.
out=$("$kp" cow 8)
tap $? "fork and COW on a MAP_PRIVATE mapping: $out"
out=$("$kp" memfd 8)
tap $? "memfd_create(MFD_HUGETLB), mapped twice and read(): $out"
out=$("$kp" uffd 8)
tap $? "userfaultfd UFFDIO_COPY into a hugetlb region: $out"
out=$("$kp" punch 8 2 4 /dev/hugepages)
tap $? "fallocate, then punch a hole of 4 pages: $out"
is "$(field freed "$out")" 4 "punch-hole: the 4 folios went back to the pool"
is "$(meminfo HugePages_Free)" "$N" "all $N folios free again"
consistent "COW, memfd, userfaultfd, punch-hole"

# 4. Pinning: O_DIRECT through a RAM disk pins the pages for each
# transfer; io_uring fixed buffers pin them long-term.
modprobe brd rd_nr=1 rd_size=32768
out=$("$kp" odirect 8 /dev/ram0)
tap $? "O_DIRECT write from and read into hugetlb pages on /dev/ram0: $out"
rmmod brd
out=$("$kp" pin 8)
tap $? "io_uring fixed buffers pin hugetlb pages long-term: $out"
diag "pinned folios migrated first: $(field migrated "$out")"
consistent "O_DIRECT and pinning"

# 4b. A long-term pin on folios in ZONE_MOVABLE (movablecore=): a pool
# grown from empty on a node takes that node's highest zone first, and
# pinning must migrate each folio out of it to a new, optimized, folio.
# The node: the one whose Movable zone has the most free pages, at least
# 8 folios' worth once caches are dropped (movablecore= splits the zone
# between the nodes, not always evenly: the debug kernel's node 0 had one
# too full for them).
pool_set 2048 "" 0
settle
mnode=$(awk '$1 == "Node" { n = $2; sub(",", "", n); z = $4 }
	$1 == "pages" && $2 == "free" && z == "Movable" && $3 > best { best = $3; node = n }
	END { if (best >= 8 * 512) print node }' /proc/zoneinfo)
if [ -n "$mnode" ]; then
	pool_set 2048 "$mnode" 8
	inmov=$(huge_folios 512 | awk '$3 == "Movable"' | wc -l)
	is "$inmov" 8 "a fresh pool of 8 folios on node $mnode lies in ZONE_MOVABLE"
	[ "$inmov" = 8 ] ||
		diag "they lie in (node/zone): $(huge_folios 512 | awk '{ print $2 "/" $3 }' | sort | uniq -c | tr -s ' \n' ' ')"
	out=$("$kp" pin 8)
	tap $? "io_uring pins the 8 ZONE_MOVABLE folios long-term: $out"
	is "$(field migrated "$out")" 8 "  ... every one was migrated out of ZONE_MOVABLE first"
	consistent "long-term pin on ZONE_MOVABLE"
	pool_set 2048 "" "$N"
else
	for _ in 1 2 3 4 5 6; do
		tap 0 "long-term pin on ZONE_MOVABLE # SKIP no ZONE_MOVABLE (boot with movablecore=)"
	done
fi

# 5. A hugetlb cgroup limit: faults beyond hugetlb.2MB.max get SIGBUS,
# and nothing stays charged or reserved afterwards.
mkdir -p /sys/fs/cgroup
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
echo +hugetlb >/sys/fs/cgroup/cgroup.subtree_control
cg=/sys/fs/cgroup/kpaths
mkdir -p $cg
echo $((4 * 2097152)) >$cg/hugetlb.2MB.max
out=$(sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" cgfault 8' sh "$cg" "$kp")
diag "$out"
is "$(field faulted "$out")" $(( $(cat $cg/hugetlb.2MB.max) / 2097152 )) \
	"cgroup: faults succeed up to hugetlb.2MB.max"
is "$(field sigbus "$out")" 1 "cgroup: the next fault gets SIGBUS"
is "$(awk '$1 == "max" { print $2 }' $cg/hugetlb.2MB.events)" 1 "cgroup: hugetlb.2MB.events counts it"
is "$(cat $cg/hugetlb.2MB.current)" 0 "cgroup: nothing charged after exit"
is "$(meminfo HugePages_Free) $(meminfo HugePages_Rsvd)" "$N 0" "cgroup: all folios free, no reservation left"
rmdir $cg
consistent "cgroup limit"

# 6. Memory failure of a tail page of a mapped anonymous folio: the folio
# is unmapped, restored and dissolved; only the bad page is kept back.
p=$(pool_get 2048) r0=$(stat restore_total)
out=$("$kp" hwpoison anon)
tap $? "MADV_HWPOISON of a tail page of a mapped anonymous folio: $out"
pfn=$(field pfn "$out")
consistent "hwpoison (anon)"
is "$(pool_get 2048)" $((p - 1)) "hwpoison (anon): the folio left the pool"
is "$(( $(stat restore_total) - r0 ))" 1 "hwpoison (anon): restored before it was dissolved"
ok "hwpoison (anon): page $((pfn + 5)) poisoned, the rest of the folio back in buddy" -- \
	dissolved_poisoned $((pfn + 5))

# 7. Memory failure of a hugetlbfs page: read() of the bad page gets EIO;
# the kernel keeps the folio (memory_failure() holds a reference) as
# hugetlb, optimized and poisoned, after the file is gone. Unpoisoning it
# (hwpoison_inject) drops that reference and the folio is free again.
p=$(pool_get 2048)
out=$("$kp" hwpoison file /dev/hugepages)
tap $? "MADV_HWPOISON of a hugetlbfs page: read() of it gets EIO, the other folio intact: $out"
fpfn=$(field pfn "$out")
is "$(meminfo HugePages_Free)" $((p - 1)) "hwpoison (file): the kernel holds the poisoned folio after the file is gone"
is "$(bit "$fpfn" 17)$(bit "$fpfn" 19)" 11 "hwpoison (file): ... still hugetlb, flagged HWPOISON"
modprobe hwpoison_inject
echo "$fpfn" >/sys/kernel/debug/hwpoison/unpoison-pfn
tap $? "unpoison-pfn $fpfn"
rmmod hwpoison_inject
is "$(meminfo HugePages_Free)" "$p" "unpoison: the folio is free in the pool again"
is "$(bit "$fpfn" 17)$(bit "$fpfn" 19)" 10 "unpoison: ... hugetlb, no longer poisoned"
consistent "hwpoison (file) and unpoison"

# 8. Soft offline of a mapped folio: migrated to another folio, the old one
# restored and dissolved, its page poisoned.
p=$(pool_get 2048)
out=$("$kp" softoffline 4)
tap $? "MADV_SOFT_OFFLINE of a mapped folio: migrated, data intact: $out"
old=$(field old "$out")
consistent "soft offline (mapped)"
is "$(pool_get 2048)" $((p - 1)) "soft offline (mapped): the old folio left the pool"
ok "soft offline (mapped): page $((old + 3)) poisoned, the rest back in buddy" -- \
	dissolved_poisoned $((old + 3))

# 9. Soft and hard offline of free folios, by physical address.
for how in soft hard; do
	p=$(pool_get 2048)
	free=$(field first_free "$("$kp" scan 0 $((1 << 40)))")
	echo $(( (free + 7) * 4096 )) >/sys/devices/system/memory/${how}_offline_page
	tap $? "${how}_offline_page of a tail page of the free folio at PFN $free"
	consistent "$how offline (free)"
	is "$(pool_get 2048)" $((p - 1)) "$how offline (free): the folio left the pool"
	ok "$how offline (free): page $((free + 7)) poisoned, the rest back in buddy" -- \
		dissolved_poisoned $((free + 7))
done

# 10. rmmod while folios are mapped and in use: the data stays; the kernel
# restores them when they are freed.
hold_start file 16 /dev/hugepages
tap $? "16 folios mapped and filled"
consistent "before rmmod"
rmmod hvo_shared
tap $? "rmmod with 16 folios in use and $(( $(pool_get 2048) - 16 )) free, all optimized"
hold_end
tap $? "after rmmod the folios in use kept their data: $(tail -n 1 "$HOLD_OUT")"
pool_set 2048 "" 0
is "$(meminfo HugePages_Total)" 0 "the kernel freed every folio"
is "$(memmap_pages)" "$mm0" "nr_memmap_* exactly back at baseline"
dmesg_clean
tap_done
