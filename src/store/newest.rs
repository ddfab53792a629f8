//! The newest orders a search matches, by a date field, without reading
//! the date of every match.
//!
//! Sorting by a fast field (tantivy's `order_by_fast_field`) reads the date
//! of every order the query matches: for "open and paid", 600,000 of a
//! million orders, most of a listing's time. The date fields are also
//! indexed, one term per second, and the term dictionary is in date order.
//! So this walks the newest orders first, a window of time at a time: the
//! orders whose date falls in the window come from the date's terms, and
//! the query is only asked about them (a `seek` in its matches). Windows
//! widen until enough matched; everything older than a window that
//! produced enough is older than all of them, so the answer is exact.
//! Within a window the seconds are asked newest first: a second that holds
//! thousands of orders on its own (the demo's whole minutes, a bulk
//! change) is asked in address order, the tie order, and stops at the
//! page's last order; small seconds are asked together, one scorer per
//! segment.
//!
//! Windows cost more per order than a walk of the matches (a term and its
//! postings against the next match of a list), so when the query matches
//! few orders, or the windows have grown past what walking the matches
//! would cost, it walks the matches instead (tantivy's sort, which also
//! counts them). Both give the same order: newest first, and on the same
//! second the lower document address first (tantivy's tie rule; the tests
//! hold the two ways to it).

use std::cmp::Reverse;
use std::sync::Arc;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{EnableScoring, Query};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, InvertedIndexReader, Order, Searcher, TERMINATED};

use super::StoreError;

/// How much dearer one order in a window is than one match of a walk: a
/// term, its postings and a seek, against the next posting of a list and
/// a date read. It only decides which way, and either way is exact. 32
/// sent every two-word search at 10,000,000 orders to the walk (17 ms
/// p50): the demo's newest seconds hold 47,000 orders, so the first
/// window alone was over budget; at 8 the windows answer the same
/// searches in 5.6 ms p50 (BENCHMARKS.md, 2026-12-06).
const WINDOW_COST: u64 = 8;
/// How many times over the first window should hold the orders wanted,
/// if the matches were spread evenly in time.
const FIRST_WINDOW_SLACK: u64 = 2;
/// How much wider each next window is than the last.
const WIDEN: u64 = 4;
/// Most windows one listing tries before it walks the matches.
const MAX_ROUNDS: usize = 64;

/// A date term's value bytes as a number: big-endian, so numbers order as
/// the terms (and the dates) do.
fn key_of_bytes(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or_default()
}

/// One match: its date key and address. Sorting puts the newest first and,
/// on the same second, the lower address first.
type Hit = (Reverse<u64>, DocAddress);

/// The newest matches, and how many match when finding them walked
/// every match anyway.
#[derive(Debug)]
pub(super) struct Newest {
    pub hits: Vec<DocAddress>,
    pub counted: Option<usize>,
    pub way: Way,
}

/// Which way [`newest`] found its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Way {
    Windows,
    Walk,
}

/// The `need` newest orders `query` matches by the date `field`, newest
/// first. A typed word's prefix and typo matches are a set tantivy builds
/// anew for every scorer, so they must be made once per search
/// (`made_once`) for windows to pay.
pub(super) fn newest(
    searcher: &Searcher,
    query: &dyn Query,
    field: Field,
    need: usize,
) -> Result<Newest, StoreError> {
    newest_at_cost(searcher, query, field, need, Some(WINDOW_COST))
}

/// [`newest`] with the cost of a window's order given, `None` for no
/// windows (the tests force each way with it).
pub(super) fn newest_at_cost(
    searcher: &Searcher,
    query: &dyn Query,
    field: Field,
    need: usize,
    window_cost: Option<u64>,
) -> Result<Newest, StoreError> {
    let walked = || {
        walk(searcher, query, field, need).map(|(hits, n)| Newest {
            hits,
            counted: Some(n),
            way: Way::Walk,
        })
    };
    let Some(window_cost) = window_cost.filter(|_| need > 0) else {
        return walked();
    };
    let weight = query
        .weight(EnableScoring::disabled_from_searcher(searcher))
        .map_err(StoreError::read)?;
    // What a walk of the matches would cost: the scorers' own estimate
    // (an intersection's shortest list).
    let (mut estimate, mut docs) = (0u64, 0u64);
    let mut dates = Vec::new();
    for reader in searcher.segment_readers() {
        estimate += u64::from(
            weight
                .scorer(reader, 1.0)
                .map_err(StoreError::read)?
                .size_hint(),
        );
        docs += u64::from(reader.num_docs());
        dates.push((
            reader.inverted_index(field).map_err(StoreError::read)?,
            u64::from(reader.num_docs()),
        ));
    }
    // Orders a first window should hold to give `need` matches twice over,
    // were the matches spread evenly.
    // At least one: the estimate counts deleted versions too, and a window
    // of none would never widen.
    let mut target = ((need as u64)
        .saturating_mul(FIRST_WINDOW_SLACK)
        .saturating_mul(docs)
        / estimate.max(1))
    .max(1);
    if target.saturating_mul(window_cost) >= estimate {
        tracing::trace!(target, estimate, "walk: the query matches few orders");
        return walked();
    }
    let mut upper: Option<u64> = None;
    let mut found: Vec<Hit> = Vec::new();
    let mut spent = 0u64;
    // Each window reaches further back than the last, its target no
    // smaller; it ends when one reaches back to the start, enough
    // matched, or the windows cost more than a walk (each round's orders
    // count). The bound is a guard, not the rule: past it, the walk
    // answers.
    for _ in 0..MAX_ROUNDS {
        // Orders a walk would cost as much as: no window reads past them.
        let budget = estimate
            .checked_div(window_cost)
            .map_or(u64::MAX, |b| b.saturating_sub(spent));
        let Window {
            start: lower,
            holds,
        } = window_start(&dates, target, budget, upper)?;
        // What the window will hold, before reading it: what its dates'
        // terms hold (its target or more: its oldest second is taken
        // whole) or, when it reaches back to the start, every order not
        // read yet. Read first and priced after, a window to the start
        // read all 10,000,000 orders' dates to find the walk cheaper (1 s).
        let coming = if lower.is_some() {
            holds
        } else {
            docs.saturating_sub(spent)
        };
        tracing::trace!(target, coming, spent, found = found.len(), "window");
        if spent.saturating_add(coming).saturating_mul(window_cost) > estimate {
            tracing::trace!(
                spent,
                coming,
                estimate,
                found = found.len(),
                "walk: the next window costs more"
            );
            return walked();
        }
        let (mut seconds, mut in_window) = (Vec::new(), Vec::new());
        for ((inverted, _), ord) in dates.iter().zip(0u32..) {
            segment_window(inverted, ord, lower, upper, &mut seconds, &mut in_window)?;
        }
        spent += in_window.len() as u64;
        if spent.saturating_mul(window_cost) > estimate {
            // More orders in time than the query has matches: walking
            // those is cheaper. (The count before reading leaves out the
            // segments that hold only deleted versions.)
            tracing::trace!(
                spent,
                estimate,
                found = found.len(),
                "walk: windows cost more"
            );
            return walked();
        }
        // Newest second first, and on one second the segments in order.
        seconds.sort_unstable_by_key(|s| (Reverse(s.key), s.ord));
        let mut rest = &seconds[..];
        while !rest.is_empty() {
            let chunk = next_chunk(rest);
            rest = &rest[chunk.len()..];
            if ask(
                searcher,
                weight.as_ref(),
                chunk,
                &in_window,
                need,
                &mut found,
            )? {
                return Ok(Newest {
                    hits: found.into_iter().map(|(_, a)| a).collect(),
                    counted: None,
                    way: Way::Windows,
                });
            }
        }
        let Some(lower) = lower else {
            // Every dated order was in a window and fewer than `need`
            // match: the walk also finds any without the date.
            tracing::trace!(
                found = found.len(),
                "walk: every dated order was in a window"
            );
            return walked();
        };
        upper = Some(lower);
        target = next_target(target, need, found.len() as u64, spent);
    }
    tracing::trace!(found = found.len(), "walk: out of rounds");
    walked()
}

/// How many orders the next window should hold, after windows that held
/// `spent` orders gave `found` of the `need` matches: what the rate seen
/// so far says is missing, twice over, between the last window's size and
/// [`WIDEN`] times it. Widening by [`WIDEN`] alone priced a next window
/// four times the last one when a few matches were missing, more than a
/// walk, and a search whose windows had nearly answered it walked.
fn next_target(target: u64, need: usize, found: u64, spent: u64) -> u64 {
    let widest = target.saturating_mul(WIDEN);
    if found == 0 {
        return widest;
    }
    let missing = (need as u64).saturating_sub(found);
    missing
        .saturating_mul(spent)
        .saturating_mul(FIRST_WINDOW_SLACK)
        .div_ceil(found)
        .clamp(target, widest)
}

/// A window of time, before its orders are read.
#[derive(Debug, PartialEq, Eq)]
struct Window {
    /// Its first date key; `None`: it reaches back to the start.
    start: Option<u64>,
    /// How many orders (deleted versions included) its dates' terms hold.
    holds: u64,
}

/// Where a window ending at `upper` (exclusive; `None`: now) and holding
/// `target` orders starts: the segments' date terms are read back from
/// `upper` together, newest first, each counted by how many orders it
/// holds (so however the dates bunch up: the demo's are whole minutes,
/// hundreds of orders each at 10,000,000), until they hold `target`; the
/// window takes that second whole, in every segment. It always holds the
/// newest second before `upper`, so each window reaches further back than
/// the last. `None` when all of them hold fewer: the window reaches back
/// to the start. The terms are read no further than `budget` orders: a
/// window past it is not read, and its count, over the budget, says so.
///
/// (Each segment used to take a share of `target` by its size, the window
/// starting at the latest of their starts. Segments are not spread evenly
/// in time: an import's are a stretch of the past each, and the small
/// segments webhooks leave hold only the newest orders. Windows started
/// at the latest share held 54 orders of a target of 9,308 on the store
/// after the peak runs, and every one after them as few, until the
/// search walked.)
fn window_start(
    dates: &[(Arc<InvertedIndexReader>, u64)],
    target: u64,
    budget: u64,
    upper: Option<u64>,
) -> Result<Window, StoreError> {
    let mut bytes = Vec::new();
    let mut backs = Vec::with_capacity(dates.len());
    for (inverted, segment_docs) in dates {
        if *segment_docs == 0 {
            // Only deleted orders: nothing a window would find.
            continue;
        }
        let terms = inverted.terms();
        let below = match upper {
            None => terms.num_terms() as u64,
            Some(upper) => terms_before(terms, upper, &mut bytes)?,
        };
        backs.push(Back::new(terms, below));
    }
    // The next (newest) unread term of every segment that has one.
    let mut next = std::collections::BinaryHeap::new();
    for (i, back) in backs.iter_mut().enumerate() {
        if let Some(key) = back.peek(&mut bytes)? {
            next.push((key, i));
        }
    }
    let mut holds = 0u64;
    let mut start = None;
    while let Some((key, i)) = next.pop() {
        if start.is_some_and(|s| key < s) {
            break;
        }
        holds += u64::from(backs[i].pop());
        if let Some(key) = backs[i].peek(&mut bytes)? {
            next.push((key, i));
        }
        if start.is_none() && holds >= target {
            start = Some(key);
        }
        if holds > budget {
            return Ok(Window {
                start: Some(start.unwrap_or(key)),
                holds,
            });
        }
    }
    Ok(Window { start, holds })
}

/// One segment's date terms, read back from an ordinal in chunks (a term
/// is only cheap to read in a stream, forwards: spelling out each term by
/// its ordinal, two walks of the dictionary each, was 76% of a profile of
/// listings on a store whose writes had left segments of one order a
/// second).
struct Back<'a> {
    terms: &'a tantivy::termdict::TermDictionary,
    /// The ordinal the unread terms end before.
    below: u64,
    /// Terms read and not yet taken (date key, orders), oldest first.
    read: Vec<(u64, u32)>,
    /// How many terms the next chunk reads: 64 first, then eight times
    /// more each time, up to [`MAX_CHUNK_TERMS`].
    span: u64,
}

/// The most terms one chunk of [`Back`] reads.
const MAX_CHUNK_TERMS: u64 = 4096;

impl<'a> Back<'a> {
    fn new(terms: &'a tantivy::termdict::TermDictionary, below: u64) -> Self {
        Back {
            terms,
            below,
            read: Vec::new(),
            span: 64,
        }
    }

    /// The newest unread term's date key.
    fn peek(&mut self, bytes: &mut Vec<u8>) -> Result<Option<u64>, StoreError> {
        while self.read.is_empty() && self.below > 0 {
            let from = self.below.saturating_sub(self.span);
            if self.terms.ord_to_term(from, bytes).map_err(io_error)? {
                let mut stream = self
                    .terms
                    .range()
                    .ge(&bytes[..])
                    .into_stream()
                    .map_err(io_error)?;
                let want = (self.below - from) as usize;
                while self.read.len() < want && stream.advance() {
                    self.read
                        .push((key_of_bytes(stream.key()), stream.value().doc_freq));
                }
            }
            self.below = from;
            self.span = self.span.saturating_mul(8).min(MAX_CHUNK_TERMS);
        }
        Ok(self.read.last().map(|&(key, _)| key))
    }

    /// Takes the newest unread term (after [`Back::peek`] found one): the
    /// orders it holds.
    fn pop(&mut self) -> u32 {
        self.read.pop().map_or(0, |(_, freq)| freq)
    }
}

/// How many of a segment's date terms are before `upper`: a binary search
/// over the terms' ordinals (the dictionary is in date order).
fn terms_before(
    terms: &tantivy::termdict::TermDictionary,
    upper: u64,
    bytes: &mut Vec<u8>,
) -> Result<u64, StoreError> {
    let (mut lo, mut hi) = (0u64, terms.num_terms() as u64);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if !terms.ord_to_term(mid, bytes).map_err(io_error)? {
            hi = mid;
            continue;
        }
        if key_of_bytes(bytes) < upper {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// One date term of one segment in a window: the orders of one second,
/// `docs` of the window's documents.
#[derive(Debug)]
struct Second {
    key: u64,
    ord: u32,
    docs: std::ops::Range<usize>,
}

/// Adds a segment's seconds in `[lower, upper)`, from the date field's
/// terms, to `seconds`, and their orders to `docs`.
fn segment_window(
    inverted: &InvertedIndexReader,
    ord: u32,
    lower: Option<u64>,
    upper: Option<u64>,
    seconds: &mut Vec<Second>,
    docs: &mut Vec<DocId>,
) -> Result<(), StoreError> {
    let mut range = inverted.terms().range();
    if let Some(l) = lower {
        range = range.ge(l.to_be_bytes());
    }
    if let Some(u) = upper {
        range = range.lt(u.to_be_bytes());
    }
    let mut stream = range.into_stream().map_err(io_error)?;
    while stream.advance() {
        let key = key_of_bytes(stream.key());
        let mut postings = inverted
            .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)
            .map_err(io_error)?;
        let from = docs.len();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            docs.push(doc);
            doc = postings.advance();
        }
        seconds.push(Second {
            key,
            ord,
            docs: from..docs.len(),
        });
    }
    Ok(())
}

/// Seconds asked about the query together. One second alone is asked in
/// address order, which is the tie order, so it stops at the page's last
/// order; many small seconds (the usual store, a few orders a second) are
/// asked together, each segment's orders in document order with one
/// scorer, since a scorer only moves forward.
const CHUNK: usize = 4096;

/// The seconds to ask next (newest first): one second of [`CHUNK`] orders
/// or more, or the seconds up to about [`CHUNK`] orders.
fn next_chunk(seconds: &[Second]) -> &[Second] {
    let key = seconds[0].key;
    let one = seconds.iter().take_while(|s| s.key == key).count();
    let first: usize = seconds[..one].iter().map(|s| s.docs.len()).sum();
    if first >= CHUNK {
        return &seconds[..one];
    }
    let (mut end, mut held) = (one, first);
    while end < seconds.len() && held < CHUNK {
        let key = seconds[end].key;
        while end < seconds.len() && seconds[end].key == key {
            held += seconds[end].docs.len();
            end += 1;
        }
    }
    &seconds[..end]
}

/// Asks the query about a chunk's orders (whole seconds, newest first,
/// all older than what `found` holds); true once `found` holds the page
/// (then it holds exactly the `need` newest, in order).
fn ask(
    searcher: &Searcher,
    weight: &dyn tantivy::query::Weight,
    chunk: &[Second],
    docs: &[DocId],
    need: usize,
    found: &mut Vec<Hit>,
) -> Result<bool, StoreError> {
    // One second is asked in address order, the tie order: its first
    // `need` matches are the page's last ones.
    let one_second = chunk.iter().all(|s| s.key == chunk[0].key);
    let matches = |ord: u32,
                   docs: &mut dyn Iterator<Item = (DocId, u64)>,
                   found: &mut Vec<Hit>|
     -> Result<bool, StoreError> {
        let reader = searcher.segment_reader(ord);
        let mut scorer = weight.scorer(reader, 1.0).map_err(StoreError::read)?;
        let alive = reader.alive_bitset();
        for (doc, key) in docs {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            let mut at = scorer.doc();
            if at < doc {
                at = scorer.seek(doc);
            }
            if at == TERMINATED {
                break;
            }
            if at == doc {
                found.push((Reverse(key), DocAddress::new(ord, doc)));
                if one_second && found.len() >= need {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    };
    if one_second {
        for s in chunk {
            let mut of_second = docs[s.docs.clone()].iter().map(|d| (*d, s.key));
            if matches(s.ord, &mut of_second, found)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    let start = found.len();
    let mut by_segment: Vec<&Second> = chunk.iter().collect();
    by_segment.sort_by_key(|s| s.ord);
    for group in by_segment.chunk_by(|a, b| a.ord == b.ord) {
        let mut of_segment: Vec<(DocId, u64)> = group
            .iter()
            .flat_map(|s| docs[s.docs.clone()].iter().map(|d| (*d, s.key)))
            .collect();
        of_segment.sort_unstable();
        matches(group[0].ord, &mut of_segment.into_iter(), found)?;
    }
    found[start..].sort_unstable();
    if found.len() >= need {
        found.truncate(need);
        return Ok(true);
    }
    Ok(false)
}

fn io_error(e: std::io::Error) -> StoreError {
    StoreError::Read(e.into())
}

/// Every match, its date read from the fast field: the plain way, for
/// queries that match few orders or whose seeks are dear (tantivy's sort
/// by a fast field, its segments on the searcher's threads). Also how many
/// match, since it sees them all.
fn walk(
    searcher: &Searcher,
    query: &dyn Query,
    field: Field,
    need: usize,
) -> Result<(Vec<DocAddress>, usize), StoreError> {
    if need == 0 {
        let n = searcher.search(query, &Count).map_err(StoreError::read)?;
        return Ok((Vec::new(), n));
    }
    let top = TopDocs::with_limit(need).order_by_fast_field::<tantivy::DateTime>(
        searcher.schema().get_field_name(field),
        Order::Desc,
    );
    let (n, hits) = searcher
        .search(query, &(Count, top))
        .map_err(StoreError::read)?;
    Ok((hits.into_iter().map(|(_, a)| a).collect(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_keys_order_like_the_dates() {
        let (_, fields) = super::super::schema::schema();
        let key = |secs: i64| {
            let date = tantivy::DateTime::from_timestamp_secs(secs);
            key_of_bytes(
                tantivy::Term::from_field_date_for_search(fields.updated_at, date)
                    .serialized_value_bytes(),
            )
        };
        let secs = [
            -86_400 * 365,
            -1,
            0,
            1,
            1_764_000_000,
            1_764_000_001,
            4_000_000_000,
        ];
        assert!(secs.windows(2).all(|w| key(w[0]) < key(w[1])));
        assert_eq!(key_of_bytes(b"short"), 0, "not a date term");
    }

    #[test]
    fn a_next_window_is_sized_by_the_matches_seen_so_far() {
        // 40 of 50 found in 10,000 orders: 10 missing at 1 in 250, twice
        // over, is 5,000, below the last window's size, so that size.
        assert_eq!(next_target(10_000, 50, 40, 10_000), 10_000);
        // 30 of 50 in 10,000: 20 missing at 3 in 1,000, twice over.
        assert_eq!(next_target(10_000, 50, 30, 10_000), 13_334);
        // 1 of 50: more than WIDEN times the last window is not taken.
        assert_eq!(next_target(10_000, 50, 1, 10_000), 40_000);
        // Nothing matched yet: the rate says nothing, widen.
        assert_eq!(next_target(10_000, 50, 0, 10_000), 40_000);
    }
}
