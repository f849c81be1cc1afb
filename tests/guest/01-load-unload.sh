#!/bin/bash
# Load and unload the module 20 times: every cycle works, and memory
# (free pages, Slab, SUnreclaim) comes back to where it was.
. "$(dirname "$0")/lib.sh"

plan 8

# Tolerances in kB: per-CPU page lists and slab caches drift by a few
# pages between two samples, and the module loader keeps an executable
# memory cache; a leak of 30 pages per cycle (2400 kB in all) still shows.
MEMFREE_TOL=${MEMFREE_TOL:-2048}
SLAB_TOL=${SLAB_TOL:-256}

unload
# One warm-up cycle, so that caches the first load fills (kprobes, debugfs
# inodes, module loader) are not counted as a leak.
modprobe hvo_shared && rmmod hvo_shared
settle
free0=$(free_kb) slab0=$(meminfo Slab) sunr0=$(meminfo SUnreclaim)

loads=0 stats=0 unloads=0
for _ in $(seq 20); do
	modprobe hvo_shared && loads=$((loads + 1))
	[ "$(stat state)" = active ] && stats=$((stats + 1))
	rmmod hvo_shared && unloads=$((unloads + 1))
done
is "$loads" 20 "modprobe succeeded 20 times"
is "$stats" 20 "stats said 'state active' after each load"
is "$unloads" 20 "rmmod succeeded 20 times"
ok "module is gone after the last rmmod" -- test ! -e /sys/module/hvo_shared
ok "debugfs directory is gone after the last rmmod" -- \
	test ! -e /sys/kernel/debug/hvo_shared

settle
free1=$(free_kb) slab1=$(meminfo Slab) sunr1=$(meminfo SUnreclaim)
diag "free (MemFree + per-CPU lists) $free0 -> $free1 kB, Slab $slab0 -> $slab1 kB, SUnreclaim $sunr0 -> $sunr1 kB"
# Only a loss is a leak; more free memory after the cycles is fine.
within "$(( free1 < free0 ? free1 : free0 ))" "$free0" "$MEMFREE_TOL" "free memory back after 20 cycles"
within "$(( slab1 > slab0 ? slab1 : slab0 ))" "$slab0" "$SLAB_TOL" "Slab back after 20 cycles"
within "$(( sunr1 > sunr0 ? sunr1 : sunr0 ))" "$sunr0" "$SLAB_TOL" "SUnreclaim back after 20 cycles"
tap_done
