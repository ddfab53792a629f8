//! Moving an index written by an older version to the current schema.
//!
//! The schema is part of the on-disk contract; when it grows (a new
//! field), an index on disk no longer matches it and tantivy refuses to
//! open it. Every stored document holds the whole order, so the index is
//! rebuilt from its own documents, beside the old one, and swapped in; the
//! old one is kept aside (`index.before-<time>`) for the merchant to
//! delete. The old index's writer lock is held throughout, so a process
//! still running on it makes this fail with "in use" instead of racing.

use std::path::Path;

use tantivy::directory::MmapDirectory;
use tantivy::directory::error::LockError;
use tantivy::schema::{Schema, Value};
use tantivy::{Index, TantivyDocument, TantivyError};

use super::StoreError;
use super::schema::{Fields, document};
use crate::order::Order;

/// Rebuilds `path` in the current schema if its index predates it.
pub fn if_needed(
    data_dir: &Path,
    path: &Path,
    schema: &Schema,
    fields: &Fields,
) -> Result<(), StoreError> {
    let err = |reason: String| StoreError::Open {
        path: path.to_path_buf(),
        reason,
    };
    let dir = MmapDirectory::open(path).map_err(|e| err(e.to_string()))?;
    if !Index::exists(&dir).map_err(|e| err(e.to_string()))? {
        return Ok(());
    }
    let old = Index::open(dir).map_err(|e| err(e.to_string()))?;
    if old.schema() == *schema {
        return Ok(());
    }
    // Holding the old writer's lock keeps other processes out.
    let lock = old
        .writer_with_num_threads::<TantivyDocument>(1, 15 << 20)
        .map_err(|e| match e {
            TantivyError::LockFailure(LockError::LockBusy, _) => {
                StoreError::Locked(data_dir.to_path_buf())
            }
            other => err(other.to_string()),
        })?;
    let order_field = old
        .schema()
        .get_field("order")
        .map_err(|_| err("the old index has no stored orders to rebuild from".into()))?;
    let fresh = path.with_extension("rebuilding");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).map_err(|e| err(e.to_string()))?;
    }
    std::fs::create_dir_all(&fresh).map_err(|e| err(e.to_string()))?;
    let started = std::time::Instant::now();
    let new = Index::create_in_dir(&fresh, schema.clone()).map_err(|e| err(e.to_string()))?;
    let mut writer = new
        .writer_with_num_threads::<TantivyDocument>(1, 64 << 20)
        .map_err(|e| err(e.to_string()))?;
    let searcher = old.reader().map_err(|e| err(e.to_string()))?.searcher();
    let mut n = 0u64;
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        for doc in 0..segment.max_doc() {
            if segment.alive_bitset().is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            let d: TantivyDocument = searcher
                .doc(tantivy::DocAddress::new(ord as u32, doc))
                .map_err(|e| err(e.to_string()))?;
            let Some(bytes) = d.get_first(order_field).and_then(|v| v.as_bytes()) else {
                continue;
            };
            let order: Order = serde_json::from_slice(bytes)
                .map_err(|e| StoreError::Corrupt(crate::logsafe::json_error(&e).into()))?;
            let doc = document(fields, &order).map_err(|e| StoreError::Encode(e.into()))?;
            writer.add_document(doc).map_err(|e| err(e.to_string()))?;
            n += 1;
        }
    }
    // What the old index held of the replication log, it holds still.
    let payload = old.load_metas().map_err(|e| err(e.to_string()))?.payload;
    let mut commit = writer.prepare_commit().map_err(|e| err(e.to_string()))?;
    if let Some(p) = payload {
        commit.set_payload(&p);
    }
    commit.commit().map_err(|e| err(e.to_string()))?;
    writer
        .wait_merging_threads()
        .map_err(|e| err(e.to_string()))?;
    drop(searcher);
    drop(lock);
    drop(old);
    let aside = data_dir.join(format!(
        "index.before-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S")
    ));
    std::fs::rename(path, &aside).map_err(|e| err(e.to_string()))?;
    std::fs::rename(&fresh, path).map_err(|e| err(e.to_string()))?;
    tracing::warn!(
        orders = n,
        seconds = started.elapsed().as_secs_f64(),
        kept = %aside.display(),
        "the order index was rebuilt for this version's schema; the old one is kept aside (delete it once all is well)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreOptions};
    use tantivy::schema::{STORED, STRING};

    #[tokio::test]
    async fn an_index_of_an_older_schema_is_rebuilt_with_its_orders() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index");
        std::fs::create_dir_all(&path).expect("dir");
        // An index as an older version wrote it: fewer fields.
        let mut b = Schema::builder();
        let key = b.add_text_field("key", STRING);
        let order_field = b.add_bytes_field("order", STORED);
        let old = Index::create_in_dir(&path, b.build()).expect("old index");
        let mut w = old
            .writer_with_num_threads::<TantivyDocument>(1, 15 << 20)
            .expect("writer");
        let order: Order = serde_json::from_value(serde_json::json!({
            "shop": "s.example", "id": 7, "name": "#1007", "order_number": 1007,
            "email": "a@example.se", "updated_at": "2026-11-01T00:00:00Z",
            "fulfillment_orders": [{"id": 70, "status": "OPEN"}]
        }))
        .expect("order");
        let mut doc = TantivyDocument::new();
        doc.add_text(key, order.key());
        doc.add_bytes(order_field, &serde_json::to_vec(&order).expect("json"));
        w.add_document(doc).expect("add");
        w.commit().expect("commit");
        drop(w);
        drop(old);

        let store = Store::open(dir.path(), StoreOptions::default()).expect("migrated");
        assert_eq!(store.get(&order.key()).expect("get"), Some(order.clone()));
        assert!(
            store
                .lookup(1007, "a@example.se")
                .expect("lookup")
                .is_some()
        );
        assert_eq!(
            store.find_by_part(super::super::Part::FulfillmentOrder, 70),
            Some(order.key())
        );
        let kept = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("index.before-"));
        assert!(kept, "the old index is kept aside");
    }
}
