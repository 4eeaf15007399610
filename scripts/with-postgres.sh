#!/usr/bin/env bash
# scripts/with-postgres.sh CMD... - run CMD with a throw-away PostgreSQL server from Debian's
# packages: initdb in a temporary folder, a loopback port, stopped and removed afterwards.
# CMD sees IMR_TEST_PG_URL. When no server can be started (no packages, no postgres user),
# CMD still runs, without IMR_TEST_PG_URL, and the PostgreSQL tests say they were skipped.
set -uo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with-postgres: no PostgreSQL server installed; PostgreSQL tests will be skipped" >&2
  exec "$@"
fi

dir=$(mktemp -d /tmp/imr-pg.XXXXXX)
port=${IMR_PG_PORT:-$((20000 + RANDOM % 20000))}
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "with-postgres: no postgres user; skipping PostgreSQL" >&2; rm -rf "$dir"; exec "$@"; }
  chown postgres "$dir"
  run_as=(runuser -u postgres --)
fi

cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT

if ! "${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U imr --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1; then
  echo "with-postgres: initdb failed; PostgreSQL tests will be skipped" >&2
  cat "$dir/initdb.log" >&2
  "$@"
  exit $?
fi
if ! "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
     -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on" start >/dev/null; then
  echo "with-postgres: the server did not start; PostgreSQL tests will be skipped" >&2
  cat "$dir/server.log" >&2
  "$@"
  exit $?
fi
"${run_as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U imr imr_test
export IMR_TEST_PG_URL="postgresql://imr@127.0.0.1:$port/imr_test"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port" >&2
"$@"
