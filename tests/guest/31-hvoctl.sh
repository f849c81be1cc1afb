#!/bin/bash
# hvoctl as users get it: installed on PATH by the same `make tools-install`
# that `make install` and `make dkms-install` run (tests/vm/install-module
# runs it in the root), and run for real against the loaded module: every
# command and error.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
plan 45
unload
mount_hugetlbfs

is "$(command -v hvoctl)" /usr/local/sbin/hvoctl "hvoctl is on PATH in /usr/local/sbin"
ok "  ... with its manual page" -- test -s /usr/local/share/man/man8/hvoctl.8
ok "  ... and the bpftrace tools" -- test -x /usr/local/sbin/hvo-latency.bt
is "$(hvoctl --version)" "hvoctl $(modinfo -F version hvo_shared)" \
	"hvoctl --version: the tree the installed module was built from"

# Packagers install under DESTDIR; built from a copy, not in the source tree.
rm -rf /tmp/src /tmp/inst
mkdir -p /tmp/src/tools
cp -r "$REPO/Makefile" "$REPO/VERSION" /tmp/src/
cp -r "$REPO/tools/hvoctl" "$REPO/tools/bpftrace" /tmp/src/tools/
rm -f /tmp/src/tools/hvoctl/hvoctl
make -s -C /tmp/src tools-install DESTDIR=/tmp/inst PREFIX=/usr >/dev/null 2>&1
ok "make tools-install DESTDIR=/tmp/inst: hvoctl, its manual page, the .bt tools" -- \
	test -x /tmp/inst/usr/sbin/hvoctl -a -s /tmp/inst/usr/share/man/man8/hvoctl.8 \
	-a -x /tmp/inst/usr/sbin/hvo-events.bt
make -s -C /tmp/src tools-uninstall DESTDIR=/tmp/inst PREFIX=/usr >/dev/null 2>&1
is "$(find /tmp/inst -type f | wc -l)" 0 "make tools-uninstall removes them all"

# expect CODE PATTERN DESC -- CMD: exit status and a line of output.
expect() {
	local code=$1 pat=$2 desc=$3 out rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	is "$rc" "$code" "$desc: exit $code"
	ok "  ... says: $pat" -- grep -qE "$pat" <<<"$out"
}

expect 0 '^usage: hvoctl COMMAND' "hvoctl --help" -- hvoctl --help
expect 2 '^usage:' "hvoctl with a bad command" -- hvoctl frobnicate
expect 8 'hvo_shared is not loaded' "hvoctl stats before load" -- hvoctl stats
expect 3 'must be run as root' "hvoctl load as nobody" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups hvoctl load
expect 4 'is not installed for this kernel' "hvoctl load without the module installed" -- \
	unshare -m sh -c "mount -t tmpfs none /lib/modules && hvoctl load"
expect 2 'a parameter was refused' "hvoctl load hstates=3M" -- hvoctl load hstates=3M
ok "  ... and nothing is loaded" -- test ! -e /sys/module/hvo_shared

# A module whose vermagic names another kernel: the kernel refuses it.
ko=$(modinfo -n hvo_shared)
xz -dc "$ko" | sed 's/vermagic=[0-9]/vermagic=9/' | xz --check=crc32 --lzma2=dict=1MiB -c >/tmp/other-kernel.ko.xz
expect 5 'this kernel is not supported by hvo_shared' "hvoctl load of a module for another kernel" -- \
	unshare -m sh -c "mount --bind /tmp/other-kernel.ko.xz $ko && hvoctl load"

expect 0 'hvo_shared loaded' "hvoctl load hstates=2M nodes=all" -- hvoctl load hstates=2M nodes=all
is "$(cat "$PARAMS/hstates")" 2M "  ... with its parameters"
expect 7 'already loaded' "hvoctl load again" -- hvoctl load
pool_set 2048 0 40
pool_set 2048 1 24
expect 0 "^hvo_shared [^ ]+: 64 folios on 2 nodes, [0-9.]+ MiB of vmemmap saved \\([0-9.]+%\\)$" \
	"hvoctl status summary" -- hvoctl status
out=$(hvoctl status)
ok "hvoctl status: libkmod says live" -- grep -q '(live)$' <<<"$out"
is "$(awk '$1 == 0 { print $2 }' <<<"$out")" 40 "hvoctl status: node 0 has 40 folios"
is "$(awk '$1 == 1 { print $2 }' <<<"$out")" 24 "hvoctl status: node 1 has 24 folios"
mib=$(awk -v b="$(stat saved_bytes)" 'BEGIN { printf "%.1f", b / 1048576 }')
ok "hvoctl status: $mib MiB saved, as saved_bytes says" -- grep -q ", $mib MiB of vmemmap saved" <<<"$out"

json=$(hvoctl stats --json)
jq -e . >/dev/null <<<"$json"
tap $? "hvoctl stats --json is valid JSON"
is "$(jq -r 'to_entries[] | "\(.key) \(.value)"' <<<"$json")" "$(cat "$STATS")" \
	"hvoctl stats --json: every key and value equals the stats file"
is "$(jq '.folios_optimized | type' <<<"$json")" '"number"' "  ... integers are JSON numbers"
is "$(hvoctl stats)" "$(cat "$STATS")" "hvoctl stats: the stats file, key by key"
is "$(hvoctl watch -n 1 -c 2 | grep -c '^hvo_shared .*: 64 folios')" 2 "hvoctl watch -n 1 -c 2: two refreshes"
expect 6 'mount -t debugfs none /sys/kernel/debug' "hvoctl stats without debugfs" -- \
	unshare -m sh -c "umount -l /sys/kernel/debug && hvoctl stats"

exec 3<"$STATS"
expect 7 'hvo_shared is busy' "hvoctl unload while the stats file is open" -- hvoctl unload
exec 3<&-
pool_set 2048 "" 0
expect 0 'hvo_shared unloaded' "hvoctl unload" -- hvoctl unload
expect 8 'not loaded' "hvoctl unload again" -- hvoctl unload
tap_done
