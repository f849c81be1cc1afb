#!/bin/bash
# Workload for the bpftrace tests: grow hstate KB's pool to COUNT, then
# shrink it to 0, with pauses so that per-second tools see both phases.
# Usage: resize.sh KB COUNT
f=/sys/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages
sleep 1
echo "$2" >"$f"
sleep 2
echo 0 >"$f"
sleep 2
