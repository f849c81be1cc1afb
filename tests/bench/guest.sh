#!/bin/bash
# Guest side of make bench: time pool growth and shrink under each HVO
# configuration, in one boot, several rounds with the order rotated; and
# hvo_shared's adopt and restore-all of an existing pool, free and in use.
# Prints CSV: config,hstate_kb,folios,op,usec,memmap_pages_saved; op
# "tables" has the cycle's change in split vmemmap PMDs in the usec column.
. "$(dirname "$0")/../guest/lib.sh"

ROUNDS=${ROUNDS:-3}
N2M=${N2M:-1024}
N1G=${N1G:-2}
# Not in the default set: hvo_shared_pages restores page by page, as
# before 1 GiB restores used 2 MiB blocks (inject=restore_block refuses
# every block); hvo_shared_copy copies each restored page, as before
# restores filled them from one struct page (inject=restore_fill).
CONFIGS=${CONFIGS:-none kernel hvo_shared hvo_shared_head_copy}

now() { date +%s%N; }

setup() {
	unload
	echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
	case $1 in
	kernel) echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap ;;
	hvo_shared) modprobe hvo_shared ;;
	hvo_shared_head_copy) modprobe hvo_shared head_copy=1 ;;
	hvo_shared_pages) modprobe hvo_shared inject=restore_block inject_every=1 ;;
	hvo_shared_copy) modprobe hvo_shared inject=restore_fill inject_every=1 ;;
	esac
}

# tables: how many vmemmap PMDs are split into PTE tables now.
tables() { vmemmap_pmds | awk '$2 == "table" { n++ } END { print n + 0 }'; }

# measure CONFIG KB COUNT: a grow and a shrink, then how many vmemmap PTE
# tables the cycle left behind (negative: it gave back more than it split).
measure() {
	local t0 t1 mm0 saved got tb0
	settle
	# 1 GiB of contiguous memory per folio: compact first.
	[ "$2" = 1048576 ] && echo 1 >/proc/sys/vm/compact_memory
	mm0=$(memmap_pages)
	tb0=$(tables)
	t0=$(now)
	pool_set "$2" "" "$3"
	t1=$(now)
	got=$(pool_get "$2")
	saved=$(( mm0 - $(memmap_pages) ))
	echo "$1,$2,$got,grow,$(( (t1 - t0) / 1000 )),$saved"
	settle
	t0=$(now)
	pool_set "$2" "" 0
	t1=$(now)
	echo "$1,$2,$got,shrink,$(( (t1 - t0) / 1000 )),$(( mm0 - $(memmap_pages) ))"
	echo "$1,$2,$got,tables,$(( $(tables) - tb0 )),0"
}

# action NAME: time one write of 1 to the module's NAME parameter.
action() {
	local t0 t1
	t0=$(now)
	echo 1 >"$PARAMS/$1"
	t1=$(now)
	echo $(( (t1 - t0) / 1000 ))
}

# adopt_restore KB COUNT STATE: a pool of COUNT folios grown with no HVO,
# free or in use (STATE in_use: filled as a hugetlbfs file, which keeps
# them), then hvo_shared loaded without takeover; times adopt and
# restore (restore-all), and checks the file's data afterwards.
adopt_restore() {
	local kb=$1 n=$2 state=$3 dir=/dev/hugepages mm0 us got saved ok=ok
	[ "$kb" = 1048576 ] && dir=/dev/hugepages-1G
	setup none
	settle
	[ "$kb" = 1048576 ] && echo 1 >/proc/sys/vm/compact_memory
	pool_set "$kb" "" "$n"
	got=$(pool_get "$kb")
	if [ "$got" = 0 ]; then
		echo "# adopt/restore $kb $state: skipped, no folio could be had"
		return 0
	fi
	[ "$state" = in_use ] && { "$HUGEMAP" fill "$got" "$kb" "$dir/bench" >/dev/null || ok=fill-failed; }
	modprobe hvo_shared takeover=0
	settle
	mm0=$(memmap_pages)
	us=$(action adopt)
	saved=$(( mm0 - $(memmap_pages) ))
	echo "hvo_shared,$kb,$got,adopt_$state,$us,$saved"
	us=$(action restore)
	echo "hvo_shared,$kb,$got,restore_$state,$us,$(( mm0 - $(memmap_pages) ))"
	unload
	if [ "$state" = in_use ]; then
		"$HUGEMAP" verify "$got" "$kb" "$dir/bench" >/dev/null || ok=data-lost
		rm -f "$dir/bench"
	fi
	echo "# adopt/restore $kb $state: $ok"
	pool_set "$kb" "" 0
}

mount_hugetlbfs
mkdir -p /dev/hugepages-1G
mountpoint -q /dev/hugepages-1G || mount -t hugetlbfs -o pagesize=1G none /dev/hugepages-1G
HUGEMAP=$(helper hugemap)

echo "config,hstate_kb,folios,op,usec,memmap_pages_saved"
set -- $CONFIGS
for r in $(seq "$ROUNDS"); do
	for c in "$@"; do
		setup "$c"
		# 1 GiB first: 2 MiB cycles leave scattered unmovable vmemmap
		# pages and page tables that can keep any 1 GiB range from
		# being had (a run with 2 MiB first had none after round 1).
		measure "$c" 1048576 "$N1G"
		measure "$c" 2048 "$N2M"
	done
	set -- "${@:2}" "$1"	# rotate the order each round
	for state in free in_use; do
		adopt_restore 2048 "$N2M" "$state"
		adopt_restore 1048576 "$N1G" "$state"
	done
done
# What each part of restoring one vmemmap page costs in this boot.
for r in 1 2 3; do
	insmod "/opt/hvo-kmod/$(uname -r)/hvo_page_cost.ko" && rmmod hvo_page_cost
done
dmesg | sed -n 's/.*hvo_page_cost: /# page cost: /p'
unload
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
