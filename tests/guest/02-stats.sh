#!/bin/bash
# The debugfs stats file: present while loaded, one "key value" per line,
# every key docs/stats.md documents, with values that match what the
# kernel reports and what the pool measurably is.
. "$(dirname "$0")/lib.sh"

plan 30
DOC=$(dirname "$0")/../../docs/stats.md
N=${N:-32}
unload
echo 0 >/proc/sys/vm/hugetlb_optimize_vmemmap
mm0=$(memmap_pages)
tails0=$(vmemmap_tails) pmds0=$(vmemmap_pmds)
ok "modprobe hvo_shared" -- modprobe hvo_shared
ok "stats file exists and is readable" -- test -r "$STATS"

bad=$(grep -cvE '^[a-z][a-z0-9_.]* [^ ]+$' "$STATS")
is "$bad" 0 "every line is 'key value'"
dups=$(awk '{ print $1 }' "$STATS" | sort | uniq -d | wc -l)
is "$dups" 0 "no key appears twice"
for key in version kernel state; do
	ok "key '$key' is present" -- grep -q "^$key " "$STATS"
done
is "$(stat version)" "$(cat /sys/module/hvo_shared/version)" \
	"version matches /sys/module/hvo_shared/version"
is "$(stat version)" "$(modinfo -F version hvo_shared)" \
	"version matches the installed module's modinfo"
is "$(stat kernel)" "$(uname -r)" "kernel matches uname -r"
is "$(stat state)" active "state is active"

# Every key the documentation's table names, and no undocumented one (the
# per-zone keys by their documented pattern).
keys=$(sed -n 's/^| `\([^`]*\)` |.*/\1/p' "$DOC")
# One read of the file, no process per key: under TCG each costs 0.1 s.
declare -A have
while read -r k _; do have[$k]=1; done <"$STATS"
missing=$(for k in $keys; do [ -n "${have[$k]:-}" ] || echo "$k"; done)
is "$missing" "" "all $(wc -w <<<"$keys") keys documented in docs/stats.md are in the file"
live="folios_optimized|vmemmap_pages_freed|vmemmap_pages_allocated|shared_tail_pages|saved_bytes"
extra=$(awk '{ print $1 }' "$STATS" | grep -vxE "$(tr ' \n' '||' <<<"$keys")node[0-9]+\.(DMA|DMA32|Normal|Movable)\.order[0-9]+\.($live)")
is "$extra" "" "every key in the file is documented"

# Each value against what it measures, with a pool on both nodes.
pool_set 2048 0 $((N / 2))
pool_set 2048 1 $((N / 2))
is "$(stat folios_optimized)" "$(meminfo HugePages_Total)" "folios_optimized = HugePages_Total ($N)"
is "$(stat vmemmap_pages_freed)" $(( mm0 - $(memmap_pages) )) "vmemmap_pages_freed = the fall of nr_memmap_*"
is "$(stat vmemmap_pages_allocated)" "$(new_splits "$pmds0" 512)" \
	"vmemmap_pages_allocated = the leaf PMDs the pool spans (page tables read through /proc/kcore)"
is "$(stat shared_tail_pages)" "$(new_tails "$tails0" 512 9)" \
	"shared_tail_pages = the pool's zones whose tail slot was empty (zone->vmemmap_tails[])"
is "$(stat saved_bytes)" \
	$(( ($(stat vmemmap_pages_freed) - $(stat vmemmap_pages_allocated) - $(stat shared_tail_pages)) * 4096 )) \
	"saved_bytes = (freed - allocated - shared tails) * 4 KiB"
is "$(stat optimize_total)" "$N" "optimize_total = $N folios grown"
is "$(stat optimize_failed)" 0 "optimize_failed = 0"
sums=$(for k in ${live//|/ }; do
	echo "$k $(awk -v k=".$k" 'substr($1, 1, 4) == "node" && substr($1, length($1) - length(k) + 1) == k { n += $2 } END { print n + 0 }' "$STATS")"
done)
is "$sums" "$(for k in ${live//|/ }; do echo "$k $(stat "$k")"; done)" \
	"the per-zone keys add up to the totals"
is "$(grep '\.order9\.folios_optimized ' "$STATS" | sort | tr '\n' ' ')" \
	"$(huge_folios 512 | awk '{ print "node" $2 "." $3 ".order9.folios_optimized" }' | sort | uniq -c |
	   awk '{ print $2, $1 }' | tr '\n' ' ')" \
	"per-zone folios_optimized: where /proc/kpageflags puts the folios"
pool_set 2048 "" 0
is "$(stat restore_total)" "$N" "restore_total = $N folios shrunk"
is "$(stat restore_failed)" 0 "restore_failed = 0 (the pool is $(pool_get 2048))"
is "$(stat folios_optimized) $(stat vmemmap_pages_freed)" "0 0" "folios_optimized and vmemmap_pages_freed back to 0"

is "$(command stat -c %a "$STATS")" 444 "stats file is read-only (mode 0444)"
before=$(cat "$STATS")
echo garbage 2>/dev/null >"$STATS"
tap $(( $? == 0 )) "writing garbage to the stats file fails"
is "$(cat "$STATS")" "$before" "the stats file is unchanged by the write"

ok "rmmod hvo_shared" -- rmmod hvo_shared
ok "stats file is gone after rmmod" -- test ! -e "$STATS"
tap_done
