//! Bulk status changes shared by the replicas (see `actions::bulk`): each
//! job's record and its orders in the bucket `order_status_bulk_jobs`, so
//! a job confirmed on any replica is run by the holder of the jobs lease,
//! and the next holder resumes it from its last saved batch when the
//! runner's replica dies. Records are written by compare-and-set on their
//! revision, so two runners cannot both save a job.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use tokio::sync::OnceCell;

use super::Replication;
use crate::actions::SharedJobs;
use crate::actions::bulk::Revisioned;

/// The bucket of bulk jobs.
pub const BULK_BUCKET: &str = "order_status_bulk_jobs";
/// Jobs are kept as long as the replicas' job files would be: for good.
const KEEP: Duration = Duration::ZERO;
/// Longest listing the jobs may take.
const LIST_WAIT: Duration = Duration::from_secs(10);

struct BucketJobs {
    me: Replication,
    /// Looked up (or made) once: the holder lists the jobs every second.
    bucket: Arc<OnceCell<kv::Store>>,
}

impl Replication {
    /// The bulk jobs every replica reads and the lease holder runs.
    pub fn shared_jobs(&self) -> Arc<dyn SharedJobs> {
        Arc::new(BucketJobs {
            me: self.clone(),
            bucket: Arc::default(),
        })
    }
}

impl BucketJobs {
    fn handle(&self) -> (Replication, Arc<OnceCell<kv::Store>>) {
        (self.me.clone(), Arc::clone(&self.bucket))
    }
}

async fn bulk_bucket(me: &Replication, cell: &OnceCell<kv::Store>) -> Result<kv::Store, String> {
    cell.get_or_try_init(|| {
        me.bucket(
            BULK_BUCKET,
            "order-status: bulk status changes and their progress",
            KEEP,
        )
    })
    .await
    .cloned()
    .map_err(|e| e.to_string())
}

impl SharedJobs for BucketJobs {
    fn get(&self, key: String) -> BoxFuture<'static, Result<Revisioned, String>> {
        let (me, cell) = self.handle();
        Box::pin(async move {
            let bucket = bulk_bucket(&me, &cell).await?;
            match bucket.entry(&key).await.map_err(|e| e.to_string())? {
                Some(e) if e.operation == kv::Operation::Put => {
                    Ok(Some((e.value.to_vec(), e.revision)))
                }
                _ => Ok(None),
            }
        })
    }

    fn put(
        &self,
        key: String,
        value: Vec<u8>,
        revision: u64,
    ) -> BoxFuture<'static, Result<Option<u64>, String>> {
        let (me, cell) = self.handle();
        Box::pin(async move {
            let bucket = bulk_bucket(&me, &cell).await?;
            if revision == 0 {
                return match bucket.create(&key, value.into()).await {
                    Ok(r) => Ok(Some(r)),
                    Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
                    Err(e) => Err(e.to_string()),
                };
            }
            match bucket.update(&key, value.into(), revision).await {
                Ok(r) => Ok(Some(r)),
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        })
    }

    fn keys(&self) -> BoxFuture<'static, Result<Vec<String>, String>> {
        let (me, cell) = self.handle();
        Box::pin(async move {
            let bucket = bulk_bucket(&me, &cell).await?;
            let list = async {
                let mut keys = bucket.keys().await.map_err(|e| e.to_string())?;
                let mut out = Vec::new();
                while let Some(k) = keys.next().await {
                    out.push(k.map_err(|e| e.to_string())?);
                }
                Ok(out)
            };
            tokio::time::timeout(LIST_WAIT, list)
                .await
                .map_err(|_| "the bulk jobs bucket did not answer in time".to_string())?
        })
    }

    fn refused(&self, key: &str, why: &str) {
        self.me.status.refused(BULK_BUCKET, key, why);
    }
}
