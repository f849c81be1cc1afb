# How tests/check holds TAP output against the tests it expected. Sourced.
# shellcheck shell=bash

# tally NAME... < OUTPUT: for each expected test file NAME, check its
# section in OUTPUT (from its "# test NAME" line to the next "# test "
# line) and print at most one "not ok - NAME: ..." line, for a file that
# never started, declared no plan ("1..N", tap.sh's plan), printed a
# different number of checks than it planned, or exited non-zero ("# exit
# status RC", printed by its runner) without a failing check. Only
# numbered lines ("ok 3 - ...", "not ok 3 - ...") are checks of the file.
# A runner's own unnumbered "not ok - NAME ..." line in the section (a
# time limit) already fails the file: nothing is added then.
tally() {
	awk -v names="$*" '
	BEGIN { n = split(names, want, " ") }
	/^# test / { cur = substr($0, 8); seen[cur] = 1; next }
	cur == "" { next }
	/^1\.\.[0-9]+$/ { if (!(cur in plan)) plan[cur] = substr($0, 4) + 0; next }
	/^# exit status [0-9]+$/ { status[cur] = $4; next }
	/^ok [0-9]+( |$)/ { ran[cur]++; next }
	/^not ok [0-9]+( |$)/ { ran[cur]++; failed[cur]++; next }
	index($0, "not ok - " cur " ") == 1 { runner[cur]++ }
	END {
		for (i = 1; i <= n; i++) {
			t = want[i]
			if (!(t in seen))
				print "not ok - " t ": never ran"
			else if (t in runner)
				continue
			else if (!(t in plan))
				print "not ok - " t ": no plan"
			else if (ran[t] + 0 != plan[t])
				print "not ok - " t ": planned " plan[t] ", ran " ran[t] + 0
			else if ((t in status) && !(t in failed))
				print "not ok - " t ": exit status " status[t] " without a failing check"
		}
	}'
}

# count_results FILE: "PASSED FAILED SKIPPED" over every TAP result line
# in FILE, numbered or not. An "ok" with a SKIP directive ("ok 3 - x #
# SKIP why") is a skip, not a pass.
count_results() {
	awk '/^not ok( |$)/ { f++; next }
	     /^ok( |$)/ { if (toupper($0) ~ /# SKIP/) s++; else p++ }
	     END { print p + 0, f + 0, s + 0 }' "$1"
}
