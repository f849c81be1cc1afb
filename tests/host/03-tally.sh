#!/bin/bash
# tests/check's count cannot be fooled: a test file that never ran, ran
# without a plan, or printed fewer or more checks than it planned counts
# as a failure (tests/lib/tally.sh), whatever it printed itself. Fed with
# made-up TAP output; no guest.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/tally.sh"
plan 13

# A guest run that crashed in the middle of b: a kept its plan, b printed
# 1 of 3, c never started, d had no plan, e ran 3 of 2, f timed out (its
# runner's unnumbered line is not one of its checks, and is its only
# failure), g exited 2 with all its checks passing, h exited 1 with a
# failing check, i stopped short in a guest that crashed (the boot's own
# line is not i's runner failing it).
stream='# test a
1..2
ok 1 - one
not ok 2 - two
# test b
1..3
ok 1 - one
# test d
ok 1 - one
# test e
1..2
ok 1 - one
ok 2 - two
ok 3 - three
# test f
1..2
ok 1 - one
not ok - f timed out after 5s
# test g
1..1
ok 1 - one
# exit status 2
# test h
1..1
not ok 1 - one
# exit status 1
# test i
1..2
ok 1 - one
tests/vm/run: guest kernel panicked
not ok - guest 7.3 suite finished with a clean kernel log (exit 125)'
got=$(tally a b c d e f g h i <<<"$stream")

is "$(grep -c '^not ok - a' <<<"$got")" 0 "a file that kept its plan adds nothing (its own not ok counts)"
ok "a file that stopped short: planned 3, ran 1" -- grep -qx 'not ok - b: planned 3, ran 1' <<<"$got"
ok "a file that never started" -- grep -qx 'not ok - c: never ran' <<<"$got"
ok "a file without a plan" -- grep -qx 'not ok - d: no plan' <<<"$got"
ok "a file that ran more than its plan" -- grep -qx 'not ok - e: planned 2, ran 3' <<<"$got"
is "$(grep -c '^not ok - f' <<<"$got")" 0 "a file its runner failed (time limit) adds nothing more"
ok "a file that exited non-zero without a failing check" -- \
	grep -qx 'not ok - g: exit status 2 without a failing check' <<<"$got"
is "$(grep -c '^not ok - h' <<<"$got")" 0 "a file that exited non-zero with a failing check adds nothing"
ok "a file cut short by a crash, before the boot's own failure" -- \
	grep -qx 'not ok - i: planned 2, ran 1' <<<"$got"
is "$(wc -l <<<"$got")" 6 "one line per file in trouble, no more"

# The final count takes every result line, numbered or not.
f=$(mktemp)
printf '%s\n' "$stream" "$got" >"$f"
is "$(count_results "$f")" "9 10 0" "count_results: 9 passed, 10 failed, none skipped"
printf '%s\n' 'ok 1 - built # SKIP no gcc' 'ok 2 - fine' 'ok 3 - x # skip lower case' >"$f"
is "$(count_results "$f")" "1 0 2" "  ... a SKIP directive counts as a skip, not a pass"
rm -f "$f"
is "$(tally <<<"$stream")" "" "no expected file, nothing to add"
tap_done
