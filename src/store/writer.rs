//! The single writer: one thread owns the `IndexWriter` for the life of the
//! store and applies every change.
//!
//! Group commit: the thread takes the first waiting command, then whatever
//! else is already queued (up to a bound), applies them all, commits once,
//! reloads the reader and only then acknowledges every command of the
//! group. So an acknowledged write is durable and visible to the next
//! read, and a burst of writers pays for one commit, not one each.
//!
//! Every change goes through [`crate::order::merge::apply`] with the
//! stored version of its order (or, for a plain replace, is judged by the
//! stored `updated_at` alone, which needs no document read): as the only
//! writer, the thread sees every change to an order in turn, so two merges
//! of one order can never interleave and lose each other's part.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use tantivy::{IndexReader, IndexWriter, Searcher, Term};
use tokio::sync::{mpsc, oneshot};

use super::schema::{Fields, document};
use super::{StoreError, WriteHook, WriteReport, find_doc, load, stored_updated_at};
use crate::order::Order;
use crate::order::mail_log::MailUpdate;
use crate::order::merge::{self, Change, Merged};

/// How many commands one commit may group. Bounds the latency one writer
/// adds to the others.
const MAX_GROUP: usize = 64;
/// How many changes one commit may group (the group's orders are held in
/// memory until the commit).
const MAX_GROUP_CHANGES: usize = 10_000;

/// A change for the writer thread, with where to send the result.
#[derive(Debug)]
pub struct Command {
    pub op: Op,
    /// When the write was made (the write hook's "now").
    pub at: DateTime<Utc>,
    /// The write's position in the replication log, when it came from
    /// there: the commit holding it records the highest such position, so
    /// the index and what of the log it holds are saved as one.
    pub seq: Option<u64>,
    pub ack: oneshot::Sender<Result<WriteReport, StoreError>>,
}

/// What to change.
#[derive(Debug, Serialize, Deserialize)]
pub enum Op {
    /// Changes to orders, applied in order.
    Apply(Vec<Change>),
    Delete(Vec<String>),
    /// Every order of a shop (Shopify's `shop/redact`).
    DeleteShop(String),
}

/// A key's state within the group being applied (not yet visible to the
/// searcher).
enum Pending {
    Written(Arc<Order>),
    Deleted,
}

impl Op {
    /// How many orders (or shops) the operation names.
    pub(super) fn changes(&self) -> usize {
        match self {
            Op::Apply(c) => c.len(),
            Op::Delete(k) => k.len(),
            Op::DeleteShop(_) => 1,
        }
    }
}

/// What the writer thread works with besides its `IndexWriter`.
pub struct With {
    pub reader: IndexReader,
    pub fields: Fields,
    pub stats: Arc<super::CommitStats>,
    pub hook: Option<WriteHook>,
    /// The replication log entry the index holds last (0: none).
    pub log_seq: u64,
    /// See [`super::StoreOptions::commits_apart`].
    pub commits_apart: std::time::Duration,
}

/// Makes a fresh `IndexWriter` (at start, and after a failed write).
pub type MakeWriter = Box<dyn Fn() -> tantivy::Result<IndexWriter> + Send>;

/// Runs until every sender is dropped.
///
/// After a failed write (a full or read-only disk, say) the writer is
/// dropped and made anew for the next group: tantivy may leave a writer
/// whose indexing thread died unusable, and a new one starts from the last
/// good commit, so the store recovers by itself once the disk does.
pub fn run(
    writer: IndexWriter,
    make_writer: MakeWriter,
    mut rx: mpsc::Receiver<Command>,
    with: With,
) {
    let With {
        reader,
        fields,
        stats,
        hook,
        mut log_seq,
        commits_apart,
    } = with;
    let mut writer = Some(writer);
    let mut last_began: Option<std::time::Instant> = None;
    while let Some(first) = rx.blocking_recv() {
        // Under a stream of writes, wait out the rest of the interval so
        // the writes behind this one join its commit; after a quiet spell
        // there is nothing left to wait.
        if let Some(wait) = last_began
            .map(|t| (t + commits_apart).saturating_duration_since(std::time::Instant::now()))
            .filter(|w| !w.is_zero())
        {
            std::thread::sleep(wait);
        }
        last_began = Some(std::time::Instant::now());
        let mut size = first.op.changes();
        let mut group = vec![first];
        while group.len() < MAX_GROUP && size < MAX_GROUP_CHANGES {
            match rx.try_recv() {
                Ok(cmd) => {
                    size += cmd.op.changes();
                    group.push(cmd);
                }
                Err(_) => break,
            }
        }
        let group = in_log_order(group, log_seq);
        if group.is_empty() {
            continue;
        }
        let mut group = group;
        if writer.is_none() {
            match make_writer() {
                Ok(w) => {
                    tracing::info!("store writer recovered");
                    writer = Some(w);
                }
                Err(e) => {
                    tracing::error!(error = %crate::errors::chain(&e), "store writer cannot be reopened; writes refused");
                    for cmd in group {
                        let _ = cmd.ack.send(Err(StoreError::Unavailable));
                    }
                    continue;
                }
            }
        }
        let Some(w) = writer.as_mut() else {
            continue;
        };
        let group_seq = group.iter().filter_map(|c| c.seq).max().unwrap_or(0);
        let applying = std::time::Instant::now();
        let result = apply(w, &reader, &fields, &mut group, hook.as_ref()).and_then(|reports| {
            let started = std::time::Instant::now();
            let mut prepared = w.prepare_commit().map_err(StoreError::write)?;
            let prepared_at = std::time::Instant::now();
            // Every commit says it again: one without a payload would
            // forget it.
            let seq = log_seq.max(group_seq);
            if seq > 0 {
                prepared.set_payload(&super::log::payload(seq));
            }
            prepared.commit().map_err(StoreError::write)?;
            let committed_at = std::time::Instant::now();
            reader.reload().map_err(StoreError::write)?;
            // Where a commit's time goes, for whoever tunes it
            // (`RUST_LOG=order_status::store::writer=debug`).
            tracing::debug!(
                commands = group.len(),
                apply_us = (started - applying).as_micros() as u64,
                flush_us = (prepared_at - started).as_micros() as u64,
                commit_us = (committed_at - prepared_at).as_micros() as u64,
                reload_us = committed_at.elapsed().as_micros() as u64,
                "group committed"
            );
            stats
                .commits
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            stats.micros.fetch_add(
                started.elapsed().as_micros() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
            Ok(reports)
        });
        match result {
            Ok(reports) => {
                log_seq = log_seq.max(group_seq);
                for (cmd, report) in group.into_iter().zip(reports) {
                    let _ = cmd.ack.send(Ok(report));
                }
            }
            Err(e) => {
                tracing::error!(
                    error = %crate::errors::chain(&e),
                    "store write failed (disk full or read-only?); the whole group is rolled back, reads go on"
                );
                if let Err(e) = w.rollback() {
                    tracing::error!(error = %crate::errors::chain(&e), "rollback failed");
                }
                // Start the next group from a fresh writer.
                writer = None;
                for cmd in group {
                    let _ = cmd.ack.send(Err(StoreError::Unavailable));
                }
            }
        }
    }
    // Every handle is gone, and every group was committed before its ack.
    if let Some(w) = writer
        && let Err(e) = w.wait_merging_threads()
    {
        tracing::warn!(error = %crate::errors::chain(&e), "merge threads ended with an error");
    }
}

/// Keeps the commands to apply: entries of the replication log apply
/// exactly once and without gaps. One the index holds already (a log
/// redelivery) is answered as done; one after a gap (an earlier entry
/// failed to commit and will come again) is refused until the gap fills.
fn in_log_order(group: Vec<Command>, log_seq: u64) -> Vec<Command> {
    let mut next = log_seq + 1;
    let mut kept = Vec::with_capacity(group.len());
    for cmd in group {
        match cmd.seq {
            Some(s) if s < next => {
                let _ = cmd.ack.send(Ok(WriteReport::default()));
            }
            Some(s) if s > next => {
                let _ = cmd.ack.send(Err(StoreError::Unavailable));
            }
            Some(_) => {
                next += 1;
                kept.push(cmd);
            }
            None => kept.push(cmd),
        }
    }
    kept
}

fn apply(
    writer: &mut IndexWriter,
    reader: &IndexReader,
    fields: &Fields,
    group: &mut [Command],
    hook: Option<&WriteHook>,
) -> Result<Vec<WriteReport>, StoreError> {
    let searcher = reader.searcher();
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut reports = Vec::with_capacity(group.len());
    for cmd in group.iter_mut() {
        let at = cmd.at;
        let mut report = WriteReport::default();
        match &mut cmd.op {
            Op::Apply(changes) => {
                for change in std::mem::take(changes) {
                    let key = change.key();
                    // Whether a version of the order is in the index (or
                    // written earlier in this group) and must be deleted.
                    let mut indexed = matches!(pending.get(&key), Some(Pending::Written(_)));
                    let touch = matches!(
                        change,
                        Change::Mail {
                            update: MailUpdate::Touch,
                            ..
                        }
                    );
                    let (outcome, stored) = if change.is_replace() {
                        replace(&searcher, fields, &pending, &key, change, &mut indexed)?
                    } else {
                        let stored = match pending.get(&key) {
                            Some(Pending::Written(o)) => Some(Arc::clone(o)),
                            Some(Pending::Deleted) => None,
                            None => match find_doc(&searcher, fields, &key) {
                                Some(addr) => {
                                    indexed = true;
                                    Some(Arc::new(load(&searcher, fields, addr)?))
                                }
                                None => None,
                            },
                        };
                        (merge::apply(stored.as_deref(), change), stored)
                    };
                    let outcome = match (outcome, hook) {
                        (Merged::Write(mut order), Some(h)) => {
                            (h.0)(stored.as_deref(), &mut order, at);
                            Merged::Write(order)
                        }
                        // A touch changes nothing itself; it is written
                        // only if the hook finds something (a late parcel).
                        (Merged::Unchanged, Some(h)) if touch => match stored.as_deref() {
                            Some(s) => {
                                let mut order = Box::new(s.clone());
                                (h.0)(Some(s), &mut order, at);
                                if *order == *s {
                                    Merged::Unchanged
                                } else {
                                    Merged::Write(order)
                                }
                            }
                            None => Merged::Unchanged,
                        },
                        (outcome, _) => outcome,
                    };
                    match outcome {
                        Merged::Write(order) => {
                            let doc = document(fields, &order)
                                .map_err(|e| StoreError::Encode(e.into()))?;
                            // A new order has nothing to delete; deleting
                            // anyway costs every commit a term lookup.
                            if indexed || matches!(pending.get(&key), Some(Pending::Deleted)) {
                                writer.delete_term(Term::from_field_text(fields.key, &key));
                            }
                            writer.add_document(doc).map_err(StoreError::write)?;
                            pending.insert(key, Pending::Written(Arc::from(order)));
                            report.applied += 1;
                        }
                        Merged::Stale => report.stale += 1,
                        Merged::Unchanged => report.unchanged += 1,
                        Merged::UnknownOrder => report.unknown += 1,
                    }
                }
            }
            Op::DeleteShop(shop) => {
                let term = Term::from_field_text(fields.shop, shop);
                report.applied = super::docs_with_term(&searcher, term.clone()).len();
                writer.delete_term(term);
                // Orders of this shop written earlier in the group go too.
                let prefix = format!("{shop}/");
                for (key, v) in pending.iter_mut() {
                    if key.starts_with(&prefix) {
                        *v = Pending::Deleted;
                    }
                }
            }
            Op::Delete(keys) => {
                for key in keys.iter() {
                    let exists = match pending.get(key) {
                        Some(Pending::Written(_)) => true,
                        Some(Pending::Deleted) => false,
                        None => find_doc(&searcher, fields, key).is_some(),
                    };
                    if exists {
                        writer.delete_term(Term::from_field_text(fields.key, key));
                        pending.insert(key.clone(), Pending::Deleted);
                        report.applied += 1;
                    }
                }
            }
        }
        reports.push(report);
    }
    Ok(reports)
}

/// A replace: an older version than the stored one is stale, which the
/// stored `updated_at` (a fast field) tells without reading the order;
/// otherwise it is merged with the stored order to keep what is ours.
fn replace(
    searcher: &Searcher,
    fields: &Fields,
    pending: &HashMap<String, Pending>,
    key: &str,
    change: Change,
    indexed: &mut bool,
) -> Result<(Merged, Option<Arc<Order>>), StoreError> {
    let stored = match pending.get(key) {
        Some(Pending::Written(o)) => Some(Arc::clone(o)),
        Some(Pending::Deleted) => None,
        None => match find_doc(searcher, fields, key) {
            None => None,
            Some(addr) => {
                *indexed = true;
                let stored_at = stored_updated_at(searcher, fields, addr);
                let incoming = change.order().and_then(|o| o.updated_at);
                if matches!((incoming, stored_at), (Some(new), Some(old)) if new < old)
                    || (incoming.is_none() && stored_at.is_some())
                {
                    return Ok((Merged::Stale, None));
                }
                Some(Arc::new(load(searcher, fields, addr)?))
            }
        },
    };
    Ok((merge::apply(stored.as_deref(), change), stored))
}
