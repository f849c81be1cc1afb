#!/bin/bash
# tests/check's count cannot be fooled: a test file that never ran, ran
# without a plan, or printed fewer or more checks than it planned counts
# as a failure (tests/lib/tally.sh), whatever it printed itself. Fed with
# made-up TAP output; no guest.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/tally.sh"
plan 9

# A guest run that crashed in the middle of b: a kept its plan, b printed
# 1 of 3, c never started, d had no plan, e ran 3 of 2, and f's own
# runner line (unnumbered) is not one of its checks.
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
1..1
not ok - f timed out after 5s
tests/vm/run: guest kernel panicked'
got=$(tally a b c d e f <<<"$stream")

is "$(grep -c '^not ok - a' <<<"$got")" 0 "a file that kept its plan adds nothing (its own not ok counts)"
ok "a file that stopped short: planned 3, ran 1" -- grep -qx 'not ok - b: planned 3, ran 1' <<<"$got"
ok "a file that never started" -- grep -qx 'not ok - c: never ran' <<<"$got"
ok "a file without a plan" -- grep -qx 'not ok - d: no plan' <<<"$got"
ok "a file that ran more than its plan" -- grep -qx 'not ok - e: planned 2, ran 3' <<<"$got"
ok "a runner's unnumbered line is not a check of the file" -- grep -qx 'not ok - f: planned 1, ran 0' <<<"$got"
is "$(wc -l <<<"$got")" 5 "one line per file in trouble, no more"

# The final count takes every result line, numbered or not.
f=$(mktemp)
printf '%s\n' "$stream" "$got" >"$f"
is "$(count_results "$f")" "6 7" "count_results: 6 passed, 7 failed"
rm -f "$f"
is "$(tally <<<"$stream")" "" "no expected file, nothing to add"
tap_done
