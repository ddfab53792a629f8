"""Replication latency (see benches/replication.sh): webhook acknowledged
by one replica -> order found by a lookup on the other."""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import time
import urllib.parse
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / (
    "tests/fixtures/shopify/rest_order_get_partially_refunded_with_fulfillment_and_refund.json"
)


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def post(c, path, body, headers):
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    r.read()
    return r.status


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--shop", required=True)
    ap.add_argument("replicas", nargs=2)
    a = ap.parse_args()
    order = json.loads(SAMPLE.read_text())["order"]
    conns = [conn(b) for b in a.replicas]
    lookups = [conn(b) for b in a.replicas]
    delays, acks, polls = [], [], 0
    for i in range(a.count):
        number = 700000 + i
        email = f"bench{i}@example.com"
        o = dict(order, id=7_000_000_000 + i, order_number=number, name=f"#{number}", email=email,
                 updated_at="2026-11-20T10:00:00Z")
        body = json.dumps(o).encode()
        sig = base64.b64encode(hmac.new(a.secret.encode(), body, hashlib.sha256).digest()).decode()
        on, other = i % 2, (i + 1) % 2
        t0 = time.perf_counter()
        status = post(conns[on], "/webhooks/shopify", body, {
            "content-type": "application/json",
            "x-shopify-topic": "orders/create",
            "x-shopify-shop-domain": a.shop,
            "x-shopify-hmac-sha256": sig,
            "x-shopify-event-id": f"bench-{i}",
        })
        t1 = time.perf_counter()
        if status != 200:
            raise SystemExit(f"webhook {i}: {status}")
        acks.append(t1 - t0)
        form = urllib.parse.urlencode({"order": f"#{number}", "email": email})
        while True:
            polls += 1
            s = post(lookups[other], "/", form, {
                "content-type": "application/x-www-form-urlencoded",
                "accept": "text/html",
            })
            if s == 303:
                break
            if time.perf_counter() - t1 > 10:
                raise SystemExit(f"order {i} not found on the other replica in 10 s")
        delays.append(time.perf_counter() - t1)
    ms = lambda x: f"{x * 1000:.1f} ms"
    print(f"webhooks: {a.count}, lookups polled: {polls}")
    print("acknowledged -> found on the other replica: "
          f"p50 {ms(pct(delays, 0.5))}, p90 {ms(pct(delays, 0.9))}, "
          f"p99 {ms(pct(delays, 0.99))}, max {ms(max(delays))}")
    print(f"webhook round trip (stored by JetStream x3, applied here): "
          f"p50 {ms(pct(acks, 0.5))}, p99 {ms(pct(acks, 0.99))}")


if __name__ == "__main__":
    main()
