# Running one host test file for tests/check and tests/deb/check. Sourced.
# shellcheck shell=bash

# host_test FILE: its TAP output under a "# test NAME" line, within its
# "# timeout: SECONDS" line's limit (HVO_HOST_TIMEOUT, 1200, without
# one); a file stopped there gets the runner's own "not ok - NAME ..."
# line, which tally counts as its failure.
host_test() {
	local rc name limit
	name=$(basename "$1" .sh)
	limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
	limit=${limit:-${HVO_HOST_TIMEOUT:-1200}}
	echo "# test $name"
	timeout --kill-after=30 "$limit" bash "$1" 2>&1
	rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "not ok - $name stopped at its time limit ($limit s)"
	elif [ "$rc" != 0 ]; then
		echo "# exit status $rc"
	fi
}
