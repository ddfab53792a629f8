#!/usr/bin/env bash
# Replication latency: from a webhook's acknowledgement by one replica to
# the order being found by a lookup on another.
#
#   benches/replication.sh        # 1,000 webhooks (WEBHOOKS=N for another count)
#
# Builds the release binary, starts a 3-node nats-server cluster
# (JetStream, Debian's package, installed if missing) and two replicas
# (copies = 3), all on 127.0.0.1, then runs benches/replication.py: it
# posts signed `orders/create` webhooks one at a time, alternately to
# replica A and B, and after each 200 polls a lookup of that order on the
# other replica until it redirects to the status page. Prints p50, p90,
# p99 and max of that delay, and the webhook round trip itself.
set -euo pipefail
cd "$(dirname "$0")/.."

WEBHOOKS=${WEBHOOKS:-1000}
WORK=target/replication-bench
BIN=target/release/order-status
rm -rf "$WORK"
mkdir -p "$WORK"
command -v nats-server >/dev/null || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
}
cargo build --release

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for i in 0 1 2; do
  routes=""
  for j in 0 1 2; do
    [ "$i" = "$j" ] || routes="$routes,nats://127.0.0.1:$((16250 + j))"
  done
  nats-server -js -a 127.0.0.1 -n "n$i" -p $((14250 + i)) -sd "$WORK/nats$i" \
    --cluster_name bench --cluster "nats://127.0.0.1:$((16250 + i))" --routes "${routes#,}" \
    >"$WORK/nats$i.log" 2>&1 &
  pids+=($!)
done
urls="nats://127.0.0.1:14250,nats://127.0.0.1:14251,nats://127.0.0.1:14252"
for r in a b; do
  port=$([ "$r" = a ] && echo 13281 || echo 13282)
  ORDER_STATUS_SEED_DEMO=false ORDER_STATUS_REPLICATE="$urls" ORDER_STATUS_REPLICATE_COPIES=3 \
    ORDER_STATUS_SHOPIFY_SHOP=bench.myshopify.com ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET=bench-secret \
    ORDER_STATUS_LINK_KEYS=k1=bench-link-key-0123456789 \
    ORDER_STATUS_LIMIT_PAGES=100000/s ORDER_STATUS_LIMIT_LOOKUP=100000/s ORDER_STATUS_LIMIT_API=100000/s \
    ORDER_STATUS_LIMIT_ORDER_FAILURES=100000/1m \
    "$BIN" serve --addr "127.0.0.1:$port" --data-dir "$WORK/data-$r" >"$WORK/$r.log" 2>&1 &
  pids+=($!)
done
for port in 13281 13282; do
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
done
python3 benches/replication.py --count "$WEBHOOKS" --secret bench-secret \
  --shop bench.myshopify.com http://127.0.0.1:13281 http://127.0.0.1:13282
