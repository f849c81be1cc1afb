#!/bin/bash
# head_copy=1 replaces each folio's head vmemmap page by a copy, as the
# kernel does: the same 7 pages saved per 2 MiB folio (8 freed, 1
# allocated), the same data and flags, and the copies stay with the folios
# after restore.
. "$(dirname "$0")/lib.sh"

plan 10
N=${N:-64}
hugemap=$(helper hugemap) || { tap 1 "build hugemap"; tap_done; exit; }
clean_start
mm0=$(memmap_pages)
# Which vmemmap PMDs are still 2 MiB leaves: earlier tests, or the
# kernel's HVO, may have split some for good. Read from the page tables,
# so the expected count of splits does not depend on what ran before.
pmds0=$(vmemmap_pmds)
modprobe hvo_shared head_copy=1
is "$(cat "$PARAMS/head_copy")" Y "head_copy reads back as Y"
pool_set 2048 "" "$N"
is "$(( mm0 - $(memmap_pages) ))" $((7 * N)) "nr_memmap_* fell by 7 pages per folio"
is "$(stat vmemmap_pages_freed)" $((8 * N)) "stats: 8 pages freed per folio"
spanned=$(spanned_pmds 512 | wc -l) splits=$(new_splits "$pmds0" 512)
tables=$(( $(stat vmemmap_pages_allocated) - N ))
diag "the pool's vmemmap spans $spanned PMDs, $splits of them leaves before"
is "$tables" "$splits" \
	"stats: 1 head copy per folio allocated, plus one table per leaf PMD the pool spans ($splits)"
is "$(vmemmap_pmds | awk -v s=" $(spanned_pmds 512 | tr '\n' ' ')" \
	'index(s, " " $1 " ") && $2 != "table"' | wc -l)" 0 \
	"page tables: every PMD the pool's vmemmap spans is split now"
is "$(stat saved_bytes)" $(( (7 * N - tables - $(stat shared_tail_pages)) * 4096 )) \
	"stats: saved_bytes nets the head copies out"
out=$("$hugemap" file "$N" 2048)
tap $? "folios with copied heads work: $out"
pool_set 2048 "" 0
is "$(memmap_pages)" "$mm0" "nr_memmap_* back to baseline after restore"
is "$(stat vmemmap_pages_allocated)" "$tables" "stats: only the split tables stay allocated"
is "$(stat vmemmap_pages_freed)" 0 "stats: nothing left freed"
rmmod hvo_shared
tap_done
