#!/usr/bin/env bash
# bench/engine/run.sh - the engine benchmark (part of `make bench`; see bench/RESULTS.md,
# "Engine"). Runs bench_engine (bench/engine/bench_engine.c, built by CMake next to imr):
# extract + decide + letter (text) on the 5 seed cases and generated seed-sized cases, one
# core, at 1,000 / 10,000 / 100,000 cases, to show the rate and that memory stays flat.
# environment: IMR (the imr binary; bench_engine is looked for beside it),
#   BENCH_ENGINE_COUNTS ("1000 10000 100000"), BENCH_SEED (1), BENCH_DIR (results folder)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMR=${IMR:-$ROOT/${BUILD:-build}/imr}
BENCH=$(dirname "$IMR")/bench_engine
[ -x "$BENCH" ] || { echo "bench/engine: $BENCH not built (make build)" >&2; exit 1; }
export IMR_RULES=${IMR_RULES:-$ROOT/rules}
OUT=${BENCH_DIR:-${TMPDIR:-/tmp}/imr-bench}/engine.txt
mkdir -p "$(dirname "$OUT")"
: >"$OUT"
for n in ${BENCH_ENGINE_COUNTS:-1000 10000 100000}; do
    taskset -c 0 "$BENCH" --cases "$n" --seed "${BENCH_SEED:-1}" --source "$ROOT" | tee -a "$OUT"
done
echo "bench/engine: results in $OUT"
