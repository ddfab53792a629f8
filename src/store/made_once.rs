//! A part of a query whose matches a search makes at most once per segment.
//!
//! tantivy turns a term set (a word's rare prefix words, "anna0" to
//! "anna99") and a prefix or fuzzy query into a bit set each time a scorer
//! is made, reading the postings of every term in it. A walk makes one
//! scorer a segment, but a newest-first listing (`newest`) makes one for
//! every window it reads, so a word's rare words were read again for each
//! window and segment: that is what kept windows from searches with words.
//! [`MadeOnce`] passes the first scorer of a segment through untouched (a
//! walk pays nothing), and keeps the second one's matches as a bit set
//! that every later scorer of that segment reads. The bit set lives as
//! long as the weight: one search.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::query::{
    BitSetDocSet, ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};
use tantivy_common::BitSet;

/// `inner`, unscored, its matches made at most once per segment and search.
#[derive(Debug)]
pub(super) struct MadeOnce(pub Box<dyn Query>);

impl Clone for MadeOnce {
    fn clone(&self) -> Self {
        MadeOnce(self.0.box_clone())
    }
}

impl Query for MadeOnce {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let inner = self
            .0
            .weight(EnableScoring::disabled_from_schema(enable_scoring.schema()))?;
        Ok(Box::new(MadeOnceWeight {
            inner,
            made: Mutex::default(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.0.query_terms(visitor);
    }
}

/// What is known of a segment's matches.
enum Made {
    /// One scorer was made: the next one makes the set.
    Once,
    Set(Arc<BitSet>),
}

struct MadeOnceWeight {
    inner: Box<dyn Weight>,
    made: Mutex<HashMap<SegmentId, Made>>,
}

impl Weight for MadeOnceWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let id = reader.segment_id();
        let known = {
            let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
            match made.get(&id) {
                None => {
                    made.insert(id, Made::Once);
                    None
                }
                Some(Made::Once) => Some(None),
                Some(Made::Set(set)) => Some(Some(Arc::clone(set))),
            }
        };
        let set = match known {
            // The first: as it comes (a walk makes no other).
            None => {
                let scorer = self.inner.scorer(reader, 1.0)?;
                return Ok(Box::new(ConstScorer::new(scorer, boost)));
            }
            Some(Some(set)) => set,
            Some(None) => {
                let mut set = BitSet::with_max_value(reader.max_doc());
                let mut scorer = self.inner.scorer(reader, 1.0)?;
                let mut doc = scorer.doc();
                while doc != TERMINATED {
                    set.insert(doc);
                    doc = scorer.advance();
                }
                let set = Arc::new(set);
                self.made
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id, Made::Set(Arc::clone(&set)));
                set
            }
        };
        // A copy a scorer: a bit per order of the segment, far cheaper than
        // reading the postings again.
        let docs = BitSetDocSet::from(BitSet::clone(&set));
        Ok(Box::new(ConstScorer::new(docs, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.inner.explain(reader, doc)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::query::TermSetQuery;
    use tantivy::schema::{STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument, doc};

    use super::*;

    fn docs_of(mut scorer: Box<dyn Scorer>) -> Vec<DocId> {
        let mut out = Vec::new();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            out.push(doc);
            doc = scorer.advance();
        }
        out
    }

    /// Every scorer of a segment, the first (passed through), the second
    /// (makes the set) and the later ones (read it), finds what the query
    /// itself finds, and seeks like it.
    #[test]
    fn every_scorer_of_a_segment_finds_the_same_orders() {
        let mut schema = Schema::builder();
        let word = schema.add_text_field("word", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(1, 15 << 20).expect("writer");
        for i in 0..1_000u32 {
            writer
                .add_document(doc!(word => format!("anna{}", i % 97)))
                .expect("add");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let reader = searcher.segment_reader(0);
        let terms = ["anna3", "anna40", "anna96", "nobody"].map(|w| Term::from_field_text(word, w));
        let plain = TermSetQuery::new(terms);
        let want = docs_of(
            plain
                .weight(EnableScoring::disabled_from_searcher(&searcher))
                .expect("weight")
                .scorer(reader, 1.0)
                .expect("scorer"),
        );
        assert_eq!(want.len(), 31, "10 + 10 + 11 orders hold the words");

        let once = MadeOnce(Box::new(plain));
        let weight = once
            .weight(EnableScoring::disabled_from_searcher(&searcher))
            .expect("weight");
        for nth in 1..=4 {
            let got = docs_of(weight.scorer(reader, 1.0).expect("scorer"));
            assert_eq!(got, want, "scorer {nth}");
        }
        let mut scorer = weight.scorer(reader, 1.0).expect("scorer");
        assert_eq!(scorer.seek(want[5]), want[5]);
        assert_eq!(scorer.seek(want[5] + 1), want[6]);
    }
}
