//! The outbox when several replicas share it (`--replicate`): every
//! replica's index holds the same queued messages, and exactly one
//! replica must send each. The sender then does not send what it finds
//! queued: it offers it ([`SharedOutbox::offer`]), and sends what it is
//! handed ([`SharedOutbox::take`]). The replication layer keeps the offers
//! in a JetStream work queue, so each goes to one replica at a time, and
//! a message's tries and back-off travel with its offer from replica to
//! replica.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

/// Where replicas offer and take messages to send.
pub trait SharedOutbox: Send + Sync + 'static {
    /// Offers message `message` of order `order`, found queued in an index
    /// that holds the replication log up to `after`. Offering a message
    /// that is already on offer changes nothing.
    fn offer(&self, order: String, message: String, after: u64) -> BoxFuture<'static, ()>;

    /// The next message for this replica to try (`None`: nothing yet).
    fn take(&self) -> BoxFuture<'static, Option<Offer>>;
}

/// A message handed to this replica to try.
pub struct Offer {
    pub order: String,
    pub message: String,
    /// The offering index's log position: the order is read once this
    /// replica has applied that much.
    pub after: u64,
    /// Tries before this one, by any replica.
    pub tried: u32,
    /// When the message was first offered (the start of its back-off).
    pub offered_at: DateTime<Utc>,
    /// Says what became of it; call it once.
    pub settle: Box<dyn FnOnce(Settle) -> BoxFuture<'static, ()> + Send>,
}

impl std::fmt::Debug for Offer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offer")
            .field("order", &self.order)
            .field("message", &self.message)
            .field("tried", &self.tried)
            .finish_non_exhaustive()
    }
}

/// What became of an offered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Sent, failed for good, or nothing left to send: never again.
    Done,
    /// Not sent for now: offer it again (to any replica) after this long.
    Again(Duration),
}

impl std::fmt::Debug for dyn SharedOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedOutbox")
    }
}
