//! When segments are merged: tantivy's log merge policy (segments of about
//! one size gather, then become one), plus the reclaiming of deleted
//! versions.
//!
//! Every rewrite of an order (a webhook, a sync, a status change) deletes
//! its old document. The log policy leaves segments over
//! `merge_max_orders` alone, so a big segment's deleted versions stayed on
//! disk for ever, and every term probe still walked them. Here a segment
//! whose deleted share passes [`DELETED_SHARE`] is rewritten without them:
//! a small one with the rest of its size level, as the log policy does, a
//! big one on its own. tantivy runs merges on its own threads, beside
//! reads; searchers keep the old segments until they are done.
//!
//! A bulk write (`import`) ends with [`compact`]: its last merges were
//! cut off when the command ended, which left a million orders in 34
//! segments, and a search pays per segment (each word's dictionary walks,
//! each scorer): a customer's name took 4.8 ms there and 2.9 ms in one.

use std::collections::HashSet;
use std::path::Path;

use tantivy::index::SegmentMeta;
use tantivy::merge_policy::{LogMergePolicy, MergeCandidate, MergePolicy, NoMergePolicy};
use tantivy::{Index, IndexWriter, TantivyDocument};

use super::StoreError;

/// The deleted share of a segment past which it is rewritten: at most a
/// third more on disk than the orders it holds.
pub const DELETED_SHARE: f32 = 0.25;

/// The store's merge policy.
#[derive(Debug)]
pub(super) struct Merges {
    log: LogMergePolicy,
    max_orders: usize,
}

impl Merges {
    /// `factor` segments of one size level are merged; segments over
    /// `max_orders` only to drop their deleted versions.
    pub(super) fn new(factor: usize, max_orders: usize) -> Merges {
        let mut log = LogMergePolicy::default();
        log.set_min_num_segments(factor);
        log.set_max_docs_before_merge(max_orders);
        log.set_del_docs_ratio_before_merge(DELETED_SHARE);
        Merges { log, max_orders }
    }
}

fn deleted_share(segment: &SegmentMeta) -> f32 {
    segment.num_deleted_docs() as f32 / segment.max_doc().max(1) as f32
}

impl MergePolicy for Merges {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let mut merges = self.log.compute_merge_candidates(segments);
        let taken: HashSet<_> = merges.iter().flat_map(|m| m.0.iter().copied()).collect();
        merges.extend(
            segments
                .iter()
                .filter(|s| s.num_docs() as usize > self.max_orders)
                .filter(|s| !taken.contains(&s.id()) && deleted_share(s) > DELETED_SHARE)
                .map(|s| MergeCandidate(vec![s.id()])),
        );
        merges
    }
}

/// What [`compact`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// Segments before.
    pub before: usize,
    /// Segments after.
    pub after: usize,
}

/// Merges the segments of the index under `data_dir` that hold fewer than
/// `below` orders (with their deleted versions) into one, dropping the
/// deleted versions; bigger segments stay as they are. The store must be
/// closed: this takes the index's writer lock.
///
/// The same merge a server would make over time, done at once while
/// nothing reads: `below` is the server's own bound
/// (`StoreOptions::merge_max_orders`), so the server's policy never has to
/// split or redo what this leaves.
pub fn compact(data_dir: &Path, below: usize) -> Result<Compacted, StoreError> {
    let path = data_dir.join("index");
    let open_err = |reason: String| StoreError::Open {
        path: path.clone(),
        reason,
    };
    let index = Index::open_in_dir(&path).map_err(|e| open_err(e.to_string()))?;
    let metas = index
        .searchable_segment_metas()
        .map_err(|e| open_err(e.to_string()))?;
    let small: Vec<_> = metas
        .iter()
        .filter(|m| (m.max_doc() as usize) < below)
        .map(SegmentMeta::id)
        .collect();
    let before = metas.len();
    // tantivy keeps the files of every segment whose meta is still held
    // somewhere: held here, the merged segments' files would stay on disk
    // until a server's first commit (134 MB of 979 MB after a
    // 1,000,000-order import).
    drop(metas);
    if small.len() < 2 {
        return Ok(Compacted {
            before,
            after: before,
        });
    }
    // Merging holds no documents in memory: the smallest budget will do.
    let mut writer: IndexWriter<TantivyDocument> = index
        .writer_with_num_threads(1, 15 << 20)
        .map_err(StoreError::write)?;
    writer.set_merge_policy(Box::new(NoMergePolicy));
    writer.merge(&small).wait().map_err(StoreError::write)?;
    writer.wait_merging_threads().map_err(StoreError::write)?;
    let after = index
        .searchable_segment_ids()
        .map_err(|e| open_err(e.to_string()))?
        .len();
    Ok(Compacted { before, after })
}
