#!/usr/bin/env bash
# The insights page at scale: how long /staff/insights takes for the
# last DAYS days (default 90) over a large store. Usage:
#   benches/insights.sh DATA_DIR
# DATA_DIR must hold an imported store (see the README's benchmark
# section; a store written before the insights were indexed is rebuilt
# on this first start, which is timed too). The day counters are filled
# with a year of numbers first (every kind, every day: what a busy shop
# has after a year), so the page reads what it would then. A bench staff
# account signs in (removed after); oha asks for the page REQUESTS times
# (default 200) one at a time, then two at a time, and prints its
# percentiles. Env: BIN (the build to run), PORT, DAYS, REQUESTS.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?data dir}
port=${PORT:-3198}
days=${DAYS:-90}
requests=${REQUESTS:-200}
bin=${BIN:-target/release/order-status}
oha=${OHA:-target/load/oha/bin/oha}
[ -x "$bin" ] || cargo build --release
[ -x "$oha" ] || cargo install oha --locked --root target/load/oha
base="http://127.0.0.1:$port"

# A year of day counters for the demo shop (the file the server keeps).
mkdir -p "$data/insights"
python3 - "$data/insights/days.json" <<'PY'
import json, sys, time
today = int(time.time()) // 86400
kinds = ["view", "lookup_found", "lookup_missed", "link_opened", "link_requested",
         "opt_out", "first_look", "sent.shipped", "sent.out_for_delivery",
         "sent.delivered", "sent.delivery_problem", "sent.link"]
rows = [{"day": d, "shop": "demo.example", "kind": k, "n": (d * 7 + i * 13) % 500 + 20}
        for d in range(today - 365, today + 1) for i, k in enumerate(kinds)]
json.dump({"counters": rows}, open(sys.argv[1], "w"))
PY

export ORDER_STATUS_LIMIT_PAGES=10000000/s ORDER_STATUS_LIMIT_LOGIN=1000/s
started=$(date +%s)
ORDER_STATUS_SEED_DEMO=false RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --data-dir "$data" >/dev/null &
pid=$!
jar=$(mktemp)
trap 'kill $pid 2>/dev/null || true; "$bin" staff remove insights-bench --data-dir "$data" >/dev/null 2>&1 || true; rm -f "$jar"' EXIT
# A store from before the insights is rebuilt first: wait for it.
until curl -sf -o /dev/null "$base/"; do
  kill -0 $pid 2>/dev/null || { echo "the server stopped" >&2; exit 1; }
  sleep 0.5
done
echo "ready after:     $(( $(date +%s) - started )) s"
password="insights bench password $$"
printf '%s\n' "$password" | "$bin" staff add insights-bench --role viewer --data-dir "$data" >/dev/null
curl -s -o /dev/null -c "$jar" --data-urlencode "name=insights-bench" \
  --data-urlencode "password=$password" "$base/staff/login"
cookie=$(awk '$6 == "staff_session" { print $6 "=" $7 }' "$jar")
[ -n "$cookie" ] || { echo "staff sign-in failed" >&2; exit 1; }
url="$base/staff/insights?days=$days"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$url")
[ "$code" = 200 ] || { echo "the insights page answered $code" >&2; exit 1; }
size=$(curl -s -H "Cookie: $cookie" "$url" | wc -c)
echo "page:            $size bytes, last $days days"
for c in 1 2; do
  echo "--- $requests pages, $c at a time"
  "$oha" --no-tui -n "$requests" -c "$c" -H "Cookie: $cookie" "$url" |
    grep -E "Requests/sec|Slowest|Fastest|Average|(50|90|99)(\.00)?% in|\[200\]"
done
echo "after:           $(grep VmRSS /proc/$pid/status)"
