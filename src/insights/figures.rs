//! The insights page's figures as plain data: what [`super::report`]
//! computes and the page, its charts and the CSV export render (`ui`
//! imports this, never the store).

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::order::insight::day_number;

/// A span of whole UTC days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Longest period a page or export covers.
pub const MAX_DAYS: i64 = 366;

impl Period {
    /// The last `days` days up to and including `today`.
    pub fn last(days: u32, today: NaiveDate) -> Period {
        let days = i64::from(days.max(1)).min(MAX_DAYS);
        Period {
            from: today - Duration::days(days - 1),
            to: today,
        }
    }

    /// `from` to `to`; `None` when `to` is before `from` or the span is
    /// longer than [`MAX_DAYS`].
    pub fn between(from: NaiveDate, to: NaiveDate) -> Option<Period> {
        let days = (to - from).num_days() + 1;
        (1..=MAX_DAYS)
            .contains(&days)
            .then_some(Period { from, to })
    }

    /// Every day of it, in order.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.from
            .iter_days()
            .take_while(|d| *d <= self.to)
            .collect()
    }

    /// Its first moment.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// The moment after its last day.
    pub fn end(&self) -> DateTime<Utc> {
        self.start() + Duration::days(self.days().len() as i64)
    }

    /// Its first and last day numbers.
    pub fn day_numbers(&self) -> (u64, u64) {
        (day_number(self.start()), day_number(self.end()) - 1)
    }
}

/// A day's shopper activity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayActivity {
    pub day: NaiveDate,
    pub views: u64,
    pub lookups_found: u64,
    pub lookups_missed: u64,
    pub links_opened: u64,
    pub links_requested: u64,
    pub emails_sent: u64,
    pub opt_outs: u64,
}

/// Median and 90th percentile, in days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub p90: f64,
}

/// How one carrier's (or country's) parcels travelled.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub name: String,
    /// Orders placed in the period with this carrier (country).
    pub orders: u64,
    /// Placed to first parcel.
    pub to_ship: Option<Spread>,
    /// Shipped to delivered.
    pub transit: Option<Spread>,
    /// Share of delivered parcels with an estimate that came by it.
    pub on_time: Option<f64>,
    pub parcels: u64,
    pub parcel_problems: u64,
}

impl Delivery {
    /// Delivery problems per 1,000 parcels.
    pub fn problems_per_1000(&self) -> Option<f64> {
        (self.parcels > 0).then(|| self.parcel_problems as f64 * 1000.0 / self.parcels as f64)
    }
}

/// Orders on hold now for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holds {
    /// Shopify's `FulfillmentHoldReason` (`INVENTORY_OUT_OF_STOCK`).
    pub reason: String,
    pub now: u64,
    /// Of those, how many began each day of the period.
    pub begun: Vec<u64>,
}

/// Problems opened and handled on a day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayWork {
    pub day: NaiveDate,
    pub opened: u64,
    pub handled: u64,
}

/// Time spent in one of the merchant's statuses.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusTime {
    pub id: String,
    /// Orders placed in the period that left the status.
    pub orders: u64,
    pub average_hours: Option<f64>,
}

/// Returns of the orders placed in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Returns {
    pub orders: u64,
    pub returns: u64,
    /// Returned items by reason, most first.
    pub reasons: Vec<(String, u64)>,
}

impl Returns {
    /// Returns per 100 orders.
    pub fn per_100(&self) -> Option<f64> {
        (self.orders > 0).then(|| self.returns as f64 * 100.0 / self.orders as f64)
    }
}

/// Everything the insights page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub period: Period,
    pub shop: Option<String>,
    pub activity: Vec<DayActivity>,
    /// Status emails sent in the period, by event.
    pub sent_by_event: Vec<(String, u64)>,
    /// Orders placed in the period, and of those the ones whose shopper
    /// looked at least once.
    pub orders_placed: u64,
    pub orders_looked_at: u64,
    pub by_carrier: Vec<Delivery>,
    pub by_country: Vec<Delivery>,
    pub holds: Vec<Holds>,
    pub work: Vec<DayWork>,
    pub statuses: Vec<StatusTime>,
    pub returns: Returns,
}

impl Report {
    /// The share of orders placed whose shopper looked (0 to 1).
    pub fn looked_share(&self) -> Option<f64> {
        (self.orders_placed > 0)
            .then(|| (self.orders_looked_at as f64 / self.orders_placed as f64).min(1.0))
    }
}

/// The charts whose numbers export as CSV.
pub const CSV_CHARTS: [&str; 9] = [
    "summary",
    "activity",
    "emails",
    "carriers",
    "countries",
    "holds",
    "problems",
    "statuses",
    "returns",
];

/// A text cell a spreadsheet will not run as a formula (OWASP's CSV
/// injection advice: a leading `=`, `+`, `-`, `@`, tab or return gets a
/// `'`). Carrier names and reasons come from the shop's data.
fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(String::new, |x| format!("{x:.3}"))
}

impl Report {
    /// The numbers of `chart` (one of [`CSV_CHARTS`]) as CSV: a header
    /// row, ISO dates, plain numbers ("1.500", empty when unknown), for
    /// spreadsheets in any language. `None` for a chart we do not have.
    pub fn csv(&self, chart: &str) -> Option<String> {
        let mut rows: Vec<Vec<String>> = Vec::new();
        let n = |x: u64| x.to_string();
        match chart {
            "summary" => {
                rows.push(vec!["figure".into(), "value".into()]);
                rows.push(vec!["from".into(), self.period.from.to_string()]);
                rows.push(vec!["to".into(), self.period.to.to_string()]);
                rows.push(vec!["orders_placed".into(), n(self.orders_placed)]);
                rows.push(vec!["orders_looked_at".into(), n(self.orders_looked_at)]);
                rows.push(vec!["looked_share".into(), opt(self.looked_share())]);
            }
            "activity" => {
                rows.push(
                    [
                        "day",
                        "views",
                        "lookups_found",
                        "lookups_not_found",
                        "links_opened_from_email",
                        "links_requested",
                        "emails_sent",
                        "opt_outs",
                    ]
                    .map(String::from)
                    .to_vec(),
                );
                for a in &self.activity {
                    rows.push(vec![
                        a.day.to_string(),
                        n(a.views),
                        n(a.lookups_found),
                        n(a.lookups_missed),
                        n(a.links_opened),
                        n(a.links_requested),
                        n(a.emails_sent),
                        n(a.opt_outs),
                    ]);
                }
            }
            "emails" => {
                rows.push(vec!["event".into(), "sent".into()]);
                for (e, c) in &self.sent_by_event {
                    rows.push(vec![text(e), n(*c)]);
                }
            }
            "carriers" | "countries" => {
                rows.push(
                    [
                        if chart == "carriers" {
                            "carrier"
                        } else {
                            "country"
                        },
                        "orders",
                        "days_to_ship_median",
                        "days_to_ship_p90",
                        "days_in_transit_median",
                        "days_in_transit_p90",
                        "on_time_share",
                        "parcels",
                        "parcels_with_problems",
                        "problems_per_1000_parcels",
                    ]
                    .map(String::from)
                    .to_vec(),
                );
                let list = if chart == "carriers" {
                    &self.by_carrier
                } else {
                    &self.by_country
                };
                for d in list {
                    rows.push(vec![
                        text(&d.name),
                        n(d.orders),
                        opt(d.to_ship.map(|s| s.median)),
                        opt(d.to_ship.map(|s| s.p90)),
                        opt(d.transit.map(|s| s.median)),
                        opt(d.transit.map(|s| s.p90)),
                        opt(d.on_time),
                        n(d.parcels),
                        n(d.parcel_problems),
                        opt(d.problems_per_1000()),
                    ]);
                }
            }
            "holds" => {
                let mut head = vec!["reason".to_string(), "on_hold_now".to_string()];
                head.extend(self.period.days().iter().map(|d| format!("began_{d}")));
                rows.push(head);
                for h in &self.holds {
                    let mut row = vec![text(&h.reason), n(h.now)];
                    row.extend(h.begun.iter().map(|b| n(*b)));
                    rows.push(row);
                }
            }
            "problems" => {
                rows.push(vec!["day".into(), "opened".into(), "handled".into()]);
                for w in &self.work {
                    rows.push(vec![w.day.to_string(), n(w.opened), n(w.handled)]);
                }
            }
            "statuses" => {
                rows.push(vec![
                    "status".into(),
                    "orders".into(),
                    "average_hours".into(),
                ]);
                for s in &self.statuses {
                    rows.push(vec![text(&s.id), n(s.orders), opt(s.average_hours)]);
                }
            }
            "returns" => {
                rows.push(vec!["reason".into(), "items".into()]);
                for (r, c) in &self.returns.reasons {
                    rows.push(vec![text(r), n(*c)]);
                }
                rows.push(vec!["(returns)".into(), n(self.returns.returns)]);
                rows.push(vec!["(orders)".into(), n(self.returns.orders)]);
            }
            _ => return None,
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in rows {
            w.write_record(&row).ok()?;
        }
        String::from_utf8(w.into_inner().ok()?).ok()
    }
}
