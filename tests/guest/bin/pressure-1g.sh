#!/bin/bash
# Workload for hvo-failures.bt: an optimized 1 GiB folio shrunk while a
# 2 MiB pool (left alone by hstates=1G) holds all other memory, so that
# its restore fails; then memory comes back and the folio is freed.
g=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
m=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
echo 1 >$g
echo 100000 >$m
echo 0 >$g
echo 0 >$m
echo 1 >$g
echo 0 >$g
sleep 1
