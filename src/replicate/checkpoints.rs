//! The cluster's sync checkpoints (see
//! `ingest::shopify::shared_checkpoint`): the bucket
//! `order_status_sync`, a shop's values under `<shop, encoded>.<name>`.
//! Only the holder of the jobs lease writes, so a plain put is enough.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use futures_util::future::BoxFuture;

use super::{Replication, encode_key};
use crate::ingest::shopify::shared_checkpoint::SharedCheckpoints;

/// The bucket of sync checkpoints.
pub const SYNC_BUCKET: &str = "order_status_sync";

struct BucketCheckpoints {
    me: Replication,
}

impl Replication {
    /// The sync checkpoints the jobs lease holder reads and writes.
    pub fn shared_checkpoints(&self) -> Arc<dyn SharedCheckpoints> {
        Arc::new(BucketCheckpoints { me: self.clone() })
    }

    async fn sync_bucket(&self) -> Result<kv::Store, String> {
        self.bucket(
            SYNC_BUCKET,
            "order-status: where each shop's sync with Shopify stands",
            Duration::ZERO,
        )
        .await
        .map_err(|e| e.to_string())
    }
}

fn key(shop: &str, name: &str) -> String {
    format!("{}.{name}", encode_key(shop))
}

impl SharedCheckpoints for BucketCheckpoints {
    fn get(&self, shop: &str, name: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, String>> {
        let (me, key) = (self.me.clone(), key(shop, name));
        Box::pin(async move {
            let bucket = me.sync_bucket().await?;
            match bucket.entry(&key).await.map_err(|e| e.to_string())? {
                Some(e) if e.operation == kv::Operation::Put => Ok(Some(e.value.to_vec())),
                _ => Ok(None),
            }
        })
    }

    fn put(
        &self,
        shop: &str,
        name: &str,
        value: Vec<u8>,
    ) -> BoxFuture<'static, Result<(), String>> {
        let (me, key) = (self.me.clone(), key(shop, name));
        Box::pin(async move {
            let bucket = me.sync_bucket().await?;
            bucket
                .put(&key, value.into())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }

    fn refused(&self, shop: &str, name: &str, why: &str) {
        self.me.status.refused(SYNC_BUCKET, &key(shop, name), why);
    }
}
