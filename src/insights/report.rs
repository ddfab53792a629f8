//! The insights page's numbers for a period and a shop: asked of the day
//! counters and of the store's aggregations, put into plain data
//! ([`Report`]) that the page, its charts and the CSV export render.
//!
//! Days are UTC days, as the counters keep them. Orders "placed in the
//! period" decide the delivery and returns figures (an order placed on the
//! period's last day may not have shipped yet: its shipping times are not
//! known, not zero). Holds are the orders on hold now, by the day each
//! hold began; problems opened and handled are counted on their days,
//! whenever the order was placed.

use serde_json::{Value, json};

use super::counters::{DayCounters, Kind};
pub use super::figures::*;
use crate::store::{Store, StoreError};

/// Most carriers, countries, reasons listed (the rest are summed up as
/// "other" by tantivy and left out).
const TOP: usize = 25;

fn u(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f.max(0.0).round() as u64))
        .unwrap_or(0)
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

fn buckets(v: &Value) -> &[Value] {
    v.get("buckets")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn spread(v: &Value) -> Option<Spread> {
    let values = v.get("values")?;
    let at = |p: &str| values.get(p).and_then(f);
    Some(Spread {
        median: at("50.0")?,
        p90: at("90.0")?,
    })
}

fn delivery_aggs() -> Value {
    json!({
        "to_ship": {"percentiles": {"field": "facts.to_ship", "percents": [50.0, 90.0]}},
        "transit": {"percentiles": {"field": "facts.transit", "percents": [50.0, 90.0]}},
        "on_time": {"avg": {"field": "facts.on_time"}},
        "parcels": {"sum": {"field": "facts.parcels"}},
        "problems": {"sum": {"field": "facts.parcel_problems"}}
    })
}

fn deliveries(v: &Value) -> Vec<Delivery> {
    buckets(v)
        .iter()
        .map(|b| Delivery {
            name: b["key"].as_str().unwrap_or_default().to_string(),
            orders: u(&b["doc_count"]),
            to_ship: spread(&b["to_ship"]),
            transit: spread(&b["transit"]),
            on_time: f(&b["on_time"]["value"]),
            parcels: u(&b["parcels"]["value"]),
            parcel_problems: u(&b["problems"]["value"]),
        })
        .collect()
}

fn day_histogram(field: &str, from: u64, to: u64) -> Value {
    json!({"histogram": {
        "field": field,
        "interval": 1.0,
        "min_doc_count": 0,
        "hard_bounds": {"min": from as f64, "max": to as f64},
        "extended_bounds": {"min": from as f64, "max": to as f64}
    }})
}

/// Per day of `from..=to`, the histogram's count.
fn per_day(v: &Value, from: u64, to: u64) -> Vec<u64> {
    let mut out = vec![0u64; (to - from + 1) as usize];
    for b in buckets(v) {
        let Some(key) = b["key"].as_f64() else {
            continue;
        };
        let day = key.round() as u64;
        if (from..=to).contains(&day) {
            out[(day - from) as usize] += u(&b["doc_count"]);
        }
    }
    out
}

/// The report for `period` and `shop` (every shop's when `None`); the
/// merchant's status ids say which statuses to time.
pub fn build(
    store: &Store,
    counters: &DayCounters,
    statuses: &[String],
    shop: Option<&str>,
    period: Period,
) -> Result<Report, StoreError> {
    let (from, to) = period.day_numbers();
    let days = period.days();

    // Shopper activity, from the counters.
    let totals = counters.totals(shop, from, to);
    let mut activity: Vec<DayActivity> = days
        .iter()
        .map(|d| DayActivity {
            day: *d,
            ..DayActivity::default()
        })
        .collect();
    let mut sent_by_event: std::collections::BTreeMap<String, u64> = Default::default();
    let mut looked = 0u64;
    for ((day, kind), n) in &totals {
        let a = &mut activity[(day - from) as usize];
        match Kind::parse(kind) {
            Some(Kind::View) => a.views += n,
            Some(Kind::LookupFound) => a.lookups_found += n,
            Some(Kind::LookupMissed) => a.lookups_missed += n,
            Some(Kind::LinkOpened) => a.links_opened += n,
            Some(Kind::LinkRequested) => a.links_requested += n,
            Some(Kind::OptOut) => a.opt_outs += n,
            Some(Kind::Sent(event)) => {
                a.emails_sent += n;
                *sent_by_event.entry(event).or_insert(0) += n;
            }
            Some(Kind::FirstLook) => looked += n,
            None => {}
        }
    }

    // Orders placed in the period: delivery, returns, statuses.
    let mut placed_req = json!({
        "carriers": {"terms": {"field": "facts.carrier", "size": TOP}, "aggs": delivery_aggs()},
        "countries": {"terms": {"field": "facts.country", "size": TOP}, "aggs": delivery_aggs()},
        "returns": {"sum": {"field": "facts.returns"}},
        "reasons": {"terms": {"field": "facts.return_reasons", "size": TOP}}
    });
    for (i, id) in statuses.iter().enumerate() {
        let field = format!("facts.status_hours.{id}");
        placed_req[format!("status_{i}")] = json!({"stats": {"field": field}});
    }
    let clock = std::time::Instant::now();
    let placed = store.aggregate(shop, Some((period.start(), period.end())), placed_req)?;
    let orders_placed = store.count_placed(shop, period.start(), period.end())?;
    let placed_took = clock.elapsed();

    // Whenever placed: holds now, problems opened and handled.
    let work_req = json!({
        "holds": {"terms": {"field": "facts.holds", "size": TOP},
                  "aggs": {"days": day_histogram("facts.hold_day", from, to)}},
        "opened": day_histogram("facts.opened_days", from, to),
        "handled": day_histogram("facts.handled_days", from, to)
    });
    let work = store.aggregate(shop, None, work_req)?;
    tracing::debug!(
        placed_ms = placed_took.as_millis() as u64,
        work_ms = (clock.elapsed() - placed_took).as_millis() as u64,
        orders_placed,
        "insights aggregated"
    );

    let opened = per_day(&work["opened"], from, to);
    let handled = per_day(&work["handled"], from, to);
    Ok(Report {
        period,
        shop: shop.map(str::to_string),
        activity,
        sent_by_event: sent_by_event.into_iter().collect(),
        orders_placed,
        orders_looked_at: looked,
        by_carrier: deliveries(&placed["carriers"]),
        by_country: deliveries(&placed["countries"]),
        holds: buckets(&work["holds"])
            .iter()
            .map(|b| Holds {
                reason: b["key"].as_str().unwrap_or_default().to_string(),
                now: u(&b["doc_count"]),
                begun: per_day(&b["days"], from, to),
            })
            .collect(),
        work: days
            .iter()
            .enumerate()
            .map(|(i, d)| DayWork {
                day: *d,
                opened: opened[i],
                handled: handled[i],
            })
            .collect(),
        statuses: statuses
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let s = &placed[format!("status_{i}")];
                StatusTime {
                    id: id.clone(),
                    orders: u(&s["count"]),
                    average_hours: f(&s["avg"]),
                }
            })
            .collect(),
        returns: Returns {
            orders: orders_placed,
            returns: u(&placed["returns"]["value"]),
            reasons: buckets(&placed["reasons"])
                .iter()
                .map(|b| {
                    (
                        b["key"].as_str().unwrap_or_default().to_string(),
                        u(&b["doc_count"]),
                    )
                })
                .collect(),
        },
    })
}

#[cfg(test)]
mod tests;
