//! Replicas fed by NATS JetStream; only with `--replicate` (or
//! `replicate` in the config, `ORDER_STATUS_REPLICATE`).
//!
//! Every replica keeps its own tantivy index, so reads stay local. Writes
//! (webhooks, syncs, imports, staff actions) are not applied where they
//! are made: the store encodes them ([`crate::store::log`]) and this
//! module appends them to the stream `ORDER_STATUS` (subject
//! `order-status.changes`, kept on `copies` servers). A write is answered
//! only once JetStream has stored it, and then once this replica has
//! applied it, so the writer still reads its own write.
//!
//! Each replica follows the stream in order with a durable pull consumer
//! of its own (`order-status-<node id>`, the id kept in the data dir) and
//! applies each entry through the single writer. The index's commit
//! records the last entry it holds, so the index and its place in the log
//! are saved together: after a crash or restart the consumer is made
//! again from the entry after that, and an entry is applied exactly once.
//! A new or wiped replica starts from the first entry. `/readyz` says not
//! ready until the replica has caught up with the stream as it found it
//! at start; the lag is in `/metrics`.
//!
//! Shared state goes through key-value buckets, not a protocol of ours:
//! link epochs (revocations) in `order_status_link_epochs`, which every
//! replica watches.
//!
//! When NATS cannot be reached, reads go on from the local index and
//! writes fail as unavailable (503: Shopify retries its webhooks); what
//! JetStream acknowledged is kept by JetStream.
//!
//! A replica signs in to NATS (a user and password, a token, an NKey or a
//! credentials file; TLS with a CA and a client certificate), and trusts
//! nothing it reads back blindly: a value this site did not write is
//! logged with its bucket and key, counted ([`ReplicaStatus::refused`])
//! and skipped or replaced by a safe default.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer, kv, stream};
use base64::Engine;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use thiserror::Error;
use tokio::sync::mpsc;

use crate::config::{NatsAuth, NatsUrl, ReplicateConfig};
use crate::store::log::ChangeLog;
use crate::store::{LinkEpochs, PendingWrite, SharedEpochs, Store, StoreError};

mod audit;
mod bulk;
mod checkpoints;
mod counters;
mod lease;
mod limits;
mod optouts;
mod outbox;
mod seen;
mod staff;

pub use limits::{SharedLimits, Verdict};
pub use staff::cluster_accounts;

/// The stream of order changes.
pub const STREAM: &str = "ORDER_STATUS";
/// The subject its entries are published on.
pub const SUBJECT: &str = "order-status.changes";
/// The bucket of link epochs.
pub const EPOCHS_BUCKET: &str = "order_status_link_epochs";

/// How long a publish waits for JetStream's acknowledgement.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause before following the stream again after an error.
const RETRY: Duration = Duration::from_secs(1);
/// Entries applied but not yet committed, at most.
const IN_FLIGHT: usize = 256;

/// Errors of replication.
#[derive(Debug, Error)]
pub enum ReplicateError {
    #[error("cannot connect to NATS at {servers}: {reason}")]
    Connect { servers: String, reason: String },
    #[error("JetStream")]
    JetStream(#[source] crate::errors::Cause),
    #[error(
        "the stream no longer holds entry {needed} (it starts at {first}): this replica is too far behind; stop it, put a snapshot of another replica (`order-status snapshot --out DIR`, one that holds entry {at_least} or later) in place of its data dir's index/, and start it again"
    )]
    Trimmed {
        needed: u64,
        first: u64,
        at_least: u64,
    },
    /// The connection to NATS is down right now (it reconnects by itself).
    #[error("not connected to NATS")]
    Disconnected,
    #[error("the replica's id in {path}: {reason}")]
    NodeId { path: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn js_err(e: impl Into<crate::errors::Cause>) -> ReplicateError {
    ReplicateError::JetStream(e.into())
}

/// How this replica follows the stream, for `/readyz` and `/metrics`.
#[derive(Debug, Default)]
pub struct ReplicaStatus {
    /// This replica's id (its consumer is `order-status-<id>`).
    pub node: String,
    /// The highest stream position this replica knows of.
    log_end: AtomicU64,
    /// The index holds everything the stream held when following began.
    caught_up: AtomicBool,
    /// The link epochs are loaded from the bucket.
    epochs_loaded: AtomicBool,
    /// The address opt-outs are loaded from the bucket.
    optouts_loaded: AtomicBool,
    /// The insight counters are loaded (not a condition of readiness:
    /// a page of numbers can wait, shoppers cannot).
    counters_loaded: AtomicBool,
    /// The bucket of webhook claims answers.
    seen_ready: AtomicBool,
    /// The consumer is running.
    following: AtomicBool,
    /// Values read from NATS and refused (see [`ReplicaStatus::refused`]).
    refused: AtomicU64,
}

impl ReplicaStatus {
    /// Ready to serve: caught up with the stream and the epochs loaded.
    pub fn ready(&self) -> bool {
        self.caught_up() && self.buckets_loaded()
    }

    /// The index holds what the stream held when following began.
    pub fn caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Acquire)
    }

    /// The shared link epochs and opt-outs are loaded, and the webhook
    /// claims answer.
    pub fn buckets_loaded(&self) -> bool {
        self.epochs_loaded.load(Ordering::Acquire)
            && self.optouts_loaded.load(Ordering::Acquire)
            && self.seen_ready.load(Ordering::Acquire)
    }

    /// Whether the stream is being followed right now.
    pub fn following(&self) -> bool {
        self.following.load(Ordering::Acquire)
    }

    /// Entries in the stream this replica has not applied yet.
    pub fn lag(&self, applied: u64) -> u64 {
        self.log_end.load(Ordering::Acquire).saturating_sub(applied)
    }

    /// The highest stream position known.
    pub fn log_end(&self) -> u64 {
        self.log_end.load(Ordering::Acquire)
    }

    /// A value in NATS that is not what this site writes (anyone who can
    /// write to NATS could have put it there): logged with where it is,
    /// counted for `/metrics`; the caller skips it or uses a safe default.
    pub fn refused(&self, bucket: &str, key: &str, why: &str) {
        self.refused.fetch_add(1, Ordering::AcqRel);
        tracing::error!(bucket, key, why, "replication: a value in NATS refused");
    }

    /// How many values from NATS were refused since start.
    pub fn refused_count(&self) -> u64 {
        self.refused.load(Ordering::Acquire)
    }
}

/// A running replica's connection to NATS.
#[derive(Clone)]
pub struct Replication {
    js: jetstream::Context,
    copies: usize,
    /// What `/readyz` and `/metrics` read.
    pub status: Arc<ReplicaStatus>,
}

impl std::fmt::Debug for Replication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replication")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Connects to NATS (in the background if it is not reachable yet) and
/// sends every write of `store` through the stream from now on.
pub async fn start(
    config: &ReplicateConfig,
    data_dir: &Path,
    store: &Store,
) -> Result<Replication, ReplicateError> {
    let node = node_id(data_dir)?;
    let js = connect(config, &format!("order-status {node}"), true).await?;
    let status = Arc::new(ReplicaStatus {
        node,
        ..ReplicaStatus::default()
    });
    store.set_log(Arc::new(JetStreamLog { js: js.clone() }));
    Ok(Replication {
        js,
        copies: config.copies,
        status,
    })
}

/// A store that writes into the replicas' stream and holds nothing (for
/// `import` beside running replicas); NATS must be reachable now.
pub async fn log_only_store(config: &ReplicateConfig) -> Result<Store, ReplicateError> {
    let js = connect(config, "order-status import", false).await?;
    let r = Replication {
        js: js.clone(),
        copies: config.copies,
        status: Arc::default(),
    };
    r.stream().await?;
    Ok(Store::open_log_only(Arc::new(JetStreamLog { js }))?)
}

async fn connect(
    config: &ReplicateConfig,
    name: &str,
    in_background: bool,
) -> Result<jetstream::Context, ReplicateError> {
    // Credentials and addresses never go to a log or an error message
    // together: `redacted` hides the former.
    let shown = config
        .servers
        .iter()
        .map(NatsUrl::redacted)
        .collect::<Vec<_>>()
        .join(",");
    let failed = |reason: String| ReplicateError::Connect {
        servers: shown.clone(),
        reason,
    };
    let servers: Vec<async_nats::ServerAddr> = config
        .servers
        .iter()
        .map(|s| {
            s.without_credentials()
                .parse()
                .map_err(|e| failed(format!("{e}")))
        })
        .collect::<Result<_, _>>()?;
    let mut options = match &config.auth {
        NatsAuth::None => async_nats::ConnectOptions::new(),
        NatsAuth::UserPassword { user, password } => {
            async_nats::ConnectOptions::with_user_and_password(
                user.expose().to_string(),
                password.expose().to_string(),
            )
        }
        NatsAuth::Token(t) => async_nats::ConnectOptions::with_token(t.expose().to_string()),
        NatsAuth::Nkey(seed) => async_nats::ConnectOptions::with_nkey(seed.expose().to_string()),
        NatsAuth::Credentials(path) => async_nats::ConnectOptions::with_credentials_file(path)
            .await
            .map_err(|e| failed(format!("the credentials file {}: {e}", path.display())))?,
    };
    if let Some(ca) = &config.tls_ca {
        options = options.add_root_certificates(ca.clone());
    }
    if let Some((cert, key)) = &config.tls_client {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    if config.tls_required {
        options = options.require_tls(true);
    }
    options = options
        .name(name)
        .connection_timeout(Duration::from_secs(2))
        .request_timeout(Some(PUBLISH_TIMEOUT));
    if in_background {
        options = options.retry_on_initial_connect();
    }
    let client = options
        .connect(servers)
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(jetstream::new(client))
}

impl Replication {
    /// Follows the stream into `store`, for as long as it is polled (a
    /// service of the site's supervisor).
    pub fn follow(&self, store: Store) -> impl std::future::Future<Output = ()> + Send + 'static {
        let me = self.clone();
        async move {
            loop {
                let result = me.follow_once(&store).await;
                me.status.following.store(false, Ordering::Release);
                match result {
                    Ok(()) => tracing::warn!("the replication stream ended; following it again"),
                    Err(e) => {
                        tracing::warn!(error = %crate::errors::chain(&e), "replication: following again shortly")
                    }
                }
                tokio::time::sleep(RETRY).await;
            }
        }
    }

    /// Shares `epochs` with every replica through the bucket, and keeps
    /// them up to date with it for as long as the future is polled.
    pub fn share_epochs(
        &self,
        epochs: Arc<LinkEpochs>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        epochs.set_shared(Arc::new(KvEpochs { me: self.clone() }));
        let me = self.clone();
        again_and_again("watching link epochs", move || {
            let (me, epochs) = (me.clone(), Arc::clone(&epochs));
            async move { me.watch_epochs(&epochs).await }
        })
    }

    async fn stream(&self) -> Result<stream::Stream, ReplicateError> {
        self.js
            .get_or_create_stream(stream::Config {
                name: STREAM.into(),
                description: Some("order-status: every order change, in order".into()),
                subjects: vec![SUBJECT.into()],
                storage: stream::StorageType::File,
                num_replicas: self.copies,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(js_err)
    }

    async fn epochs_bucket(&self) -> Result<kv::Store, ReplicateError> {
        self.bucket(
            EPOCHS_BUCKET,
            "order-status: link epochs (revocations) per order",
            Duration::ZERO,
        )
        .await
    }

    /// Whether the connection to NATS is up. The checks that only add to a
    /// local one (shared budgets, webhook claims) and writes are refused at
    /// once while it is down, instead of each waiting out a request
    /// timeout: a shopper's lookup must not stall for seconds because NATS
    /// is away, and Shopify is better told 503 at once than after 5 s.
    fn connected(&self) -> Result<(), ReplicateError> {
        connected(&self.js)
    }

    /// The key-value bucket `name`, made if missing; entries older than
    /// `max_age` go (zero: never).
    async fn bucket(
        &self,
        name: &str,
        description: &str,
        max_age: Duration,
    ) -> Result<kv::Store, ReplicateError> {
        if let Ok(kv) = self.js.get_key_value(name).await {
            return Ok(kv);
        }
        // The bucket's stream made by hand, as the key-value convention
        // lays it out: `create_key_value` first reads the account's
        // limits in a form nats-server 2.9 does not answer in.
        self.js
            .get_or_create_stream(stream::Config {
                name: format!("KV_{name}"),
                description: Some(description.into()),
                subjects: vec![format!("$KV.{name}.>")],
                max_messages_per_subject: 1,
                max_age,
                storage: stream::StorageType::File,
                num_replicas: self.copies,
                allow_rollup: true,
                deny_delete: true,
                // Reads from the stream's leader, not from any copy: a
                // follower's answer may be behind, and compare-and-set
                // rounds (budgets, accounts, the lease) need the latest.
                allow_direct: false,
                discard: stream::DiscardPolicy::New,
                duplicate_window: Duration::from_secs(120).min(if max_age.is_zero() {
                    Duration::MAX
                } else {
                    max_age
                }),
                ..Default::default()
            })
            .await
            .map_err(js_err)?;
        self.js.get_key_value(name).await.map_err(js_err)
    }

    async fn follow_once(&self, store: &Store) -> Result<(), ReplicateError> {
        let mut stream = self.stream().await?;
        let state = stream.info().await.map_err(js_err)?.state.clone();
        let applied = store.log_applied();
        if applied < state.last_sequence && applied + 1 < state.first_sequence {
            return Err(ReplicateError::Trimmed {
                needed: applied + 1,
                first: state.first_sequence,
                at_least: state.first_sequence - 1,
            });
        }
        let status = &self.status;
        status
            .log_end
            .fetch_max(state.last_sequence, Ordering::AcqRel);
        if applied >= status.log_end() {
            status.caught_up.store(true, Ordering::Release);
        }
        // Made anew from the index's own position each time: the index,
        // not the consumer, knows what is applied.
        let name = format!("order-status-{}", status.node);
        let _ = stream.delete_consumer(&name).await;
        let consumer: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(name),
                description: Some("an order-status replica".into()),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: applied + 1,
                },
                ack_policy: consumer::AckPolicy::Explicit,
                max_ack_pending: IN_FLIGHT as i64 * 4,
                // A replica gone for a week is gone; its consumer with it.
                inactive_threshold: Duration::from_secs(7 * 86_400),
                ..Default::default()
            })
            .await
            .map_err(js_err)?;
        let mut messages = consumer.messages().await.map_err(js_err)?;
        status.following.store(true, Ordering::Release);
        tracing::info!(
            from = applied + 1,
            to = state.last_sequence,
            "following the replication stream"
        );
        let (tx, rx) = mpsc::channel(IN_FLIGHT);
        let mut acker = tokio::spawn(ack_in_order(store.clone(), rx, Arc::clone(status)));
        loop {
            tokio::select! {
                ended = &mut acker => {
                    return match ended {
                        Ok(r) => r,
                        Err(e) => Err(js_err(e)),
                    };
                }
                next = messages.next() => {
                    let Some(message) = next else { return Ok(()) };
                    let message = message.map_err(js_err)?;
                    let (seq, pending) = {
                        let info = message.info().map_err(js_err)?;
                        (info.stream_sequence, info.pending)
                    };
                    status.log_end.fetch_max(seq + pending, Ordering::AcqRel);
                    let (write, readable) = store.submit_logged(seq, &message.payload).await?;
                    if !readable {
                        status.refused(STREAM, &seq.to_string(), "not a change this site wrote; passed over");
                    }
                    if tx.send((seq, write, message)).await.is_err() {
                        continue; // the acker ended; its result comes next
                    }
                }
            }
        }
    }

    async fn watch_epochs(&self, epochs: &LinkEpochs) -> Result<(), ReplicateError> {
        let bucket = self.epochs_bucket().await?;
        self.watch_bucket(&bucket, &self.status.epochs_loaded, |entry| {
            match (decode_key(&entry.key), parse_epoch(&entry.value)) {
                (Some(key), Some(epoch)) => epochs.observe(&key, epoch),
                _ => self
                    .status
                    .refused(EPOCHS_BUCKET, &entry.key, "not a link epoch; skipped"),
            }
        })
        .await
    }

    /// Calls `seen` with every entry of `bucket`, its present ones first,
    /// then each change as it comes; sets `loaded` once the present ones
    /// are in.
    async fn watch_bucket(
        &self,
        bucket: &kv::Store,
        loaded: &AtomicBool,
        mut seen: impl FnMut(&kv::Entry),
    ) -> Result<(), ReplicateError> {
        // Each key's current value first, then every change: a replica
        // restarted over a bucket that has values loads them (`watch_all`
        // would deliver only changes made from now on).
        let mut watch = bucket.watch_with_history(">").await.map_err(js_err)?;
        if bucket.status().await.map_err(js_err)?.values() == 0 {
            loaded.store(true, Ordering::Release);
        }
        while let Some(entry) = watch.next().await {
            let entry = entry.map_err(js_err)?;
            if entry.operation == kv::Operation::Put {
                seen(&entry);
            }
            if entry.delta == 0 {
                loaded.store(true, Ordering::Release);
            }
        }
        Ok(())
    }
}

/// Runs `work` again, [`RETRY`] after each end (an error, or NATS gone),
/// for as long as the future is polled.
async fn again_and_again<F, Fut>(what: &'static str, mut work: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), ReplicateError>> + Send,
{
    loop {
        if let Err(e) = work().await {
            tracing::warn!(error = %crate::errors::chain(&e), "replication: {what} again shortly");
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Answers writers and acknowledges entries as their commits complete, in
/// log order; ends with an error at the first entry that failed to commit
/// (following begins again from the index's position).
async fn ack_in_order(
    store: Store,
    mut rx: mpsc::Receiver<(u64, PendingWrite, jetstream::Message)>,
    status: Arc<ReplicaStatus>,
) -> Result<(), ReplicateError> {
    while let Some((seq, write, message)) = rx.recv().await {
        let result = write.committed().await;
        let failed = result.as_ref().err().map(ToString::to_string);
        store.log_entry_done(seq, result);
        if let Some(e) = failed {
            return Err(ReplicateError::JetStream(crate::errors::context(
                format!("entry {seq} could not be applied here"),
                e,
            )));
        }
        if let Err(e) = message.ack().await {
            // The index holds it: a redelivery is passed over.
            tracing::debug!(seq, error = %crate::errors::chain(&*e), "replication: ack failed");
        }
        if store.log_applied() >= status.log_end() {
            status.caught_up.store(true, Ordering::Release);
        }
    }
    Ok(())
}

fn connected(js: &jetstream::Context) -> Result<(), ReplicateError> {
    match js.client().connection_state() {
        async_nats::connection::State::Connected => Ok(()),
        _ => Err(ReplicateError::Disconnected),
    }
}

/// The stream as the store's log.
struct JetStreamLog {
    js: jetstream::Context,
}

impl ChangeLog for JetStreamLog {
    fn append(&self, entry: Vec<u8>) -> BoxFuture<'static, Result<u64, StoreError>> {
        let js = self.js.clone();
        Box::pin(async move {
            // A publish retried after a lost acknowledgement is stored once.
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", random_id().as_str());
            let unavailable = |e: &dyn std::fmt::Display| {
                tracing::warn!(error = %e, "replication: the stream did not take a write");
                StoreError::Unavailable
            };
            connected(&js).map_err(|e| unavailable(&e))?;
            let ack = js
                .publish_with_headers(SUBJECT, headers, entry.into())
                .await
                .map_err(|e| unavailable(&e))?;
            let ack = tokio::time::timeout(PUBLISH_TIMEOUT, ack)
                .await
                .map_err(|e| unavailable(&e))?
                .map_err(|e| unavailable(&e))?;
            Ok(ack.sequence)
        })
    }
}

/// Link epochs in the bucket.
struct KvEpochs {
    me: Replication,
}

impl SharedEpochs for KvEpochs {
    fn bump(&self, key: String) -> BoxFuture<'static, Result<u32, StoreError>> {
        let me = self.me.clone();
        Box::pin(async move {
            let unavailable = |e: &dyn std::fmt::Display| {
                tracing::warn!(error = %e, "replication: link epochs bucket");
                StoreError::Unavailable
            };
            let bucket = me.epochs_bucket().await.map_err(|e| unavailable(&e))?;
            let k = encode_key(&key);
            // Compare-and-set: two replicas revoking at once both count.
            for _ in 0..16 {
                let entry = bucket.entry(&k).await.map_err(|e| unavailable(&e))?;
                let (current, revision) = match &entry {
                    Some(e) if e.operation == kv::Operation::Put => {
                        (parse_epoch(&e.value).unwrap_or(0), Some(e.revision))
                    }
                    _ => (0, None),
                };
                let next = current.saturating_add(1);
                let value = next.to_string().into_bytes().into();
                let stored = match revision {
                    Some(r) => bucket
                        .update(&k, value, r)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    None => bucket
                        .create(&k, value)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                };
                match stored {
                    Ok(()) => return Ok(next),
                    Err(e) => tracing::debug!(error = %e, "link epoch changed meanwhile; again"),
                }
            }
            Err(StoreError::Unavailable)
        })
    }
}

/// Bucket keys (and subject tokens) allow letters, digits and `-/_=.`: an order key (`shop/id`)
/// goes in as base64url.
fn encode_key(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_key(k: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(k)
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn parse_epoch(v: &[u8]) -> Option<u32> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn random_id() -> String {
    let mut b = [0u8; 16];
    // Without randomness the id is still unique enough per publish.
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = t.to_le_bytes();
    }
    hex::encode(b)
}

/// This replica's id: made once, kept in `<data dir>/replica-id`, so a
/// wiped data dir is a new replica that reads the stream from its start.
fn node_id(data_dir: &Path) -> Result<String, ReplicateError> {
    let path = data_dir.join("replica-id");
    let err = |reason: String| ReplicateError::NodeId {
        path: path.display().to_string(),
        reason,
    };
    match std::fs::read_to_string(&path) {
        Ok(s) if is_id(s.trim()) => return Ok(s.trim().to_string()),
        Ok(_) => {
            return Err(err(
                "not an id of 16 hex digits; delete it to make a new one".into(),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e.to_string())),
    }
    let id: String = random_id().chars().take(16).collect();
    std::fs::create_dir_all(data_dir).map_err(|e| err(e.to_string()))?;
    crate::files::write_private(&path, id.as_bytes()).map_err(|e| err(e.to_string()))?;
    Ok(id)
}

fn is_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_keys_fit_bucket_keys_and_come_back() {
        for key in ["shop.myshopify.com/5001", "a b/ü", "x/1"] {
            let k = encode_key(key);
            assert!(
                k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-/_=.".contains(&b)),
                "{k}"
            );
            assert_eq!(decode_key(&k).as_deref(), Some(key));
        }
    }

    #[test]
    fn the_node_id_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = node_id(dir.path()).expect("made");
        assert!(is_id(&a));
        assert_eq!(node_id(dir.path()).expect("read"), a);
        std::fs::write(dir.path().join("replica-id"), "nonsense").expect("write");
        assert!(node_id(dir.path()).is_err());
    }
}
