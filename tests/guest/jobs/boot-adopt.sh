#!/bin/bash
# Job of tests/deb/05-boot-adopt.sh, in a guest booted with hugetlb pools
# on its command line and hvo_shared's modprobe.d and modules-load.d
# examples enabled: what the boot did, with no step of ours, as "boot KEY
# VALUE" facts for the host; then restore, to measure what was saved.
. "$(dirname "$0")/../lib.sh"
fact() { echo "boot $1 $2"; }

fact uptime "$(cut -d' ' -f1 /proc/uptime)"
sed 's/^/# systemd-modules-load: /' /run/modules-load.log
sed 's/^/# before-modules-load: /' /run/before-modules-load.log 2>/dev/null
fact loaded "$(loaded && echo yes || echo no)"
fact held "$(( $(command stat -c %s /dev/hugepages/held 2>/dev/null || echo 0) / 2097152 ))"
fact pools "$(pool_get 1048576) $(pool_get 2048)"
fact state "$(stat state)"
fact optimized "$(stat folios_optimized)"
fact order9 "$(awk '$1 ~ /\.order9\.folios_optimized$/ { n += $2 } END { print n + 0 }' "$STATS")"
fact order18 "$(awk '$1 ~ /\.order18\.folios_optimized$/ { n += $2 } END { print n + 0 }' "$STATS")"
fact freed "$(stat vmemmap_pages_freed)"
fact verify "$(tail -n 1 /sys/kernel/debug/hvo_shared/verify)"
log=$(dmesg | grep 'hvo_shared:')
sed 's/^/# dmesg: /' <<<"$log"
fact took "$(sed -n 's/.*hvo_shared: took over \([0-9]*\) free folios$/\1/p' <<<"$log" | tail -n 1)"
fact in_use "$(sed -n 's/.*hvo_shared: adopt: [0-9]* free folios optimized, \([0-9]*\) in use adopted$/\1/p' <<<"$log" | tail -n 1)"
# The kernel's time at the end of the load's adopt run (modprobe returns
# after it): every folio of both pools optimized by then.
fact done_at "$(sed -n 's/^\[ *\([0-9.]*\)\] hvo_shared: adopt: .*/\1/p' <<<"$log" | tail -n 1)"
fact load_at "$(sed -n 's/^\[ *\([0-9.]*\)\] hvo_shared: .*/\1/p' <<<"$log" | head -n 1)"
quiesce
mm=$(memmap_pages)
echo 1 >"$PARAMS/restore"
# shellcheck disable=SC2320 # echo's status is the write's: the module's answer
fact restore $?
quiesce
fact restored "$(( $(memmap_pages) - mm ))"
fact left "$(stat folios_optimized)"
rm -f /dev/hugepages/held
rmmod hvo_shared
