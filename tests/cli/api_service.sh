#!/usr/bin/env bash
# api_service.sh - the REST API of `imr serve`, end to end (tests/api/api_test.py): on a
# fresh SQLite file always, and again on a fresh PostgreSQL database when IMR_TEST_PG_URL
# is set (scripts/with-postgres.sh sets it). The Python client starts and stops the server
# itself; the trap below makes sure no server outlives the test, whatever happens.
#
# usage: bash tests/cli/api_service.sh PATH/TO/imr SOURCE_DIR
set -u

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
    echo "usage: bash api_service.sh PATH/TO/imr SOURCE_DIR" >&2
    exit 64
fi
IMR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
if ! command -v python3 >/dev/null; then
    echo "api_service: python3 is needed to run the API tests" >&2
    exit 1
fi

child=""
cleanup() {
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null   # the client then stops its server
        wait "$child" 2>/dev/null
    fi
}
trap cleanup EXIT INT TERM

status=0
python3 "$SRC/tests/api/api_test.py" "$IMR" "$SRC" &
child=$!
wait "$child" || status=1
child=""

if [ -n "${IMR_TEST_PG_URL:-}" ]; then
    python3 "$SRC/tests/api/api_test.py" "$IMR" "$SRC" "$IMR_TEST_PG_URL" &
    child=$!
    wait "$child" || status=1
    child=""
else
    echo "api_service: IMR_TEST_PG_URL is not set: PostgreSQL run skipped (use scripts/with-postgres.sh)"
fi
exit $status
