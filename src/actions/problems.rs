//! The problem-orders queue: which orders need a person now, and why,
//! from the store's watch terms and the merchant's thresholds
//! (`[problems]`). Each row names the order, the reason and since when;
//! `/metrics` counts them per reason.

use chrono::{DateTime, Duration, Utc};

use crate::config::ProblemThresholds;
use crate::order::problems::{ProblemKind, Thresholds};
use crate::store::{Store, StoreError};

impl Thresholds for ProblemThresholds {
    fn allowed(&self, kind: ProblemKind) -> Duration {
        let days = match kind {
            ProblemKind::OnHold => self.on_hold_days,
            ProblemKind::NoScan => self.no_scan_days,
            ProblemKind::ReturnWaiting => self.return_days,
            ProblemKind::PaymentPending => self.payment_pending_days,
            // Passed is passed; failed is failed.
            ProblemKind::Late | ProblemKind::DeliveryFailed => 0,
        };
        Duration::days(i64::from(days))
    }
}

/// One order that needs a person, for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemRow {
    pub shop: String,
    pub id: u64,
    /// `#1001`.
    pub name: String,
    pub kind: ProblemKind,
    /// Since when the state has held.
    pub since: DateTime<Utc>,
}

/// The queue: counts per reason, and the oldest rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemQueue {
    pub counts: Vec<(ProblemKind, usize)>,
    pub rows: Vec<ProblemRow>,
}

/// The latest start of a `kind` state that is a problem at `now`.
fn cutoff(limits: &ProblemThresholds, kind: ProblemKind, now: DateTime<Utc>) -> DateTime<Utc> {
    now - limits.allowed(kind)
}

/// How many orders need a person, per reason.
pub fn counts(
    store: &Store,
    limits: &ProblemThresholds,
    now: DateTime<Utc>,
) -> Vec<(ProblemKind, usize)> {
    ProblemKind::ALL
        .into_iter()
        .map(|k| (k, store.problem_count(k, cutoff(limits, k, now))))
        .collect()
}

/// The queue at `now`: every reason, or only `only`; at most `limit`
/// rows, longest waiting first.
pub fn queue(
    store: &Store,
    limits: &ProblemThresholds,
    now: DateTime<Utc>,
    only: Option<ProblemKind>,
    limit: usize,
) -> Result<ProblemQueue, StoreError> {
    let mut out = ProblemQueue::default();
    for kind in ProblemKind::ALL {
        let wanted = only.is_none_or(|k| k == kind);
        let cut = cutoff(limits, kind, now);
        if !wanted {
            out.counts.push((kind, store.problem_count(kind, cut)));
            continue;
        }
        let (count, orders) = store.problem_orders(kind, cut, limit)?;
        out.counts.push((kind, count));
        for o in orders {
            // The term is to the hour; the order says exactly.
            let since = crate::order::problems::watches(&o)
                .into_iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, t)| t);
            if let Some(since) = since {
                out.rows.push(ProblemRow {
                    shop: o.shop.clone(),
                    id: o.id,
                    name: o.name.clone(),
                    kind,
                    since,
                });
            }
        }
    }
    out.rows.sort_by_key(|r| r.since);
    out.rows.truncate(limit);
    Ok(out)
}
