# Minimal TAP helpers shared by host and guest tests. Sourced.
# shellcheck shell=bash

TAP_N=0
TAP_FAILED=0

# ok COND-EXIT-STATUS DESCRIPTION: report the last command's verdict.
tap() {
	local rc=$1
	shift
	TAP_N=$((TAP_N + 1))
	if [ "$rc" = 0 ]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

# ok DESCRIPTION -- CMD...: run CMD, pass if it exits 0.
ok() {
	local desc=$1
	shift
	[ "$1" = -- ] && shift
	"$@"
	tap $? "$desc"
}

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		tap 0 "$3"
	else
		tap 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

# within GOT WANT TOLERANCE DESCRIPTION: |GOT - WANT| <= TOLERANCE
within() {
	local d=$(($1 - $2))
	[ $d -lt 0 ] && d=$((-d))
	if [ $d -le "$3" ]; then
		tap 0 "$4 (|$1 - $2| = $d <= $3)"
	else
		tap 1 "$4"
		echo "#   got $1, want $2 +- $3 (off by $d)"
	fi
}

diag() { echo "# $*"; }

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ]
}
