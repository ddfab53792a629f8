//! The read side of the store: an order by key, the shopper's lookup,
//! the mail and problem queues, search, and the term-level helpers the
//! writer shares (finding an order's live document, loading it).
//!
//! Every read takes the latest committed searcher; nothing here waits for
//! the writer.

use std::ops::Bound;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tantivy::index::SegmentReader;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, TantivyDocument, Term};

use super::schema::{self, Fields, lookup_term};
use super::{SearchQuery, SearchResults, Store, StoreError, query};
use crate::order::problems::{Assignee, ProblemKind, SNOOZED, TAKEN, taken_term, watch_term};
use crate::order::{Order, normalize_email};

impl Store {
    /// The order with this key (`shop/id`).
    pub fn get(&self, key: &str) -> Result<Option<Order>, StoreError> {
        let searcher = self.reader.searcher();
        match find_doc(&searcher, &self.fields, key) {
            Some(addr) => load(&searcher, &self.fields, addr).map(Some),
            None => Ok(None),
        }
    }

    /// [`Store::get`] for pages that only read the order, shared rather
    /// than copied: a recently opened order is not decoded again (see
    /// `recent`).
    pub fn get_shared(&self, key: &str) -> Result<Option<Arc<Order>>, StoreError> {
        let searcher = self.reader.searcher();
        self.recent.get(
            &searcher,
            key,
            || find_doc(&searcher, &self.fields, key),
            |addr| load(&searcher, &self.fields, addr),
        )
    }

    /// The order a shopper means by this order number and email, both as
    /// typed ("#1001", " Anna@Example.se "). `None` when either is wrong.
    ///
    /// A miss loads a stored document all the same and throws it away, so
    /// a right pair, a wrong email and an unknown number take the same work
    /// (one term probe, one document read): the lookup form's answer for a
    /// locked order number must not be told apart by its timing.
    pub fn lookup(&self, order_number: u64, email: &str) -> Result<Option<Order>, StoreError> {
        let searcher = self.reader.searcher();
        let term = lookup_term(order_number, &normalize_email(email));
        let addrs = docs_with_term(&searcher, Term::from_field_bytes(self.fields.lookup, &term));
        if addrs.is_empty() {
            if let Some(any) = some_doc(&searcher, &term) {
                let _ = std::hint::black_box(load(&searcher, &self.fields, any));
            }
            return Ok(None);
        }
        // Several shops may share an order number and email; the most
        // recently updated order is the one the shopper is asking about.
        let mut best: Option<Order> = None;
        for addr in addrs {
            let order = load(&searcher, &self.fields, addr)?;
            if best
                .as_ref()
                .is_none_or(|b| order.updated_at > b.updated_at)
            {
                best = Some(order);
            }
        }
        Ok(best)
    }

    /// Up to `limit` orders with an email waiting to be sent.
    pub fn mail_queued(&self, limit: usize) -> Result<Vec<Order>, StoreError> {
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.mail, schema::MAIL_QUEUED);
        docs_with_term(&searcher, term)
            .into_iter()
            .take(limit)
            .map(|addr| load(&searcher, &self.fields, addr))
            .collect()
    }

    /// Up to `limit` orders whose status tag disagrees with their status
    /// (see `Order::status_tag_stale`).
    pub fn status_tags_stale(&self, limit: usize) -> Result<Vec<Order>, StoreError> {
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.watch, schema::WATCH_TAG_STALE);
        docs_with_term(&searcher, term)
            .into_iter()
            .take(limit)
            .map(|addr| load(&searcher, &self.fields, addr))
            .collect()
    }

    /// How many orders have a message waiting to be sent.
    pub fn mail_queued_count(&self) -> usize {
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.mail, schema::MAIL_QUEUED);
        docs_with_term(&searcher, term).len()
    }

    /// The keys of orders with a parcel due in `hour` (`YYYY-MM-DDTHH`,
    /// UTC, see `order::mail_log::watch_hour`) and not yet noticed late.
    pub fn mail_due_in(&self, hour: &str) -> Vec<String> {
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.mail, &format!("{}{hour}", schema::MAIL_DUE));
        docs_with_term(&searcher, term)
            .into_iter()
            .filter_map(|addr| load(&searcher, &self.fields, addr).ok())
            .map(|o| o.key())
            .collect()
    }

    /// Orders in problem state `kind` since `cutoff` or earlier (to the
    /// hour), not snoozed at `now`, of `who`: how many, and up to `limit`
    /// of them. (Handled problems are not in the index.)
    pub fn problem_orders(
        &self,
        kind: ProblemKind,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        who: &Assignee,
        limit: usize,
    ) -> Result<(usize, Vec<Order>), StoreError> {
        let searcher = self.reader.searcher();
        let query = problem_query(&self.fields, kind, cutoff, now, who);
        let (count, top) = searcher
            .search(
                &query,
                &(
                    tantivy::collector::Count,
                    tantivy::collector::TopDocs::with_limit(limit.max(1)),
                ),
            )
            .map_err(StoreError::read)?;
        let orders = top
            .into_iter()
            .take(limit)
            .map(|(_, addr)| load(&searcher, &self.fields, addr))
            .collect::<Result<_, _>>()?;
        Ok((count, orders))
    }

    /// How many orders [`Store::problem_orders`] would find.
    pub fn problem_count(
        &self,
        kind: ProblemKind,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        who: &Assignee,
    ) -> usize {
        let searcher = self.reader.searcher();
        searcher
            .search(
                &problem_query(&self.fields, kind, cutoff, now, who),
                &tantivy::collector::Count,
            )
            .unwrap_or(0)
    }

    /// Full-text search with filters, sorting and paging.
    pub fn search(&self, q: &SearchQuery) -> Result<SearchResults, StoreError> {
        query::search(&self.reader.searcher(), &self.fields, &self.typos, q)
    }

    /// The keys of every order `q` matches, sorted, if there are at most
    /// `max` (else `None`), with how many match.
    pub fn search_keys(
        &self,
        q: &SearchQuery,
        max: usize,
    ) -> Result<(usize, Option<Vec<String>>), StoreError> {
        query::all_keys(&self.reader.searcher(), &self.fields, &self.typos, q, max)
    }

    /// Orders in the store.
    pub fn count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// `kind`'s watch terms up to the hour of `cutoff` (the terms sort by
/// time, so this is one range over the term dictionary), less the orders
/// snoozed past the current hour, and only `who`'s.
fn problem_query(
    fields: &Fields,
    kind: ProblemKind,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    who: &Assignee,
) -> BooleanQuery {
    let range = |from: Bound<String>, to: Bound<String>| -> Box<dyn Query> {
        let term = |s: String| Term::from_field_text(fields.watch, &s);
        Box::new(RangeQuery::new(from.map(term), to.map(term)))
    };
    // ';' sorts right after ':', so "prefix:" up to "prefix;" is every
    // term with the prefix.
    let all = |prefix: &str| -> (Bound<String>, Bound<String>) {
        (
            Bound::Included(prefix.to_string()),
            Bound::Excluded(prefix.replace(':', ";")),
        )
    };
    let mut clauses = vec![
        (
            Occur::Must,
            range(
                Bound::Included(format!("{}:", kind.as_str())),
                Bound::Included(watch_term(kind, cutoff)),
            ),
        ),
        (
            Occur::MustNot,
            range(
                Bound::Excluded(crate::order::problems::snooze_term(now)),
                all(SNOOZED).1,
            ),
        ),
    ];
    match who {
        Assignee::Anyone => {}
        Assignee::Taken(name) => clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(fields.watch, &taken_term(name)),
                IndexRecordOption::Basic,
            )),
        )),
        Assignee::Nobody => {
            let (from, to) = all(TAKEN);
            clauses.push((Occur::MustNot, range(from, to)));
        }
    }
    BooleanQuery::new(clauses)
}

/// The live documents holding `term`, across segments.
pub(super) fn docs_with_term(searcher: &Searcher, term: Term) -> Vec<DocAddress> {
    let mut found = Vec::new();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        for doc in segment_docs(segment, &term) {
            found.push(DocAddress::new(ord as u32, doc));
        }
    }
    found
}

fn segment_docs(segment: &SegmentReader, term: &Term) -> Vec<u32> {
    let Ok(inverted) = segment.inverted_index(term.field()) else {
        return Vec::new();
    };
    let Ok(Some(mut postings)) = inverted.read_postings(term, IndexRecordOption::Basic) else {
        return Vec::new();
    };
    let alive = segment.alive_bitset();
    let mut docs = Vec::new();
    let mut doc = postings.doc();
    while doc != TERMINATED {
        if alive.is_none_or(|a| a.is_alive(doc)) {
            docs.push(doc);
        }
        doc = postings.advance();
    }
    docs
}

/// A reader that moves to a new commit only when told (the writer tells
/// A live document picked by `seed` (a lookup term, so a different one
/// each time, as a real hit would be: reading the same, cached, document
/// on every miss would make misses measurably faster than hits).
fn some_doc(searcher: &Searcher, seed: &[u8]) -> Option<DocAddress> {
    let total = searcher.num_docs();
    if total == 0 {
        return None;
    }
    let h = seed.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut target = h % total;
    for (ord, seg) in searcher.segment_readers().iter().enumerate() {
        let alive = u64::from(seg.num_docs());
        if target < alive {
            // Start at the target position; deleted documents are few, so
            // the next live one is near.
            let max = seg.max_doc();
            let start = (target as u32).min(max.saturating_sub(1));
            return (start..max)
                .chain(0..start)
                .find(|d| seg.alive_bitset().is_none_or(|a| a.is_alive(*d)))
                .map(|d| DocAddress::new(ord as u32, d));
        }
        target -= alive;
    }
    None
}

/// The live document of an order key (keys are unique among live docs).
pub(super) fn find_doc(searcher: &Searcher, fields: &Fields, key: &str) -> Option<DocAddress> {
    // A key has one live document: the first found is the one.
    let term = Term::from_field_text(fields.key, key);
    searcher
        .segment_readers()
        .iter()
        .enumerate()
        .find_map(|(ord, segment)| {
            let doc = *segment_docs(segment, &term).first()?;
            Some(DocAddress::new(ord as u32, doc))
        })
}

/// The `updated_at` of a stored document, from its fast field.
pub(super) fn stored_updated_at(
    searcher: &Searcher,
    fields: &Fields,
    addr: DocAddress,
) -> Option<DateTime<Utc>> {
    let segment = searcher.segment_reader(addr.segment_ord);
    let name = searcher.schema().get_field_name(fields.updated_at);
    let column = segment.fast_fields().date(name).ok()?;
    let t = column.first(addr.doc_id)?;
    DateTime::from_timestamp_micros(t.into_timestamp_micros())
}

pub(super) fn load(
    searcher: &Searcher,
    fields: &Fields,
    addr: DocAddress,
) -> Result<Order, StoreError> {
    load_as(searcher, fields, addr)
}

/// The stored order at `addr` read as `T`: the whole [`Order`], or only
/// the part of it a caller needs (its fields are named as `Order` names
/// them; the rest of the document is skipped, not built).
pub(super) fn load_as<T: serde::de::DeserializeOwned>(
    searcher: &Searcher,
    fields: &Fields,
    addr: DocAddress,
) -> Result<T, StoreError> {
    let doc: TantivyDocument = searcher.doc(addr).map_err(StoreError::read)?;
    let bytes = doc
        .get_first(fields.order)
        .and_then(|v| v.as_bytes())
        .ok_or_else(|| StoreError::Corrupt("document without an order".into()))?;
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(crate::logsafe::json_error(&e).into()))
}
