//! Orders recently opened by key, kept decoded, for the pages that open one
//! order per request (a shopper's status page and its JSON). Finding an
//! order's document (a term probe in every segment), reading it and
//! decoding its JSON were a fifth of a status page's work, and shoppers
//! open the same orders again and again.
//!
//! An entry says which document held the order in which searcher
//! generation, both facts that never change: a stored document is never
//! rewritten inside its segment (a newer version of the order is another
//! document; a merge makes a new segment), and a generation is one
//! snapshot of the index. So an entry is used as it is while the searcher
//! is the same generation; after a commit the key's term is probed again
//! and the entry still serves if the probe finds the same document.
//! Nothing needs invalidating, and a newer version or a deletion is never
//! hidden.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use tantivy::index::SegmentId;
use tantivy::{DocAddress, DocId, Searcher};

use crate::order::Order;

/// Orders kept at most: a few MB, the orders being looked at right now.
const KEPT: usize = 1024;

/// Where an order was found, and when.
struct Entry {
    generation: u64,
    doc: (SegmentId, DocId),
    order: Arc<Order>,
}

/// The cache (one per store, shared by its clones).
pub(super) struct Recent {
    orders: Mutex<LruCache<String, Entry>>,
}

impl Default for Recent {
    fn default() -> Self {
        Recent {
            orders: Mutex::new(LruCache::new(
                NonZeroUsize::new(KEPT).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

impl Recent {
    /// The order with `key` as `searcher` sees it: kept from this same
    /// generation; else `find` says where it is (`None`: not there), and
    /// it is kept from there or `load`ed.
    pub(super) fn get<E>(
        &self,
        searcher: &Searcher,
        key: &str,
        find: impl FnOnce() -> Option<DocAddress>,
        load: impl FnOnce(DocAddress) -> Result<Order, E>,
    ) -> Result<Option<Arc<Order>>, E> {
        let generation = searcher.generation().generation_id();
        if let Some(e) = self.lock().get(key)
            && e.generation == generation
        {
            return Ok(Some(Arc::clone(&e.order)));
        }
        let Some(addr) = find() else {
            return Ok(None);
        };
        let doc = (
            searcher.segment_reader(addr.segment_ord).segment_id(),
            addr.doc_id,
        );
        if let Some(e) = self.lock().get_mut(key)
            && e.doc == doc
        {
            e.generation = e.generation.max(generation);
            return Ok(Some(Arc::clone(&e.order)));
        }
        let order = Arc::new(load(addr)?);
        self.lock().put(
            key.to_string(),
            Entry {
                generation,
                doc,
                order: Arc::clone(&order),
            },
        );
        Ok(Some(order))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Entry>> {
        // The cache holds no invariant a panic could break mid-way.
        self.orders.lock().unwrap_or_else(|p| p.into_inner())
    }
}
