#!/bin/bash
# timeout: 240
# A live workload under churn: a process maps, faults, checks and unmaps
# a pool of exactly 64 free 2 MiB folios, over and over (bin/hugeloop.c:
# MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, so every fault adds its folio
# to a page cache; rounds with a reservation and with MAP_NORESERVE in
# turn), while a loop writes adopt and restore without a pause and
# reloads the module (takeover, giveback=1) every ten rounds. With no
# overcommit, the process can only succeed if every free folio stays on
# its free list for the kernel to find: no mmap may fail with ENOMEM, no
# fault get SIGBUS. No folio may be left locked (the next munmap would
# wait for it forever; the hung-task detector, lowered to 10 s, reports
# it) or in use (the pool would not drain). See docs/safety.md (adopting
# folios in use).
. "$(dirname "$0")/lib.sh"

plan 10
NR=64
SECS=${LIVE_SECONDS:-30}
# A round of 64 faults takes under a second under TCG: a mapper still
# running this long after the end is stuck.
GRACE=20
HUNG=/proc/sys/kernel/hung_task_timeout_secs
OVERCOMMIT=/proc/sys/vm/nr_overcommit_hugepages
OUT=/tmp/live-workload.out

hl=$(helper hugeloop) || { tap 1 "build hugeloop"; tap_done; exit 1; }

clean_start
dmesg_mark
hung0=$(<"$HUNG") overcommit0=$(<"$OVERCOMMIT")
# Set back however the file ends (run-all's time limit too).
trap 'echo "$hung0" >"$HUNG"; echo "$overcommit0" >"$OVERCOMMIT"' EXIT
echo 10 >"$HUNG"
echo 0 >"$OVERCOMMIT"
pool_set 2048 "" "$NR"
is "$(meminfo HugePages_Free) $(meminfo HugePages_Total) $(meminfo HugePages_Rsvd)" "$NR $NR 0" \
	"a pool of exactly $NR free folios of 2 MiB, none reserved, no overcommit"
modprobe hvo_shared giveback=1

# The workload writes a line per round and "done ..." at the end, to a
# file, not to this file's pipe: stuck in munmap, it would keep the pipe
# open and hold up run-all.
end=$((EPOCHSECONDS + SECS))
"$hl" "$NR" "$end" >"$OUT" 2>&1 </dev/null &
mapper=$!

# The churn, as fast as it goes, so that restores meet faults in flight.
# A restore that leaves a busy folio fails (ENOMEM): counted, not fatal.
rounds=0 adopts=0 restores=0 left=0 reloads=0 both=0 in_use_adopted=0
adopted_now() { local v; v=$(stat adopt_total 2>/dev/null); echo "${v:-0}"; }
while [ "$EPOCHSECONDS" -lt "$end" ]; do
	a=0 r=0
	echo 1 >"$PARAMS/adopt" && a=1
	if echo 1 >"$PARAMS/restore"; then
		r=1
	else
		left=$((left + 1))
	fi
	adopts=$((adopts + a)) restores=$((restores + r)) both=$((both + a * r))
	rounds=$((rounds + 1))
	if [ $((rounds % 10)) = 0 ]; then
		# Folios the mapper held that adopt optimized, summed over the
		# loads (each load's stats start at 0).
		in_use_adopted=$((in_use_adopted + $(adopted_now)))
		rmmod hvo_shared && modprobe hvo_shared giveback=1 && reloads=$((reloads + 1))
	fi
done 2>/dev/null
diag "churn: $rounds rounds, $adopts adopts, $restores restores complete, $left with folios left, $reloads reloads"
in_use_adopted=$((in_use_adopted + $(adopted_now)))

# running PID: PID has not exited (a zombie has).
running() {
	local s
	s=$(cut -d ' ' -f 3 "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ]
}
while running "$mapper" && [ "$EPOCHSECONDS" -lt $((end + GRACE)) ]; do
	sleep 0.5
done
stuck=0
if running "$mapper"; then
	stuck=1
	diag "hugeloop still running, state $(cut -d ' ' -f 3 "/proc/$mapper/stat"), in:"
	while read -r line; do diag "  $line"; done <"/proc/$mapper/stack"
	kill -KILL "$mapper"
fi

# field KEY: the number after KEY in the mapper's last count, 0 if none.
line=$(grep -E '^(round|done|failed) ' "$OUT" | tail -n 1)
field() {
	local v
	v=$(sed -n "s/.* $1 \([0-9]*\).*/\1/p" <<<"$line")
	echo "${v:-0}"
}
diag "hugeloop: $line"
grep '^hugeloop' "$OUT" | head -n 5 | while read -r l; do diag "$l"; done

ok "the mapper finished, not stuck" -- test "$stuck" = 0 -a "${line%% *}" = "done"
is "$(field enomem)" 0 "every mmap of all $NR folios with a reservation succeeded: no ENOMEM"
is "$(field sigbus)" 0 "every fault found a free folio, also with MAP_NORESERVE: no SIGBUS"
is "$(field wrong)" 0 "no wrong byte in any folio"
ok "the mapper did 20 rounds or more ($(field rounds))" -- test "$(field rounds)" -ge 20
ok "the churn did 10 rounds or more whose adopt and restore both succeeded ($both of $rounds) and reloaded ($reloads)" -- \
	test "$both" -ge 10 -a "$reloads" -ge 1
ok "  ... and met the mapper: folios it held were adopted ($in_use_adopted), and $restores restores gave every one back" -- \
	test "$in_use_adopted" -gt 0 -a "$restores" -ge 10

hung=$(dmesg_since | grep -E 'blocked.* for more than|hung_task' | head -n 4)
is "$hung" "" "no task blocked for more than $(<"$HUNG") s"
diag "the last adopt: $(dmesg_since | grep 'adopt: .* in use adopted' | tail -n 1)"

# Everything given back: no folio may stay locked or in use.
unload
pool_set 2048 "" 0
is "$(meminfo HugePages_Total)" 0 "after rmmod the pool drains to 0"
tap_done
