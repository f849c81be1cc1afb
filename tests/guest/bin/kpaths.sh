# Shell side of kpaths.c, for the kernel-path tests (50-kernel-paths.sh,
# boot/memory-hotplug.sh, boot/hugetlb-cma.sh). Sourced after lib.sh.
# Sets kp (the compiled helper) and expects mm0 (nr_memmap_* baseline).
# shellcheck shell=bash

kp=$(helper kpaths) || { plan 1; tap 1 "build kpaths"; tap_done; exit 1; }

verify_line() { tail -n 1 /sys/kernel/debug/hvo_shared/verify; }
pool_total() { echo $(( $(pool_get 2048) + $(pool_get 1048576) )); }
field() { sed -n "s/.* $1 \([-0-9]*\).*/\1/p" <<<"$2"; }

# kpf PFN: the /proc/kpageflags word of PFN.
kpf() { dd if=/proc/kpageflags bs=8 skip="$1" count=1 2>/dev/null | od -An -tu8 | tr -d ' '; }
bit() { echo $(( $(kpf "$1") >> $2 & 1 )); }
# dissolved_poisoned PFN: PFN is poisoned and out of hugetlb, and so is
# not its neighbour: the folio was dissolved and only PFN kept back.
dissolved_poisoned() {
	[ "$(bit "$1" 19)$(bit "$1" 17)" = 10 ] && [ "$(bit $(($1 + 1)) 19)$(bit $(($1 + 1)) 17)" = 00 ]
}

# Freed folios are restored from a workqueue when the last user goes
# (update_and_free_hugetlb_folio(atomic)): wait for it to catch up.
wait_restored() {
	local _
	for _ in $(seq 50); do
		[ "$(stat folios_optimized)" = "$(pool_total)" ] && return
		sleep 0.2
	done
}

# consistent WHAT: three checks that the module, its audit, the vmemmap
# counters and hugetlb agree.
consistent() {
	local opt
	wait_restored
	opt=$(stat folios_optimized)
	is "$(verify_line)" "ok: $opt folios" "$1: verify passes for all $opt folios"
	is "$(( mm0 - $(memmap_pages) ))" "$(stat vmemmap_pages_freed)" \
		"$1: nr_memmap_* down by exactly vmemmap_pages_freed"
	is "$opt" "$(pool_total)" "$1: every folio in the pools is optimized"
}

# hold_start ARGS: a process that maps and fills folios and waits;
# hold_end: it checks its data and exits. Output in $HOLD_OUT.
HOLD_OUT=/tmp/kpaths-hold.out
hold_start() {
	local _
	"$kp" hold "$@" >"$HOLD_OUT" 2>&1 &
	HOLD=$!
	for _ in $(seq 300); do
		grep -q '^ready' "$HOLD_OUT" && return 0
		kill -0 "$HOLD" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
hold_end() {
	kill -USR1 "$HOLD"
	wait "$HOLD"
}


# dmesg_clean: nothing in the kernel log since dmesg_mark that the bench
# treats as a failure, nor a bad page or corrupted list.
dmesg_clean() {
	is "$(dmesg_since | grep -E 'WARNING:|BUG:|Oops|Bad page|list_(add|del) corruption|Call Trace|general protection')" "" \
		"kernel log clean (no WARNING, BUG, Oops, Bad page, list corruption)"
}

# watch_start NAME MODE COUNT [ARG]: a process that maps COUNT folios of
# 2 MiB, fills them, and checks them until SIGUSR1 (kpaths watch); ARG is
# the hugetlbfs directory, or for MODE pin the O_DIRECT device;
# watch_end NAME: its verdict.
watch_start() {
	local _
	"$kp" watch "$2" "$3" ${4:+"$4"} >"/tmp/adopt-$1.out" 2>&1 &
	eval "W_$1=$!"
	for _ in $(seq 300); do
		grep -q '^ready' "/tmp/adopt-$1.out" && return 0
		sleep 0.2
	done
	return 1
}
watch_end() {
	local pid
	eval "pid=\$W_$1"
	kill -USR1 "$pid"
	wait "$pid"
	tap $? "$1: data intact in every round while it ran: $(tail -n 1 "/tmp/adopt-$1.out")"
}
