//! The store's side of replication: with a [`ChangeLog`] set, a write is
//! not applied where it is made. It is encoded, appended to the log (a
//! JetStream stream, see `crate::replicate`), and applied by every
//! replica, this one included, as the log hands it back in order. The
//! caller is answered once this replica has applied it, so a write is
//! still visible to the next read here; the log is what makes it durable.
//!
//! The store knows nothing of NATS: the log is a trait, and entries are
//! bytes whose format lives here, beside the writer that applies them.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::writer::Op;
use super::{StoreError, WriteReport};
use crate::order::merge::Change;

/// Where writes go when replication is on.
pub trait ChangeLog: Send + Sync + 'static {
    /// Appends one entry; resolves with its position once the log has
    /// stored it (and not before), or fails and stored nothing that will
    /// be acknowledged.
    fn append(&self, entry: Vec<u8>) -> BoxFuture<'static, Result<u64, StoreError>>;
}

/// The largest entry: NATS refuses messages over 1 MiB by default, and a
/// batch of orders is split to stay well under it.
pub const MAX_ENTRY: usize = 768 << 10;

/// How many applied results are kept for writers that ask after the
/// replica applied their entry (the log answered them late).
const RECENT: usize = 4096;

/// One write as it travels in the log.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Entry {
    /// The format, for readers of an older log.
    pub v: u32,
    /// When the write was made: every replica's write hook sees this time.
    pub at: DateTime<Utc>,
    pub op: Op,
}

const VERSION: u32 = 1;

/// Encodes `op` into entries of at most [`MAX_ENTRY`] bytes each (a batch
/// of changes is split; one change larger than that is refused).
pub(super) fn encode(op: Op, at: DateTime<Utc>) -> Result<Vec<Vec<u8>>, StoreError> {
    let one = |op: Op| {
        serde_json::to_vec(&Entry { v: VERSION, at, op }).map_err(|e| StoreError::Encode(e.into()))
    };
    let changes = match op {
        Op::Apply(changes) => changes,
        other => return Ok(vec![one(other)?]),
    };
    let mut out = Vec::new();
    let mut batch: Vec<Change> = Vec::new();
    let mut size = 0;
    for change in changes {
        let len = serde_json::to_vec(&change)
            .map_err(|e| StoreError::Encode(e.into()))?
            .len();
        if len + 64 > MAX_ENTRY {
            return Err(StoreError::Encode(
                format!(
                    "order {} is {len} bytes encoded, more than the replication log takes ({MAX_ENTRY})",
                    change.key()
                )
                .into(),
            ));
        }
        if size + len + 64 > MAX_ENTRY && !batch.is_empty() {
            out.push(one(Op::Apply(std::mem::take(&mut batch)))?);
            size = 0;
        }
        size += len + 1;
        batch.push(change);
    }
    if !batch.is_empty() || out.is_empty() {
        out.push(one(Op::Apply(batch))?);
    }
    Ok(out)
}

/// Decodes an entry read from the log.
pub(super) fn decode(bytes: &[u8]) -> Result<Entry, StoreError> {
    let entry: Entry = serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(crate::logsafe::json_error(&e).into()))?;
    if entry.v != VERSION {
        return Err(StoreError::Corrupt(
            format!(
                "a log entry of format {} (this build reads {VERSION})",
                entry.v
            )
            .into(),
        ));
    }
    Ok(entry)
}

/// The commit payload that records how much of the log the index holds.
pub(super) fn payload(seq: u64) -> String {
    format!("{{\"log_seq\":{seq}}}")
}

/// The log position a commit payload records (0: none).
pub(super) fn parse_payload(payload: Option<&str>) -> u64 {
    #[derive(Deserialize)]
    struct P {
        log_seq: u64,
    }
    payload
        .and_then(|p| serde_json::from_str::<P>(p).ok())
        .map_or(0, |p| p.log_seq)
}

type Result_ = Result<WriteReport, StoreError>;

/// What of the log this replica has applied, and who waits for what.
#[derive(Debug, Default)]
pub(super) struct Applied {
    seq: AtomicU64,
    inner: Mutex<Waiting>,
}

#[derive(Debug, Default)]
struct Waiting {
    waiters: HashMap<u64, oneshot::Sender<Result_>>,
    recent: VecDeque<(u64, WriteReport)>,
}

impl Applied {
    pub(super) fn new(seq: u64) -> Applied {
        Applied {
            seq: AtomicU64::new(seq),
            inner: Mutex::default(),
        }
    }

    pub(super) fn seq(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }

    /// A receiver for the result of applying entry `seq` here.
    pub(super) fn wait(&self, seq: u64) -> oneshot::Receiver<Result_> {
        let (tx, rx) = oneshot::channel();
        let mut w = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if self.seq() >= seq {
            // Applied before the log's answer reached the writer.
            let report = w
                .recent
                .iter()
                .find(|(s, _)| *s == seq)
                .map_or_else(WriteReport::default, |(_, r)| *r);
            let _ = tx.send(Ok(report));
        } else {
            w.waiters.insert(seq, tx);
        }
        rx
    }

    /// Entry `seq` was applied here (or failed to be).
    pub(super) fn done(&self, seq: u64, result: Result_) {
        let mut w = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(report) = &result {
            self.seq.fetch_max(seq, Ordering::AcqRel);
            w.recent.push_back((seq, *report));
            if w.recent.len() > RECENT {
                w.recent.pop_front();
            }
        }
        if let Some(tx) = w.waiters.remove(&seq) {
            let _ = tx.send(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Order;

    fn order_of(i: u64, title_len: usize) -> Order {
        serde_json::from_value(serde_json::json!({
            "shop": "s.myshopify.com", "id": i, "order_number": i, "name": format!("#{i}"),
            "email": "a@example.se", "created_at": "2026-11-01T10:00:00Z",
            "line_items": [{"id": 1, "title": "x".repeat(title_len), "quantity": 1}],
        }))
        .expect("order")
    }

    fn big_order(i: u64) -> Order {
        order_of(i, 100_000)
    }

    #[test]
    fn a_large_batch_is_split_and_comes_back_whole() {
        let orders: Vec<Change> = (1..=20).map(|i| Change::Replace(big_order(i))).collect();
        let at = Utc::now();
        let entries = encode(Op::Apply(orders.clone()), at).expect("encode");
        assert!(entries.len() >= 3, "20 orders of 100 kB: {}", entries.len());
        assert!(entries.iter().all(|e| e.len() <= MAX_ENTRY));
        let mut back = Vec::new();
        for e in &entries {
            let entry = decode(e).expect("decode");
            assert_eq!(entry.at, at);
            match entry.op {
                Op::Apply(c) => back.extend(c),
                other => panic!("not an apply: {other:?}"),
            }
        }
        assert_eq!(back, orders);
    }

    #[test]
    fn an_order_too_large_for_the_log_is_refused_with_its_key() {
        let o = order_of(7, MAX_ENTRY);
        let err = encode(Op::Apply(vec![Change::Replace(o)]), Utc::now()).expect_err("too big");
        let said = crate::errors::chain(&err);
        assert!(said.contains("s.myshopify.com/7"), "{said}");
    }

    #[test]
    fn unreadable_and_future_entries_are_refused() {
        assert!(decode(b"{not json").is_err());
        let e = serde_json::json!({"v": 2, "at": "2026-11-01T10:00:00Z", "op": {"Delete": []}});
        assert!(decode(e.to_string().as_bytes()).is_err());
    }

    #[test]
    fn the_payload_round_trips() {
        assert_eq!(parse_payload(Some(&payload(42))), 42);
        assert_eq!(parse_payload(None), 0);
        assert_eq!(parse_payload(Some("imported 3 orders")), 0);
    }

    #[test]
    fn a_writer_asking_late_still_gets_its_report() {
        let a = Applied::new(0);
        let early = a.wait(1);
        let report = WriteReport {
            applied: 1,
            ..WriteReport::default()
        };
        a.done(1, Ok(report));
        a.done(2, Ok(WriteReport::default()));
        let late = a.wait(1);
        assert_eq!(early.blocking_recv().expect("sent").expect("ok"), report);
        assert_eq!(late.blocking_recv().expect("sent").expect("ok"), report);
        assert_eq!(a.seq(), 2);
    }
}
