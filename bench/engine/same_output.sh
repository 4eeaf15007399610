#!/usr/bin/env bash
# bench/engine/same_output.sh - checks that an engine change leaves every output byte alone.
# Saves, for every tests/cases/*.json, what `imr review --json` and `imr review` print (stdout,
# stderr and exit code), plus the benchmark's first generated cases; then compares a later
# build with that snapshot.
# usage: bash bench/engine/same_output.sh save|check <imr> [snapshot-dir]
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MODE=${1:?save or check}; IMR=${2:?path to imr}; SNAP=${3:-${TMPDIR:-/tmp}/imr-engine-snapshot}
BENCH=$(dirname "$IMR")/bench_engine
export IMR_RULES=${IMR_RULES:-$ROOT/rules}
OUT=$SNAP/$MODE; rm -rf "$OUT"; mkdir -p "$OUT/gen"
for f in "$ROOT"/tests/cases/*.json; do
    b=$(basename "$f" .json)
    "$IMR" review --json "$f" >"$OUT/$b.json" 2>"$OUT/$b.json.err"; echo $? >>"$OUT/$b.json.err"
    "$IMR" review "$f" >"$OUT/$b.txt" 2>"$OUT/$b.txt.err"; echo $? >>"$OUT/$b.txt.err"
done
# generated benchmark cases (the seed sizes the benchmark runs on)
if [ -x "$BENCH" ]; then
    for k in $(seq 5 5 300); do
        "$BENCH" --dump "$k" --source "$ROOT" >"$OUT/gen/$k.json"
        "$IMR" review --json "$OUT/gen/$k.json" >"$OUT/gen/$k.out.json" 2>&1
        "$IMR" review "$OUT/gen/$k.json" >"$OUT/gen/$k.out.txt" 2>&1
    done
fi
n=$(find "$OUT" -type f | wc -l)
if [ "$MODE" = save ]; then echo "same_output: saved $n files in $OUT"; exit 0; fi
if diff -r "$SNAP/save" "$OUT" >"$SNAP/diff.txt"; then
    echo "same_output: all $n files identical"
else
    echo "same_output: DIFFERENT (see $SNAP/diff.txt):"; head -20 "$SNAP/diff.txt"; exit 1
fi
