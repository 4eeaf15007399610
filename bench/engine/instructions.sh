#!/usr/bin/env bash
# bench/engine/instructions.sh - instructions per case of bench_engine, measured with
# valgrind callgrind (independent of the machine's load): the difference between a run of
# N2 and a run of N1 cases, divided by N2 - N1, so start-up (rules, inputs) cancels out.
# Two figures: the whole program (which reads every case's JSON twice: once in the loop
# that times reading alone, once in the full loop) and the pipeline alone (instructions
# inside imr_review and imr_render_text: extract + decide + letter, what the target is for).
# usage: bash bench/engine/instructions.sh <bench_engine> [N1 N2]   (defaults 1000 3000)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${1:?bench_engine}; N1=${2:-1000}; N2=${3:-3000}
export IMR_RULES=${IMR_RULES:-$ROOT/rules}
tmp=$(mktemp -d)
ir() { # $1 cases, $2 file tag, rest: callgrind options
    local n=$1 tag=$2; shift 2
    valgrind --tool=callgrind "$@" --callgrind-out-file="$tmp/$tag.$n" "$B" --cases "$n" --source "$ROOT" \
        >/dev/null 2>"$tmp/log.$tag.$n"
    sed -n 's/^summary: //p' "$tmp/$tag.$n"
}
i1=$(ir "$N1" cg); i2=$(ir "$N2" cg)
echo "instructions: $i1 for $N1 cases, $i2 for $N2 cases: $(( (i2 - i1) / (N2 - N1) )) per case"
PIPE=(--collect-atstart=no --toggle-collect=imr_review --toggle-collect=imr_render_text)
p1=$(ir "$N1" pipe "${PIPE[@]}"); p2=$(ir "$N2" pipe "${PIPE[@]}")
echo "pipeline (imr_review + imr_render_text): $(( (p2 - p1) / (N2 - N1) )) per case"
echo "callgrind file of the $N2-case run: $tmp/cg.$N2"
