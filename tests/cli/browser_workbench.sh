#!/usr/bin/env bash
# browser_workbench.sh - ctest's door to the workbench's browser test
# (tests/browser/workbench.test.mjs): headless Chromium, driven by playwright-core, takes a
# case through `imr serve --demo` from intake to an issued letter and its PDF.
#
# usage: bash tests/cli/browser_workbench.sh PATH/TO/imr SOURCE_DIR
#
# Screenshots of every step (and the letter's PDF) go to <build folder>/tests/browser/
# artifacts/, the build folder being the one holding imr. Exits 77 (SKIPPED; give the test
# the ctest property SKIP_RETURN_CODE 77) when node, the npm packages playwright-core and
# axe-core (cd tests/browser && npm ci) or Debian's chromium are missing; 0 passed; 1 failed.
set -u

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
    echo "usage: bash browser_workbench.sh PATH/TO/imr SOURCE_DIR" >&2
    exit 64
fi
IMR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
ARTIFACTS=$(dirname "$IMR")/tests/browser/artifacts

skip() {
    echo "SKIPPED: $*"
    exit 77
}

command -v node >/dev/null 2>&1 || skip "node is not installed (apt-get install nodejs npm)"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$major" -ge 18 ] 2>/dev/null || skip "node $major is too old (18 or later needed)"
for pkg in playwright-core axe-core; do
    [ -f "$SRC/tests/browser/node_modules/$pkg/package.json" ] ||
        skip "$pkg is not installed (cd tests/browser && npm ci)"
done
[ -x /usr/bin/chromium ] || skip "/usr/bin/chromium is missing (apt-get install chromium)"

TIMEOUT=""
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout --kill-after=10 300"
cd "$SRC/tests/browser" || exit 1
$TIMEOUT node workbench.test.mjs --imr "$IMR" --source "$SRC" --artifacts "$ARTIFACTS"
status=$?
echo "artifacts: $ARTIFACTS"
exit $status
