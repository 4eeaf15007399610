#!/usr/bin/env bash
# crash_service.sh - kill -9 `imr serve` during a stream of writes, restart it on the same
# database, and check that every acknowledged write is there whole and nothing is
# half-written (tests/crash/crash_test.py; 5 rounds, seeded kill moments). On a fresh SQLite
# file always, and on a fresh PostgreSQL database when IMR_TEST_PG_URL is set
# (scripts/with-postgres.sh sets it). Prints each run's checks and a total
# "N passed, M failed"; exits non-zero on any failure.
#
# usage: bash tests/cli/crash_service.sh PATH/TO/imr SOURCE_DIR
# environment: IMR_CRASH_SEED, IMR_CRASH_ROUNDS, IMR_CRASH_WRITERS, IMR_CRASH_KEEP (see the
# script's docstring)
set -u

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
    echo "usage: bash crash_service.sh PATH/TO/imr SOURCE_DIR" >&2
    exit 64
fi
IMR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
if ! command -v python3 >/dev/null; then
    echo "crash_service: python3 is needed to run the crash test" >&2
    exit 1
fi

child=""
out=$(mktemp /tmp/imr-crash-out.XXXXXX)
cleanup() {
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null   # the client then kills its server
        wait "$child" 2>/dev/null
    fi
    rm -f "$out"
}
trap cleanup EXIT INT TERM

status=0
passed=0
failed=0
# run ARGS...: one run of the crash test; its output is shown and its counts added up.
run() {
    python3 "$SRC/tests/crash/crash_test.py" "$@" > >(tee "$out") &
    child=$!
    wait "$child" || status=1
    child=""
    wait  # the tee
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    if [ -z "$line" ]; then
        echo "crash_service: the run ended without its summary line"
        failed=$((failed + 1))
        status=1
        return
    fi
    passed=$((passed + ${line%% passed*}))
    line=${line#*, }
    failed=$((failed + ${line%% failed}))
}

run "$IMR" "$SRC"
if [ -n "${IMR_TEST_PG_URL:-}" ]; then
    if command -v psql >/dev/null; then
        run "$IMR" "$SRC" "$IMR_TEST_PG_URL"
    else
        echo "crash_service: psql is missing: PostgreSQL run not possible"
        status=1
    fi
else
    echo "crash_service: IMR_TEST_PG_URL is not set: PostgreSQL run skipped (use scripts/with-postgres.sh)"
fi
echo "crash_service: $passed passed, $failed failed"
exit $status
