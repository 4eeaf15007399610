#!/usr/bin/env bash
# bench/engine/instructions.sh - instructions per case of bench_engine, measured with
# valgrind callgrind (independent of the machine's load): the difference between a run of
# N2 and a run of N1 cases, divided by N2 - N1, so start-up (rules, inputs) cancels out.
# usage: bash bench/engine/instructions.sh <bench_engine> [N1 N2]   (defaults 1000 3000)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${1:?bench_engine}; N1=${2:-1000}; N2=${3:-3000}
export IMR_RULES=${IMR_RULES:-$ROOT/rules}
tmp=$(mktemp -d)
ir() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" "$B" --cases "$1" --source "$ROOT" \
        >/dev/null 2>"$tmp/log.$1"
    sed -n 's/^summary: //p' "$tmp/cg.$1"
}
i1=$(ir "$N1"); i2=$(ir "$N2")
echo "instructions: $i1 for $N1 cases, $i2 for $N2 cases: $(( (i2 - i1) / (N2 - N1) )) per case"
echo "callgrind file of the $N2-case run: $tmp/cg.$N2"
