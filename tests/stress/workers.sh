# The stress test's workers. Sourced by tests/stress/stress.sh, after
# tests/guest/lib.sh. Each worker does one round, then loops until the
# phase's deadline ($END) or the stop file ($W/stop), then writes its
# counts as "key value" pairs to $W/NAME.count; problems go to
# $W/NAME.fail, one line each.
# shellcheck shell=bash

VERIFY=/sys/kernel/debug/hvo_shared/verify
NODES=(0 1)
G1=1048576

# alive: true until the deadline or the stop file, and always the first
# time a worker asks: one that starts late (a 1 GiB migration holds a vCPU
# for most of a minute under TCG) still does its work once. No fork: it
# runs often.
alive() {
	[ -n "${ROUND_ONE_DONE:-}" ] || { ROUND_ONE_DONE=1; return 0; }
	printf -v NOW '%(%s)T' -1
	[ "$NOW" -lt "$END" ] && [ ! -e "$W/stop" ]
}

# nap N: a random pause of 0.1 to N/10 seconds, so workers drift apart.
nap() {
	local t=$(( RANDOM % $1 + 1 ))
	sleep "$((t / 10)).$((t % 10))"
}

# ms: milliseconds since the epoch.
ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# put NAME KEY VALUE...: the worker's counts.
put() {
	local name=$1
	shift
	printf '%s %s\n' "$@" >"$W/$name.count"
}

# Grow and shrink one node's pool of one size to random targets. 1 GiB
# folios need 1 GiB of contiguous memory: compact first, and count a grow
# that came up short instead of failing on it.
pool_worker() {
	local node=$1 kb=$2 max=$3 f cur want got d
	local grow=0 shrink=0 cycled=0 short=0
	f=$(pool_path "$kb" "$node")
	while alive; do
		read -r cur <"$f"
		want=$(( RANDOM % (max + 1) ))
		# Keep 1 GiB pools mostly up, or the 1 GiB map workers starve.
		[ "$kb" = $G1 ] && [ $(( RANDOM % 4 )) != 0 ] && want=$max
		if [ "$want" -gt "$cur" ]; then
			[ "$kb" = $G1 ] && echo 1 >/proc/sys/vm/compact_memory
			grow=$((grow + 1))
		elif [ "$want" -lt "$cur" ]; then
			shrink=$((shrink + 1))
		fi
		echo "$want" >"$f"
		read -r got <"$f"
		[ "$want" -gt "$cur" ] && [ "$got" -lt "$want" ] && short=$((short + 1))
		d=$((got - cur))
		cycled=$((cycled + (d < 0 ? -d : d)))
		[ "$kb" = $G1 ] && nap 30 || nap 5
	done
	put "pool-$node-$kb" grow $grow shrink $shrink folios_cycled $cycled grow_short $short
}

# Map, write, move between nodes, verify, unmap: tests/guest/bin/stressmap.
map_worker() {
	local mode=$1 kb=$2 nr=$3 dir=$4 out rc
	out=$("$STRESSMAP" "$mode" "$kb" "$nr" "$END" "$W/stop" "$dir" 2>"$W/map-$mode-$kb.err")
	rc=$?
	echo "$out" >"$W/map-$mode-$kb.count"
	echo "rc $rc" >>"$W/map-$mode-$kb.count"
	[ "$rc" = 0 ] || cat "$W/map-$mode-$kb.err" >>"$W/map-$mode-$kb.fail"
}

# why NAME: note why a read failed (the first line of its stderr), for
# the diagnostics: the module being away is expected, other errors may
# not be.
why() {
	local line=
	read -r line <"$W/$1.err"
	echo "${line#cat: }" >>"$W/$1.why"
}

# Read the stats file; the module may be absent or going away meanwhile.
stats_worker() {
	local out reads=0 absent=0 bad=0
	while alive; do
		if out=$(cat "$STATS" 2>"$W/stats.err"); then
			if [[ $out == *$'\nstate '* && $out == *$'\nsaved_bytes '* ]]; then
				reads=$((reads + 1))
			else
				bad=$((bad + 1))
				echo "stats without state or saved_bytes: ${out:0:200}" >>"$W/stats.fail"
			fi
		else
			absent=$((absent + 1))
			why stats
		fi
		nap 3
	done
	put stats reads $reads absent $absent bad $bad
}

# The module's own audit: "ok: N folios", or discrepancy lines and FAILED.
verify_worker() {
	local out oks=0 absent=0 bad=0
	while alive; do
		if [ -e "$VERIFY" ] && out=$(cat "$VERIFY" 2>"$W/verify.err"); then
			# One summary line, "ok: N folios", and nothing before it.
			if [[ "$out" =~ ^ok:\ [0-9]+\ folios$ ]]; then
				oks=$((oks + 1))
				: >"$W/verify.seen"
			else
				bad=$((bad + 1))
				echo "verify: ${out:0:500}" >>"$W/verify.fail"
			fi
		else
			absent=$((absent + 1))
			[ -e "$VERIFY" ] && why verify
		fi
		nap 10
	done
	put verify oks $oks absent $absent bad $bad
}

# hp_sample: one reading of every hstate's counters, global and per node,
# into HP as "name total free rsvd surp" records (rsvd is - per node).
hp_sample() {
	local k v n kb d t f r s
	HP=()
	while read -r k v _; do
		case $k in
		HugePages_Total:) t=$v ;; HugePages_Free:) f=$v ;;
		HugePages_Rsvd:) r=$v ;; HugePages_Surp:) s=$v ;;
		esac
	done </proc/meminfo
	HP+=("meminfo $t $f $r $s")
	read -r t <"/sys/kernel/mm/hugepages/hugepages-${G1}kB/nr_hugepages"
	read -r f <"/sys/kernel/mm/hugepages/hugepages-${G1}kB/free_hugepages"
	read -r r <"/sys/kernel/mm/hugepages/hugepages-${G1}kB/resv_hugepages"
	read -r s <"/sys/kernel/mm/hugepages/hugepages-${G1}kB/surplus_hugepages"
	HP+=("1G $t $f $r $s")
	for n in "${NODES[@]}"; do
		for kb in 2048 $G1; do
			d=/sys/devices/system/node/node$n/hugepages/hugepages-${kb}kB
			read -r t <"$d/nr_hugepages"
			read -r f <"$d/free_hugepages"
			read -r s <"$d/surplus_hugepages"
			HP+=("node$n-${kb}kB $t $f - $s")
		done
	done
}

# hp_bad: the records of HP that break Free <= Total, Rsvd <= Free,
# Surp <= Total.
hp_bad() {
	local rec name t f r s
	for rec in "${HP[@]}"; do
		read -r name t f r s <<<"$rec"
		if [ "$f" -gt "$t" ] || [ "$s" -gt "$t" ] ||
		   { [ "$r" != - ] && [ "$r" -gt "$f" ]; }; then
			echo "$name Total $t Free $f Rsvd $r Surp $s"
		fi
	done
}

# The counters are read without hugetlb_lock, one after the other, so a
# reading can straddle an update; only what five readings 50 ms apart all
# show is a violation. Also tracks the lowest nr_memmap_* seen, which
# proves that HVO (module or kernel) was at work during the phase.
meminfo_worker() {
	local samples=0 bad=0 torn=0 min=-1 i k v a b cur
	while alive; do
		samples=$((samples + 1))
		for i in 1 2 3 4 5; do
			hp_sample
			cur=$(hp_bad)
			[ -z "$cur" ] && break
			sleep 0.05
		done
		if [ -n "$cur" ]; then
			bad=$((bad + 1))
			echo "meminfo: $cur" >>"$W/meminfo.fail"
		elif [ "$i" != 1 ]; then
			torn=$((torn + 1))
		fi
		while read -r k v; do
			case $k in
			nr_memmap_pages) a=$v ;; nr_memmap_boot_pages) b=$v ;;
			esac
		done </proc/vmstat
		[ "$min" = -1 ] || [ $((a + b)) -lt "$min" ] && min=$((a + b))
		nap 3
	done
	put meminfo samples $samples bad $bad torn_reads $torn memmap_min $min
}

# Valid values only: a write that is refused (EINVAL) is a failure; one
# that finds no module (it is being cycled) is counted as absent.
param_worker() {
	local hs=(all 2M 1G none 2M,1G) ns=(all 0 1 0-1) p v err
	local writes=0 absent=0 refused=0
	while alive; do
		case $(( RANDOM % 4 )) in
		0) p=hstates v=${hs[RANDOM % ${#hs[@]}]} ;;
		1) p=nodes v=${ns[RANDOM % ${#ns[@]}]} ;;
		2) p=head_copy v=$(( RANDOM % 2 )) ;;
		3) p=giveback v=$(( RANDOM % 2 )) ;;
		esac
		if err=$( { echo "$v" >"$PARAMS/$p"; } 2>&1 ); then
			writes=$((writes + 1))
		elif [[ $err == *"Invalid argument"* ]]; then
			refused=$((refused + 1))
			echo "param $p=$v refused: $err" >>"$W/param.fail"
		else
			absent=$((absent + 1))
		fi
		nap 10
	done
	put param writes $writes absent $absent refused $refused
}

# rmmod_retry: rmmod, retried while a reader holds the module (a debugfs
# file open takes a module reference, and rmmod does not wait for it).
# Sets RETRIES to the retries it needed.
rmmod_retry() {
	RETRIES=0
	while ! rmmod hvo_shared 2>/dev/null; do
		loaded || return 0
		RETRIES=$((RETRIES + 1))
		[ "$RETRIES" -ge 50 ] && { rmmod hvo_shared; return; }
		sleep 0.1
	done
}

# Unload and reload, giveback on and off in turn.
module_worker() {
	local loads=0 unloads=0 load_fail=0 unload_fail=0 busy=0 gb=0 t0
	local load_ms=0 unload_ms=0 waited=0
	while alive; do
		nap 50
		# Each load is audited before it goes: under load the verify
		# worker can miss a whole load (a 32 s rmmod once left it none).
		while [ "$HAVE_VERIFY" = 1 ] && [ ! -e "$W/verify.seen" ] && alive; do
			waited=$((waited + 1))
			sleep 0.2
		done
		alive || break
		rm -f "$W/verify.seen"
		t0=$(ms)
		if rmmod_retry; then
			unloads=$((unloads + 1))
		else
			unload_fail=$((unload_fail + 1))
			echo "rmmod failed after $RETRIES retries" >>"$W/module.fail"
		fi
		unload_ms=$((unload_ms + $(ms) - t0))
		busy=$((busy + RETRIES))
		nap 10
		gb=$(( 1 - gb ))
		t0=$(ms)
		if err=$(modprobe hvo_shared giveback=$gb 2>&1); then
			loads=$((loads + 1))
		else
			load_fail=$((load_fail + 1))
			echo "modprobe giveback=$gb failed: $err" >>"$W/module.fail"
		fi
		load_ms=$((load_ms + $(ms) - t0))
	done
	put module loads $loads unloads $unloads load_fail $load_fail \
		unload_fail $unload_fail rmmod_busy_retries $busy \
		modprobe_ms $load_ms rmmod_ms $unload_ms verify_waits $waited
}
