#!/bin/bash
# Bad input is refused with a clear message and a distinct errno, and
# changes nothing: bad parameters at load and at run time.
. "$(dirname "$0")/lib.sh"

plan 42

# refused_load DESC PARAM MESSAGE: modprobe with PARAM fails with EINVAL,
# the kernel log names the problem, and nothing stays registered.
refused_load() {
	local out
	unload
	dmesg_mark
	out=$(modprobe hvo_shared "$2" 2>&1)
	tap $(( $? == 0 )) "load with $2 is refused"
	ok "  ... with 'Invalid argument' (EINVAL)" -- grep -q "Invalid argument" <<<"$out"
	ok "  ... and the log says: $3" -- grep -qF "hvo_shared: $3" <<<"$(dmesg_since)"
	ok "  ... and leaves no module behind" -- test ! -e /sys/module/hvo_shared
	ok "  ... and no debugfs directory" -- test ! -e /sys/kernel/debug/hvo_shared
}

refused_load hstates hstates=3M "hstates='3M': expected all, none or huge page sizes"
refused_load hstates hstates=2M,banana "hstates='2M,banana': expected"
refused_load hstates hstates=4K "hstates='4K': expected"
refused_load nodes nodes=0-9999 "nodes='0-9999': expected all or a list of possible nodes"
refused_load nodes nodes=x "nodes='x': expected"

# refused_write PARAM VALUE: a run-time write fails and the value stays.
refused_write() {
	local before
	before=$(cat "$PARAMS/$1")
	echo "$2" 2>/dev/null >"$PARAMS/$1"
	tap $(( $? == 0 )) "run-time write $1='$2' is refused"
	is "$(cat "$PARAMS/$1")" "$before" "  ... and $1 stays '$before'"
}

ok "modprobe with hstates=2M nodes=0" -- modprobe hvo_shared hstates=2M nodes=0
is "$(cat $PARAMS/hstates)" 2M "hstates reads back as 2M"
is "$(cat $PARAMS/nodes)" 0 "nodes reads back as 0"
refused_write hstates 1.5G
refused_write hstates ""
refused_write nodes 7-3
refused_write nodes ""
echo 1G,2M >"$PARAMS/hstates"
is "$(cat $PARAMS/hstates)" 2M,1G "run-time hstates=1G,2M reads back as 2M,1G"
echo none >"$PARAMS/hstates"
is "$(cat $PARAMS/hstates)" none "run-time hstates=none reads back as none"
echo all >"$PARAMS/hstates"
is "$(cat $PARAMS/hstates)" all "run-time hstates=all reads back as all"
echo 1 >"$PARAMS/nodes"
is "$(cat $PARAMS/nodes)" 1 "run-time nodes=1 reads back as 1"
echo all >"$PARAMS/nodes"
is "$(cat $PARAMS/nodes)" all "run-time nodes=all reads back as all"
ok "rmmod" -- rmmod hvo_shared
tap_done
