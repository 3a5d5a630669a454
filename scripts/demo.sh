#!/usr/bin/env bash
# The quick-start demo: installs what is needed, builds Switchyard, starts a throwaway
# PostgreSQL 15 with a demo table, and runs Switchyard in front of it with a demo migration
# (users.status text -> users.state smallint). Ctrl-C stops everything and deletes the data.
#
#   ./scripts/demo.sh            run until Ctrl-C
#   ./scripts/demo.sh --smoke    start, check a query and a dual write through the proxy,
#                                backfill and verify, stop
#
# Environment: SWITCHYARD_DEMO_PORT (default 6432), SWITCHYARD_DEMO_PG_PORT (default 6433),
# SWITCHYARD_BUILD_DIR (default ./build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SMOKE=0
case "${1:-}" in
  --smoke) SMOKE=1 ;;
  ""|--run) ;;
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  *) echo "demo: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
PORT=${SWITCHYARD_DEMO_PORT:-6432}
PG_PORT=${SWITCHYARD_DEMO_PG_PORT:-6433}
PGBIN=/usr/lib/postgresql/15/bin

./scripts/install-deps.sh
BUILD=${SWITCHYARD_BUILD_DIR:-build}
echo "demo: building switchyard in $BUILD (first build takes a few minutes)..."
# A build directory configured before (e.g. the sanitized one scripts/test.sh made) keeps
# its own settings. A first build is a unity build (see scripts/test-sanitized.sh), about half
# the wait; -DCMAKE_UNITY_BUILD=OFF makes later one-file rebuilds quicker.
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=ON >/dev/null
fi
cmake --build "$BUILD" --target switchyard -j"$(nproc)" >/dev/null
BIN="$(cd "$BUILD" && pwd)/proxy/switchyard"

for p in "$PORT" "$PG_PORT"; do
  if ss -Hltn "sport = :$p" | grep -q .; then
    echo "demo: port $p on this machine is already in use; set SWITCHYARD_DEMO_PORT / SWITCHYARD_DEMO_PG_PORT" >&2
    exit 1
  fi
done

WORK=$(mktemp -d /tmp/switchyard-demo.XXXXXX)
chmod 755 "$WORK"
# PostgreSQL refuses to run as root: run it as the postgres system user in that case.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown postgres "$WORK"; fi
SY_PID=""
cleanup() {
  set +e
  [ -n "$SY_PID" ] && kill -TERM "$SY_PID" 2>/dev/null && wait "$SY_PID" 2>/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "demo: starting a throwaway PostgreSQL 15 on 127.0.0.1:$PG_PORT (data in $WORK)"
as_pg "$PGBIN/initdb" -D "$WORK/data" -U postgres -A trust --no-sync >/dev/null
cat >>"$WORK/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$WORK'
fsync = off
password_encryption = 'scram-sha-256'
CONF
# Local superuser access by trust; everyone else authenticates with SCRAM, through Switchyard too.
cat >"$WORK/data/pg_hba.conf" <<HBA
local all postgres trust
host  all postgres 127.0.0.1/32 trust
host  all all      127.0.0.1/32 scram-sha-256
HBA
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w start >/dev/null

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
psql_admin -d postgres <<'SQL'
CREATE ROLE demo LOGIN PASSWORD 'demo';
CREATE ROLE switchyard LOGIN PASSWORD 'switchyard';
CREATE DATABASE demo OWNER demo;
SQL
psql_admin -d demo <<'SQL'
SET ROLE demo;
CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, status text);
INSERT INTO users (name, status)
  SELECT 'user' || i, CASE WHEN i % 3 = 0 THEN 'inactive' ELSE 'active' END
  FROM generate_series(1, 20) AS i;
-- Step 1 of the migration: the new column, nullable. The app still knows only "status".
ALTER TABLE users ADD COLUMN state smallint;
-- Switchyard's own user reads the catalog, and backfills: it updates the new column and keeps
-- its progress in a schema of its own.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO switchyard;
GRANT UPDATE (state) ON users TO switchyard;
SQL
psql_admin -d demo -c "GRANT CREATE ON DATABASE demo TO switchyard"

cat >"$WORK/switchyard.toml" <<TOML
# Demo config: edit and save (or kill -HUP the process) to flip flags live.
[listen]
address = "127.0.0.1:$PORT"

[upstream]
address = "127.0.0.1:$PG_PORT"
tls = "disable"
user = "switchyard"
password_env = "SWITCHYARD_PASSWORD"
database = "demo"

[[migration]]
name       = "users-status-to-state"
table      = "public.users"
old_column = "status"
new_column = "state"
writes     = "both"
reads      = "old"
to_new     = "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END"
to_old     = "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END"
TOML

SWITCHYARD_PASSWORD=switchyard "$BIN" serve --config "$WORK/switchyard.toml" 2>"$WORK/switchyard.log" &
SY_PID=$!
for _ in $(seq 1 100); do
  grep -q "event=listening" "$WORK/switchyard.log" 2>/dev/null && break
  if ! kill -0 "$SY_PID" 2>/dev/null; then
    echo "demo: switchyard failed to start:" >&2; cat "$WORK/switchyard.log" >&2; exit 1
  fi
  sleep 0.1
done
grep -q "event=listening" "$WORK/switchyard.log" || { echo "demo: switchyard did not start" >&2; exit 1; }

if [ "$SMOKE" -eq 1 ]; then
  export PGPASSWORD=demo
  through() { psql -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U demo -d demo -c "$1"; }
  [ "$(through "SELECT count(*) FROM users")" = "20" ] || { echo "demo smoke: count through the proxy failed" >&2; exit 1; }
  through "INSERT INTO users (name, status) VALUES ('smoke', 'inactive')" >/dev/null
  got=$(psql_admin -d demo -At -c "SELECT status || ',' || coalesce(state::text, 'NULL') FROM users WHERE name = 'smoke'")
  echo "demo smoke: after INSERT through the proxy, status,state = $got"
  [ "$got" = "inactive,0" ] || { echo "demo smoke: expected the dual write inactive,0" >&2; exit 1; }
  # The recipe the demo prints: backfill the rows written before the migration, then verify.
  export SWITCHYARD_PASSWORD=switchyard
  "$BIN" backfill --config "$WORK/switchyard.toml" --migration users-status-to-state --progress log \
    || { echo "demo smoke: backfill failed" >&2; exit 1; }
  "$BIN" verify --config "$WORK/switchyard.toml" --migration users-status-to-state \
    || { echo "demo smoke: verify found disagreeing rows" >&2; exit 1; }
  echo "demo smoke: OK"
  exit 0
fi

cat <<MSG

  Switchyard is running on 127.0.0.1:$PORT in front of PostgreSQL on 127.0.0.1:$PG_PORT.

  Connect as the app does (password: demo):
      PGPASSWORD=demo psql -h 127.0.0.1 -p $PORT -U demo demo

  Try the migration "users-status-to-state" (writes = both, reads = old):
      INSERT INTO users (name, status) VALUES ('ann', 'active');
      UPDATE users SET status = 'inactive' WHERE name = 'ann';
  and look at both columns directly, bypassing the proxy:
      psql -h 127.0.0.1 -p $PG_PORT -U postgres demo -c "SELECT name, status, state FROM users ORDER BY id DESC LIMIT 5"

  The 20 rows written before the migration have no state yet. Walk the recipe; status says
  the next safe step each time:
      export SWITCHYARD_PASSWORD=switchyard
      $BIN status   --config $WORK/switchyard.toml
      $BIN backfill --config $WORK/switchyard.toml --migration users-status-to-state
      $BIN verify   --config $WORK/switchyard.toml --migration users-status-to-state
  then flip reads to the new column: edit $WORK/switchyard.toml (reads = "new") and save
  (or kill -HUP $SY_PID). Dry-run a rewrite:
      $BIN rewrite --config $WORK/switchyard.toml --sql "SELECT status FROM users"

  Logs: $WORK/switchyard.log      Press Ctrl-C to stop and delete everything.
MSG
wait "$SY_PID"
