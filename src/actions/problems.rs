//! The problem-orders queue: which orders need a person now, and why,
//! from the store's watch terms and the merchant's thresholds
//! (`[problems]`). Each row names the order, the customer, the reason,
//! since when, the holds and who took it; `/metrics` counts them per
//! reason. Staff work it here ([`work`]): take an order, snooze it, mark a
//! problem handled, each through the store's writer and in the audit log.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::{ActionError, AuditEntry, AuditLog};
use crate::config::ProblemThresholds;
use crate::order::merge::Change;
use crate::order::problems::{Assignee, DeskUpdate, Handled, ProblemKind, Thresholds};
use crate::order::{HoldReason, Order};
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
    pub customer: Option<String>,
    pub email: String,
    pub kind: ProblemKind,
    /// Since when the state has held.
    pub since: DateTime<Utc>,
    /// Why work stopped, for an order on hold (with the merchant's note).
    pub holds: Vec<(HoldReason, Option<String>)>,
    /// Who took it (`alex`).
    pub taken_by: Option<String>,
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

/// How many orders need a person, per reason (neither handled nor
/// snoozed, taken or not).
pub fn counts(
    store: &Store,
    limits: &ProblemThresholds,
    now: DateTime<Utc>,
) -> Vec<(ProblemKind, usize)> {
    ProblemKind::ALL
        .into_iter()
        .map(|k| {
            let cut = cutoff(limits, k, now);
            (k, store.problem_count(k, cut, now, &Assignee::Anyone))
        })
        .collect()
}

/// The queue at `now`: every reason, or only `only`, of `who`; at most
/// `limit` rows, longest waiting first. The counts per reason are `who`'s
/// too.
pub fn queue(
    store: &Store,
    limits: &ProblemThresholds,
    now: DateTime<Utc>,
    only: Option<ProblemKind>,
    who: &Assignee,
    limit: usize,
) -> Result<ProblemQueue, StoreError> {
    let mut out = ProblemQueue::default();
    for kind in ProblemKind::ALL {
        let wanted = only.is_none_or(|k| k == kind);
        let cut = cutoff(limits, kind, now);
        if !wanted {
            out.counts
                .push((kind, store.problem_count(kind, cut, now, who)));
            continue;
        }
        let (count, orders) = store.problem_orders(kind, cut, now, who, limit)?;
        out.counts.push((kind, count));
        for o in orders {
            // The term is to the hour; the order says exactly.
            let since = crate::order::problems::open_watches(&o)
                .into_iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, t)| t);
            if let Some(since) = since {
                out.rows.push(row(&o, kind, since));
            }
        }
    }
    out.rows.sort_by_key(|r| r.since);
    out.rows.truncate(limit);
    Ok(out)
}

fn row(o: &Order, kind: ProblemKind, since: DateTime<Utc>) -> ProblemRow {
    let holds = if kind == ProblemKind::OnHold {
        o.fulfillment_orders
            .iter()
            .flat_map(|fo| &fo.fulfillment_holds)
            .map(|h| (h.reason.clone(), h.reason_notes.clone()))
            .collect()
    } else {
        Vec::new()
    };
    ProblemRow {
        shop: o.shop.clone(),
        id: o.id,
        name: o.name.clone(),
        customer: o.customer_name(),
        email: o.email.clone(),
        kind,
        since,
        holds,
        taken_by: o.desk.taken_by.clone(),
    }
}

/// Longest note on a handled problem.
pub const MAX_HANDLED_NOTE: usize = 500;
/// Longest snooze.
pub const MAX_SNOOZE_DAYS: i64 = 90;

/// What staff do with a problem order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Assign it to the person acting.
    Take,
    /// Nobody has it.
    Release,
    /// Out of the queue until then (rounded up to the hour, at most
    /// [`MAX_SNOOZE_DAYS`] ahead); `None` brings it back now.
    Snooze(Option<DateTime<Utc>>),
    /// The problem `kind` is dealt with (a note optional): out of the
    /// queue until the state changes.
    Handle { kind: ProblemKind, note: String },
}

impl Work {
    /// The audit log's action name.
    pub fn action(&self) -> &'static str {
        match self {
            Work::Take => "problem.take",
            Work::Release => "problem.release",
            Work::Snooze(Some(_)) => "problem.snooze",
            Work::Snooze(None) => "problem.unsnooze",
            Work::Handle { .. } => "problem.handled",
        }
    }
}

/// Why a piece of work on a problem order was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkRefused {
    #[error("the order is not in that problem state")]
    NotAProblem,
    #[error("a snooze must end in the future, and within {MAX_SNOOZE_DAYS} days")]
    SnoozeRange,
    #[error("the note is longer than {MAX_HANDLED_NOTE} characters")]
    LongNote,
}

/// Does `work` on the order `key` as `name` (a staff account) at `now`:
/// one change through the store's writer, then a line in the audit log.
/// `Ok(Err(_))` is a refusal (nothing changed).
pub async fn work(
    store: &Store,
    audit: &AuditLog,
    key: &str,
    name: &str,
    work: Work,
    now: DateTime<Utc>,
) -> Result<Result<(), WorkRefused>, ActionError> {
    let order = store.get(key)?.ok_or(ActionError::NoSuchOrder)?;
    let by = format!("staff:{name}");
    let (update, detail) = match &work {
        Work::Take => (
            DeskUpdate::Take {
                name: name.to_string(),
            },
            order
                .desk
                .taken_by
                .clone()
                .map(|from| format!("from {from}"))
                .unwrap_or_default(),
        ),
        Work::Release => (DeskUpdate::Release, String::new()),
        Work::Snooze(None) => (DeskUpdate::Snooze { until: None }, String::new()),
        Work::Snooze(Some(until)) => {
            // On the hour: the index tells "snoozed now" to the hour.
            let until = until
                .duration_trunc(Duration::hours(1))
                .map(|t| {
                    if t < *until {
                        t + Duration::hours(1)
                    } else {
                        t
                    }
                })
                .unwrap_or(*until);
            if until <= now || until > now + Duration::days(MAX_SNOOZE_DAYS) {
                return Ok(Err(WorkRefused::SnoozeRange));
            }
            (
                DeskUpdate::Snooze { until: Some(until) },
                format!("until {}", until.to_rfc3339()),
            )
        }
        Work::Handle { kind, note } => {
            let note = note.trim();
            if note.chars().count() > MAX_HANDLED_NOTE {
                return Ok(Err(WorkRefused::LongNote));
            }
            let Some((_, since)) = crate::order::problems::open_watches(&order)
                .into_iter()
                .find(|(k, _)| k == kind)
            else {
                return Ok(Err(WorkRefused::NotAProblem));
            };
            let detail = if note.is_empty() {
                kind.as_str().to_string()
            } else {
                format!("{}: {note}", kind.as_str())
            };
            (
                DeskUpdate::Handle(Handled {
                    kind: kind.as_str().to_string(),
                    since,
                    at: now,
                    by: by.clone(),
                    note: (!note.is_empty()).then(|| note.to_string()),
                }),
                detail,
            )
        }
    };
    let report = store
        .apply(vec![Change::Desk {
            key: key.to_string(),
            update,
        }])
        .await?;
    if report.unknown > 0 {
        return Err(ActionError::NoSuchOrder);
    }
    audit
        .append(vec![AuditEntry::new(&by, work.action(), Some(key), detail)])
        .await?;
    Ok(Ok(()))
}
