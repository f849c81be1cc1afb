#!/bin/bash
# A pool that exists before the module loads is taken over (takeover=1,
# the default), and given back whole on unload with giveback=1.
. "$(dirname "$0")/lib.sh"

plan 13

N=${N:-64}
hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
clean_start
mm0=$(memmap_pages)
pool_set 2048 "" "$N"
is "$(memmap_pages)" "$mm0" "a pool of $N folios without HVO"

dmesg_mark
modprobe hvo_shared
is "$(stat folios_optimized)" "$N" "modprobe took over all $N free folios"
is "$(( mm0 - $(memmap_pages) ))" $((7 * N)) "nr_memmap_* fell by 7 pages per folio"
ok "the log says so" -- grep -q "hvo_shared: took over $N free folios" <<<"$(dmesg_since)"
is "$(meminfo HugePages_Free)" "$N" "every folio is back on the free list"
out=$("$hugemap" file "$N" 2048)
tap $? "the taken-over folios work: $out"

echo 1 >"$PARAMS/giveback"
dmesg_mark
rmmod hvo_shared
is "$(pool_get 2048)" "$N" "after rmmod giveback=1 the pool is still $N"
is "$(memmap_pages)" "$mm0" "  ... with every vmemmap page restored"
ok "  ... and the log says so" -- grep -q "hvo_shared: gave back $N free folios" <<<"$(dmesg_since)"
out=$("$hugemap" anon "$N" 2048)
tap $? "the given-back folios work: $out"

modprobe hvo_shared takeover=0
is "$(stat folios_optimized)" 0 "takeover=0 leaves the pool alone"
is "$(memmap_pages)" "$mm0" "  ... nr_memmap_* unchanged"
rmmod hvo_shared
pool_set 2048 "" 0
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline"
tap_done
