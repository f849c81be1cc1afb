#!/bin/bash
# Guest side of make bench: time pool growth and shrink under each HVO
# configuration, in one boot, several rounds with the order rotated.
# Prints CSV: config,hstate_kb,folios,op,seconds,memmap_pages_saved
. "$(dirname "$0")/../guest/lib.sh"

ROUNDS=${ROUNDS:-3}
N2M=${N2M:-1024}
N1G=${N1G:-2}
CONFIGS="none kernel hvo_shared hvo_shared_head_copy"

now() { date +%s%N; }

setup() {
	unload
	echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
	case $1 in
	kernel) echo 1 >/proc/sys/vm/hugetlb_optimize_vmemmap ;;
	hvo_shared) modprobe hvo_shared ;;
	hvo_shared_head_copy) modprobe hvo_shared head_copy=1 ;;
	esac
}

# measure CONFIG KB COUNT
measure() {
	local t0 t1 mm0 saved got
	settle
	mm0=$(memmap_pages)
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
}

echo "config,hstate_kb,folios,op,usec,memmap_pages_saved"
set -- $CONFIGS
for r in $(seq "$ROUNDS"); do
	for c in "$@"; do
		setup "$c"
		measure "$c" 2048 "$N2M"
		measure "$c" 1048576 "$N1G"
	done
	set -- "${@:2}" "$1"	# rotate the order each round
done
unload
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
