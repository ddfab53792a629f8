//! Status emails: which order changes email the shopper, the outbox, the
//! mailer and the messages themselves.
//!
//! How a message travels, and why it is neither lost nor sent twice:
//!
//! 1. **Queued in the order's own commit.** The store's writer calls
//!    [`hook`] with the stored and the new version of every order it
//!    writes; the hook finds what changed ([`crate::order::mail_log::detect`]),
//!    keeps what this shop wants mailed, and adds the messages to the new
//!    version's mail log. The order and its outbox are one document, so
//!    they commit together or not at all. Each message has an idempotency
//!    key per (order, event, parcel) and a key is queued once, ever: a
//!    replayed webhook, a re-import or a sync finds it there.
//! 2. **Sent by [`sender`].** It finds orders with queued messages (an
//!    indexed term), renders each ([`compose`]), and hands it to the
//!    transport ([`transport`]: SMTP through lettre, or `.eml` files).
//! 3. **Recorded in a journal first, the store after.** An accepted (or
//!    refused for good) message is appended to `mail/journal` and fsynced
//!    before anything else happens; the journal is folded into the orders
//!    in batches and then emptied. After a crash the journal is read
//!    back, so a message the server accepted is not sent again.
//!
//! The one window no design closes: the relay has accepted the message and
//! the process dies before the journal line is on disk (a millisecond or
//! so). That message is sent again on restart, with the same `Message-ID`,
//! which mail systems use to drop duplicates. Nothing is ever lost.

pub mod compose;
mod journal;
mod optout;
pub mod sender;
pub mod shared;
pub mod transport;

use std::sync::Arc;

use chrono::Utc;
use thiserror::Error;

use crate::config::Config;
use crate::order::Order;
use crate::order::mail_log::{
    MailEvent, MailMessage, MailState, MailUpdate, STATUS_KEY_PREFIX, apply_update, detect,
};
use crate::store::WriteHook;

pub use compose::Composer;
pub use optout::{OptOuts, SharedOptOuts};
pub use sender::{Sender, SentFile, sent_file, sent_files};
pub use transport::{SendError, Transport};

/// Errors of the notify layer.
#[derive(Debug, Error)]
pub enum NotifyError {
    #[error("mail transport")]
    Transport(#[source] crate::errors::Cause),
    #[error("cannot build the message")]
    Compose(#[source] crate::errors::Cause),
    #[error("mail files in {path}: {reason}")]
    Files { path: String, reason: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The events that email `shop`'s shoppers.
pub fn events_for<'a>(config: &'a Config, shop: &str) -> &'a [MailEvent] {
    config
        .shopify_shop(shop)
        .and_then(|s| s.mail_events.as_deref())
        .unwrap_or(&config.mail.events.0)
}

/// `base` with the write hook ([`hook`]) that queues status emails in the
/// same commit as the order changes that cause them: how the site and
/// every command that changes orders open the store.
pub fn store_options(
    config: &Config,
    optouts: &Arc<OptOuts>,
    base: crate::store::StoreOptions,
) -> crate::store::StoreOptions {
    crate::store::StoreOptions {
        on_write: Some(hook(config, Arc::clone(optouts))),
        ..base
    }
}

/// The store's write hook: the merchant's automatic status rules, then
/// the status emails the change causes, all in the same commit as the
/// change (see the module docs).
pub fn hook(config: &Config, optouts: Arc<OptOuts>) -> WriteHook {
    let config = Arc::new(config.clone());
    WriteHook(Arc::new(
        move |old: Option<&Order>, new: &mut Order, now| {
            crate::order::status::apply_rules(&config.merchant.rules, old, new, now);
            queue_detected(&config, &optouts, old, new, now);
        },
    ))
}

/// What [`hook`] does, at `now`.
pub fn queue_detected(
    config: &Config,
    optouts: &OptOuts,
    old: Option<&Order>,
    new: &mut Order,
    now: chrono::DateTime<Utc>,
) {
    for m in mails_for(config, optouts, old, new, now) {
        apply_update(&mut new.mail, MailUpdate::Queue(m));
    }
}

/// The emails a change from `old` to `new` causes, at `now`: those to
/// send (`Queued`) and those recorded as skipped (no email, opted out).
/// What [`queue_detected`] queues, and what a bulk change's confirmation
/// counts before anything changes.
pub fn mails_for(
    config: &Config,
    optouts: &OptOuts,
    old: Option<&Order>,
    new: &Order,
    now: chrono::DateTime<Utc>,
) -> Vec<MailMessage> {
    let mut out = Vec::new();
    // The common case (a new order, a bulk import) must stay cheap.
    if old.is_none() {
        return out;
    }
    let found = detect(old, new, now);
    if found.is_empty() {
        return out;
    }
    let wanted = events_for(config, &new.shop);
    let max_age = chrono::Duration::from_std(*config.mail.max_age).unwrap_or(chrono::Duration::MAX);
    let opted_out = new.mail.opted_out_at.is_some() || optouts.contains(&new.email);
    let no_email = new.email.trim().is_empty();
    for d in found {
        if !wanted.contains(&d.event) {
            continue;
        }
        // A merchant status emails only if the merchant said it should.
        if d.key.starts_with(STATUS_KEY_PREFIX)
            && !d
                .detail
                .as_deref()
                .and_then(|id| config.merchant.status(id))
                .is_some_and(|s| s.email)
        {
            continue;
        }
        // News that is old by the time we learn it (history imported, a
        // sync after an outage) is not news to the shopper.
        if d.at.is_some_and(|at| now - at > max_age) {
            continue;
        }
        let mut m = d.message(now);
        let skipped = if no_email {
            Some("the order has no email")
        } else if opted_out {
            Some("opted out")
        } else {
            None
        };
        if let Some(why) = skipped {
            m.state = MailState::Skipped;
            m.at = Some(now);
            m.note = Some(why.into());
        }
        out.push(m);
    }
    out
}
