//! The best-ranked page of a search with words, without scoring every
//! match when there are many.
//!
//! A search ranks in tiers: an exact order or tracking number first, then
//! orders with every word as typed (by BM25 over those words), then the
//! orders that needed a word's prefix or typo matches (by BM25 over every
//! term the words find, a word's own weighing most). A tier is asked only
//! when the ones above it did not fill the page.
//!
//! Scoring every match is what ranking used to cost: "linen shirt" is in
//! over a million of 10,000,000 orders, and a page needs twenty. So when a
//! search matches more than [`super::query::COUNT_LIMIT`] orders, a tier is
//! ranked by block-max WAND instead (tantivy's: each block of a term's
//! postings records the best score in it, and blocks that cannot beat the
//! page's worst are skipped unread). WAND ranks a union of terms, and a
//! tier needs every word, so each order it offers is checked against the
//! tier's words and filters before it is kept. Fewer matches are walked
//! and scored one by one, as before.
//!
//! Both ways keep the same order: higher score first and, on a tie, the
//! lower document address first.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::StoreError;

/// A search with words, in the tiers it ranks by.
pub(super) struct Tiers {
    /// The search narrowed to an exact order or tracking number, unscored
    /// (it is one order, or a few in address order); `None` when no order
    /// has the number typed.
    pub first: Option<Box<dyn Query>>,
    /// Orders with every word as typed, scored by those words.
    pub exact: Tier,
    /// The other matches, scored by every term the words find.
    pub rest: Tier,
}

/// One tier, both as a query to walk and as WAND's parts.
pub(super) struct Tier {
    /// The tier's orders, scored.
    pub query: Box<dyn Query>,
    /// The terms WAND ranks by (their union); `None` when a word stands
    /// for too many to list, and the tier is walked.
    pub scoring: Option<Box<dyn Query>>,
    /// What an order WAND offers must match to be in the tier.
    pub required: Box<dyn Query>,
}

/// The best page and how many orders match.
#[derive(Debug)]
pub(super) struct Ranked {
    pub hits: Vec<DocAddress>,
    /// Exact, unless `more`: then more than this many match.
    pub total: usize,
    pub more: bool,
}

/// The `need` best-ranked matches of `query`: by its `tiers` when it has
/// them, counting matches up to `limit`; else by its own score, counting
/// every match.
pub(super) fn ranked(
    searcher: &Searcher,
    query: &dyn Query,
    tiers: Option<&Tiers>,
    need: usize,
    limit: usize,
) -> Result<Ranked, StoreError> {
    let none = HashSet::new();
    let Some(tiers) = tiers else {
        let (best, total) = walk(searcher, query, need, &none, true)?;
        return Ok(Ranked {
            hits: best,
            total,
            more: false,
        });
    };
    // Counting the exact tier is cheap (a term a word), and when it alone
    // is past the limit, so is the search.
    let exact = super::query::count_up_to(searcher, tiers.exact.required.as_ref(), limit)?;
    let (total, more) = match exact {
        (n, true) => (n, true),
        _ => super::query::count_up_to(searcher, query, limit)?,
    };
    let mut hits = match &tiers.first {
        Some(first) => walk(searcher, first.as_ref(), need, &none, false)?.0,
        None => Vec::new(),
    };
    // WAND pays when the tier's matches are many; a few (rare together,
    // or a typo: none) are cheaper walked than sought among each word's.
    for (tier, many) in [(&tiers.exact, exact.1), (&tiers.rest, more)] {
        if hits.len() >= need {
            break;
        }
        let skip: HashSet<DocAddress> = hits.iter().copied().collect();
        let want = need - hits.len();
        let found = match &tier.scoring {
            Some(scoring) if many => wand(searcher, scoring.as_ref(), tier, want, &skip)?,
            _ => walk(searcher, tier.query.as_ref(), want, &skip, true)?.0,
        };
        hits.extend(found);
    }
    Ok(Ranked { hits, total, more })
}

/// A scored match; `Ord` puts the worse one greater, so a max-heap keeps
/// the worst of the best on top.
#[derive(Debug, Clone, Copy)]
struct Scored {
    score: Score,
    addr: DocAddress,
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then_with(|| self.addr.cmp(&other.addr))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scored {}

/// `score` without its last bits. WAND adds a match's term scores in
/// whatever order its lists stand at that match, and more than two floats
/// can sum differently in another order: orders that tie (the same words,
/// as often as each other, in texts as long) would otherwise rank by that
/// noise, differently for each page asked.
fn rounded(score: Score) -> Score {
    Score::from_bits(score.to_bits() & !ROUNDED_BITS)
}

/// The bits of a score [`rounded`] drops (scores are positive).
const ROUNDED_BITS: u32 = 0xff;

/// The best `need` matches seen.
#[derive(Debug)]
struct Best {
    need: usize,
    heap: BinaryHeap<Scored>,
}

impl Best {
    fn new(need: usize) -> Best {
        Best {
            need,
            heap: BinaryHeap::with_capacity(need.min(1 << 12) + 1),
        }
    }

    fn offer(&mut self, score: Score, addr: DocAddress) {
        let hit = Scored {
            score: rounded(score),
            addr,
        };
        if self.heap.len() < self.need {
            self.heap.push(hit);
        } else if self.heap.peek().is_some_and(|worst| hit < *worst) {
            self.heap.pop();
            self.heap.push(hit);
        }
    }

    /// The score a match must beat to be kept: the highest that still
    /// rounds to the worst kept one's. Matches come in address order, so
    /// one that only ties it ranks below it. WAND skips every block whose
    /// best cannot beat this, so it must not be lower than it has to be.
    fn threshold(&self) -> Score {
        match self.heap.peek() {
            Some(worst) if self.heap.len() >= self.need => {
                Score::from_bits(worst.score.to_bits() | ROUNDED_BITS)
            }
            _ => Score::MIN,
        }
    }

    fn merge(mut self, other: Best) -> Best {
        for hit in other.heap {
            self.offer(hit.score, hit.addr);
        }
        self
    }

    fn into_sorted(self) -> Vec<DocAddress> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|h| h.addr)
            .collect()
    }
}

/// The `need` best matches of `query` not in `skip`, scoring every match
/// (segments in parallel; unless not `scored`: then in address order), and
/// how many there are.
fn walk(
    searcher: &Searcher,
    query: &dyn Query,
    need: usize,
    skip: &HashSet<DocAddress>,
    scored: bool,
) -> Result<(Vec<DocAddress>, usize), StoreError> {
    let (best, n) = searcher
        .search(query, &Walk { need, skip, scored })
        .map_err(StoreError::read)?;
    Ok((best.into_sorted(), n))
}

/// Scores every match, as tantivy's `TopDocs` with `Count` would, with
/// this module's ties and rounding.
struct Walk<'a> {
    need: usize,
    skip: &'a HashSet<DocAddress>,
    scored: bool,
}

/// Unused: [`Walk`] walks each segment itself.
struct Unused;

impl SegmentCollector for Unused {
    type Fruit = (Best, usize);

    fn collect(&mut self, _doc: DocId, _score: Score) {}

    fn harvest(self) -> Self::Fruit {
        (Best::new(0), 0)
    }
}

impl Collector for Walk<'_> {
    type Fruit = (Best, usize);
    type Child = Unused;

    fn for_segment(&self, _: SegmentOrdinal, _: &SegmentReader) -> tantivy::Result<Unused> {
        Ok(Unused)
    }

    fn requires_scoring(&self) -> bool {
        self.scored
    }

    fn merge_fruits(&self, fruits: Vec<(Best, usize)>) -> tantivy::Result<(Best, usize)> {
        Ok(fruits
            .into_iter()
            .fold((Best::new(self.need), 0), |(best, n), (b, m)| {
                (best.merge(b), n + m)
            }))
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment_ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<(Best, usize)> {
        let mut best = Best::new(self.need);
        let mut counted = 0usize;
        let alive = reader.alive_bitset();
        let mut scorer = weight.scorer(reader, 1.0)?;
        let mut doc = scorer.doc();
        while doc != tantivy::TERMINATED {
            let addr = DocAddress::new(segment_ord, doc);
            if alive.is_none_or(|a| a.is_alive(doc)) && !self.skip.contains(&addr) {
                counted += 1;
                let score = if self.scored { scorer.score() } else { 0.0 };
                best.offer(score, addr);
            }
            doc = scorer.advance();
        }
        Ok((best, counted))
    }
}

/// The `need` best orders of `tier` not in `skip`, by WAND over
/// `scoring`, each checked against the tier's `required`.
///
/// One segment after the other, in order, carrying the page's worst score
/// on: the best scores recur across a large store, so once a page of them
/// is found, later segments' blocks mostly cannot beat it and are skipped.
/// (Segments ranked apart, as `TopDocs` does, would each find a page of
/// their own first.) In order, so that ties go to the lower address.
fn wand(
    searcher: &Searcher,
    scoring: &dyn Query,
    tier: &Tier,
    need: usize,
    skip: &HashSet<DocAddress>,
) -> Result<Vec<DocAddress>, StoreError> {
    let scoring = scoring
        .weight(EnableScoring::enabled_from_searcher(searcher))
        .map_err(StoreError::read)?;
    let required = tier
        .required
        .weight(EnableScoring::disabled_from_searcher(searcher))
        .map_err(StoreError::read)?;
    let mut best = Best::new(need);
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let ord = ord as SegmentOrdinal;
        let alive = reader.alive_bitset();
        let mut required = required.scorer(reader, 1.0).map_err(StoreError::read)?;
        scoring
            .for_each_pruning(best.threshold(), reader, &mut |doc, score| {
                let addr = DocAddress::new(ord, doc);
                // Offered in address order, so the check only moves forward.
                if required.doc() < doc {
                    required.seek(doc);
                }
                if required.doc() == doc
                    && alive.is_none_or(|a| a.is_alive(doc))
                    && !skip.contains(&addr)
                {
                    best.offer(score, addr);
                }
                best.threshold()
            })
            .map_err(StoreError::read)?;
    }
    Ok(best.into_sorted())
}
