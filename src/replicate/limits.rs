//! Budgets and lockouts shared by replicas, in the bucket
//! `order_status_limits`, so N replicas do not give an attacker N budgets:
//! the lookup and sign-in budgets per client, the "email me my link"
//! budget per address and the failed-lookup count per order number.
//!
//! A budget is a GCRA, as tower-governor's local one: the key's value is
//! its theoretical arrival time (Unix milliseconds); a request is let in
//! when that time is at most the burst's tolerance ahead of now, and moves
//! it one interval on. Every change is a compare-and-set on the entry's
//! revision, so two replicas counting at once both count.
//!
//! When NATS cannot be reached these checks let requests through: the
//! local limiters, which stay in front, still hold, and lookups are reads
//! that go on without NATS.

use std::time::Duration;

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use super::{ReplicateError, Replication};
use crate::config::{FailureSpec, RateSpec};

/// The bucket of budgets and lockouts.
pub const LIMITS_BUCKET: &str = "order_status_limits";
/// How long an untouched entry is kept (longer than any budget's window).
const KEPT: Duration = Duration::from_secs(7 * 86_400);
/// Compare-and-set rounds before giving up on a busy key.
const ROUNDS: usize = 8;

/// The shared budgets and lockouts.
pub struct SharedLimits {
    me: Replication,
    bucket: OnceCell<kv::Store>,
}

impl std::fmt::Debug for SharedLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedLimits")
    }
}

impl Replication {
    /// Budgets and lockouts shared with every replica.
    pub fn shared_limits(&self) -> SharedLimits {
        SharedLimits {
            me: self.clone(),
            bucket: OnceCell::new(),
        }
    }
}

/// What a budget says to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over budget: try again in this many seconds.
    Wait(u64),
}

impl SharedLimits {
    async fn bucket(&self) -> Result<&kv::Store, ReplicateError> {
        self.bucket
            .get_or_try_init(|| {
                self.me.bucket(
                    LIMITS_BUCKET,
                    "order-status: lookup and sign-in budgets, failed lookups per order number",
                    KEPT,
                )
            })
            .await
    }

    /// A value in the bucket this site did not write: logged and counted
    /// (see `ReplicaStatus::refused`); the caller goes on as if absent.
    fn refuse(&self, key: &str, why: &str) {
        self.me.status.refused(LIMITS_BUCKET, key, why);
    }

    /// Takes one request from `kind`'s budget `spec` for `key`. Lets it
    /// through when the bucket cannot be reached (see the module docs).
    pub async fn take(&self, kind: &str, key: &[u8], spec: RateSpec) -> Verdict {
        let k = format!("rate.{kind}.{}", encode_key_bytes(key));
        match self.gcra(&k, spec, Utc::now()).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %crate::errors::chain(&e), "shared budget unavailable; the local one holds");
                Verdict::Allowed
            }
        }
    }

    async fn gcra(
        &self,
        key: &str,
        spec: RateSpec,
        now: DateTime<Utc>,
    ) -> Result<Verdict, ReplicateError> {
        self.me.connected()?;
        let bucket = self.bucket().await?;
        let interval = spec.replenish_every().as_millis() as i64;
        let tolerance = interval * i64::from(spec.burst.max(1) - 1);
        let t = now.timestamp_millis();
        for _ in 0..ROUNDS {
            let entry = bucket.entry(key).await.map_err(super::js_err)?;
            let (stored, revision) = live(&entry);
            if stored.is_none() && revision.is_some() {
                self.refuse(key, "not a budget; replaced");
            }
            let tat = stored.unwrap_or(t).max(t);
            if tat - t > tolerance {
                let wait_ms = tat - t - tolerance;
                return Ok(Verdict::Wait(((wait_ms + 999) / 1000).max(1) as u64));
            }
            let value = (tat + interval).to_string().into_bytes().into();
            if put(bucket, key, value, revision).await {
                return Ok(Verdict::Allowed);
            }
        }
        Err(ReplicateError::JetStream(
            format!("{key} is too busy").into(),
        ))
    }

    /// Whether lookups of order `number` are locked (`None`: the bucket
    /// cannot be reached, ask the local lock).
    pub async fn is_locked(&self, number: u64, spec: FailureSpec) -> Option<bool> {
        self.me.connected().ok()?;
        let bucket = self.bucket().await.ok()?;
        let entry = bucket.entry(lock_key(number)).await.ok()?;
        let (count, start) = live_lock(&entry).unwrap_or_else(|| {
            if put_entry(&entry) {
                self.refuse(&lock_key(number), "not a lookup lock; taken as none");
            }
            (0, 0)
        });
        let fresh = Utc::now().timestamp_millis() - start < spec.window.as_millis() as i64;
        Some(count >= spec.max && fresh)
    }

    /// Counts one failed lookup of order `number`, in windows of `spec`.
    pub async fn record_failure(&self, number: u64, spec: FailureSpec) {
        if let Err(e) = self.count_failure(number, spec).await {
            tracing::warn!(error = %crate::errors::chain(&e), "shared order lock unavailable; the local one holds");
        }
    }

    async fn count_failure(&self, number: u64, spec: FailureSpec) -> Result<(), ReplicateError> {
        self.me.connected()?;
        let bucket = self.bucket().await?;
        let key = lock_key(number);
        let window = spec.window.as_millis() as i64;
        for _ in 0..ROUNDS {
            let t = Utc::now().timestamp_millis();
            let entry = bucket.entry(&key).await.map_err(super::js_err)?;
            let revision = entry
                .as_ref()
                .filter(|e| e.operation == kv::Operation::Put)
                .map(|e| e.revision);
            let (count, start) = match live_lock(&entry) {
                Some((n, s)) if t - s < window => (n.saturating_add(1), s),
                _ => (1, t),
            };
            let value = format!("{count} {start}").into_bytes().into();
            if put(bucket, &key, value, revision).await {
                return Ok(());
            }
        }
        Err(ReplicateError::JetStream(
            format!("{key} is too busy").into(),
        ))
    }
}

fn lock_key(number: u64) -> String {
    format!("lock.{number}")
}

fn encode_key_bytes(key: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// A stored time and the revision to replace it at.
fn live(entry: &Option<kv::Entry>) -> (Option<i64>, Option<u64>) {
    match entry {
        Some(e) if e.operation == kv::Operation::Put => (
            std::str::from_utf8(&e.value)
                .ok()
                .and_then(|v| v.parse().ok()),
            Some(e.revision),
        ),
        _ => (None, None),
    }
}

/// Whether the entry holds a value (not a delete or nothing).
fn put_entry(entry: &Option<kv::Entry>) -> bool {
    entry
        .as_ref()
        .is_some_and(|e| e.operation == kv::Operation::Put)
}

fn live_lock(entry: &Option<kv::Entry>) -> Option<(u32, i64)> {
    let e = entry
        .as_ref()
        .filter(|e| e.operation == kv::Operation::Put)?;
    let (n, s) = std::str::from_utf8(&e.value).ok()?.split_once(' ')?;
    Some((n.parse().ok()?, s.parse().ok()?))
}

/// Writes `value` if the key is still at `revision` (absent: `None`).
async fn put(bucket: &kv::Store, key: &str, value: bytes::Bytes, revision: Option<u64>) -> bool {
    match revision {
        Some(r) => bucket.update(key, value, r).await.is_ok(),
        None => bucket.create(key, value).await.is_ok(),
    }
}
