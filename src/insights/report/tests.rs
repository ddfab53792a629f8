//! The report's numbers against the same numbers computed here, order by
//! order, from the demo's orders: what the store's aggregations answer must
//! be what reading every order would say.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::ingest::demo;
use crate::order::Order;
use crate::order::insight::{Facts, facts};
use crate::store::StoreOptions;

const SHOP: &str = "demo.myshopify.com";

/// The value at `p` (0-100): the one at rank floor(p/100 * (n - 1)),
/// as tantivy's sketch ranks them.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (values.len() - 1) as f64).floor() as usize;
    values[rank]
}

/// tantivy's percentiles come from a sketch with 1% relative accuracy.
fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 0.02 * want.abs() + 0.05
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    counters: DayCounters,
    orders: Vec<Order>,
    now: DateTime<Utc>,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    let now = Utc::now();
    let orders: Vec<Order> = (0..600)
        .map(|i| demo::order(demo::SEED, i, now, SHOP))
        .collect();
    store.upsert(orders.clone()).await.expect("upsert");
    // Another shop's orders must not count.
    let other: Vec<Order> = (0..50)
        .map(|i| demo::order(7, i, now, "other.myshopify.com"))
        .collect();
    store.upsert(other).await.expect("upsert");
    let counters = DayCounters::open(dir.path()).expect("counters");
    Setup {
        _dir: dir,
        store,
        counters,
        orders,
        now,
    }
}

fn placed_in(o: &Order, period: &Period) -> bool {
    o.created_at
        .or(o.processed_at)
        .is_some_and(|t| t >= period.start() && t < period.end())
}

#[tokio::test]
async fn delivery_numbers_equal_the_orders_own() {
    let s = setup().await;
    let period = Period::last(90, s.now.date_naive());
    let report = build(&s.store, &s.counters, &[], Some(SHOP), period).expect("report");

    let placed: Vec<(&Order, Facts)> = s
        .orders
        .iter()
        .filter(|o| placed_in(o, &period))
        .map(|o| (o, facts(o)))
        .collect();
    assert!(
        placed.len() > 100,
        "the demo places orders in the last 90 days"
    );
    assert_eq!(report.orders_placed, placed.len() as u64);

    let mut by_carrier: BTreeMap<String, Vec<&Facts>> = BTreeMap::new();
    for (_, f) in &placed {
        if let Some(c) = &f.carrier {
            by_carrier.entry(c.clone()).or_default().push(f);
        }
    }
    assert!(
        by_carrier.len() >= 2,
        "the demo ships with several carriers"
    );
    assert_eq!(report.by_carrier.len(), by_carrier.len());
    for row in &report.by_carrier {
        let facts = &by_carrier[&row.name];
        assert_eq!(row.orders, facts.len() as u64, "{}", row.name);
        assert_eq!(row.parcels, facts.iter().map(|f| f.parcels).sum::<u64>());
        assert_eq!(
            row.parcel_problems,
            facts.iter().map(|f| f.parcel_problems).sum::<u64>()
        );
        let mut to_ship: Vec<f64> = facts.iter().filter_map(|f| f.to_ship).collect();
        let got = row.to_ship.expect("shipping times");
        assert!(
            close(got.median, percentile(&mut to_ship, 50.0)),
            "{}: {got:?}",
            row.name
        );
        let want = percentile(&mut to_ship, 90.0);
        assert!(
            close(got.p90, want),
            "{}: {got:?}, want p90 {want} of {to_ship:?}",
            row.name
        );
        let mut transit: Vec<f64> = facts.iter().filter_map(|f| f.transit).collect();
        match row.transit {
            Some(t) => {
                assert!(
                    close(t.median, percentile(&mut transit, 50.0)),
                    "{}: {t:?}",
                    row.name
                );
                assert!(
                    close(t.p90, percentile(&mut transit, 90.0)),
                    "{}: {t:?}",
                    row.name
                );
            }
            None => assert!(transit.is_empty(), "{}", row.name),
        }
        let on_time: Vec<u64> = facts.iter().filter_map(|f| f.on_time).collect();
        match row.on_time {
            Some(share) => {
                let want = on_time.iter().sum::<u64>() as f64 / on_time.len() as f64;
                assert!(
                    (share - want).abs() < 1e-9,
                    "{}: {share} vs {want}",
                    row.name
                );
            }
            None => assert!(on_time.is_empty()),
        }
    }
    let mut by_country: BTreeMap<String, Vec<&Facts>> = BTreeMap::new();
    for (_, f) in &placed {
        if let Some(c) = &f.country {
            by_country.entry(c.clone()).or_default().push(f);
        }
    }
    assert!(by_country.len() >= 2, "the demo ships to several countries");
    let got: BTreeMap<String, (u64, u64, u64)> = report
        .by_country
        .iter()
        .map(|c| (c.name.clone(), (c.orders, c.parcels, c.parcel_problems)))
        .collect();
    let want: BTreeMap<String, (u64, u64, u64)> = by_country
        .iter()
        .map(|(c, facts)| {
            (
                c.clone(),
                (
                    facts.len() as u64,
                    facts.iter().map(|f| f.parcels).sum(),
                    facts.iter().map(|f| f.parcel_problems).sum(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want);

    let returns: u64 = placed.iter().map(|(_, f)| f.returns).sum();
    assert!(returns > 0, "the demo has returns");
    assert_eq!(report.returns.returns, returns);
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for (_, f) in &placed {
        for r in &f.return_reasons {
            *reasons.entry(r.clone()).or_insert(0) += 1;
        }
    }
    let got: BTreeMap<String, u64> = report.returns.reasons.iter().cloned().collect();
    assert_eq!(got, reasons);
}

#[tokio::test]
async fn holds_and_problem_work_equal_the_orders_own() {
    let mut s = setup().await;
    // Staff handled the problems of a few orders, on different days, as
    // the problem queue does (a desk change; an import keeps the desk).
    let mut changes = Vec::new();
    for (k, o) in s
        .orders
        .iter_mut()
        .filter(|o| !crate::order::problems::watches(o).is_empty())
        .take(4)
        .enumerate()
    {
        let (kind, since) = crate::order::problems::watches(o)[0];
        let done = crate::order::problems::Handled {
            kind: kind.as_str().to_string(),
            since,
            at: s.now - Duration::days(k as i64),
            by: "staff:ana".into(),
            note: None,
        };
        let update = crate::order::problems::DeskUpdate::Handle(done);
        o.desk.apply(update.clone());
        changes.push(crate::order::merge::Change::Desk {
            key: o.key(),
            update,
        });
    }
    assert_eq!(changes.len(), 4);
    s.store.apply(changes).await.expect("desk changes");
    let period = Period::last(30, s.now.date_naive());
    let report = build(&s.store, &s.counters, &[], Some(SHOP), period).expect("report");
    let (from, to) = period.day_numbers();
    let all: Vec<Facts> = s.orders.iter().map(facts).collect();

    let mut holds: BTreeMap<String, (u64, Vec<u64>)> = BTreeMap::new();
    for f in &all {
        for r in &f.holds {
            let e = holds
                .entry(r.clone())
                .or_insert((0, vec![0; (to - from + 1) as usize]));
            e.0 += 1;
            if let Some(d) = f.hold_day.filter(|d| (from..=to).contains(d)) {
                e.1[(d - from) as usize] += 1;
            }
        }
    }
    assert!(!holds.is_empty(), "the demo has orders on hold");
    let got: BTreeMap<String, (u64, Vec<u64>)> = report
        .holds
        .iter()
        .map(|h| (h.reason.clone(), (h.now, h.begun.clone())))
        .collect();
    assert_eq!(got, holds);

    let mut opened = vec![0u64; (to - from + 1) as usize];
    for f in &all {
        for d in f.opened_days.iter().filter(|d| (from..=to).contains(*d)) {
            opened[(d - from) as usize] += 1;
        }
    }
    assert!(
        opened.iter().sum::<u64>() > 0,
        "the demo's problems began lately"
    );
    assert_eq!(
        report.work.iter().map(|w| w.opened).collect::<Vec<_>>(),
        opened
    );
    let mut handled = vec![0u64; (to - from + 1) as usize];
    for f in &all {
        for d in f.handled_days.iter().filter(|d| (from..=to).contains(*d)) {
            handled[(d - from) as usize] += 1;
        }
    }
    assert_eq!(handled.iter().sum::<u64>(), 4);
    assert_eq!(
        report.work.iter().map(|w| w.handled).collect::<Vec<_>>(),
        handled
    );
}

#[tokio::test]
async fn time_in_merchant_statuses_is_the_average_of_the_ones_left() {
    let s = setup().await;
    let now = s.now;
    // Two orders pass through "printing" (3 h and 5 h) into "packed".
    let mut orders = Vec::new();
    for (i, hours) in [(0u64, 3i64), (1, 5)] {
        let mut o = demo::order(99, i, now, SHOP);
        o.id = 900_000 + i;
        o.created_at = Some(now - Duration::hours(30));
        o.processed_at = None;
        o.updated_at = Some(now);
        o.status_history.clear();
        let at = now - Duration::hours(20);
        for (status, t) in [("printing", at), ("packed", at + Duration::hours(hours))] {
            o.status_history.push(crate::order::status::StatusChange {
                at: t,
                status: Some(status.into()),
                position: 0,
                note: None,
                by: "rule".into(),
            });
        }
        orders.push(o);
    }
    s.store.upsert(orders).await.expect("upsert");
    let ids = vec!["printing".to_string(), "packed".to_string()];
    let report = build(
        &s.store,
        &s.counters,
        &ids,
        Some(SHOP),
        Period::last(7, now.date_naive()),
    )
    .expect("report");
    let printing = &report.statuses[0];
    assert_eq!(printing.orders, 2);
    assert!((printing.average_hours.expect("avg") - 4.0).abs() < 1e-9);
    // Nobody left "packed" yet: its time is still running.
    assert_eq!(report.statuses[1].orders, 0);
    assert_eq!(report.statuses[1].average_hours, None);
}

#[tokio::test]
async fn shopper_activity_comes_from_the_counters_by_day_and_shop() {
    let s = setup().await;
    let today = s.now;
    let yesterday = today - Duration::days(1);
    for _ in 0..3 {
        s.counters.add(SHOP, Kind::View, today);
    }
    s.counters.add(SHOP, Kind::View, yesterday);
    s.counters.add("other.myshopify.com", Kind::View, today);
    s.counters.add(SHOP, Kind::LookupMissed, today);
    s.counters.add(SHOP, Kind::Sent("shipped".into()), today);
    s.counters
        .add(SHOP, Kind::Sent("delivered".into()), yesterday);
    let looked = &s.orders[0];
    s.counters.looked(SHOP, &looked.key(), looked.created_at);
    s.counters.looked(SHOP, &looked.key(), looked.created_at);
    let report = build(
        &s.store,
        &s.counters,
        &[],
        Some(SHOP),
        Period::last(90, today.date_naive()),
    )
    .expect("report");
    let last = report.activity.last().expect("today");
    assert_eq!(
        (last.views, last.lookups_missed, last.emails_sent),
        (3, 1, 1)
    );
    let before = &report.activity[report.activity.len() - 2];
    assert_eq!((before.views, before.emails_sent), (1, 1));
    assert_eq!(
        report.sent_by_event,
        vec![("delivered".to_string(), 1), ("shipped".to_string(), 1)]
    );
    assert_eq!(report.orders_looked_at, 1);
}
