#!/bin/bash
# A PMD split and its TLB flush, with another CPU optimizing a folio under
# the same PMD meanwhile. The split flushes every TLB before it drops
# init_mm's page_table_lock, and every optimizer reads the PMD under that
# lock (vmemmap_split_pmd() and vmemmap_pmd_entry() in mm/hugetlb_vmemmap.c):
# no PTE under a split PMD changes while a CPU may still hold its 2 MiB
# translation. inject=split_flush widens the window to 200 ms; two
# processes, one per CPU, allocate neighbouring surplus folios, each
# optimized on its own. From the trace (global clock, with CPUs): no
# folio_optimize under a PMD on another CPU ends between its pmd_split and
# the flush that follows; and some began inside that window, so the race
# was run. Runs early in a boot: PMDs split stay split.
. "$(dirname "$0")/lib.sh"

plan 7
NR=${NR:-192}
TRACING=/sys/kernel/tracing
EV=$TRACING/events/hvo_shared
sr=$(helper splitrace) || { tap 1 "build splitrace"; tap_done; exit; }
clean_start
mm0=$(memmap_pages)
pool_set 2048 "" 0
echo $((2 * NR)) >/proc/sys/vm/nr_overcommit_hugepages
modprobe hvo_shared inject=split_flush inject_every=1 inject_delay_ms=200
clock=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$TRACING/trace_clock")
echo global >"$TRACING/trace_clock"
echo >"$TRACING/trace"
for e in pmd_split tlb_flush folio_optimize; do echo 1 >"$EV/$e/enable"; done

"$sr" /dev/hugepages 0 "$NR" 2048 >/tmp/splitrace.0 &
a=$!
"$sr" /dev/hugepages 1 "$NR" 2048 >/tmp/splitrace.1 &
b=$!
wait $a; ra=$?
wait $b; rb=$?
for e in pmd_split tlb_flush folio_optimize; do echo 0 >"$EV/$e/enable"; done
trace=$(cat "$TRACING/trace")
echo "$clock" >"$TRACING/trace_clock"
is "$ra$rb $(cat /tmp/splitrace.0) $(cat /tmp/splitrace.1)" "00 allocated $NR allocated $NR" \
	"two processes, one per CPU, allocated $NR surplus folios each"
splits=$(grep -c 'pmd_split:' <<<"$trace")
ok "PMDs were split meanwhile ($splits)" -- test "$splits" -gt 0
is "$(stat injected.split_flush)" "$splits" "  ... each with the injected delay before its flush"

# For each split: its PMD (first PFN / 32768), CPU, time, and the time of
# the next split flush on that CPU. Then every folio_optimize under that
# PMD from another CPU that overlapped the window [split, flush]: it must
# end after the flush.
read -r raced early <<<"$(awk '
	function hex(s,   i, c, n) {
		n = 0; s = tolower(substr(s, 3))
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			n = n * 16 + c
		}
		return n
	}
	function field(name,   i) {
		for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2)
	}
	{ cpu = $0; sub(/.*\[/, "", cpu); sub(/\].*/, "", cpu); cpu += 0
	  ts = $0; sub(/:.*/, "", ts); n = split(ts, w, " "); ts = w[n] + 0 }
	/pmd_split:/ { k++; pmd[k] = int(hex(field("pfn")) / 32768); scpu[k] = cpu; st[k] = ts; open[cpu] = k }
	/tlb_flush: reason=split/ { if (cpu in open) { ft[open[cpu]] = ts; delete open[cpu] } }
	/folio_optimize:/ { m++; opmd[m] = int(hex(field("pfn")) / 32768); ocpu[m] = cpu
	  oend[m] = ts; obeg[m] = ts - field("duration_ns") / 1e9 }
	END {
		for (i = 1; i <= k; i++) for (j = 1; j <= m; j++) {
			if (opmd[j] != pmd[i] || ocpu[j] == scpu[i] || !(i in ft)) continue
			if (oend[j] < st[i] || obeg[j] > ft[i]) continue
			raced++
			if (oend[j] < ft[i]) early++
		}
		print raced + 0, early + 0
	}' <<<"$trace")"
ok "another CPU optimized folios under a PMD while it was being split ($raced)" -- \
	test "$raced" -gt 0
is "$early" 0 "  ... and none of them finished before that split's TLB flush"

rm -f /dev/hugepages/splitrace.*
echo 0 >/proc/sys/vm/nr_overcommit_hugepages
is "$(meminfo HugePages_Total)" 0 "the surplus folios are freed"
rmmod hvo_shared
quiesce
is "$(memmap_pages)" "$mm0" "nr_memmap_* back where they started"
tap_done
