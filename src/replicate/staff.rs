//! Staff accounts and the session key shared by replicas, in the bucket
//! `order_status_staff` (keys `accounts` and `session-key`): a session
//! made on one replica is good on all, and signing out, a new role or a
//! removal on one ends it on all (see `crate::staff`).
//!
//! The session key is a secret kept in NATS: whoever may read the bucket
//! may sign sessions, as whoever may publish to the stream may change
//! orders, so NATS asks replicas who they are (credentials and TLS, see
//! `connect`). What is read back is checked: a key too short to sign with
//! is replaced, unreadable accounts give way to the replica's own file.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use futures_util::future::BoxFuture;
use tokio::sync::OnceCell;

use super::{ReplicateError, Replication};
use crate::staff::{SharedAccounts, StaffError, Versioned};

/// The bucket of staff accounts and the session key.
pub const STAFF_BUCKET: &str = "order_status_staff";
const ACCOUNTS: &str = "accounts";
const SESSION_KEY: &str = "session-key";

#[derive(Clone)]
struct KvAccounts {
    me: Replication,
    bucket: Arc<OnceCell<kv::Store>>,
    /// The revision of the accounts last refused: every staff request
    /// reads them, and one bad value is logged and counted once.
    refused: Arc<std::sync::atomic::AtomicU64>,
}

impl Replication {
    /// Staff accounts shared with every replica.
    pub fn shared_accounts(&self) -> Arc<dyn SharedAccounts> {
        Arc::new(KvAccounts {
            me: self.clone(),
            bucket: Arc::default(),
            refused: Arc::default(),
        })
    }
}

/// The replicas' shared accounts, for a command run beside them (NATS
/// must be reachable now).
pub async fn cluster_accounts(
    config: &crate::config::ReplicateConfig,
) -> Result<Arc<dyn SharedAccounts>, ReplicateError> {
    let js = super::connect(config, "order-status staff", false).await?;
    let me = Replication {
        js,
        copies: config.copies,
        status: Arc::default(),
    };
    Ok(me.shared_accounts())
}

fn shared_err(e: impl Into<crate::errors::Cause>) -> StaffError {
    StaffError::Shared(e.into())
}

async fn bucket(a: &KvAccounts) -> Result<kv::Store, StaffError> {
    a.bucket
        .get_or_try_init(|| async {
            a.me.bucket(
                STAFF_BUCKET,
                "order-status: staff accounts and the session key",
                Duration::ZERO,
            )
            .await
        })
        .await
        .cloned()
        .map_err(|e: ReplicateError| shared_err(e))
}

impl SharedAccounts for KvAccounts {
    fn refused(&self, version: u64, why: &str) {
        use std::sync::atomic::Ordering;
        if self.refused.swap(version, Ordering::AcqRel) != version {
            self.me.status.refused(STAFF_BUCKET, ACCOUNTS, why);
        }
    }

    fn load(&self) -> BoxFuture<'static, Result<Option<Versioned>, StaffError>> {
        let me = self.clone();
        Box::pin(async move {
            let b = bucket(&me).await?;
            let entry = b.entry(ACCOUNTS).await.map_err(shared_err)?;
            Ok(entry
                .filter(|e| e.operation == kv::Operation::Put)
                .map(|e| (e.value.to_vec(), e.revision)))
        })
    }

    fn store(
        &self,
        bytes: Vec<u8>,
        version: Option<u64>,
    ) -> BoxFuture<'static, Result<bool, StaffError>> {
        let me = self.clone();
        Box::pin(async move {
            let b = bucket(&me).await?;
            let stored = match version {
                Some(v) => b
                    .update(ACCOUNTS, bytes.into(), v)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                None => b
                    .create(ACCOUNTS, bytes.into())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            };
            match stored {
                Ok(()) => Ok(true),
                Err(e) => {
                    tracing::debug!(error = %e, "staff accounts changed meanwhile");
                    Ok(false)
                }
            }
        })
    }

    fn session_key(&self, local: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, StaffError>> {
        let me = self.clone();
        Box::pin(async move {
            // A cluster that is just starting answers with errors until its
            // leaders are elected: those are tried again too (the caller
            // bounds the wait).
            let mut last = String::from("no answer");
            for _ in 0..100 {
                match bucket(&me).await {
                    Ok(b) => match b.entry(SESSION_KEY).await {
                        Ok(Some(k))
                            if k.operation == kv::Operation::Put
                                && k.value.len() >= crate::staff::MIN_KEY_BYTES =>
                        {
                            return Ok(k.value.to_vec());
                        }
                        // Too short to sign with (or deleted): replaced by
                        // this replica's, once: of replicas doing so at the
                        // same time, the first update wins and the others
                        // read it.
                        Ok(Some(k)) => {
                            me.me.status.refused(
                                STAFF_BUCKET,
                                SESSION_KEY,
                                "not a session key (shorter than 32 bytes); replaced",
                            );
                            if let Err(e) = b
                                .update(SESSION_KEY, local.clone().into(), k.revision)
                                .await
                            {
                                last = e.to_string();
                            }
                            continue;
                        }
                        // The first replica's key becomes everyone's.
                        Ok(None) => match b.create(SESSION_KEY, local.clone().into()).await {
                            Ok(_) => continue,
                            Err(e) => last = e.to_string(),
                        },
                        Err(e) => last = e.to_string(),
                    },
                    Err(e) => last = e.to_string(),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(StaffError::Shared(
                format!("the session key cannot be read: {last}").into(),
            ))
        })
    }
}
