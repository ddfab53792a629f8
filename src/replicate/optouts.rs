//! Addresses that opted out of every order email, shared by replicas in
//! the bucket `order_status_optouts` (key: the address's SHA-256, as the
//! local file keeps it): an opt-out made on one replica holds on all, and
//! every sender looks again just before sending.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::Replication;
use crate::notify::{OptOuts, SharedOptOuts};

/// The bucket of opted-out address digests.
pub const OPTOUTS_BUCKET: &str = "order_status_optouts";

struct KvOptOuts {
    me: Replication,
}

impl Replication {
    /// Shares `optouts` with every replica, and keeps them up to date with
    /// the bucket for as long as the future is polled.
    pub fn share_optouts(
        &self,
        optouts: Arc<OptOuts>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        optouts.set_shared(Arc::new(KvOptOuts { me: self.clone() }));
        let me = self.clone();
        super::again_and_again("watching opt-outs", move || {
            let (me, optouts) = (me.clone(), Arc::clone(&optouts));
            async move {
                let bucket = me.optouts_bucket().await?;
                me.watch_bucket(&bucket, &me.status.optouts_loaded, |entry| {
                    if !optouts.observe(&entry.key) {
                        me.status.refused(
                            OPTOUTS_BUCKET,
                            &entry.key,
                            "not an address digest; skipped",
                        );
                    }
                })
                .await
            }
        })
    }

    async fn optouts_bucket(
        &self,
    ) -> Result<async_nats::jetstream::kv::Store, super::ReplicateError> {
        self.bucket(
            OPTOUTS_BUCKET,
            "order-status: addresses (SHA-256) that opted out of every order email",
            Duration::ZERO,
        )
        .await
    }
}

impl SharedOptOuts for KvOptOuts {
    fn add(&self, digest: String) -> BoxFuture<'static, std::io::Result<()>> {
        let me = self.me.clone();
        Box::pin(async move {
            let bucket = me.optouts_bucket().await.map_err(std::io::Error::other)?;
            bucket
                .put(&digest, "1".into())
                .await
                .map(|_| ())
                .map_err(std::io::Error::other)
        })
    }
}
