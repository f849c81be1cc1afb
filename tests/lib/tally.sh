# How tests/check holds TAP output against the tests it expected. Sourced.
# shellcheck shell=bash

# tally NAME... < OUTPUT: for each expected test file NAME, check its
# section in OUTPUT (from its "# test NAME" line to the next "# test "
# line) against its plan ("1..N", printed by tap.sh's plan). Prints one
# "not ok - NAME: ..." line for a file that never started, declared no
# plan, or printed a different number of checks than it planned; nothing
# for a file that kept its plan. Only numbered lines ("ok 3 - ...",
# "not ok 3 - ...") are checks of the file; the runners' own unnumbered
# "not ok - NAME ..." lines are counted by the caller, not here.
tally() {
	awk -v names="$*" '
	BEGIN { n = split(names, want, " ") }
	/^# test / { cur = substr($0, 8); seen[cur] = 1; next }
	cur == "" { next }
	/^1\.\.[0-9]+$/ { if (!(cur in plan)) plan[cur] = substr($0, 4) + 0; next }
	/^(not )?ok [0-9]+( |$)/ { ran[cur]++ }
	END {
		for (i = 1; i <= n; i++) {
			t = want[i]
			if (!(t in seen))
				print "not ok - " t ": never ran"
			else if (!(t in plan))
				print "not ok - " t ": no plan"
			else if (ran[t] + 0 != plan[t])
				print "not ok - " t ": planned " plan[t] ", ran " ran[t] + 0
		}
	}'
}

# count_results FILE: "PASSED FAILED" over every TAP result line in FILE,
# numbered or not.
count_results() {
	echo "$(grep -cE '^ok( |$)' "$1") $(grep -cE '^not ok( |$)' "$1")"
}
