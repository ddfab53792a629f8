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

use std::collections::HashSet;

use tantivy::index::SegmentMeta;
use tantivy::merge_policy::{LogMergePolicy, MergeCandidate, MergePolicy};

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
