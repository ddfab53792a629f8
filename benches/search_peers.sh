#!/usr/bin/env bash
# Staff search against PostgreSQL full-text search and SQLite FTS5, on the
# same orders and queries (benches/search_peers.py says how):
#
#   benches/search_peers.sh        # 1,000,000 orders (ORDERS=N for another size)
#
# Builds the release binary, makes and imports the demo orders once (cached
# under target/search-peers/), starts order-status with a staff account and
# a PostgreSQL of its own (Debian's package, installed with apt-get if
# missing; a fresh cluster under target/, trust auth, 127.0.0.1 only), puts
# psycopg in a venv under target/, and runs the comparison. Python's sqlite3
# has FTS5. Everything listens on 127.0.0.1 only and stops at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

ORDERS=${ORDERS:-1000000}
PORT=${PORT:-3197}
PGPORT=${PGPORT:-5439}
PER_KIND=${PER_KIND:-200}
WORK=$PWD/target/search-peers
BIN=target/release/order-status
mkdir -p "$WORK"

cargo build --release
orders="$WORK/orders-$ORDERS.ndjson"
data="$WORK/data-$ORDERS"
if [ ! -s "$orders" ]; then
  "$BIN" demo-data --orders "$ORDERS" --seed 42 --now 2026-11-25T12:00:00Z --out "$orders"
fi
if [ ! -d "$data/index" ]; then
  rm -rf "$data"
  ORDER_STATUS_SEED_DEMO=false "$BIN" import "$orders" --data-dir "$data" >/dev/null
fi
rm -f "$data/staff.json"
printf 'bench-password-1\n' | "$BIN" staff add bench --role viewer --data-dir "$data" >/dev/null

# PostgreSQL: Debian's, a cluster of our own.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$PG_BIN" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
pg="$WORK/pg"
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
if [ ! -s "$pg/PG_VERSION" ]; then
  rm -rf "$pg"
  mkdir -p "$pg"
  [ "$(id -u)" = 0 ] && chown postgres "$pg"
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$pg" -U bench --auth=trust >/dev/null
fi
[ "$(id -u)" = 0 ] && chown -R postgres "$pg"
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pg" -l "$pg/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PGPORT -c shared_buffers=1GB -c unix_socket_directories=''" start >/dev/null

# psycopg for the PostgreSQL side.
if [ ! -x "$WORK/venv/bin/python" ]; then
  /usr/bin/python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q 'psycopg[binary]==3.3.6'
fi

ORDER_STATUS_SEED_DEMO=false ORDER_STATUS_LIMIT_PAGES=100000/s ORDER_STATUS_LIMIT_LOGIN=1000/s \
  "$BIN" serve --addr "127.0.0.1:$PORT" --data-dir "$data" >"$WORK/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pg" stop -m fast >/dev/null 2>&1 || true' EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
  curl -fs "$base/healthz" >/dev/null && break
  sleep 0.1
done
cookie=$(curl -fs -o /dev/null -D - -H "Origin: $base" \
  --data 'name=bench&password=bench-password-1' "$base/staff/login" |
  grep -i '^set-cookie: staff_session=' | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')

"$WORK/venv/bin/python" benches/search_peers.py "$orders" \
  --ours "$base" --cookie "$cookie" \
  --pg "host=127.0.0.1 port=$PGPORT user=bench dbname=postgres" \
  --sqlite "$WORK/orders-$ORDERS.sqlite" --per-kind "$PER_KIND"
