# Minimal TAP helpers shared by host and guest tests. Sourced.
# shellcheck shell=bash
#
# Every test file declares its plan first (plan N); tap_done fails the
# file if it ran a different number of checks, and the runner (tests/check)
# counts the checks a file planned but never printed as failures.

TAP_N=0
TAP_FAILED=0
TAP_PLAN=

# plan N: this file will report exactly N checks. Printed before any check.
plan() {
	TAP_PLAN=$1
	echo "1..$1"
}

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

# tap_done: the file's verdict. Without a plan, or off its plan, it fails.
tap_done() {
	if [ -z "$TAP_PLAN" ]; then
		echo "# no plan declared: call plan N first"
		return 1
	fi
	if [ "$TAP_N" != "$TAP_PLAN" ]; then
		echo "# planned $TAP_PLAN checks, ran $TAP_N"
		return 1
	fi
	[ "$TAP_FAILED" = 0 ]
}
