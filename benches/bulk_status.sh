#!/usr/bin/env bash
# A bulk status change over every order of a search, timed end to end:
#
#   benches/bulk_status.sh        # 100,000 orders (ORDERS=N for another size)
#
# Builds the release binary, makes and imports the demo orders once
# (cached under target/bulk-status/), starts the server on 127.0.0.1 with
# one status configured (not emailed), signs in, and over HTTP: prepares a
# change of every order (the site fixes the set and counts it), confirms it
# with the count, and polls the job page until the report says done. Then
# the same once more, to time a job that finds every order already so.
# Prints: orders, prepare seconds, run seconds, orders per second, the
# server's resident memory after. Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

ORDERS=${ORDERS:-100000}
PORT=${PORT:-3198}
WORK=target/bulk-status
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
rm -f "$data/staff.json" "$data/audit.ndjson"
rm -rf "$data/bulk"
printf 'bench-password-1\n' | "$BIN" staff add bench --data-dir "$data" >/dev/null
config="$WORK/order-status.toml"
cat >"$config" <<'EOF'
[[status]]
id = "qc"
email = false
title = { en = "Quality check" }
description = { en = "Checked." }
EOF

ORDER_STATUS_SEED_DEMO=false ORDER_STATUS_LIMIT_PAGES=100000/s ORDER_STATUS_LIMIT_LOGIN=1000/s \
  "$BIN" serve --addr "127.0.0.1:$PORT" --data-dir "$data" --config "$config" >"$WORK/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 200); do
  curl -fs "$base/healthz" >/dev/null && break
  sleep 0.1
done
jar="$WORK/cookies"
rm -f "$jar"
curl -fs -c "$jar" -o /dev/null -H "Origin: $base" \
  --data 'name=bench&password=bench-password-1' "$base/staff/login"

now() { date +%s.%N; }
run_job() {
  local t0 t1 t2 loc count
  t0=$(now)
  loc=$(curl -fs -b "$jar" -o /dev/null -w '%{redirect_url}' -H "Origin: $base" \
    --data 'q=&status=qc' "$base/staff/bulk")
  t1=$(now)
  count=$(curl -fs -b "$jar" "$loc" | grep -o 'name="count" value="[0-9]*"' | grep -o '[0-9][0-9]*')
  curl -fs -b "$jar" -o /dev/null -H "Origin: $base" --data "count=$count" "$loc/confirm"
  until curl -fs -b "$jar" "$loc" | grep -q 'Done:'; do sleep 0.2; done
  t2=$(now)
  local report
  report=$(curl -fs -b "$jar" "$loc" | grep -o 'Done: [^<]*' | head -1)
  awk -v n="$count" -v a="$t0" -v b="$t1" -v c="$t2" -v r="$report" 'BEGIN {
    printf "%-10s %8d  prepare %6.2f s  run %7.2f s  %8.0f orders/s  (%s)\n", "'"$1"'", n, b - a, c - b, n / (c - b), r }'
}
run_job first
run_job again
rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
echo "resident memory after: $((rss / 1024)) MB"
