#!/bin/bash
# An adopt or restore in progress runs outside the module's parameter
# lock: meanwhile every other parameter reads and writes at once, and a
# second adopt or restore fails at once with EBUSY instead of waiting for
# the first (or running after it). adopt and restore read 1 while theirs
# runs, 0 otherwise. The run is kept going by inject=sleep_inside (every
# engine entry sleeps 500 ms); "at once" is checked by order, not time:
# each answer comes while adopt still reads 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bin/kpaths.sh"

plan 11
USED=8

clean_start
mm0=$(memmap_pages)
pool_set 2048 "" $((2 * USED))
watch_start busy anon "$USED"
tap $? "a process maps $USED folios and checks them in a loop"
modprobe hvo_shared
is "$(cat "$PARAMS/adopt") $(cat "$PARAMS/restore")" "0 0" "adopt and restore read 0 when idle"

echo sleep_inside >"$PARAMS/inject"
echo 500 >"$PARAMS/inject_delay_ms"
echo 1 >"$PARAMS/inject_every"
echo 1 >"$PARAMS/adopt" &
adopter=$!
for _ in $(seq 100); do
	[ "$(cat "$PARAMS/adopt")" = 1 ] && break
	sleep 0.1
done
is "$(cat "$PARAMS/adopt")" 1 "adopt reads 1 while it runs"
hstates=$(cat "$PARAMS/hstates")
is "$(cat "$PARAMS/adopt")" 1 "  ... another parameter reads meanwhile ($hstates), without waiting for it"
echo 2M >"$PARAMS/hstates"
is "$?/$(cat "$PARAMS/adopt")" 0/1 "  ... and is written meanwhile"
err=$(echo 1 2>&1 >"$PARAMS/restore")
is "$?/$(cat "$PARAMS/adopt")" 1/1 "  ... a restore meanwhile fails at once"
ok "  ... with EBUSY: $err" -- grep -q "busy" <<<"$err"
wait $adopter
is "$?" 0 "the adopt completes"
echo none >"$PARAMS/inject"
is "$(stat folios_optimized) $(cat "$PARAMS/adopt")" "$((2 * USED)) 0" \
	"  ... every folio optimized, and adopt reads 0 again"
echo 1 >"$PARAMS/restore"
is "$(memmap_pages)" "$mm0" "restore: nr_memmap_* back at baseline"
watch_end busy
rmmod hvo_shared
pool_set 2048 "" 0
tap_done
