#!/usr/bin/env bash
# Resident memory of the server with a large store, after it has served
# lookups and status pages. Usage:
#   benches/rss.sh DATA_DIR [ORDERS_NDJSON]
# DATA_DIR must hold an imported store (see the README's benchmark section).
# The NDJSON file (the one imported) supplies real order/email pairs: every
# STRIDE-th line (default 997; 9973 for a 10,000,000-order file keeps it to
# about 1,000 orders). Also prints the cold start: launch until / answers.
# Then staff at work: an account made for the bench (removed after) signs
# in and runs SEARCHES (default 1,000) searches from a mixed list (names,
# places, numbers, emails' domains, words of states), as support does
# beside the shoppers; SEARCHES=0 leaves them out.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?data dir}
orders=${2:-}
port=${PORT:-3197}
stride=${STRIDE:-997}
searches=${SEARCHES:-1000}
bin=target/release/order-status
[ -x "$bin" ] || cargo build --release
# The lookups come from one address, faster than a shopper's budget.
export ORDER_STATUS_LIMIT_PAGES=10000000/s ORDER_STATUS_LIMIT_LOOKUP=10000000/s
export ORDER_STATUS_LIMIT_ORDER_FAILURES=10000000/1m ORDER_STATUS_LIMIT_LOGIN=1000/s
started=$(date +%s.%N)
ORDER_STATUS_SEED_DEMO=false RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --data-dir "$data" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 3000); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.01
done
ready=$(date +%s.%N)
curl -sf -o /dev/null "http://127.0.0.1:$port/" || { echo "the server did not answer" >&2; exit 1; }
echo "cold start:      $(python3 -c "print(round(($ready - $started) * 1000))") ms (launch until / answers)"
echo "after start:     $(grep VmRSS /proc/$pid/status)"
if [ -n "$orders" ]; then
  # Every STRIDE-th order of the file: look it up, then open its status page.
  n=0
  while IFS=$'\t' read -r number email; do
    loc=$(curl -s -o /dev/null -w '%{redirect_url}' --data-urlencode "order=$number" \
      --data-urlencode "email=$email" "http://127.0.0.1:$port/")
    [ -n "$loc" ] || { echo "lookup of $number failed" >&2; exit 1; }
    curl -sf -o /dev/null "$loc"
    n=$((n + 1))
  done < <(awk -v s="$stride" 'NR % s == 1' "$orders" | python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    print(str(o["order_number"]) + "\t" + o["email"])')
  echo "served $n lookups and $n status pages"
fi
echo "after requests:  $(grep VmRSS /proc/$pid/status)"
if [ "$searches" -gt 0 ]; then
  base="http://127.0.0.1:$port"
  jar=$(mktemp)
  password="rss bench password $$"
  printf '%s\n' "$password" | "$bin" staff add rss-bench --role viewer --data-dir "$data" >/dev/null
  trap 'kill $pid 2>/dev/null || true; "$bin" staff remove rss-bench --data-dir "$data" >/dev/null 2>&1 || true; rm -f "$jar"' EXIT
  curl -s -o /dev/null -c "$jar" -H "Origin: $base" --data-urlencode "name=rss-bench" \
    --data-urlencode "password=$password" "$base/staff/login"
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$base/staff?q=anna")
  [ "$code" = 200 ] || { echo "staff sign-in failed ($code)" >&2; exit 1; }
  queries=(anna "anna stockholm" garcia "felix berlin" 1001 "#123456" example.de
    wright lyon delivered "on hold" returned "mia garcia" oslo "linen shirt" "")
  for i in $(seq 1 "$searches"); do
    q=${queries[$((i % ${#queries[@]}))]}
    curl -sf -o /dev/null -b "$jar" -G --data-urlencode "q=$q" "$base/staff"
  done
  echo "served $searches staff searches"
  echo "after searches:  $(grep VmRSS /proc/$pid/status)"
fi
# Of which: the process's own memory, and index pages mapped from disk
# (the page cache, shared and dropped under pressure).
echo "                 $(grep RssAnon /proc/$pid/status)"
echo "                 $(grep RssFile /proc/$pid/status)"
echo "peak:            $(grep VmHWM /proc/$pid/status)"
