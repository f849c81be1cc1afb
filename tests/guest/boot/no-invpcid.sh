#!/bin/bash
# boot: hvo.cpu=no-invpcid memory_hotplug.memmap_on_memory=1
# vm: --cpu max,-erms,-invpcid --dimm 1024
# A CPU without INVPCID, as many real machines and VMs are: hvo_shared's
# TLB flush takes its other path, toggling CR4.PGE (src/remap.c). QEMU's
# "max" CPU has INVPCID, so every other boot only tests that one path.
# Optimize, use, verify and restore under the CR4 path. The boot is
# shared with self-hosted (one boot less): the pool stays on nodes 0 and
# 1, away from node 2's hot-added memory, whose folios are refused.
. "$(dirname "$0")/../lib.sh"

plan 8
N=128
ok "the guest CPU has no INVPCID" -- sh -c '! grep -qw invpcid /proc/cpuinfo'
ok "  ... but has global pages (PGE)" -- grep -qw pge /proc/cpuinfo
hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
clean_start
mm0=$(memmap_pages)
modprobe hvo_shared
pool_set 2048 0 $((N / 2))
pool_set 2048 1 $((N / 2))
is "$(stat folios_optimized)" "$N" "$N folios optimized"
is "$(( mm0 - $(memmap_pages) ))" "$(stat vmemmap_pages_freed)" \
	"  ... nr_memmap_* fell by what the stats say was freed"
ok "verify is ok" -- grep -q "^ok: $N folios" <<<"$(tail -n 1 /sys/kernel/debug/hvo_shared/verify)"
out=$("$hugemap" file "$N" 2048)
tap $? "data and kpageflags of every folio: $out"
pool_set 2048 "" 0
is "$(stat folios_optimized)" 0 "shrunk: every folio restored"
rmmod hvo_shared
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline"
tap_done
