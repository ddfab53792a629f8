#!/usr/bin/env python3
"""One peak run's results against issue 34's targets, as a Markdown table.

Reads what benches/peak.sh left in a run's directory: goose's report.json
(per request: count, failures, rate, percentiles in whole milliseconds),
peak-extra.json (webhook to page, new orders found after, the bulk
change), samples.csv (every 10 s) and after.txt (the server's counters).
"""
import csv
import json
import re
import sys
from pathlib import Path

out = Path(sys.argv[1])
report = json.loads((out / "report.json").read_text())
extra = json.loads((out / "peak-extra.json").read_text())
after = (out / "after.txt").read_text()
samples = list(csv.DictReader((out / "samples.csv").open()))

requests = {r["name"]: r for r in report["raw_request_metrics"]}
responses = {r["name"]: r for r in report["raw_response_metrics"]}
# Goose's own run time: the aggregated rate is over it.
targets = {
    "status page": (500, 10),
    "lookup": (50, 10),
    "webhook": (100, 100),
    "staff search": (5, 50),
}

rows = []


def row(measure, target, result, ok):
    rows.append((measure, target, result, "yes" if ok else "**no**"))


for name, (rate, p99_target) in targets.items():
    req, res = requests.get(name), responses.get(name)
    if not req or not res:
        row(name, f"{rate}/s, p99 <= {p99_target} ms", "no requests", False)
        continue
    got = req["requests_per_second"]
    row(
        f"{name}: rate, p50 / p99 / max ms, failures",
        f"{rate}/s, p99 <= {p99_target} ms",
        f"{got:.0f}/s ({req['number_of_requests']:,}), "
        f"{res['percentile_50']} / {res['percentile_99']} / {res['percentile_100']} ms, "
        f"{req['number_of_failures']}",
        res["percentile_99"] <= p99_target and req["number_of_failures"] == 0 and got >= rate * 0.95,
    )

v = extra["webhook_to_page_ms"]
row(
    "webhook to visible on its status page, p50 / p99 / max ms (probes, misses)",
    "p99 <= 1,000 ms",
    f"{v['p50']:.0f} / {v['p99']:.0f} / {v['max']:.0f} ({v['probes']}, {v['misses']})",
    v["probes"] > 0 and v["p99"] <= 1000 and v["misses"] == 0,
)

sent = sum(h["sent"] for h in extra["webhooks"])
acked = sum(h["acknowledged"] for h in extra["webhooks"])
dead = int(re.search(r"dead letters: (\d+)", after).group(1))
# Deliveries answered `accepted` and still in the inbox when the load ended
# (runs before the inbox have no such line).
m = re.search(r"webhook inbox open at the end: (\d+)", after)
inbox = int(m.group(1)) if m else 0
row(
    "webhooks: sent / acknowledged / dead letters / left in the inbox / new orders not found after",
    "none lost",
    f"{sent:,} / {acked:,} / {dead} / {inbox} / {extra['new_orders_not_found_after']} of {extra['new_orders_acknowledged']:,}",
    sent == acked and dead == 0 and inbox == 0 and extra["new_orders_not_found_after"] == 0,
)

five = int(re.search(r"server 5xx: (\d+)", after).group(1))
row("5xx answered by the server", "0", str(five), five == 0)

t = [int(s["seconds"]) for s in samples]
end = t[-1]
for col, label in (
    ("rss_kb", "resident memory (VmRSS)"),
    ("anon_kb", "of which the process's own (RssAnon)"),
    ("file_kb", "of which mapped index pages (RssFile)"),
):
    if col not in samples[0]:
        continue
    rss = [int(s[col]) for s in samples]
    last5 = [r for s, r in zip(t, rss) if s >= end - 300]
    growth = (last5[-1] - last5[0]) / last5[0] * 100 if last5 and last5[0] else float("nan")
    row(
        f"{label}: start / 5 min before the end / end MB (growth over the last 5 min)",
        "< 10 %",
        f"{rss[0] // 1024} / {last5[0] // 1024} / {last5[-1] // 1024} MB ({growth:+.1f} %)",
        growth < 10,
    )
for col, label in (
    ("write_queue", "the writer's queue"),
    ("mail_queued", "orders with an email waiting"),
    ("inbox", "webhooks answered and not yet applied"),
):
    if col not in samples[0]:
        continue
    vals = [int(float(s[col] or 0)) for s in samples]
    half = vals[len(vals) // 2:]
    row(
        f"{label}: max over the run, max / last over its second half",
        "flat",
        f"{max(vals)}, {max(half)} / {half[-1]}",
        max(half) <= max(vals[: len(vals) // 2] or [0]) * 2 + 64,
    )
idx = [int(s["index_bytes"]) for s in samples]
m = re.search(r"index bytes before (\d+), after (\d+)", after)
before, after_b = int(m.group(1)), int(m.group(2))
row(
    "index on disk: before / max during / after the run",
    "grows no faster than its orders",
    f"{before / 1e9:.2f} / {max(idx) / 1e9:.2f} / {after_b / 1e9:.2f} GB",
    True,
)
mail = re.search(r"emails received \(aiosmtpd Maildir\): (\d+)", after).group(1)
sent_line = re.search(r'mail_messages_total\{outcome="sent"\} (\d+)', after)
row(
    "emails: sent by the server / received by aiosmtpd",
    "all received",
    f"{sent_line.group(1) if sent_line else 0} / {mail}",
    sent_line is not None and sent_line.group(1) == mail,
)
row("the bulk change", "about 10,000 orders, done", str(extra["bulk"]), bool(extra["bulk"]) and "failed" not in str(extra["bulk"]))

print(f"### {out.name}\n")
print("| measure | target | result | met |")
print("|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")

print("\nStaff searches by query (ms, measured by the load tool around goose's request):\n")
print("| query | searches | p50 | p99 | max |")
print("|---|---|---|---|---|")
for q in extra.get("staff_search_ms", []):
    print(f"| `{q['q'] or '(empty: the newest orders)'}` | {q['n']} | {q['p50']:.1f} | {q['p99']:.1f} | {q['max']:.1f} |")
