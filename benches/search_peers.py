#!/usr/bin/env python3
"""Staff search: order-status over HTTP against PostgreSQL full-text search
and SQLite FTS5 on the same orders and the same queries.

Run by benches/search_peers.sh, which makes the orders, starts order-status
and PostgreSQL on 127.0.0.1 and passes their addresses. Each peer holds one
row an order with the words staff search looks in (order number and name,
email, customer name, tracking numbers, product titles, SKUs, city, tags)
and the filter columns; a query asks, like order-status's search, for every
word (a word may be the start of a longer one), the top 20 by rank and the
count up to 10,000 (as order-status counts). The peers are queried in-process (no HTTP), so the comparison
flatters them. Prints p50/p99 per kind of query and for the mix.

Usage: search_peers.py ORDERS.ndjson --ours URL --cookie COOKIE
                       [--pg DSN] [--sqlite FILE] [--per-kind N]
"""

import argparse
import json
import random
import re
import sqlite3
import statistics
import time
import urllib.parse
import urllib.request

WORDS = re.compile(r"[0-9A-Za-zÀ-ÿ]+")
# order-status counts matches up to 10,000 ("More than 10,000 orders");
# the peers count the same way, so all three do the same work.
COUNT_UP_TO = 10_001


def documents(path):
    """(id, text fields, financial, created_at) per order of the file."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            c = o.get("customer") or {}
            name = " ".join(x for x in (c.get("first_name"), c.get("last_name")) if x)
            tracking = " ".join(
                n for ful in o.get("fulfillments", []) for n in ful.get("tracking_numbers", [])
            )
            items = o.get("line_items", [])
            yield (
                o["id"],
                {
                    "number": f'{o.get("order_number", "")} {o.get("name", "")}',
                    "email": o.get("email", ""),
                    "customer": name,
                    "tracking": tracking,
                    "products": " ".join(i.get("title", "") for i in items),
                    "skus": " ".join(i.get("sku") or "" for i in items),
                    "city": (o.get("shipping_address") or {}).get("city", ""),
                    "tags": " ".join(o.get("tags", []) if isinstance(o.get("tags"), list) else [o.get("tags") or ""]),
                },
                o.get("financial_status", ""),
                o.get("created_at", ""),
            )


def queries(path, per_kind, seed=7):
    """The query mix, sampled from the orders: kind -> list of texts."""
    rng = random.Random(seed)
    picked = {"tracking": [], "email": [], "name": [], "sku+city": []}
    for n, (_, d, _, _) in enumerate(documents(path)):
        # Reservoir sampling, one reservoir a kind.
        for kind, text in (
            ("tracking", d["tracking"].split()[0] if d["tracking"] else ""),
            ("email", d["email"]),
            ("name", d["customer"]),
            ("sku+city", f'{d["skus"].split()[0]} {d["city"]}' if d["skus"] and d["city"] else ""),
        ):
            if not text:
                continue
            bucket = picked[kind]
            if len(bucket) < per_kind:
                bucket.append(text)
            else:
                j = rng.randrange(n + 1)
                if j < per_kind:
                    bucket[j] = text
    return picked


def timed(fn, texts):
    out = []
    for t in texts:
        start = time.perf_counter()
        fn(t)
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def words(text):
    return [w.lower() for w in WORDS.findall(text)][:8]


# --- SQLite FTS5 ---------------------------------------------------------

def sqlite_load(path, file):
    db = sqlite3.connect(file)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("DROP TABLE IF EXISTS orders")
    db.execute("DROP TABLE IF EXISTS orders_fts")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, financial TEXT, created_at TEXT)")
    db.execute(
        "CREATE VIRTUAL TABLE orders_fts USING fts5(number, email, customer, tracking, products, skus, city, tags,"
        " tokenize = 'unicode61')"
    )
    rows, fts = [], []
    for oid, d, fin, created in documents(path):
        rows.append((oid, fin, created))
        fts.append((oid, d["number"], d["email"], d["customer"], d["tracking"], d["products"], d["skus"], d["city"], d["tags"]))
        if len(rows) >= 50_000:
            db.executemany("INSERT INTO orders VALUES (?,?,?)", rows)
            db.executemany("INSERT INTO orders_fts(rowid, number, email, customer, tracking, products, skus, city, tags) VALUES (?,?,?,?,?,?,?,?,?)", fts)
            rows, fts = [], []
    db.executemany("INSERT INTO orders VALUES (?,?,?)", rows)
    db.executemany("INSERT INTO orders_fts(rowid, number, email, customer, tracking, products, skus, city, tags) VALUES (?,?,?,?,?,?,?,?,?)", fts)
    db.execute("CREATE INDEX orders_fin_created ON orders(financial, created_at)")
    db.commit()
    return db


def sqlite_search(db):
    def run(text):
        match = " AND ".join(f'"{w}"*' for w in words(text))
        if not match:
            return
        db.execute("SELECT rowid FROM orders_fts WHERE orders_fts MATCH ? ORDER BY rank LIMIT 20", (match,)).fetchall()
        db.execute(f"SELECT count(*) FROM (SELECT 1 FROM orders_fts WHERE orders_fts MATCH ? LIMIT {COUNT_UP_TO})", (match,)).fetchone()
    return run


def sqlite_listing(db):
    def run(_):
        db.execute("SELECT id FROM orders WHERE financial = 'PAID' ORDER BY created_at DESC LIMIT 20").fetchall()
        db.execute(f"SELECT count(*) FROM (SELECT 1 FROM orders WHERE financial = 'PAID' LIMIT {COUNT_UP_TO})").fetchone()
    return run


# --- PostgreSQL ------------------------------------------------------------

def pg_load(path, dsn):
    import psycopg
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("DROP TABLE IF EXISTS orders")
    conn.execute(
        "CREATE TABLE orders (id bigint PRIMARY KEY, financial text, created_at timestamptz, doc tsvector)"
    )
    with conn.cursor() as cur:
        with cur.copy("COPY orders (id, financial, created_at, doc) FROM STDIN") as copy:
            for oid, d, fin, created in documents(path):
                text = " ".join(d.values())
                # The words as a tsvector in PostgreSQL's own notation.
                lexemes = " ".join("'" + w.replace("'", "''") + "'" for w in set(words_all(text)))
                copy.write_row((oid, fin, created or None, lexemes))
    conn.execute("CREATE INDEX orders_doc ON orders USING gin (doc)")
    conn.execute("CREATE INDEX orders_fin_created ON orders (financial, created_at DESC)")
    conn.execute("ANALYZE orders")
    return conn


def words_all(text):
    return [w.lower() for w in WORDS.findall(text)]


def pg_search(conn):
    def run(text):
        ws = words(text)
        if not ws:
            return
        q = " & ".join(w + ":*" for w in ws)
        conn.execute(
            "SELECT id FROM orders WHERE doc @@ to_tsquery('simple', %s) ORDER BY ts_rank(doc, to_tsquery('simple', %s)) DESC LIMIT 20",
            (q, q),
        ).fetchall()
        conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM orders WHERE doc @@ to_tsquery('simple', %s) LIMIT {COUNT_UP_TO}) AS m", (q,)).fetchone()
    return run


def pg_listing(conn):
    def run(_):
        conn.execute("SELECT id FROM orders WHERE financial = 'PAID' ORDER BY created_at DESC LIMIT 20").fetchall()
        conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM orders WHERE financial = 'PAID' LIMIT {COUNT_UP_TO}) AS m").fetchone()
    return run


# --- order-status over HTTP ------------------------------------------------

def ours_search(base, cookie):
    opener = urllib.request.build_opener()

    def get(query):
        req = urllib.request.Request(f"{base}/staff?{query}", headers={"Cookie": cookie, "Accept": "text/html"})
        with opener.open(req) as res:
            res.read()

    def run(text):
        get(urllib.parse.urlencode({"q": text}))

    # A search that is really a search, not the sign-in page it redirects to.
    req = urllib.request.Request(f"{base}/staff?q=x", headers={"Cookie": cookie, "Accept": "text/html"})
    with opener.open(req) as res:
        if "/staff/login" in res.geturl():
            raise SystemExit("order-status: the staff cookie does not sign in")
    return run, lambda _: get("payment=PAID&sort=created")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("orders")
    ap.add_argument("--ours", required=True)
    ap.add_argument("--cookie", required=True)
    ap.add_argument("--pg")
    ap.add_argument("--sqlite")
    ap.add_argument("--per-kind", type=int, default=200)
    a = ap.parse_args()

    mix = queries(a.orders, a.per_kind)
    systems = []
    search, listing = ours_search(a.ours, a.cookie)
    systems.append(("order-status (HTTP)", search, listing))
    if a.sqlite:
        t = time.time()
        db = sqlite_load(a.orders, a.sqlite)
        print(f"sqlite: loaded in {time.time() - t:.0f} s")
        systems.append(("SQLite FTS5 (in-process)", sqlite_search(db), sqlite_listing(db)))
    if a.pg:
        t = time.time()
        conn = pg_load(a.orders, a.pg)
        print(f"postgresql: loaded in {time.time() - t:.0f} s")
        systems.append(("PostgreSQL FTS (in-process)", pg_search(conn), pg_listing(conn)))

    all_texts = [t for ts in mix.values() for t in ts]
    print(f"\n{len(all_texts)} queries ({a.per_kind} of each kind), each system warmed with one pass first\n")
    print(f"{'system':30} {'kind':10} {'p50 ms':>8} {'p99 ms':>8}")
    for name, search, listing in systems:
        timed(search, all_texts)  # warm-up pass
        for kind, texts in mix.items():
            xs = timed(search, texts)
            print(f"{name:30} {kind:10} {statistics.median(xs):8.2f} {pct(xs, 99):8.2f}")
        xs = timed(search, all_texts)
        print(f"{name:30} {'mix':10} {statistics.median(xs):8.2f} {pct(xs, 99):8.2f}")
        xs = timed(listing, range(200))
        print(f"{name:30} {'listing':10} {statistics.median(xs):8.2f} {pct(xs, 99):8.2f}")


if __name__ == "__main__":
    main()
