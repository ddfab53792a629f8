//! The insights page's day counters, shared by replicas in the bucket
//! `order_status_insights` (key `<day>.<shop, hex>.<kind>`, value the
//! total as decimal text): each replica adds what it counted with
//! compare-and-set, and follows the bucket, so every replica's page shows
//! the cluster's sum. Orders already looked at are keys of
//! `order_status_looked` (the digest in hex): creating one succeeds for
//! exactly one replica, which counts the first look.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use futures_util::future::BoxFuture;

use super::{ReplicateError, Replication};
use crate::insights::DayCounters;
use crate::insights::counters::{Key, SharedCounters};

/// The bucket of day counters.
pub const COUNTERS_BUCKET: &str = "order_status_insights";
/// The bucket of orders looked at.
pub const LOOKED_BUCKET: &str = "order_status_looked";

/// Compare-and-set rounds before an add gives up (and is tried again at
/// the next flush).
const ROUNDS: usize = 20;

struct KvCounters {
    me: Replication,
}

impl Replication {
    /// Shares `counters` with every replica, and keeps their totals up to
    /// date with the bucket for as long as the future is polled.
    pub fn share_counters(
        &self,
        counters: Arc<DayCounters>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        counters.set_shared(Arc::new(KvCounters { me: self.clone() }));
        let me = self.clone();
        super::again_and_again("watching insight counters", move || {
            let (me, counters) = (me.clone(), Arc::clone(&counters));
            async move {
                let bucket = me.counters_bucket().await?;
                me.watch_bucket(&bucket, &me.status.counters_loaded, |entry| {
                    if !counters.observe(&entry.key, &entry.value) {
                        me.status.refused(
                            COUNTERS_BUCKET,
                            &entry.key,
                            "not an insight counter; skipped",
                        );
                    }
                })
                .await
            }
        })
    }

    async fn counters_bucket(&self) -> Result<kv::Store, ReplicateError> {
        self.bucket(
            COUNTERS_BUCKET,
            "order-status: shopper activity per day, shop and kind (numbers only)",
            Duration::ZERO,
        )
        .await
    }

    async fn looked_bucket(&self) -> Result<kv::Store, ReplicateError> {
        self.bucket(
            LOOKED_BUCKET,
            "order-status: orders (64-bit digests of their keys) whose shopper looked",
            Duration::ZERO,
        )
        .await
    }
}

impl SharedCounters for KvCounters {
    fn add(&self, key: Key, n: u64) -> BoxFuture<'static, std::io::Result<u64>> {
        let me = self.me.clone();
        Box::pin(async move {
            me.connected().map_err(std::io::Error::other)?;
            let bucket = me.counters_bucket().await.map_err(std::io::Error::other)?;
            let name = key.to_bucket_key();
            for _ in 0..ROUNDS {
                let entry = bucket.entry(&name).await.map_err(std::io::Error::other)?;
                let live = entry.filter(|e| e.operation == kv::Operation::Put);
                let stored = live
                    .as_ref()
                    .and_then(|e| std::str::from_utf8(&e.value).ok())
                    .and_then(|s| s.parse::<u64>().ok());
                if live.is_some() && stored.is_none() {
                    me.status
                        .refused(COUNTERS_BUCKET, &name, "not an insight counter; replaced");
                }
                let total = stored.unwrap_or(0).saturating_add(n);
                let value = bytes::Bytes::from(total.to_string());
                let put = match &live {
                    Some(e) => bucket.update(&name, value, e.revision).await.is_ok(),
                    None => bucket.create(&name, value).await.is_ok(),
                };
                if put {
                    return Ok(total);
                }
            }
            Err(std::io::Error::other(format!(
                "the counter {name} changed under {ROUNDS} tries in a row"
            )))
        })
    }

    fn first_look(&self, digest: u64) -> BoxFuture<'static, std::io::Result<bool>> {
        let me = self.me.clone();
        Box::pin(async move {
            me.connected().map_err(std::io::Error::other)?;
            let bucket = me.looked_bucket().await.map_err(std::io::Error::other)?;
            let name = format!("{digest:016x}");
            match bucket.create(&name, bytes::Bytes::from_static(b"1")).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(std::io::Error::other(e)),
            }
        })
    }
}
