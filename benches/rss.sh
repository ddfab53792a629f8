#!/usr/bin/env bash
# Resident memory of the server with a large store, after it has served
# lookups and status pages. Usage:
#   benches/rss.sh DATA_DIR [ORDERS_NDJSON]
# DATA_DIR must hold an imported store (see the README's benchmark section).
# The NDJSON file (the one imported) supplies real order/email pairs.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?data dir}
orders=${2:-}
port=${PORT:-3197}
bin=target/release/order-status
[ -x "$bin" ] || cargo build --release
ORDER_STATUS_SEED_DEMO=false RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --data-dir "$data" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
echo "after start:     $(grep VmRSS /proc/$pid/status)"
if [ -n "$orders" ]; then
  # Every 997th order of the file: look it up, then open its status page.
  n=0
  while IFS=$'\t' read -r number email; do
    loc=$(curl -s -o /dev/null -w '%{redirect_url}' --data-urlencode "order=$number" \
      --data-urlencode "email=$email" "http://127.0.0.1:$port/")
    [ -n "$loc" ] || { echo "lookup of $number failed" >&2; exit 1; }
    curl -sf -o /dev/null "$loc"
    n=$((n + 1))
  done < <(awk 'NR % 997 == 1' "$orders" | python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    print(str(o["order_number"]) + "\t" + o["email"])')
  echo "served $n lookups and $n status pages"
fi
echo "after requests:  $(grep VmRSS /proc/$pid/status)"
# Of which: the process's own memory, and index pages mapped from disk
# (the page cache, shared and dropped under pressure).
echo "                 $(grep RssAnon /proc/$pid/status)"
echo "                 $(grep RssFile /proc/$pid/status)"
echo "peak:            $(grep VmHWM /proc/$pid/status)"
