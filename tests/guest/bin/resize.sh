#!/bin/bash
# Workload for the bpftrace tests: grow hstate KB's pool to COUNT, then
# shrink it to 0, with pauses so that per-second tools see both phases.
# The pauses shape the workload (one phase per interval of hvo-savings.bt);
# nothing waits on them: each write returns once the pool has changed.
# Usage: resize.sh KB COUNT
f=/sys/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages
sleep 1
echo "$2" >"$f"
sleep 2
echo 0 >"$f"
sleep 2
