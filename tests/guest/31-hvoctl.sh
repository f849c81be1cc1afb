#!/bin/bash
# hvoctl as users get it: installed on PATH by the same `make tools-install`
# that `make install` and `make dkms-install` run (tests/vm/install-module
# runs it in the root), driven against the real module, and fed stats
# files through HVOCTL_STATS that the module never writes but that hvoctl
# must either read right or refuse loudly.
. "$(dirname "$0")/lib.sh"

plan 119
unload
mount_hugetlbfs

# expect CODE PATTERN DESC -- CMD: exit status and a line of output.
expect() {
	local code=$1 pat=$2 desc=$3 out rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	is "$rc" "$code" "$desc: exit $code"
	ok "  ... says: $pat" -- grep -qE "$pat" <<<"$out"
}

# json_valid: stdin is strict JSON (RFC 8259, UTF-8). jq would not do:
# it reads +5 and 007 as numbers and replaces bytes that are not UTF-8.
json_valid() { perl -MJSON::PP -e 'local $/; JSON::PP->new->utf8->decode(<STDIN>)'; }

# --- installed as a user gets it -------------------------------------------
is "$(command -v hvoctl)" /usr/local/sbin/hvoctl "hvoctl is on PATH in /usr/local/sbin"
ok "  ... with its manual page" -- test -s /usr/local/share/man/man8/hvoctl.8
ok "  ... and the bpftrace tools" -- test -x /usr/local/sbin/hvo-latency.bt
is "$(hvoctl --version)" "hvoctl $(modinfo -F version hvo_shared)" \
	"hvoctl --version: the tree the installed module was built from"

# --- commands and errors, module not loaded --------------------------------
expect 0 '^usage: hvoctl COMMAND' "hvoctl --help" -- hvoctl --help
expect 2 "^hvoctl: unknown command 'frobnicate'" "hvoctl with a bad command: named" -- hvoctl frobnicate
expect 0 '^module: +hvo_shared \(not loaded\)$' "hvoctl status before load" -- hvoctl status
ok "  ... names the installed file and its version" -- grep -qF \
	"file:     $(modinfo -n hvo_shared) (version $(modinfo -F version hvo_shared))" <<<"$(hvoctl status)"
expect 8 'hvo_shared is not loaded' "hvoctl stats before load" -- hvoctl stats
expect 8 'hvo_shared is not loaded' "hvoctl set before load" -- hvoctl set hstates=all
expect 3 'must be run as root' "hvoctl load as nobody" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups hvoctl load
expect 4 'is not installed for this kernel' "hvoctl load without the module installed" -- \
	unshare -m sh -c "mount -t tmpfs none /lib/modules && hvoctl load"
expect 4 'is not installed for this kernel' "hvoctl status, neither installed nor loaded" -- \
	unshare -m sh -c "mount -t tmpfs none /lib/modules && hvoctl status"
expect 2 'a parameter was refused' "hvoctl load hstates=3M" -- hvoctl load hstates=3M
ok "  ... and nothing is loaded" -- test ! -e /sys/module/hvo_shared
# The kernel ignores an unknown parameter and loads anyway.
expect 2 "unknown parameter 'hstate'" "hvoctl load hstate=2M (no such parameter)" -- \
	hvoctl load hstate=2M
ok "  ... and nothing is loaded" -- test ! -e /sys/module/hvo_shared

# A parameter refused at load is named, from the kernel log, whatever
# errno the kernel gave it (here ERANGE): not "kernel not supported".
out=$(hvoctl load inject_every=99999999999 2>&1)
is "$?" 2 "hvoctl load inject_every=99999999999 (out of range): exit 2"
ok "  ... says a parameter was refused" -- grep -q '^hvoctl: a parameter was refused' <<<"$out"
ok "  ... and names it, from the kernel log" -- grep -q "invalid for parameter .inject_every" <<<"$out"
ok "  ... and nothing is loaded" -- test ! -e /sys/module/hvo_shared

# adopt=1 at load runs once the module is active (takeover=N: adopt
# alone optimizes the pool).
pool_set 2048 "" 4
expect 0 '^hvo_shared loaded$' "hvoctl load takeover=N adopt=1" -- hvoctl load takeover=N adopt=1
is "$(stat folios_optimized)" 4 "  ... and adopt optimized the pool of 4"
pool_set 2048 "" 0
hvoctl unload >/dev/null

# The installed module as DKMS leaves it on Debian (.ko.xz), or plain (the
# debug kernel's tests/debug/check installs a .ko): ko_read prints the
# ELF, ko_write stores stdin the same way as the installed file.
ko=$(modinfo -n hvo_shared)
ko_read() { case $ko in *.xz) xz -dc "$ko" ;; *) cat "$ko" ;; esac; }
ko_write() { case $ko in *.xz) xz --check=crc32 --lzma2=dict=1MiB -c ;; *) cat ;; esac; }

# A module whose vermagic names another kernel: the kernel refuses it.
ko_read | sed 's/vermagic=[0-9]/vermagic=9/' | ko_write >/tmp/other-kernel.ko
expect 5 'this kernel is not supported by hvo_shared' "hvoctl load of a module for another kernel" -- \
	unshare -m sh -c "mount --bind /tmp/other-kernel.ko $ko && hvoctl load"

# --- a module loaded with insmod, from a file libkmod cannot find ----------
ko_read >/tmp/hvo_shared.ko
hide='mount -t tmpfs none /lib/modules'
expect 0 '^module: +hvo_shared \(live\)$' "hvoctl status of a module insmod-ed from /tmp, none installed" -- \
	unshare -m sh -c "$hide && insmod /tmp/hvo_shared.ko && hvoctl status"
out=$(unshare -m sh -c "$hide && hvoctl status" 2>&1)
ok "  ... says no file is installed" -- grep -q '^file: *none installed for' <<<"$out"
is "$(sed -n 's/^version: *\(.*\) (loaded)$/\1/p' <<<"$out")" "$(cat /sys/module/hvo_shared/version)" \
	"  ... and the loaded version, from /sys/module"
ok "  ... and its summary" -- grep -qE "^hvo_shared [^ ]+: $(stat folios_optimized) folios? on" <<<"$out"
expect 7 'already loaded' "hvoctl load while the insmod-ed module is loaded" -- \
	unshare -m sh -c "$hide && hvoctl load"
expect 0 'hvo_shared unloaded' "hvoctl unload of the insmod-ed module" -- hvoctl unload

# --- the real module --------------------------------------------------------
expect 0 'hvo_shared loaded' "hvoctl load hstates=2M nodes=all" -- hvoctl load hstates=2M nodes=all
is "$(cat "$PARAMS/hstates")" 2M "  ... with its parameters"
expect 7 'already loaded' "hvoctl load again" -- hvoctl load

expect 2 "unknown parameter 'hstate'" "hvoctl set hstate=all (no such parameter)" -- hvoctl set hstate=all
is "$(cat "$PARAMS/hstates")" 2M "  ... and hstates is unchanged"
expect 2 "unknown parameter 'bogus'" "hvoctl set hstates=all bogus=1: names checked first" -- \
	hvoctl set hstates=all bogus=1
is "$(cat "$PARAMS/hstates")" 2M "  ... so nothing was set"
expect 2 "'takeover' is read-only after load" "hvoctl set takeover=N" -- hvoctl set takeover=N
expect 2 'hvo_shared refused hstates=3M' "hvoctl set hstates=3M" -- hvoctl set hstates=3M
expect 0 '^nodes=all set$' "hvoctl set hstates=all nodes=all" -- hvoctl set hstates=all nodes=all
is "$(cat "$PARAMS/hstates")" all "  ... hstates is all"
expect 3 'must be run as root' "hvoctl set as nobody" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups hvoctl set hstates=2M

pool_set 2048 0 40
pool_set 2048 1 24
out=$(hvoctl status)
tap $? "hvoctl status with 64 folios: exit 0"
ok "  ... summary line" -- grep -qE \
	"^hvo_shared [^ ]+: 64 folios on 2 nodes, [0-9.]+ MiB of vmemmap saved( \\([0-9.]+%\\))?$" <<<"$out"
ok "  ... libkmod says live" -- grep -q '^module: *hvo_shared (live)$' <<<"$out"
is "$(awk '$1 == 0 { print $2 }' <<<"$out")" 40 "  ... node 0 has 40 folios"
is "$(awk '$1 == 1 { print $2 }' <<<"$out")" 24 "  ... node 1 has 24 folios"
mib=$(awk -v b="$(stat saved_bytes)" 'BEGIN { printf "%.1f", b / 1048576 }')
ok "  ... $mib MiB saved, as saved_bytes says" -- grep -q ", $mib MiB of vmemmap saved" <<<"$out"
# The percentage needs sizeof(struct page), which only the module knows.
spb=$(stat struct_page_bytes)
if [ -n "$spb" ]; then
	pct=$(awk -v spb="$spb" '
		$1 == "saved_bytes" { s = $2 }
		$1 ~ /^node[0-9]+\.[^.]+\.order[0-9]+\.folios_optimized$/ {
			o = $1; sub(/.*\.order/, "", o); sub(/\..*/, "", o); v += $2 * 2 ^ o * spb }
		END { printf "%.1f", 100 * s / v }' "$STATS")
	ok "  ... ($pct%) of the folios' vmemmap, struct_page_bytes $spb" -- \
		grep -q "saved ($pct%)$" <<<"$out"
else
	grep -q '%)$' <<<"$out"
	tap $((!$?)) "  ... no percentage: the module reports no struct_page_bytes"
fi

json=$(hvoctl stats --json)
json_valid <<<"$json"
tap $? "hvoctl stats --json is valid JSON"
is "$(jq -r 'to_entries[] | "\(.key) \(.value)"' <<<"$json")" "$(cat "$STATS")" \
	"hvoctl stats --json: every key and value equals the stats file"
is "$(jq '.folios_optimized | type' <<<"$json")" '"number"' "  ... integers are JSON numbers"
is "$(hvoctl stats)" "$(cat "$STATS")" "hvoctl stats: the stats file, key by key"
prom=$(hvoctl stats --prometheus)
tap $? "hvoctl stats --prometheus: exit 0"
bad=$(awk '/^# TYPE / { if (seen[$3]++) print "TYPE twice: " $3; fam = $3; next } /^# HELP / { next }
	!/^hvo_shared_[a-z0-9_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9]+$/ { print "bad: " $0; next }
	{ n = $1; sub(/\{.*/, "", n); if (n != fam) print "outside its family: " $0 }' <<<"$prom")
is "$bad" "" "  ... textfile format: each sample under its family's one TYPE line"
is "$(awk '$1 == "hvo_shared_folios_optimized" { t = $2 }
	/^hvo_shared_zone_folios_optimized/ { z += $2 } END { print t, z }' <<<"$prom")" \
	"$(stat folios_optimized) $(stat folios_optimized)" \
	"  ... folios_optimized, and its per-zone samples summed, equal the stats file"
is "$(hvoctl watch -n 1 -c 2 | grep -c '^hvo_shared .*: 64 folios')" 2 "hvoctl watch -n 1 -c 2: two refreshes"
expect 2 "'1abc' is not a whole number of seconds" "hvoctl watch -n 1abc" -- hvoctl watch -n 1abc -c 1
expect 2 "'2x' is not a count" "hvoctl watch -c 2x" -- hvoctl watch -n 1 -c 2x
expect 6 'mount -t debugfs none /sys/kernel/debug' "hvoctl stats without debugfs" -- \
	unshare -m sh -c "umount -l /sys/kernel/debug && hvoctl stats"

exec 3<"$STATS"
expect 7 'hvo_shared is busy' "hvoctl unload while the stats file is open" -- hvoctl unload
exec 3<&-
pool_set 2048 "" 0
expect 0 'hvo_shared unloaded' "hvoctl unload" -- hvoctl unload
expect 8 'not loaded' "hvoctl unload again" -- hvoctl unload

# --- stats files the module never writes (HVOCTL_STATS) ---------------------
F=/tmp/fake-stats
# fake LINE...: a stats file of these lines.
fake() { printf '%s\n' "$@" >"$F"; }
# summary: hvoctl's summary line for $F.
summary() { HVOCTL_STATS=$F hvoctl watch -c 1 2>&1 | head -n 1; }

expect 1 'cannot read /tmp: Is a directory' "a read error (a directory as stats file)" -- \
	env HVOCTL_STATS=/tmp hvoctl stats
printf 'version 1\nfolios_optimized 3' >"$F"
expect 1 "$F:2: line cut short" "a stats file cut short in a line" -- env HVOCTL_STATS=$F hvoctl stats
fake 'version 1' 'no_value_here'
expect 1 "$F:2: not a 'key value' line" "a line without a value" -- env HVOCTL_STATS=$F hvoctl stats

# Lines past fgets' old 300 bytes and keys past 127 characters.
long_key=node0.Normal.order9.$(printf 'k%.0s' {1..380})
long_value=$(printf '7%.0s' {1..400})
fake 'version 1' "$long_key 5" "long_value $long_value" 'folios_optimized 1'
is "$(HVOCTL_STATS=$F hvoctl stats)" "$(cat "$F")" "a 400-character key and a 400-digit value: read whole"
is "$(HVOCTL_STATS=$F hvoctl stats | cut -d ' ' -f 1)" "$(cut -d ' ' -f 1 "$F")" \
	"  ... no key made of a line's tail"
is "$(HVOCTL_STATS=$F hvoctl stats --json | jq -r '.long_value')" "$long_value" \
	"  ... and in JSON, a string: too long for a 64-bit integer"

# Only canonical integers are JSON numbers; anything else stays a string.
fake 'a +5' 'b 007' 'c 12abc' 'd 1e3' 'e 0x10' 'f 42' 'g -7' 'h 0' 'i -' 'j 1.5'
json=$(HVOCTL_STATS=$F hvoctl stats --json)
json_valid <<<"$json"
tap $? "stats --json of +5, 007, 12abc, 1e3, 0x10, -, 1.5 is valid JSON"
is "$(jq -r '[.[] | type] | join(" ")' <<<"$json")" \
	"string string string string string number number number string string" \
	"  ... canonical integers are numbers, the rest strings"
is "$(jq -r 'to_entries[] | "\(.key) \(.value)"' <<<"$json")" "$(cat "$F")" "  ... every value kept as written"
fake 'a b"c\d' $'e \x01\x7f\xff'
json_valid <<<"$(HVOCTL_STATS=$F hvoctl stats --json)"
tap $? "stats --json of quotes, backslashes, control and non-ASCII bytes is valid JSON"
fake 'zone café→𝄞'
ok "stats --json passes UTF-8 through as it is" -- \
	grep -qF '"zone": "café→𝄞"' <<<"$(HVOCTL_STATS=$F hvoctl stats --json)"
is "$(HVOCTL_STATS=$F hvoctl stats --json | jq -r .zone)" "café→𝄞" "  ... and a JSON parser reads it back"
# 64-bit counters above LLONG_MAX stay numbers; past 2^64 - 1, strings.
fake 'big 18446744073709551615' 'over 18446744073709551616'
json=$(HVOCTL_STATS=$F hvoctl stats --json)
ok "stats --json: 2^64 - 1 is a number, as written" -- grep -qF '"big": 18446744073709551615,' <<<"$json"
is "$(jq -r '[.[] | type] | join(" ")' <<<"$json")" "number string" "  ... and 2^64 a string"

# The percentage: saved_bytes over folios x 2^order x struct_page_bytes.
# pct SAVED FOLIOS ORDER SPB: what it must be, in awk's doubles.
pct() { awk -v s="$1" -v f="$2" -v o="$3" -v b="$4" 'BEGIN { printf "%.1f", 100 * s / (f * 2 ^ o * b) }'; }
fake 'version 1' 'struct_page_bytes 128' 'folios_optimized 64' 'saved_bytes 1048576' \
	'node0.Normal.order9.folios_optimized 64' 'node0.Normal.order9.saved_bytes 1048576'
is "$(summary)" "hvo_shared 1: 64 folios on 1 node, 1.0 MiB of vmemmap saved ($(pct 1048576 64 9 128)%)" \
	"a 128-byte struct page: the percentage uses it"
s=$((1 << 62))
fake 'version 1' 'struct_page_bytes 64' 'folios_optimized 1' "saved_bytes $s" \
	'node1.Normal.order58.folios_optimized 1' "node1.Normal.order58.saved_bytes $s"
is "$(summary)" "hvo_shared 1: 1 folio on 1 node, $((s >> 20)).0 MiB of vmemmap saved ($(pct $s 1 58 64)%)" \
	"an order-58 folio (2^64 bytes of vmemmap): no overflow"
fake 'version 1' 'folios_optimized 64' 'saved_bytes 1048576' 'node0.Normal.order9.folios_optimized 64'
is "$(summary)" "hvo_shared 1: 64 folios on 1 node, 1.0 MiB of vmemmap saved" \
	"no struct_page_bytes: no percentage from a guessed size"
fake 'version 1' 'folios_optimized 1' 'saved_bytes 0' 'node0.Normal.order64.folios_optimized 1'
expect 1 'out of range' "an order of 64: refused" -- env HVOCTL_STATS=$F hvoctl watch -c 1
fake 'version 1' 'folios_optimized 1' 'saved_bytes 0' 'node18446744073709551616.Normal.order9.folios_optimized 1'
expect 1 'out of range' "a node of 2^64: refused, not wrapped to node 0" -- env HVOCTL_STATS=$F hvoctl watch -c 1
# Per-node sums are unsigned 64-bit, as the counters.
fake 'version 1' 'folios_optimized 0' 'saved_bytes 0' \
	'node0.Normal.order9.vmemmap_pages_freed 9223372036854775807' 'node0.Normal.order18.vmemmap_pages_freed 1'
is "$(HVOCTL_STATS=$F hvoctl watch -c 1 | awk '$1 == 0 { print $3 }')" 9223372036854775808 \
	"a node's pages freed past LLONG_MAX: summed unsigned"
fake 'version 1' 'folios_optimized +1' 'saved_bytes 0'
expect 1 "'folios_optimized' is not an integer: '\\+1'" "a summary key that is not an integer: refused" -- \
	env HVOCTL_STATS=$F hvoctl watch -c 1
tap_done
