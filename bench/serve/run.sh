#!/usr/bin/env bash
# bench/serve/run.sh - the service benchmark: `imr serve` under wrk on loopback, on SQLite
# and on PostgreSQL (a throw-away server from scripts/with-postgres.sh). See bench/RESULTS.md,
# section "Service".
#
# Workloads, each on a fixed number of connections after a short warm-up run:
#   reads    GET /api/cases/{id} with a bearer token, ids drawn at random from a pool
#            (the demo cases and SERVE_POOL more with drafts; read.lua)
#   creates  POST /api/cases?draft=1: a case file with two documents, registered and drafted
#            by the engine in one request, unique case numbers from the Lua script (create.lua)
# each as fast as the connections go ("max"), then paced to the target rate (common.lua:
# wrk has no rate option and wrk2 is not in Debian; latency is measured from each request's
# write, so falling behind shows as a lower rate reached, not as queueing delay).
# Reported: requests/s, latency p50/p90/p99/p99.9 (wrk's histogram), errors, and the
# server's CPU time per request (from /proc), against the targets: 5,000+ reads/s,
# 1,000+ creations/s, p99 under 20 ms.
#
# usage: bench/serve/run.sh [--duration S] [--connections N] [--pool N] [--backend B]
#   --backend sqlite | postgresql | both (default both; postgresql is skipped when no
#   server can be started)
# environment: IMR (default $BUILD/imr, BUILD defaults to build), SERVE_DURATION (10),
#   SERVE_WARMUP (2), SERVE_CONNECTIONS (16), SERVE_WRK_THREADS (2), SERVE_THREADS (server
#   worker threads; default the number of cores), SERVE_POOL (500), SERVE_READ_RATE (5000),
#   SERVE_CREATE_RATE (1000), SERVE_REPEAT (measured runs per workload, 3; the report gives
#   the median run and the range), BENCH_DIR (work folder; default ${TMPDIR:-/tmp}/imr-bench)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/bench/serve"
DURATION=${SERVE_DURATION:-10}
WARMUP=${SERVE_WARMUP:-2}
CONNS=${SERVE_CONNECTIONS:-16}
WRK_THREADS=${SERVE_WRK_THREADS:-2}
SRV_THREADS=${SERVE_THREADS:-$(nproc)}
POOL=${SERVE_POOL:-500}
REPEAT=${SERVE_REPEAT:-3}
READ_RATE=${SERVE_READ_RATE:-5000}
CREATE_RATE=${SERVE_CREATE_RATE:-1000}
BACKEND=both
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/imr-bench}/serve

while [ $# -gt 0 ]; do
    case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --pool) POOL=$2; shift 2 ;;
    --backend) BACKEND=$2; shift 2 ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench/serve: unknown option '$1' (see --help)" >&2; exit 64 ;;
    esac
done
case "$DURATION$WARMUP$CONNS$WRK_THREADS$SRV_THREADS$POOL$READ_RATE$CREATE_RATE$REPEAT" in
*[!0-9]*) echo "bench/serve: durations, counts and rates are whole numbers" >&2; exit 64 ;;
esac
case "$BACKEND" in sqlite | postgresql | both) ;; *) echo "bench/serve: --backend sqlite, postgresql or both" >&2; exit 64 ;; esac
[ "$REPEAT" -ge 1 ] || { echo "bench/serve: SERVE_REPEAT must be at least 1" >&2; exit 64; }
[ "$CONNS" -ge "$WRK_THREADS" ] || { echo "bench/serve: --connections must be at least SERVE_WRK_THREADS" >&2; exit 64; }

IMR=${IMR:-$ROOT/${BUILD:-build}/imr}
[ -x "$IMR" ] || { echo "bench/serve: no imr binary at $IMR (run make build, or set IMR)" >&2; exit 66; }
IMR=$(cd "$(dirname "$IMR")" && pwd)/$(basename "$IMR")
for tool in wrk python3; do
    command -v "$tool" >/dev/null || { echo "bench/serve: $tool is missing (scripts/setup.sh installs it)" >&2; exit 69; }
done
mkdir -p "$WORK"
RESULTS="$WORK/results.jsonl"
say() { printf 'bench/serve: %s\n' "$*" >&2; }

SERVER=""
stop_server() {
    if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then
        kill -TERM "$SERVER" 2>/dev/null
        wait "$SERVER" 2>/dev/null || true
    fi
    SERVER=""
}
trap stop_server EXIT INT TERM

# cpu_ticks PID: user + system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure NAME SCRIPT RATE: a warm-up run, then REPEAT measured runs; one JSON line each.
measure() {
    local name=$1 script=$2 rate=$3 before after i
    export IMR_BENCH_RATE=$rate IMR_BENCH_THREADS=$WRK_THREADS IMR_BENCH_NAME=$name
    IMR_BENCH_OUT="$WORK/warmup.jsonl" IMR_BENCH_PREFIX="W$RUN_TAG-${name// /}" \
        wrk -t "$WRK_THREADS" -c "$CONNS" -d "${WARMUP}s" -s "$HERE/$script" "$URL" >/dev/null
    for i in $(seq "$REPEAT"); do
        before=$(cpu_ticks "$SERVER")
        say "$BACKEND_NOW $name ($i of $REPEAT): ${DURATION}s, $CONNS connections, rate $([ "$rate" = 0 ] && echo max || echo "$rate/s")"
        IMR_BENCH_OUT="$WORK/run.jsonl" IMR_BENCH_PREFIX="M$RUN_TAG-${name// /}-$i" \
            wrk -t "$WRK_THREADS" -c "$CONNS" -d "${DURATION}s" --latency -s "$HERE/$script" "$URL" >"$WORK/wrk.txt"
        after=$(cpu_ticks "$SERVER")
        kill -0 "$SERVER" 2>/dev/null || { say "the server died during '$name'"; exit 70; }
        python3 - "$WORK/run.jsonl" "$BACKEND_NOW" "$CONNS" "$((after - before))" "$(getconf CLK_TCK)" \
            "$(cut -d' ' -f1 /proc/loadavg)" <<'PYEOF' >>"$RESULTS"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
r.update(backend=sys.argv[2], connections=int(sys.argv[3]),
         server_cpu_s=int(sys.argv[4]) / int(sys.argv[5]), load=float(sys.argv[6]))
print(json.dumps(r))
PYEOF
        rm -f "$WORK/run.jsonl"
    done
}

# run_backend sqlite|postgresql: one server, the set-up, the four measured runs.
run_backend() {
    BACKEND_NOW=$1
    local db
    if [ "$1" = sqlite ]; then
        db="$WORK/serve.db"
        rm -f "$db" "$db-wal" "$db-shm"
    else
        local name="imr_bench_$$"
        psql -X -q -v ON_ERROR_STOP=1 "$IMR_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
        db="${IMR_TEST_PG_URL%/*}/$name"
    fi
    "$IMR" serve --db "$db" --port 0 --threads "$SRV_THREADS" --demo --web "$ROOT/web" \
        >"$WORK/server.out" 2>"$WORK/server.log" &
    SERVER=$!
    local port="" i
    for i in $(seq 600); do
        port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$WORK/server.out")
        [ -n "$port" ] && break
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] || { say "the server did not start:"; cat "$WORK/server.log" >&2; exit 70; }
    URL="http://127.0.0.1:$port"
    say "$1: server on port $port ($SRV_THREADS threads); setting up a pool of $POOL cases"
    python3 "$HERE/setup.py" "$port" "$ROOT" "$WORK" "$POOL"
    RUN_TAG=$(date +%s)
    IMR_BENCH_TOKEN=$(cat "$WORK/token")
    export IMR_BENCH_LUA=$HERE IMR_BENCH_TOKEN IMR_BENCH_POOL="$WORK/pool.txt" IMR_BENCH_BODY="$WORK/body.json"
    measure "reads" read.lua 0
    measure "reads at target" read.lua "$READ_RATE"
    measure "creates" create.lua 0
    measure "creates at target" create.lua "$CREATE_RATE"
    stop_server
    if [ "$1" = postgresql ]; then
        psql -X -q "$IMR_TEST_PG_URL" -c "DROP DATABASE IF EXISTS imr_bench_$$" || true
    fi
}

machine() {
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores available"
    echo "- memory: $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
    echo "- kernel: $(uname -r); load average at start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- imr $("$IMR" --version | cut -d' ' -f2), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), SQLite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)') (Python's; imr links the system library), $(psql --version 2>/dev/null || echo 'no psql')"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
[ -n "${SERVE_PG_CHILD:-}" ] || rm -f "$RESULTS"
if [ "$BACKEND" != postgresql ]; then
    run_backend sqlite
fi
if [ "$BACKEND" != sqlite ]; then
    if [ -n "${IMR_TEST_PG_URL:-}" ]; then
        run_backend postgresql
    elif [ -z "${SERVE_PG_CHILD:-}" ]; then
        # no server given: start a throw-away one and run this script's PostgreSQL part
        env SERVE_PG_CHILD=1 BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/imr-bench}" IMR="$IMR" \
            SERVE_WARMUP="$WARMUP" SERVE_WRK_THREADS="$WRK_THREADS" SERVE_THREADS="$SRV_THREADS" \
            SERVE_READ_RATE="$READ_RATE" SERVE_CREATE_RATE="$CREATE_RATE" SERVE_REPEAT="$REPEAT" \
            bash "$ROOT/scripts/with-postgres.sh" bash "$0" --backend postgresql \
            --duration "$DURATION" --connections "$CONNS" --pool "$POOL" ||
            say "the PostgreSQL run failed"
    fi
fi
[ -z "${SERVE_PG_CHILD:-}" ] || exit 0

{
    echo "## Service, $(date -u +%Y-%m-%d)"
    echo
    machine
    echo
    python3 "$HERE/report.py" "$RESULTS" --duration "$DURATION" --warmup "$WARMUP" \
        --wrk-threads "$WRK_THREADS" --server-threads "$SRV_THREADS" --pool "$POOL" \
        --read-target "$READ_RATE" --create-target "$CREATE_RATE" --repeat "$REPEAT"
} | tee "$WORK/results.md"
say "results in $WORK/results.md"
