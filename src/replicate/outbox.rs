//! The email outbox shared by replicas (see `crate::notify::shared`).
//!
//! Every replica's index holds the same queued messages; each replica
//! offers what it finds queued to the work-queue stream
//! `ORDER_STATUS_OUTBOX`, one subject per message, at most one message per
//! subject, new ones refused while one is there: so a message is on offer
//! at most once however many replicas offer it. All replicas take from
//! one shared durable consumer (`order-status-mailer`), which hands each
//! offer to one replica at a time. A temporary failure is a negative
//! acknowledgement with the back-off as its delay, so the next try may be
//! on any replica, and the tries so far are the offer's delivery count.
//!
//! An offer is held for at most [`ACK_WAIT`] unanswered: a replica that
//! holds one says it is still at work every [`ACK_WAIT`]/3 (a send through
//! a slow relay), so an offer stranded by a replica that died, a pull
//! that failed or an offer dropped unsettled goes to another within
//! [`ACK_WAIT`], not minutes later.
//!
//! Once a message is sent (or failed for good) it is marked in the bucket
//! `order_status_mail_done` before its offer is acknowledged, so an offer
//! made again by a replica that has not yet applied the outcome is
//! dropped unsent.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{AckKind, consumer, kv, stream};
use chrono::Utc;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, mpsc};

use super::{ReplicateError, Replication, encode_key, js_err};
use crate::notify::Sender;
use crate::notify::shared::{Offer, Settle, SharedOutbox};

/// The work queue of offers.
pub const OUTBOX_STREAM: &str = "ORDER_STATUS_OUTBOX";
const OUTBOX_SUBJECT: &str = "order-status.outbox";
/// Messages sent or failed for good.
pub const MAIL_DONE_BUCKET: &str = "order_status_mail_done";
/// The value of an email that was sent (or failed for good).
const DONE: &str = "1";
/// The consumer every replica takes offers from.
const MAILER: &str = "order-status-mailer";
/// How long an offer is held unanswered before it goes to another replica
/// (the holder says "still at work" well within it while it sends).
const ACK_WAIT: Duration = Duration::from_secs(30);
/// Pull errors in a row after which the pull is made again.
const PULL_ERRORS: u32 = 3;
/// How long "done" marks are kept: far longer than any replica takes to
/// apply an outcome.
const DONE_KEPT: Duration = Duration::from_secs(7 * 86_400);

/// One offer as it travels.
#[derive(Debug, Serialize, Deserialize)]
struct Item {
    order: String,
    message: String,
    after: u64,
}

/// The outbox in JetStream, as the sender sees it.
struct JetStreamOutbox {
    me: Replication,
    taken: Arc<Mutex<mpsc::Receiver<Offer>>>,
}

impl Replication {
    /// Shares `sender`'s outbox with every replica (before the sender
    /// runs); takes offers for it for as long as the future is polled.
    pub fn share_outbox(
        &self,
        sender: &Sender,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        // Few offers wait here: the rest stay in the queue for others.
        let (tx, rx) = mpsc::channel(4);
        sender.set_shared(Arc::new(JetStreamOutbox {
            me: self.clone(),
            taken: Arc::new(Mutex::new(rx)),
        }));
        let me = self.clone();
        super::again_and_again("taking email offers", move || {
            let (me, tx) = (me.clone(), tx.clone());
            async move { me.take_offers(&tx).await }
        })
    }

    async fn outbox(&self) -> Result<stream::Stream, ReplicateError> {
        self.js
            .get_or_create_stream(stream::Config {
                name: OUTBOX_STREAM.into(),
                description: Some("order-status: emails on offer to the replicas".into()),
                subjects: vec![format!("{OUTBOX_SUBJECT}.>")],
                retention: stream::RetentionPolicy::WorkQueue,
                max_messages_per_subject: 1,
                discard: stream::DiscardPolicy::New,
                discard_new_per_subject: true,
                storage: stream::StorageType::File,
                num_replicas: self.copies,
                ..Default::default()
            })
            .await
            .map_err(js_err)
    }

    async fn done_bucket(&self) -> Result<kv::Store, ReplicateError> {
        self.bucket(
            MAIL_DONE_BUCKET,
            "order-status: emails sent or failed for good",
            DONE_KEPT,
        )
        .await
    }

    async fn take_offers(&self, tx: &mpsc::Sender<Offer>) -> Result<(), ReplicateError> {
        // The sender has stopped: take nothing more.
        if tx.is_closed() {
            return Ok(());
        }
        // A replica still catching up would wait on every offer.
        while !self.status.ready() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let stream = self.outbox().await?;
        let done = self.done_bucket().await?;
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(
                MAILER,
                consumer::pull::Config {
                    durable_name: Some(MAILER.into()),
                    description: Some("order-status replicas sending emails".into()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: ACK_WAIT,
                    max_ack_pending: 1024,
                    ..Default::default()
                },
            )
            .await
            .map_err(js_err)?;
        let mut offers = consumer
            .stream()
            .max_messages_per_batch(4)
            .messages()
            .await
            .map_err(js_err)?;
        let mut errors = 0;
        while let Some(message) = offers.next().await {
            // A missed heartbeat or one failed pull does not drop what the
            // pull holds already; errors in a row make the pull again.
            let message = match message {
                Ok(m) => {
                    errors = 0;
                    m
                }
                Err(e) if errors + 1 < PULL_ERRORS => {
                    errors += 1;
                    tracing::debug!(error = %crate::errors::chain(&e), "replication: an email offer pull failed");
                    continue;
                }
                Err(e) => return Err(js_err(e)),
            };
            let Ok(item) = serde_json::from_slice::<Item>(&message.payload) else {
                let seq = message
                    .info()
                    .map(|i| i.stream_sequence.to_string())
                    .unwrap_or_default();
                self.status
                    .refused(OUTBOX_STREAM, &seq, "not an email offer; dropped");
                let _ = message.ack().await;
                continue;
            };
            let key = encode_key(&format!("{}\n{}", item.order, item.message));
            match done.get(&key).await {
                Ok(Some(v)) if v.as_ref() == DONE.as_bytes() => {
                    let _ = message.ack().await;
                    continue;
                }
                // Anything else there would keep the email from ever
                // going out: refused, and the offer is worked as new.
                Ok(Some(_)) => self.status.refused(
                    MAIL_DONE_BUCKET,
                    &key,
                    "not an email's outcome; sent anyway",
                ),
                _ => {}
            }
            let (tried, offered_at) = match message.info() {
                Ok(info) => (
                    u32::try_from(info.delivered.saturating_sub(1)).unwrap_or(u32::MAX),
                    info.published,
                ),
                Err(_) => (0, Utc::now()),
            };
            let bucket = done.clone();
            let message = Arc::new(message);
            // "Still at work" until settled, or until the offer is dropped
            // unsettled (then the ack wait gives it to another replica).
            let (working, mut settled) = tokio::sync::oneshot::channel::<()>();
            let held = Arc::clone(&message);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(ACK_WAIT / 3);
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = &mut settled => break,
                        _ = tick.tick() => {
                            if held.ack_with(AckKind::Progress).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
            let settle = move |how: Settle| -> BoxFuture<'static, ()> {
                Box::pin(async move {
                    drop(working);
                    match how {
                        Settle::Done => {
                            if let Err(e) = bucket.put(&key, DONE.into()).await {
                                tracing::warn!(error = %crate::errors::chain(&e), "replication: cannot mark an email done");
                            }
                            let _ = message.double_ack().await;
                        }
                        Settle::Again(after) => {
                            let _ = message.ack_with(AckKind::Nak(Some(after))).await;
                        }
                    }
                })
            };
            let offer = Offer {
                order: item.order,
                message: item.message,
                after: item.after,
                tried,
                offered_at,
                settle: Box::new(settle),
            };
            if let Err(mpsc::error::SendError(offer)) = tx.send(offer).await {
                // The sender stopped meanwhile: back to the others now,
                // not after the ack wait.
                (offer.settle)(Settle::Again(Duration::ZERO)).await;
                return Ok(());
            }
        }
        Ok(())
    }
}

impl SharedOutbox for JetStreamOutbox {
    fn offer(&self, order: String, message: String, after: u64) -> BoxFuture<'static, ()> {
        let me = self.me.clone();
        Box::pin(async move {
            // A replica catching up has old news; the others offer it.
            if !me.status.ready() {
                return;
            }
            let subject = format!(
                "{OUTBOX_SUBJECT}.{}",
                encode_key(&format!("{order}\n{message}"))
            );
            let item = Item {
                order,
                message,
                after,
            };
            let Ok(body) = serde_json::to_vec(&item) else {
                return;
            };
            // Refused while the message is on offer already: that is the
            // point (one offer a message), not an error.
            match me.js.publish(subject, body.into()).await {
                Ok(ack) => {
                    if let Err(e) = ack.await {
                        tracing::trace!(error = %crate::errors::chain(&e), "email offer not taken (on offer already?)");
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %crate::errors::chain(&e), "email offer not sent")
                }
            }
        })
    }

    fn take(&self) -> BoxFuture<'static, Option<Offer>> {
        let taken = Arc::clone(&self.taken);
        Box::pin(async move {
            let mut rx = taken.lock().await;
            // Now and then empty-handed, so the sender folds outcomes.
            tokio::time::timeout(Duration::from_secs(1), rx.recv())
                .await
                .ok()
                .flatten()
        })
    }
}
