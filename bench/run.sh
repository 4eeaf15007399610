#!/usr/bin/env bash
# bench/run.sh - the letter-parsing benchmark (`make bench`). See bench/RESULTS.md.
#
# Builds a corpus of synthetic Final Determination Letters (bench/gen_letters.py, seeded),
# checks that imr and the Python baseline both read it right (bench/compare.py), then on
# the same files and in the same run measures
#   imr      : imr parse --compact, in xargs batches, output to /dev/null
#   python   : bench/pyparse.py, a plain regex parser of the same fields, same batches
#   grep     : grep -c of one word, same batches (the floor: reading the bytes once)
# with hyperfine, in interleaved rounds (each round times imr, python and grep back to back,
# so that a busy machine slows all three alike; the first round warms the page cache and is
# dropped; medians over BENCH_RUNS rounds). It reports wall and CPU time, MB/s, letters/s,
# the ratios against the targets (imr >= 20x python; imr time <= 5x grep time) and the peak
# resident memory of each (GNU time, "Maximum resident set size"; with xargs that is the
# largest single process). On a shared machine compare the CPU times.
#
# BENCH_BIG=1 (or --big) adds the memory run: a corpus of about 1 GB parsed by ONE imr
# process, to show that memory does not grow with the corpus (target: under 32 MB).
#
# usage: bench/run.sh [--count N] [--runs N] [--big] [--batch N] [--keep]
# environment: IMR (the binary; default $BUILD/imr, BUILD defaults to build),
#   BENCH_COUNT (20000), BENCH_RUNS (5), BENCH_BATCH (1000 files per process),
#   BENCH_DIR (work folder; default ${TMPDIR:-/tmp}/imr-bench), BENCH_SEED (1),
#   BENCH_BIG_BYTES (1000000000), BENCH_WORD (Upheld), BENCH_PARTS (which of the service
#   and engine benchmarks follow the letters one: "serve engine"; "" for none)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COUNT=${BENCH_COUNT:-20000}
RUNS=${BENCH_RUNS:-5}
BATCH=${BENCH_BATCH:-1000}
SEED=${BENCH_SEED:-1}
BIG=${BENCH_BIG:-0}
BIG_BYTES=${BENCH_BIG_BYTES:-1000000000}
WORD=${BENCH_WORD:-Upheld}
PARTS=${BENCH_PARTS-serve engine} # the benchmarks run after the letters one
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/imr-bench}
KEEP=0

while [ $# -gt 0 ]; do
    case "$1" in
    --count) COUNT=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --big) BIG=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench: unknown option '$1' (see bench/run.sh --help)" >&2; exit 64 ;;
    esac
done
case "$COUNT$RUNS$BATCH" in *[!0-9]*) echo "bench: --count, --runs and --batch take numbers" >&2; exit 64 ;; esac

IMR=${IMR:-$ROOT/${BUILD:-build}/imr}
[ -x "$IMR" ] || { echo "bench: no imr binary at $IMR (run make build, or set IMR)" >&2; exit 66; }
IMR=$(cd "$(dirname "$IMR")" && pwd)/$(basename "$IMR")
for tool in python3 hyperfine /usr/bin/time xargs grep; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/setup.sh installs it)" >&2; exit 69; }
done
GEN="$ROOT/bench/gen_letters.py"
PYPARSE="$ROOT/bench/pyparse.py"
mkdir -p "$WORK"

say() { printf '%s\n' "$*" >&2; }

# corpus DIR COUNT: generate (or reuse, when made by the same generator and seed) a corpus.
corpus() {
    local dir=$1 count=$2 stamp
    stamp="$(sha1sum "$GEN" | cut -c1-12) seed=$SEED count=$count"
    if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
        say "bench: reusing $dir"
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir/letters"
    say "bench: generating $count letters in $dir"
    # Two generator processes (each writes its own half of the indices).
    local half=$((count / 2))
    python3 "$GEN" --seed "$SEED" --start 0 --count "$half" --out "$dir/letters" --truth "$dir/truth.0" &
    python3 "$GEN" --seed "$SEED" --start "$half" --count $((count - half)) --out "$dir/letters" --truth "$dir/truth.1"
    wait
    cat "$dir/truth.0" "$dir/truth.1" >"$dir/truth.jsonl"
    rm -f "$dir/truth.0" "$dir/truth.1"
    (cd "$dir/letters" && find . -name '*.txt' -printf '%f\n' | sort >"$dir/files.txt")
    echo "$stamp" >"$dir/.stamp"
}

# hf_stat NAME FIELD JSON...: over the rounds' hyperfine results for one command, the median
# wall time (FIELD=wall), the median CPU time (FIELD=cpu: user + system) or every wall time
# (FIELD=times).
hf_stat() {
    python3 - "$@" <<'EOF'
import json, statistics, sys
name, field, files = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = [r for f in files for r in json.load(open(f))['results'] if r['command'] == name]
wall = [t for r in runs for t in r['times']]
if field == 'wall':
    print('%.6f' % statistics.median(wall))
elif field == 'cpu':
    print('%.6f' % statistics.median(r['user'] + r['system'] for r in runs))
else:
    print(' '.join('%.3f' % t for t in wall))
EOF
}

# peak_kb CMD...: maximum resident set size (KB) of the command's largest process.
peak_kb() {
    /usr/bin/time -f '%M' -o "$WORK/time.out" "$@" >/dev/null
    tail -n 1 "$WORK/time.out"
}

machine() {
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores available"
    echo "- memory: $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
    echo "- kernel: $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- imr $("$IMR" --version | cut -d' ' -f2), $(python3 --version), $(grep --version | head -n1), $(hyperfine --version)"
}

# ---------------------------------------------------------------------------------------
C="$WORK/corpus-$COUNT"
corpus "$C" "$COUNT"
BYTES=$(cd "$C/letters" && xargs -a "$C/files.txt" cat | wc -c)
say "bench: corpus of $COUNT letters, $BYTES bytes"

# Correctness first: a benchmark of a parser that reads the letters wrong means nothing.
say "bench: checking imr and pyparse against the generator on the first 1000 letters"
# (A letter either tool refuses shows up below as a count mismatch, so failures are not fatal.)
(cd "$C/letters" && head -n 1000 "$C/files.txt" | xargs "$IMR" parse --compact >"$WORK/check.imr.jsonl") || true
(cd "$C/letters" && head -n 1000 "$C/files.txt" | xargs python3 "$PYPARSE" >"$WORK/check.py.jsonl") || true
CHECK_IMR=ok CHECK_PY=ok
python3 "$ROOT/bench/compare.py" "$C/truth.jsonl" "$WORK/check.imr.jsonl" --limit 1000 >"$WORK/check.imr.txt" || CHECK_IMR=FAILED
python3 "$ROOT/bench/compare.py" "$C/truth.jsonl" "$WORK/check.py.jsonl" --limit 1000 >"$WORK/check.py.txt" || CHECK_PY=FAILED
say "bench: imr fields: $CHECK_IMR; pyparse fields: $CHECK_PY (details in $WORK/check.*.txt)"

Q_FILES=$(printf '%q' "$C/files.txt")
CMD_IMR="xargs -a $Q_FILES -n $BATCH $(printf '%q' "$IMR") parse --compact >/dev/null"
CMD_PY="xargs -a $Q_FILES -n $BATCH python3 $(printf '%q' "$PYPARSE") >/dev/null"
CMD_GREP="xargs -a $Q_FILES -n $BATCH grep -c -- $(printf '%q' "$WORD") >/dev/null"
say "bench: timing ($RUNS interleaved rounds after one warm-up round)"
ROUNDS=()
for round in $(seq 0 "$RUNS"); do
    (cd "$C/letters" && hyperfine --style none --runs 1 --export-json "$WORK/round-$round.json" \
        -n imr "$CMD_IMR" -n python "$CMD_PY" -n grep "$CMD_GREP" >/dev/null 2>&1)
    [ "$round" -eq 0 ] || ROUNDS+=("$WORK/round-$round.json")
done
declare -A MED CPU PEAK TIMES
for t in imr python grep; do
    MED[$t]=$(hf_stat $t wall "${ROUNDS[@]}")
    CPU[$t]=$(hf_stat $t cpu "${ROUNDS[@]}")
    TIMES[$t]=$(hf_stat $t times "${ROUNDS[@]}")
done
PEAK[imr]=$(cd "$C/letters" && peak_kb xargs -a "$C/files.txt" -n "$BATCH" "$IMR" parse --compact)
PEAK[python]=$(cd "$C/letters" && peak_kb xargs -a "$C/files.txt" -n "$BATCH" python3 "$PYPARSE")
PEAK[grep]=$(cd "$C/letters" && peak_kb xargs -a "$C/files.txt" -n "$BATCH" grep -c -- "$WORD")

report() {
    python3 - "$COUNT" "$BYTES" "$BATCH" "$RUNS" \
        "${MED[imr]}" "${MED[python]}" "${MED[grep]}" \
        "${CPU[imr]}" "${CPU[python]}" "${CPU[grep]}" \
        "${PEAK[imr]}" "${PEAK[python]}" "${PEAK[grep]}" "$CHECK_IMR" "$CHECK_PY" <<'EOF'
import sys
a = sys.argv[1:]
count, nbytes, batch, runs = int(a[0]), int(a[1]), int(a[2]), int(a[3])
med = dict(zip(['imr', 'python', 'grep'], map(float, a[4:7])))
cpu = dict(zip(['imr', 'python', 'grep'], map(float, a[7:10])))
peak = dict(zip(['imr', 'python', 'grep'], map(int, a[10:13])))
print('Corpus: %d letters, %.1f MB (%d bytes), %d files per process, medians of %d warm'
      ' interleaved rounds.' % (count, nbytes / 1e6, nbytes, batch, runs))
print('Fields check against the generator (first %d letters): imr %s, pyparse %s.' % (min(count, 1000), a[13], a[14]))
print()
print('| tool | median wall time | MB/s (wall) | letters/s (wall) | median CPU time (user+sys) | MB/s (CPU) | peak RSS |')
print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for t, name in [('imr', 'imr parse --compact'), ('python', 'pyparse.py'), ('grep', 'grep -c')]:
    print('| %s | %.3f s | %.1f | %.0f | %.3f s | %.1f | %.1f MB |' % (
        name, med[t], nbytes / 1e6 / med[t], count / med[t], cpu[t], nbytes / 1e6 / cpu[t],
        peak[t] / 1024))
print()
r1 = med['python'] / med['imr']
r2 = med['imr'] / med['grep']
print('- imr vs python (wall): %.1fx faster (target >= 20x: %s); on CPU time: %.1fx'
      % (r1, 'met' if r1 >= 20 else 'MISSED', cpu['python'] / cpu['imr']))
print('- imr time vs grep time (wall): %.1fx (target <= 5x: %s); on CPU time: %.1fx'
      % (r2, 'met' if r2 <= 5 else 'MISSED', cpu['imr'] / max(cpu['grep'], 1e-9)))
EOF
}

{
    echo "## Letter parsing, $(date -u +%Y-%m-%d)"
    echo
    machine
    echo
    report
    echo
    echo "Wall times per round (s): imr ${TIMES[imr]}; python ${TIMES[python]}; grep ${TIMES[grep]}."
} | tee "$WORK/results.md"

# ---------------------------------------------------------------------------------------
if [ "$BIG" = 1 ]; then
    AVG=$((BYTES / COUNT))
    BIGCOUNT=$(((BIG_BYTES + AVG - 1) / AVG))
    B="$WORK/corpus-big-$BIGCOUNT"
    corpus "$B" "$BIGCOUNT"
    BIGB=$(cd "$B/letters" && xargs -a "$B/files.txt" cat | wc -c)
    say "bench: memory run, one imr process over $BIGCOUNT letters ($BIGB bytes)"
    # One process for the whole corpus, started directly (not through xargs, whose own
    # memory GNU time would count): raise the stack limit so the argument list fits. If it
    # still does not fit, fall back to the largest xargs batches (the report says so).
    (
        cd "$B/letters"
        ulimit -s unlimited 2>/dev/null || true
        mapfile -t NAMES <"$B/files.txt"
        st=0
        /usr/bin/time -f '%e %U %S %M' -o "$WORK/big.time" "$IMR" parse --compact "${NAMES[@]}" \
            >/dev/null 2>"$WORK/big.err" || st=$?
        if [ "$st" -eq 0 ]; then
            echo "${#NAMES[@]}" >"$WORK/big.batches"
        elif grep -q "Argument list too long" "$WORK/big.err"; then
            MAXARGS=$(($(getconf ARG_MAX) - 262144))
            /usr/bin/time -f '%e %U %S %M' -o "$WORK/big.time" \
                xargs -a "$B/files.txt" -s "$MAXARGS" -x "$IMR" parse --compact >/dev/null
            xargs -a "$B/files.txt" -s "$MAXARGS" -x sh -c 'echo $#' sh >"$WORK/big.batches"
            say "bench: the names did not fit one argument list; xargs batches (its memory counts too)"
        else
            say "bench: imr failed on the large corpus: $(head -c 300 "$WORK/big.err")"
            exit 70
        fi
    )
    read -r e u s m <"$WORK/big.time"
    {
        echo
        echo "### Memory on a large corpus"
        echo
        echo "$BIGCOUNT letters, $(python3 -c "print('%.2f GB' % ($BIGB / 1e9))") ($BIGB bytes), parsed by" \
            "$(wc -l <"$WORK/big.batches") imr process(es) of $(head -n1 "$WORK/big.batches") files:" \
            "$e s wall, $(python3 -c "print('%.1f' % ($u + $s))") s CPU," \
            "$(python3 -c "print('%.1f MB/s' % ($BIGB / 1e6 / $e))"), peak RSS $(python3 -c "print('%.1f MB' % ($m / 1024))")" \
            "(target < 32 MB; the $COUNT-letter run above: $(python3 -c "print('%.1f MB' % (${PEAK[imr]} / 1024))") with $BATCH files per process)."
    } | tee -a "$WORK/results.md"
    [ "$KEEP" = 1 ] || rm -rf "$B"
fi

say "bench: results in $WORK/results.md"
[ "$KEEP" = 1 ] || [ "${BENCH_DIR:-}" ] || rm -rf "$C"

# The service under load (imr serve + wrk, SQLite and PostgreSQL): bench/serve/run.sh.
case " $PARTS " in *" serve "*) IMR="$IMR" BENCH_DIR="$WORK" bash "$ROOT/bench/serve/run.sh" ;; esac

# The engine benchmark (extract + decide + letter on seed-sized cases): bench/engine/run.sh.
case " $PARTS " in *" engine "*) IMR="$IMR" BENCH_DIR="$WORK" bash "$ROOT/bench/engine/run.sh" ;; esac
