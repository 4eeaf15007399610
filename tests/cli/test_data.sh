#!/usr/bin/env bash
# test_data.sh - the hand-written test data checks itself: every annotated facts file is
# well formed and its evidence text occurs in its source (tests/facts/check.py, main and
# held-out sets), and every engine case and expectation follows docs/case-file.md and the
# expectation format, with each rationale_mentions entry stated in its case
# (tests/cases/check_cases.py).
# usage: bash tests/cli/test_data.sh PATH/TO/imr SOURCE_DIR
set -u
SRC=${2:?usage: test_data.sh PATH/TO/imr SOURCE_DIR}
command -v python3 >/dev/null 2>&1 || { echo "SKIPPED: python3 is not installed"; exit 77; }
pass=0 fail=0
check() {
    if "$@" >/tmp/imr-test-data.$$ 2>&1; then
        pass=$((pass + 1)); echo "ok: $*"
    else
        fail=$((fail + 1)); echo "FAILED: $*"; cat /tmp/imr-test-data.$$
    fi
}
check python3 "$SRC/tests/facts/check.py" "$SRC/tests/facts"
[ -d "$SRC/tests/facts/heldout" ] && check python3 "$SRC/tests/facts/check.py" "$SRC/tests/facts/heldout"
check python3 "$SRC/tests/cases/check_cases.py"
rm -f /tmp/imr-test-data.$$
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
