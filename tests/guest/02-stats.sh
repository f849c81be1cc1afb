#!/bin/bash
# The debugfs stats file: present while loaded, one "key value" per line,
# the documented keys with values that match what the kernel reports.
. "$(dirname "$0")/lib.sh"

unload
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

is "$(command stat -c %a "$STATS")" 444 "stats file is read-only (mode 0444)"
before=$(cat "$STATS")
echo garbage 2>/dev/null >"$STATS"
tap $(( $? == 0 )) "writing garbage to the stats file fails"
is "$(cat "$STATS")" "$before" "the stats file is unchanged by the write"

ok "rmmod hvo_shared" -- rmmod hvo_shared
ok "stats file is gone after rmmod" -- test ! -e "$STATS"
tap_done
