//! Which replica runs the background jobs that talk to Shopify (the
//! periodic sync and the status write-back): one at a time, or Shopify
//! would see every call N times and refuse a second bulk operation.
//!
//! A lease in the bucket `order_status_jobs`: the key `leader` holds the
//! replica's id; the holder renews it every few seconds (compare-and-set
//! on its revision), the bucket drops an entry not renewed for
//! [`LEASE_TTL`], and the others try to create the key meanwhile, which
//! succeeds for one of them once it is gone. A holder that cannot renew
//! stops its jobs at once, before its lease runs out.

use std::time::Duration;

use async_nats::jetstream::kv;
use tokio::sync::watch;

use super::{RETRY, Replication};

/// The bucket of the jobs lease.
pub const JOBS_BUCKET: &str = "order_status_jobs";
const LEADER: &str = "leader";
/// A lease not renewed for this long is free.
const LEASE_TTL: Duration = Duration::from_secs(15);
/// How often the holder renews (and the others look).
const RENEW: Duration = Duration::from_secs(5);

impl Replication {
    /// Keeps trying for the jobs lease while the future is polled; the
    /// receiver says whether this replica holds it now. The future ends
    /// when every receiver is gone.
    pub fn jobs_lease(
        &self,
    ) -> (
        watch::Receiver<bool>,
        impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let (tx, rx) = watch::channel(false);
        let me = self.clone();
        let task = async move {
            let mut bucket = None;
            loop {
                if bucket.is_none() {
                    bucket = me
                        .bucket(
                            JOBS_BUCKET,
                            "order-status: which replica runs the Shopify jobs",
                            LEASE_TTL,
                        )
                        .await
                        .ok();
                }
                let holds = match &bucket {
                    Some(b) => me.renew(b).await,
                    None => false,
                };
                if *tx.borrow() != holds {
                    tracing::info!(holds, "background jobs lease");
                }
                if tx.send(holds).is_err() {
                    return;
                }
                let wait = if bucket.is_some() { RENEW } else { RETRY };
                tokio::time::sleep(wait).await;
            }
        };
        (rx, task)
    }

    /// Takes or renews the lease; whether this replica holds it.
    async fn renew(&self, bucket: &kv::Store) -> bool {
        let me = self.status.node.as_bytes();
        let entry = match bucket.entry(LEADER).await {
            Ok(e) => e.filter(|e| e.operation == kv::Operation::Put),
            Err(_) => return false,
        };
        match entry {
            Some(e) if e.value.as_ref() == me => bucket
                .update(LEADER, me.to_vec().into(), e.revision)
                .await
                .is_ok(),
            // Not a replica's id: nobody holds it, whatever wrote it.
            Some(e) if !std::str::from_utf8(&e.value).is_ok_and(super::is_id) => {
                self.status
                    .refused(JOBS_BUCKET, LEADER, "not a replica's id; taken over");
                bucket
                    .update(LEADER, me.to_vec().into(), e.revision)
                    .await
                    .is_ok()
            }
            Some(_) => false,
            None => bucket.create(LEADER, me.to_vec().into()).await.is_ok(),
        }
    }
}
