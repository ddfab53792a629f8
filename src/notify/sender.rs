//! The sender: drains the outbox (orders with queued messages) through
//! the transport, a few messages at a time, retrying temporary failures
//! with back-off, and records every final outcome in the journal before
//! folding it into the orders. Also the clock that notices parcels whose
//! estimated delivery passed without a delivery (no order change tells
//! us that), and the listing of the file transport's messages for staff.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, Semaphore};

use super::journal::{Journal, Outcome};
use super::shared::{Offer, Settle, SharedOutbox};
use super::transport::{SendError, Transport};
use super::{Composer, NotifyError, OptOuts};
use crate::config::Config;
use crate::insights::{DayCounters, Kind};
use crate::order::mail_log::{MailMessage, MailUpdate, watch_hour};
use crate::order::merge::Change;
use crate::order::{MailState, Order};
use crate::store::Store;

/// How often the outbox is looked at when nothing wakes the sender.
const POLL: Duration = Duration::from_millis(200);
/// How often the clock looks for late parcels.
const CLOCK_EVERY: Duration = Duration::from_secs(600);
/// The clock's first look, after start (cheap: only parcels due in the
/// hours since `max_age` ago that were watched before they were due).
const CLOCK_FIRST: Duration = Duration::from_secs(5);
/// The furthest back the clock looks at start (`max_age` if shorter).
const CLOCK_LOOK_BACK: chrono::Duration = chrono::Duration::days(14);
/// Orders the clock touches in one write: a store of millions can have
/// tens of thousands due, and one write of them all held them all in
/// memory at once (benches/load.sh: 750 MB).
const CLOCK_BATCH: usize = 256;
/// How long an offer of a message stands before this replica offers it
/// again (it is refused while the first is unsettled, so this only bounds
/// the chatter).
const REOFFER: Duration = Duration::from_secs(30);
/// How many times an offered message this replica does not have (the order
/// or the message missing) goes back on offer before it counts as erased.
/// Missing is most often "not applied here yet": settled as done, the
/// offer would be acknowledged and the email never sent by anyone.
const NOT_HERE_TRIES: u32 = 20;
/// Orders read from the outbox per pass: small enough that reading them
/// (off the async threads) and folding their outcomes stay short.
const SCAN: usize = 200;

type Id = (String, String);

/// What becomes of an offer of a message this replica does not have.
fn not_here_yet(tried: u32) -> Settle {
    if tried < NOT_HERE_TRIES {
        Settle::Again(Duration::from_secs(1))
    } else {
        // The order was erased, or the message rewritten away.
        Settle::Done
    }
}

/// What an attempt came to.
enum Tried {
    /// Sent, or refused for good.
    Final(Outcome),
    /// A temporary failure: again after `wait`.
    Again {
        wait: Duration,
        first_failed: DateTime<Utc>,
    },
}

#[derive(Debug, Clone)]
struct Retry {
    attempts: u32,
    next_at: Instant,
    first_failed: DateTime<Utc>,
}

/// The outbox's sender; one per site.
#[derive(Debug)]
pub struct Sender {
    /// Emails sent, per day and event, for the insights page.
    counters: Arc<DayCounters>,
    store: Store,
    composer: Composer,
    transport: Transport,
    journal: Arc<Journal>,
    workers: usize,
    /// Paces hand-overs to the transport (`[mail] max_rate`).
    pace: Option<governor::DefaultDirectRateLimiter>,
    retry_first: Duration,
    retry_max: Duration,
    give_up: chrono::Duration,
    /// How far back the clock looks at start.
    max_age: chrono::Duration,
    /// Where the clock's next look starts (the hour it last looked at).
    clock_from: Mutex<Option<DateTime<Utc>>>,
    retries: Mutex<HashMap<Id, Retry>>,
    /// Retry notes for staff, folded with the next batch.
    notes: Mutex<Vec<Outcome>>,
    inflight: Mutex<HashSet<Id>>,
    wake: Notify,
    counts: Counts,
    /// With replicas: where messages are offered and taken instead.
    shared: std::sync::OnceLock<Arc<dyn SharedOutbox>>,
    /// With replicas: when each message was last offered here.
    offered: Mutex<HashMap<Id, Instant>>,
    /// Addresses that opted out: looked at again just before sending, for
    /// an opt-out made after the message was queued (or, with replicas,
    /// on a replica whose news had not reached this one's index).
    optouts: Arc<OptOuts>,
}

/// What the sender did since start, for `/metrics`.
#[derive(Debug, Default)]
struct Counts {
    sent: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
}

/// Messages sent, failed and retried since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendCounts {
    pub sent: u64,
    pub failed: u64,
    /// Temporary failures that will be tried again.
    pub retried: u64,
}

impl Sender {
    /// A sender for `config`'s mail settings; opens the journal.
    pub fn new(
        config: &Config,
        store: Store,
        composer: Composer,
        transport: Transport,
        optouts: Arc<OptOuts>,
        counters: Arc<DayCounters>,
    ) -> Result<Arc<Sender>, NotifyError> {
        let journal = Journal::open(&config.data_dir).map_err(|e| NotifyError::Files {
            path: config.data_dir.join("mail").display().to_string(),
            reason: e.to_string(),
        })?;
        let journal = Arc::new(journal);
        let m = &config.mail;
        Ok(Arc::new(Sender {
            counters,
            store,
            composer,
            transport,
            journal,
            workers: m.worker_count(),
            pace: std::num::NonZeroU32::new(m.rate_cap())
                .map(|n| governor::RateLimiter::direct(governor::Quota::per_second(n))),
            retry_first: *m.retry_first,
            retry_max: *m.retry_max,
            give_up: chrono::Duration::from_std(*m.give_up).unwrap_or(chrono::Duration::MAX),
            max_age: chrono::Duration::from_std(*m.max_age).unwrap_or(chrono::Duration::MAX),
            clock_from: Mutex::default(),
            retries: Mutex::default(),
            notes: Mutex::default(),
            inflight: Mutex::default(),
            wake: Notify::new(),
            counts: Counts::default(),
            shared: std::sync::OnceLock::new(),
            offered: Mutex::default(),
            optouts,
        }))
    }

    /// The transport messages leave by.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The composer, for previews.
    pub fn composer(&self) -> &Composer {
        &self.composer
    }

    /// What was sent, failed and retried since start.
    pub fn counts(&self) -> SendCounts {
        SendCounts {
            sent: self.counts.sent.load(Ordering::Relaxed),
            failed: self.counts.failed.load(Ordering::Relaxed),
            retried: self.counts.retried.load(Ordering::Relaxed),
        }
    }

    /// The file transport's files of these orders' messages (empty for
    /// SMTP): what must go when Shopify asks for the orders to be erased.
    pub fn files_of(&self, order: &Order) -> Vec<PathBuf> {
        let Some(dir) = self.transport.dir() else {
            return Vec::new();
        };
        order
            .mail
            .messages
            .iter()
            .map(|m| dir.join(format!("{}.eml", self.composer.file_name(order, m))))
            .collect()
    }

    /// Look at the outbox now (something was just queued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Shares the outbox with other replicas from now on (call before
    /// [`Sender::run`]; the first call counts).
    pub fn set_shared(&self, shared: Arc<dyn SharedOutbox>) {
        let _ = self.shared.set(shared);
    }

    /// Sends until `shutdown` resolves, then lets messages in flight
    /// finish (briefly) and folds what they did.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        if let Some(shared) = self.shared.get().cloned() {
            return self.run_shared(shared, shutdown).await;
        }
        tokio::pin!(shutdown);
        let permits = Arc::new(Semaphore::new(self.workers));
        let mut tasks = tokio::task::JoinSet::new();
        let _clock = self.spawn_clock();
        // What a previous run sent but did not fold.
        self.fold().await;
        loop {
            // Reading orders is CPU work; pages must not wait behind it.
            let store = self.store.clone();
            let scanned = tokio::task::spawn_blocking(move || store.mail_queued(SCAN))
                .await
                .unwrap_or_else(|e| Err(crate::store::StoreError::Read(e.into())));
            match scanned {
                Ok(orders) => {
                    for order in orders {
                        for msg in order.mail.queued() {
                            if !self.due(&order, msg) {
                                continue;
                            }
                            let Some(permit) = self.slot(&permits, shutdown.as_mut()).await else {
                                return self.stop(tasks).await;
                            };
                            let (me, order, msg) = (Arc::clone(&self), order.clone(), msg.clone());
                            self.lock_inflight().insert((order.key(), msg.key.clone()));
                            tasks.spawn(async move {
                                me.send(&order, &msg).await;
                                drop(permit);
                            });
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %crate::errors::chain(&e), "cannot read the mail outbox")
                }
            }
            while tasks.try_join_next().is_some() {}
            self.fold().await;
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = self.wake.notified() => {}
                () = &mut shutdown => return self.stop(tasks).await,
            }
        }
    }

    /// [`Sender::run`] with replicas: offers what is queued here, sends
    /// what it is handed.
    async fn run_shared(
        self: Arc<Self>,
        shared: Arc<dyn SharedOutbox>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let permits = Arc::new(Semaphore::new(self.workers));
        let mut tasks = tokio::task::JoinSet::new();
        let _clock = self.spawn_clock();
        let offering = {
            let (me, shared) = (Arc::clone(&self), Arc::clone(&shared));
            tokio::spawn(async move {
                loop {
                    me.offer_queued(shared.as_ref()).await;
                    tokio::select! {
                        () = tokio::time::sleep(POLL) => {}
                        () = me.wake.notified() => {}
                    }
                }
            })
        };
        let _offering = AbortOnDrop(offering);
        self.fold().await;
        let mut folded = Instant::now();
        loop {
            let taken = tokio::select! {
                t = shared.take() => t,
                () = &mut shutdown => return self.stop(tasks).await,
            };
            while tasks.try_join_next().is_some() {}
            if folded.elapsed() >= POLL {
                self.fold().await;
                folded = Instant::now();
            }
            let Some(offer) = taken else {
                continue;
            };
            let Some(permit) = self.slot(&permits, shutdown.as_mut()).await else {
                return self.stop(tasks).await;
            };
            let me = Arc::clone(&self);
            tasks.spawn(async move {
                me.try_offer(offer).await;
                drop(permit);
            });
        }
    }

    /// Offers the messages queued in this index (each at most every
    /// [`REOFFER`]: an offer stands until it is settled).
    async fn offer_queued(&self, shared: &dyn SharedOutbox) {
        let store = self.store.clone();
        let scanned = tokio::task::spawn_blocking(move || store.mail_queued(SCAN))
            .await
            .unwrap_or_else(|e| Err(crate::store::StoreError::Read(e.into())));
        // Read after the scan: the index moves to an entry before the log
        // position does, so a position read first can be short of what
        // the scan saw, and a replica waiting only that far would not
        // have the message yet.
        let after = self.store.log_applied();
        let orders = match scanned {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %crate::errors::chain(&e), "cannot read the mail outbox");
                return;
            }
        };
        let now = Instant::now();
        for order in orders {
            let key = order.key();
            for msg in order.mail.queued() {
                if self.journal.is_done(&key, &msg.key) {
                    continue;
                }
                let id = (key.clone(), msg.key.clone());
                {
                    let mut offered = self.offered.lock().unwrap_or_else(|p| p.into_inner());
                    if offered
                        .get(&id)
                        .is_some_and(|t| now.duration_since(*t) < REOFFER)
                    {
                        continue;
                    }
                    offered.insert(id, now);
                }
                shared.offer(key.clone(), msg.key.clone(), after).await;
            }
        }
        let mut offered = self.offered.lock().unwrap_or_else(|p| p.into_inner());
        offered.retain(|_, t| now.duration_since(*t) < REOFFER);
    }

    /// Tries a message another replica (or this one) offered.
    async fn try_offer(&self, offer: Offer) {
        let Offer {
            order: key,
            message,
            after,
            tried,
            offered_at,
            settle,
        } = offer;
        // The order as the offering replica saw it, or newer.
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.store.log_applied() < after {
            if Instant::now() > deadline {
                return settle(Settle::Again(Duration::from_secs(1))).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let store = self.store.clone();
        let read_key = key.clone();
        let order = tokio::task::spawn_blocking(move || store.get(&read_key)).await;
        let order = match order {
            Ok(Ok(Some(o))) => o,
            Ok(Ok(None)) => return settle(not_here_yet(tried)).await,
            _ => return settle(Settle::Again(Duration::from_secs(1))).await,
        };
        let Some(msg) = order.mail.messages.iter().find(|m| m.key == message) else {
            return settle(not_here_yet(tried)).await;
        };
        if msg.state != MailState::Queued || self.journal.is_done(&key, &message) {
            // Sent, failed or skipped already.
            return settle(Settle::Done).await;
        }
        let msg = msg.clone();
        let id = (key, message);
        if !self.lock_inflight().insert(id.clone()) {
            return settle(Settle::Again(Duration::from_secs(1))).await;
        }
        let attempts = msg.attempts.max(tried) + 1;
        let first_failed = (tried > 0).then_some(offered_at);
        let result = self.attempt(&order, &msg, attempts, first_failed).await;
        // Journaled before it leaves the in-flight set: another offer of
        // it must find it done.
        let settled = match result {
            Tried::Final(o) => {
                self.finish(o).await;
                Settle::Done
            }
            Tried::Again { wait, .. } => Settle::Again(wait),
        };
        self.lock_inflight().remove(&id);
        settle(settled).await;
    }

    /// The clock, beside the sending (a long look does not hold messages
    /// back); it ends when the returned guard is dropped.
    fn spawn_clock(self: &Arc<Self>) -> AbortOnDrop {
        let me = Arc::clone(self);
        AbortOnDrop(tokio::spawn(async move {
            tokio::time::sleep(CLOCK_FIRST).await;
            loop {
                me.clock().await;
                tokio::time::sleep(CLOCK_EVERY).await;
            }
        }))
    }

    /// Waits for the pace (`max_rate`) and a free worker; `None` once
    /// `shutdown` resolves first.
    async fn slot(
        &self,
        permits: &Arc<Semaphore>,
        mut shutdown: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    ) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if let Some(pace) = &self.pace {
            tokio::select! {
                () = pace.until_ready() => {}
                () = &mut shutdown => return None,
            }
        }
        tokio::select! {
            p = Arc::clone(permits).acquire_owned() => p.ok(),
            () = &mut shutdown => None,
        }
    }

    async fn stop(&self, mut tasks: tokio::task::JoinSet<()>) {
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(5), drain)
            .await
            .is_err()
        {
            tracing::warn!(
                "mail sends still in flight at shutdown; they are retried at the next start"
            );
        }
        self.fold().await;
    }

    fn lock_inflight(&self) -> std::sync::MutexGuard<'_, HashSet<Id>> {
        self.inflight.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_retries(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Retry>> {
        self.retries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a queued message should be sent now.
    fn due(&self, order: &Order, msg: &MailMessage) -> bool {
        let key = order.key();
        if self.journal.is_done(&key, &msg.key) {
            return false;
        }
        let id = (key, msg.key.clone());
        if self.lock_inflight().contains(&id) {
            return false;
        }
        self.lock_retries()
            .get(&id)
            .is_none_or(|r| r.next_at <= Instant::now())
    }

    /// One attempt at one message, its retry kept here.
    async fn send(&self, order: &Order, msg: &MailMessage) {
        let id = (order.key(), msg.key.clone());
        let previous = self.lock_retries().get(&id).cloned();
        let attempts = previous.as_ref().map_or(msg.attempts, |r| r.attempts) + 1;
        let first_failed = previous.map(|r| r.first_failed);
        match self.attempt(order, msg, attempts, first_failed).await {
            Tried::Final(o) => {
                self.lock_retries().remove(&id);
                self.finish(o).await;
            }
            Tried::Again { wait, first_failed } => {
                self.lock_retries().insert(
                    id.clone(),
                    Retry {
                        attempts,
                        next_at: Instant::now() + wait,
                        first_failed,
                    },
                );
            }
        }
        self.lock_inflight().remove(&id);
    }

    /// Attempt number `attempts` at a message; `first_failed` is when its
    /// first temporary failure was (the give-up clock).
    async fn attempt(
        &self,
        order: &Order,
        msg: &MailMessage,
        attempts: u32,
        first_failed: Option<DateTime<Utc>>,
    ) -> Tried {
        let key = order.key();
        let now = Utc::now();
        if self.optouts.contains(&order.email) {
            return Tried::Final(Outcome {
                order: key,
                message: msg.key.clone(),
                state: MailState::Skipped,
                at: now,
                attempts: attempts - 1,
                note: Some("opted out".into()),
            });
        }
        // Composing is CPU work (templates, DKIM): off the async threads,
        // which answer pages.
        let composer = self.composer.clone();
        let (o, m) = (order.clone(), msg.clone());
        let composed = tokio::task::spawn_blocking(move || {
            let name = composer.file_name(&o, &m);
            composer.message(&o, &m, now).map(|mail| (mail, name))
        })
        .await;
        let result = match composed {
            Ok(Ok((mail, name))) => self.transport.send(&mail, &name).await,
            Ok(Err(e)) => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Permanent(format!("cannot compose: {e}"))),
        };
        let outcome = |state, note| Outcome {
            order: key.clone(),
            message: msg.key.clone(),
            state,
            at: Utc::now(),
            attempts,
            note,
        };
        match result {
            Ok(()) => {
                // Counted once the server took it, by whichever replica
                // sent it (only one does).
                self.counters
                    .add(&order.shop, Kind::Sent(msg.event.as_str().into()), now);
                Tried::Final(outcome(MailState::Sent, None))
            }
            Err(SendError::Permanent(e)) => {
                tracing::warn!(order = %key, message = %msg.key, error = %e, "email refused for good");
                Tried::Final(outcome(MailState::Failed, Some(e)))
            }
            Err(SendError::Temporary(e)) => {
                let first_failed = first_failed.unwrap_or(now);
                if now - first_failed > self.give_up {
                    let note = format!("gave up after {attempts} attempts: {e}");
                    return Tried::Final(outcome(MailState::Failed, Some(note)));
                }
                tracing::info!(order = %key, message = %msg.key, error = %e, attempts, "email not sent; will retry");
                self.counts.retried.fetch_add(1, Ordering::Relaxed);
                self.notes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(outcome(MailState::Queued, Some(format!("retrying: {e}"))));
                Tried::Again {
                    wait: self.backoff(attempts),
                    first_failed,
                }
            }
        }
    }

    /// Counts a final outcome and journals it (folded with the next batch).
    /// The journal's fsync waits on a blocking thread, not an async one.
    async fn finish(&self, o: Outcome) {
        match o.state {
            MailState::Sent => self.counts.sent.fetch_add(1, Ordering::Relaxed),
            MailState::Failed => self.counts.failed.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        let journal = Arc::clone(&self.journal);
        let recorded = tokio::task::spawn_blocking(move || journal.record(o))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        if let Err(e) = recorded {
            // Not recorded: the message stays queued and goes again.
            tracing::error!(error = %crate::errors::chain(&e), "cannot write the mail journal");
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.retry_first.saturating_mul(factor).min(self.retry_max)
    }

    /// Writes the journal's outcomes (and retry notes) into the orders in
    /// one commit, then empties the journal of them.
    async fn fold(&self) {
        let outcomes = self.journal.unfolded();
        let notes = std::mem::take(&mut *self.notes.lock().unwrap_or_else(|p| p.into_inner()));
        if outcomes.is_empty() && notes.is_empty() {
            return;
        }
        let changes: Vec<Change> = outcomes
            .iter()
            .chain(&notes)
            .map(|o| Change::Mail {
                key: o.order.clone(),
                update: MailUpdate::Outcome {
                    key: o.message.clone(),
                    state: o.state,
                    at: o.at,
                    attempts: o.attempts,
                    note: o.note.clone(),
                },
            })
            .collect();
        match self.store.apply(changes).await {
            Ok(_) => {
                let (journal, n) = (Arc::clone(&self.journal), outcomes.len());
                let emptied = tokio::task::spawn_blocking(move || journal.folded(n))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
                if let Err(e) = emptied {
                    tracing::error!(error = %crate::errors::chain(&e), "cannot empty the mail journal");
                }
            }
            Err(e) => {
                tracing::error!(error = %crate::errors::chain(&e), "cannot record sent emails yet; the journal keeps them")
            }
        }
    }

    /// Touches the orders with a parcel due in the hours since the last
    /// look (at start: since `max_age` ago), so the writer's check can
    /// notice the late ones. The current hour is looked at again next
    /// time: some of its parcels are not late yet.
    async fn clock(&self) {
        use chrono::DurationRound;
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        let from = self
            .clock_from
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_else(|| now - self.max_age.min(CLOCK_LOOK_BACK));
        let from = from.duration_trunc(hour).unwrap_or(from);
        let store = self.store.clone();
        let keys = tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            let mut at = from;
            while at <= now {
                keys.extend(store.mail_due_in(&watch_hour(at)));
                at += hour;
            }
            keys
        })
        .await
        .unwrap_or_default();
        for batch in keys.chunks(CLOCK_BATCH) {
            let changes = batch
                .iter()
                .map(|key| Change::Mail {
                    key: key.clone(),
                    update: MailUpdate::Touch,
                })
                .collect();
            if let Err(e) = self.store.apply(changes).await {
                tracing::warn!(error = %crate::errors::chain(&e), "late-parcel check failed; will try again");
                return;
            }
        }
        *self.clock_from.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
    }
}

/// Aborts a task when dropped (the sender's clock, when the sender ends).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A message written by the file transport, for the staff console.
#[derive(Debug, Clone, PartialEq)]
pub struct SentFile {
    /// The file's name without `.eml` (safe to put in a URL).
    pub name: String,
    pub subject: String,
    pub to: String,
    pub date: String,
    /// The plain-text part, decoded.
    pub text: String,
    /// The HTML part, decoded.
    pub html: String,
}

/// The newest `limit` messages in a file transport's directory.
pub fn sent_files(dir: &Path, limit: usize) -> Vec<SentFile> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".eml").map(String::from))
        .filter(|n| !n.starts_with('.'))
        .collect();
    // Names start with the time the message was queued.
    names.sort_unstable_by(|a, b| b.cmp(a));
    names
        .into_iter()
        .take(limit)
        .filter_map(|n| sent_file(dir, &n))
        .collect()
}

/// One message of a file transport's directory, by name.
pub fn sent_file(dir: &Path, name: &str) -> Option<SentFile> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let path: PathBuf = dir.join(format!("{name}.eml"));
    let bytes = std::fs::read(path).ok()?;
    let mail = mailparse::parse_mail(&bytes).ok()?;
    let header = |h: &str| {
        use mailparse::MailHeaderMap;
        mail.headers.get_first_value(h).unwrap_or_default()
    };
    let part = |mime: &str| {
        mail.subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .and_then(|p| p.get_body().ok())
            .unwrap_or_default()
    };
    Some(SentFile {
        name: name.to_string(),
        subject: header("Subject"),
        to: header("To"),
        date: header("Date"),
        text: part("text/plain"),
        html: part("text/html"),
    })
}

#[cfg(test)]
mod tests;
