#!/bin/bash
# The bench must be able to fail: a command's exit status comes back, a
# warning in the guest's kernel log fails a run whose command succeeded,
# and a hung guest is killed and reported.
. "$(dirname "$0")/../lib/tap.sh"
cd "$(dirname "$0")/../.." || exit 1

out=$(tests/vm/run --no-build -- sh -c 'pwd; exit 3' 2>&1)
is "$?" 3 "a guest command's exit status comes back"
ok "  ... and it ran in the host's current directory" -- grep -qx "$PWD" <<<"$out"

out=$(tests/vm/run --no-build -- sh -c 'echo "WARNING: bench self-test" >/dev/kmsg' 2>&1)
tap $(( $? == 0 )) "a WARNING: in the guest's dmesg fails the run"
ok "  ... and the run says so" -- grep -q "guest kernel log has warnings" <<<"$out"

out=$(tests/vm/run --no-build --timeout 30 -- sleep 300 2>&1)
is "$?" 124 "a hung guest is killed at the timeout"
ok "  ... and its console log is kept" -- \
	test -s "$(sed -n 's/.*console: \(.*console.log\).*/\1/p' <<<"$out" | head -n 1)"
tap_done
