#!/bin/bash
# Bad input is refused with a clear message and a distinct errno, and
# changes nothing: bad parameters at load and at run time, and a hooked
# function that another module owns.
. "$(dirname "$0")/lib.sh"

plan 53

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

# Another module owns one of the four functions with an IPMODIFY hook (as
# a livepatch would): the load is refused with EBUSY and a message, and
# none of the four is left hooked; once the owner is gone, it loads.
owner=/opt/hvo-kmod/$(uname -r)/hvo_test_owner.ko
hooked() { grep -c '^hugetlb_vmemmap_\(optimize\|restore\)_folios\? ' /sys/kernel/tracing/enabled_functions; }
ok "a test module owns hugetlb_vmemmap_restore_folios (IPMODIFY)" -- \
	insmod "$owner" func=hugetlb_vmemmap_restore_folios
dmesg_mark
out=$(modprobe hvo_shared 2>&1)
tap $(( $? == 0 )) "load while another module owns a hooked function is refused"
ok "  ... with 'Device or resource busy' (EBUSY)" -- grep -q "Device or resource busy" <<<"$out"
ok "  ... and the log says another module owns one" -- \
	grep -qF "hvo_shared: cannot hook the HVO entry points: -EBUSY (another module or livepatch owns one)" \
	<<<"$(dmesg_since)"
ok "  ... and leaves no module behind" -- test ! -e /sys/module/hvo_shared
is "$(hooked)" 1 "  ... and no hook: only the owner's function is traced"
ok "the owner unloads" -- rmmod hvo_test_owner
ok "  ... then hvo_shared loads" -- modprobe hvo_shared
is "$(hooked)" 4 "  ... and hooks all four functions"
ok "rmmod" -- rmmod hvo_shared
is "$(hooked)" 0 "  ... and no hook is left"
tap_done
