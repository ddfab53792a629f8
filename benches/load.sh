#!/usr/bin/env bash
# Load test of the status page and the lookup, reproducible on any machine:
#
#   benches/load.sh            # 1,000,000 orders (ORDERS=N for another size)
#   BIN=/path/to/order-status benches/load.sh   # another build, as it is
#
# It builds the release binary, makes the demo orders once (cached under
# target/load/), imports them once, starts the server on 127.0.0.1 with the
# rate limits raised (they stay on in production), and measures with oha
# (installed from crates.io into target/ if it is not on the PATH):
#   1. cold start: launch until /healthz answers, with the store on disk;
#   2. throughput, closed loop (32 connections, 10 s): the status page
#      against the very same bytes served as a static file from the same
#      server (copied into its public dir), RUNS times alternating; then
#      the status pages of DISTINCT (5,000) orders spread over the store,
#      oha picking a link at random each time: most of those open an order
#      the server does not keep decoded (it keeps the last 1,024);
#   3. latency at a fixed 1,000 requests/s, open loop (oha corrects for
#      coordinated omission): the status page, then the lookup POST;
#   4. the status page's compressed size (br, gzip);
#   5. the server's resident memory after all that.
# Everything listens on 127.0.0.1 only. Prints one table; medians of RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."

ORDERS=${ORDERS:-1000000}
DISTINCT=${DISTINCT:-5000}
RUNS=${RUNS:-3}
PORT=${PORT:-3199}
WORK=target/load
mkdir -p "$WORK"

OHA=${OHA:-$(command -v oha || true)}
if [ -z "$OHA" ]; then
  [ -x "$WORK/oha/bin/oha" ] || cargo install oha --version 1.16.0 --locked --root "$WORK/oha"
  OHA="$WORK/oha/bin/oha"
fi

if [ -z "${BIN:-}" ]; then
  cargo build --release
  BIN=target/release/order-status
fi
orders="$WORK/orders-$ORDERS.ndjson"
data="$WORK/data-$ORDERS"
if [ ! -s "$orders" ]; then
  "$BIN" demo-data --orders "$ORDERS" --seed 42 --now 2026-11-25T12:00:00Z --out "$orders"
fi
if [ ! -f "$data/imported" ]; then
  rm -rf "$data"
  "$BIN" import "$orders" --data-dir "$data" --shop demo.example
  touch "$data/imported"
fi

public="$WORK/public"
rm -rf "$public"
cp -r public "$public"

export ORDER_STATUS_SEED_DEMO=false
export ORDER_STATUS_PUBLIC_DIR="$public"
export ORDER_STATUS_LIMIT_PAGES=10000000/s
export ORDER_STATUS_LIMIT_LOOKUP=10000000/s
export ORDER_STATUS_LIMIT_ORDER_FAILURES=10000000/1m
export RUST_LOG=warn

started=$(date +%s.%N)
"$BIN" serve --addr "127.0.0.1:$PORT" --data-dir "$data" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; do sleep 0.01; done
ready=$(date +%s.%N)
cold_ms=$(python3 -c "print(round(($ready - $started) * 1000))")

# An order from the middle of the file, and its status link.
read -r number email < <(sed -n "$((ORDERS / 2))p" "$orders" | python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
print(o["order_number"], o["email"])')
location=$(curl -s -o /dev/null -w '%{redirect_url}' --data-urlencode "order=$number" \
  --data-urlencode "email=$email" "http://127.0.0.1:$PORT/")
[ -n "$location" ] || { echo "the lookup failed" >&2; exit 1; }
curl -s "$location" > "$public/bench-status.html"
page="$location"
static="http://127.0.0.1:$PORT/bench-status.html"

json() { "$OHA" --no-tui --output-format json "$@" 2>/dev/null; }
# Reads oha's JSON on stdin; prints what is asked: rps, or latency.
summary() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
if sys.argv[1] == "rps":
    print(round(d["summary"]["requestsPerSec"]))
else:
    p = d["latencyPercentiles"]
    ok = d["summary"]["successRate"] * 100
    print("%.2f / %.2f (%.1f%% ok)" % (p["p50"] * 1000, p["p99"] * 1000, ok))
' "$1"
}

# The links of DISTINCT orders spread over the store, one per line.
links="$WORK/links-$ORDERS-$DISTINCT.txt"
python3 - "$orders" "$ORDERS" "$DISTINCT" "$PORT" > "$links" <<'PY'
import http.client, json, sys, urllib.parse
path, total, distinct, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
every = max(1, total // distinct)
conn = http.client.HTTPConnection("127.0.0.1", int(port))
with open(path) as f:
    for i, line in enumerate(f):
        if i % every:
            continue
        o = json.loads(line)
        body = urllib.parse.urlencode({"order": o["order_number"], "email": o["email"]})
        conn.request("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})
        res = conn.getresponse()
        res.read()
        if res.status == 303:
            print("http://127.0.0.1:%s%s" % (port, res.getheader("Location")))
PY
[ "$(wc -l < "$links")" -gt 0 ] || { echo "no links for the spread run" >&2; exit 1; }

declare -a page_rps static_rps spread_rps
for _ in $(seq "$RUNS"); do
  page_rps+=("$(json -z 10s -c 32 "$page" | summary rps)")
  static_rps+=("$(json -z 10s -c 32 "$static" | summary rps)")
  spread_rps+=("$(json -z 10s -c 32 --urls-from-file "$links" | summary rps)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p_rps=$(median "${page_rps[@]}")
s_rps=$(median "${static_rps[@]}")
w_rps=$(median "${spread_rps[@]}")

fixed() {
  json -z 20s -q 1000 -c 64 --latency-correction --redirect 0 "$@" | summary latency
}
declare -a page_lat post_lat
for _ in $(seq "$RUNS"); do
  page_lat+=("$(fixed "$page")")
  post_lat+=("$(fixed -m POST -T application/x-www-form-urlencoded -d "order=$number&email=$email" "http://127.0.0.1:$PORT/")")
done

br=$(curl -s -H 'Accept-Encoding: br' "$page" | wc -c)
gz=$(curl -s -H 'Accept-Encoding: gzip' "$page" | wc -c)
raw=$(curl -s "$page" | wc -c)
rss=$(grep VmRSS /proc/$pid/status | awk '{print $2}')
hwm=$(grep VmHWM /proc/$pid/status | awk '{print $2}')
# Resident memory splits into the process's own (heap, stacks) and pages of
# the memory-mapped index files: the latter are the kernel's page cache,
# shared and dropped under memory pressure, and grow with what is read.
anon=$(grep RssAnon /proc/$pid/status | awk '{print $2}')
file=$(grep RssFile /proc/$pid/status | awk '{print $2}')

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); orders: $ORDERS; runs: $RUNS"
echo "| measure | result |"
echo "|---|---|"
echo "| cold start, launch to first answer | ${cold_ms} ms |"
echo "| status page, closed loop, 32 connections (req/s, runs: ${page_rps[*]}) | $p_rps |"
echo "| same bytes as a static file (req/s, runs: ${static_rps[*]}) | $s_rps |"
echo "| status page / static file | $(python3 -c "print(f'{$p_rps / $s_rps * 100:.0f}%')") |"
echo "| status pages of $(wc -l < "$links") orders at random (req/s, runs: ${spread_rps[*]}) | $w_rps |"
echo "| those / static file | $(python3 -c "print(f'{$w_rps / $s_rps * 100:.0f}%')") |"
for l in "${page_lat[@]}"; do echo "| status page at 1,000 req/s, p50 / p99 ms | $l |"; done
for l in "${post_lat[@]}"; do echo "| lookup POST at 1,000 req/s, p50 / p99 ms | $l |"; done
echo "| status page bytes: raw / gzip / br | $raw / $gz / $br |"
echo "| resident memory after the load (now / peak) | $((rss / 1024)) MB / $((hwm / 1024)) MB |"
echo "| of which the process's own / mapped index pages | $((anon / 1024)) MB / $((file / 1024)) MB |"
