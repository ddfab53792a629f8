#!/usr/bin/env bash
# Deleted versions reclaimed (issue 34): the index's size before and after
# a day of rewrites, on a copy of the peak bench's store.
#
#   benches/rewrites.sh                        # 3 in 10 of 10,000,000 orders
#   ORDERS=1000000 benches/rewrites.sh         # on the 1,000,000-order store
#   PENDING=2 SHARE=4 benches/rewrites.sh      # big merges left for a server
#
# Every rewrite of an order deletes its old version; the store's merge
# policy rewrites a segment without its deleted versions once they pass a
# quarter of it (store/merges.rs). The day: the demo's orders as they are a
# day later (`demo-data --seed 42 --now` a day on: the same orders, each
# one further along), SHARE in ten of them (spread over every segment, as a
# day's webhooks and a re-sync are), imported into the store. `import`
# waits for the merges it started, as a server would do them over time.
#
# It reports, before and after (and writes target/peak/rewrites-ORDERS.json):
# the index's bytes on disk, its segments, the orders it holds and the
# deleted versions it still carries. Needs the store of benches/peak.sh
# (target/peak/data-ORDERS); the copy it rewrites, target/peak/rewrites-ORDERS,
# stays until the next run.
#
# PENDING=N stops the import (kill -9, as a crash would) once N segments of
# more than 500,000 orders are past the share, before their merges are
# done: a server started on that copy (`PEAK_DATA=target/peak/rewrites-ORDERS
# benches/peak.sh`) begins its first minutes with those big merges, beside
# the peak load.
#
# The import queues no emails (`mail_events = none`), with PENDING or not:
# a day of rewrites would otherwise leave the next server tens of
# thousands to send at its start, a load the peak day does not hold.
set -euo pipefail
cd "$(dirname "$0")/.."

ORDERS=${ORDERS:-10000000}
SHARE=${SHARE:-3}
PENDING=${PENDING:-0}
SHOP=peak.myshopify.com
WORK=target/peak
src="$WORK/data-$ORDERS"
data="$WORK/rewrites-$ORDERS"
out="$WORK/rewrites-$ORDERS.json"

[ -f "$src/imported" ] || {
  echo "no store at $src: run ORDERS=$ORDERS benches/peak.sh first" >&2
  exit 1
}
# A day after the store's "now" (peak.sh keeps it in the marker; stores
# built before it did used 2026-12-05T12:00:00Z). With PENDING, this
# minute instead: every order's times move with `--now`, so each is still
# a rewrite, and none is newer than the peak run's webhooks, which carry
# the wall clock (a rewrite from tomorrow would make them stale, and the
# run lighter than the peak day).
store_now=$(cat "$src/imported")
if [ "${PENDING:-0}" -gt 0 ]; then
  NOW=${NOW:-$(date -u +%Y-%m-%dT%H:%M:00Z)}
else
  NOW=${NOW:-$(date -u -d "${store_now:-2026-12-05T12:00:00Z} + 1 day" +%Y-%m-%dT%H:%M:%SZ)}
fi
[ "$SHARE" -ge 1 ] && [ "$SHARE" -le 10 ] || {
  echo "SHARE is how many in ten orders are rewritten: 1 to 10, not $SHARE" >&2
  exit 1
}

cargo build --release
BIN=target/release/order-status

rm -rf "$data"
cp -a "$src" "$data"

# The index as it stands: bytes on disk, and per segment its documents and
# deleted versions, from tantivy's meta.json.
state() {
  /usr/bin/python3 - "$data/index" <<'PY'
import json, os, sys
index = sys.argv[1]
meta = json.load(open(os.path.join(index, "meta.json")))
segments = [(s["max_doc"], (s.get("deletes") or {}).get("num_deleted_docs", 0))
            for s in meta["segments"]]
size = sum(os.path.getsize(os.path.join(index, f)) for f in os.listdir(index))
print(json.dumps({
    "bytes": size,
    "segments": len(segments),
    "orders": sum(d - x for d, x in segments),
    "deleted": sum(x for _, x in segments),
    "biggest_deleted_share": max((x / d for d, x in segments if d), default=0),
}))
PY
}

# How many segments of more than 500,000 orders are past the share (a
# meta.json read while tantivy replaces it is retried at the next poll).
big_past() {
  /usr/bin/python3 - "$data/index" <<'PY' 2>/dev/null || echo 0
import json, os, sys
meta = json.load(open(os.path.join(sys.argv[1], "meta.json")))
print(sum(1 for s in meta["segments"] if s["max_doc"] > 500_000
          and (s.get("deletes") or {}).get("num_deleted_docs", 0) > 0.25 * s["max_doc"]))
PY
}

before=$(state)
echo "before: $before"
# The day's rewrites, imported (a function, so that `pipefail` speaks for
# the whole pipeline when it runs in the background too).
rewrite_day() {
  "$BIN" demo-data --orders "$ORDERS" --seed 42 --shop "$SHOP" --now "$NOW" \
    | awk -v s="$SHARE" 'NR % 10 < s' \
    | ORDER_STATUS_MAIL_EVENTS=none /usr/bin/time -v "$BIN" import /dev/stdin --data-dir "$data" --shop "$SHOP" \
      2> "$WORK/rewrites-$ORDERS.time" > "$WORK/rewrites-$ORDERS.out"
}
if [ "$PENDING" -gt 0 ]; then
  rewrite_day &
  day=$!
  until [ "$(big_past)" -ge "$PENDING" ]; do
    kill -0 "$day" 2>/dev/null || {
      echo "the import ended before $PENDING big segments were past the share: raise SHARE" >&2
      exit 1
    }
    sleep 1
  done
  pkill -9 -f "order-status import /dev/stdin --data-dir $data" || true
  pkill -f "order-status demo-data --orders $ORDERS --seed 42 --shop $SHOP --now $NOW" || true
  wait "$day" 2>/dev/null || true
  echo "import stopped with $(big_past) big segments past the share, their merges pending"
else
  rewrite_day
  cat "$WORK/rewrites-$ORDERS.out"
fi
after=$(state)
echo "after:  $after"

/usr/bin/python3 - "$before" "$after" "$ORDERS" "$SHARE" "$NOW" "$out" <<'PY'
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
orders, share, now, out = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
gb = lambda b: b / 1e9
print(f"{orders:,} orders, {share} in 10 rewritten as of {now}")
print(f"{'':10}{'GB':>8}{'segments':>10}{'orders':>12}{'deleted':>10}{'worst':>8}")
for name, s in (("before", before), ("after", after)):
    print(f"{name:10}{gb(s['bytes']):8.2f}{s['segments']:10}{s['orders']:12,}"
          f"{s['deleted']:10,}{s['biggest_deleted_share']:8.1%}")
print(f"bytes per order: {before['bytes'] / before['orders']:.0f} before, "
      f"{after['bytes'] / after['orders']:.0f} after")
json.dump({"orders": orders, "share_in_ten": share, "now": now,
           "before": before, "after": after}, open(out, "w"), indent=1)
PY
[ "$PENDING" -gt 0 ] || echo "wall clock of the import: $(grep 'Elapsed' "$WORK/rewrites-$ORDERS.time" | awk '{print $NF}')"
echo "the rewritten store stays at $data (for benches/store.rs) until the next run"
