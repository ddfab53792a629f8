//! When segments are merged: tantivy's log merge policy (segments of about
//! one size gather, then become one), plus the reclaiming of deleted
//! versions.
//!
//! Every rewrite of an order (a webhook, a sync, a status change) deletes
//! its old document. The log policy leaves segments over
//! `merge_max_orders` alone, so a big segment's deleted versions stayed on
//! disk for ever, and every term probe still walked them. Here a segment
//! whose deleted share passes [`DELETED_SHARE`] is rewritten without them,
//! on its own, whatever its size. (The log policy's own rule merges the
//! whole size level of such a segment: after an import of rewrites into
//! a store of 10,000,000 orders, whose segments of about 850,000 are one
//! level, that would be nearly the whole index in one merge: read from
//! tantivy's `LogMergePolicy`, not measured.) tantivy runs merges on
//! its own threads, beside reads; searchers keep the old segments until
//! they are done.
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
}

impl Merges {
    /// `factor` segments of one size level are merged; segments over
    /// `max_orders` only to drop their deleted versions.
    pub(super) fn new(factor: usize, max_orders: usize) -> Merges {
        let mut log = LogMergePolicy::default();
        log.set_min_num_segments(factor);
        log.set_max_docs_before_merge(max_orders);
        // Deleted versions are reclaimed segment by segment below; a
        // share over 1 never comes, so the log policy merges by size only.
        log.set_del_docs_ratio_before_merge(1.0);
        Merges { log }
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

#[cfg(test)]
mod tests {
    use tantivy::index::SegmentId;

    use super::*;

    fn ids(merges: &[MergeCandidate]) -> Vec<Vec<SegmentId>> {
        merges.iter().map(|m| m.0.clone()).collect()
    }

    #[test]
    fn a_segment_past_the_deleted_share_is_merged_alone() {
        let index = Index::create_in_ram(super::super::schema::schema().0);
        let segment = |orders: u32, deleted: u32| {
            let meta = index.new_segment_meta(SegmentId::generate_random(), orders);
            if deleted == 0 {
                meta
            } else {
                meta.with_delete_meta(deleted, 1)
            }
        };
        // An import's segments of about 850,000 orders, one size level of
        // fewer than the factor; one of them past the share.
        let big = [
            segment(900_000, 300_000),
            segment(880_000, 200_000),
            segment(850_000, 0),
        ];
        for max_orders in [500_000, 10_000_000] {
            let merges = Merges::new(8, max_orders).compute_merge_candidates(&big);
            assert_eq!(ids(&merges), vec![vec![big[0].id()]], "max {max_orders}");
        }
        // Small ones (under tantivy's smallest level size, one level): a
        // level short of the factor is left, but for its segment past the
        // share, rewritten on its own; a full level is merged as one,
        // deleted versions and all.
        let mut small: Vec<SegmentMeta> = (0..4).map(|_| segment(1_000, 100)).collect();
        small.push(segment(40, 20));
        let merges = Merges::new(8, 500_000).compute_merge_candidates(&small);
        assert_eq!(ids(&merges), vec![vec![small[4].id()]]);
        small.extend((0..3).map(|_| segment(1_000, 0)));
        let merges = Merges::new(8, 500_000).compute_merge_candidates(&small);
        let mut got = ids(&merges);
        got.iter_mut().for_each(|m| m.sort());
        let mut level: Vec<SegmentId> = small.iter().map(SegmentMeta::id).collect();
        level.sort();
        assert_eq!(got, vec![level]);
    }
}
