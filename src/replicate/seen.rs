//! Webhook deliveries claimed by replicas, in the bucket
//! `order_status_webhooks_seen` (see `ingest::shopify::deadletter`): a
//! replica claims a delivery's (shop, topic, event id) with a create,
//! which only one replica can make, before it applies it; the entries go
//! after the window Shopify retries in.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::future::BoxFuture;
use tokio::sync::OnceCell;

use super::{ReplicateError, Replication, encode_key};
use crate::ingest::shopify::deadletter::{SEEN_WINDOW, SeenDeliveries, SharedSeen};

/// The bucket of claimed deliveries.
pub const SEEN_BUCKET: &str = "order_status_webhooks_seen";
/// The value of a claim.
const CLAIMED: &str = "1";

struct KvSeen {
    me: Replication,
    bucket: Arc<OnceCell<async_nats::jetstream::kv::Store>>,
}

impl Replication {
    /// Shares `seen`'s claims with every replica; makes the bucket (a new
    /// cluster elects its leader meanwhile), then the replica may be
    /// ready. For as long as the future is polled.
    pub fn share_seen(
        &self,
        seen: &SeenDeliveries,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let kv = KvSeen {
            me: self.clone(),
            bucket: Arc::default(),
        };
        seen.set_shared(Arc::new(KvSeen {
            me: self.clone(),
            bucket: Arc::clone(&kv.bucket),
        }));
        async move {
            loop {
                let answered = match kv.bucket().await {
                    Ok(b) => b.get("-").await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match answered {
                    Ok(_) => break,
                    Err(e) => {
                        tracing::debug!(error = %e, "replication: the webhook claims bucket is not ready yet");
                        tokio::time::sleep(super::RETRY).await;
                    }
                }
            }
            kv.me.status.seen_ready.store(true, Ordering::Release);
            std::future::pending::<()>().await;
        }
    }
}

impl KvSeen {
    async fn bucket(&self) -> Result<async_nats::jetstream::kv::Store, ReplicateError> {
        self.bucket
            .get_or_try_init(|| async {
                self.me
                    .bucket(
                        SEEN_BUCKET,
                        "order-status: webhook deliveries claimed by a replica",
                        SEEN_WINDOW.to_std().unwrap_or_default(),
                    )
                    .await
            })
            .await
            .cloned()
    }
}

impl SharedSeen for KvSeen {
    fn claim(&self, key: String) -> BoxFuture<'static, Result<bool, String>> {
        let (me, bucket) = (self.me.clone(), Arc::clone(&self.bucket));
        Box::pin(async move {
            me.connected().map_err(|e| e.to_string())?;
            let seen = KvSeen { me, bucket };
            let b = seen.bucket().await.map_err(|e| e.to_string())?;
            let key = encode_key(&key);
            match b.create(&key, CLAIMED.into()).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == async_nats::jetstream::kv::CreateErrorKind::AlreadyExists => {
                    // A claim is what this site writes; anything else
                    // there would make Shopify's delivery a "duplicate"
                    // and lose it: refused, and claimed over (one
                    // replica wins the compare-and-set).
                    let entry = b.entry(&key).await.map_err(|e| e.to_string())?;
                    match entry {
                        Some(e) if e.value.as_ref() != CLAIMED.as_bytes() => {
                            seen.me.status.refused(
                                SEEN_BUCKET,
                                &key,
                                "not a webhook claim; claimed over",
                            );
                            Ok(b.update(&key, CLAIMED.into(), e.revision).await.is_ok())
                        }
                        _ => Ok(false),
                    }
                }
                Err(e) => Err(e.to_string()),
            }
        })
    }

    fn release(&self, key: String) -> BoxFuture<'static, ()> {
        let (me, bucket) = (self.me.clone(), Arc::clone(&self.bucket));
        Box::pin(async move {
            let seen = KvSeen { me, bucket };
            if seen.me.connected().is_ok()
                && let Ok(b) = seen.bucket().await
                && let Err(e) = b.purge(encode_key(&key)).await
            {
                tracing::warn!(error = %crate::errors::chain(&e), "a webhook claim could not be given back; Shopify's retry will be taken for a duplicate");
            }
        })
    }
}
