//! What staff do to orders, beyond reading them: the merchant's statuses
//! set by hand or in bulk, the audit log of every such action, and the
//! queue of problem orders that need a person.
//!
//! Sits beside `ingest` and `notify`: it changes orders only through the
//! store's single writer ([`crate::order::merge::Change::Status`]), so a
//! staff change, a webhook and an email queued by the change commit
//! together or not at all. `web` calls it; it knows nothing of HTTP.

pub mod audit;
pub mod bulk;
pub mod problems;
pub mod write_back;

pub use audit::{AuditEntry, AuditLog, SharedAudit};
pub use bulk::SharedJobs;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::config::MerchantConfig;
use crate::order::merge::Change;
use crate::order::status::{MAX_NOTE_CHARS, StatusChange};
use crate::store::{Store, StoreError};

/// Why a staff action was refused or failed.
#[derive(Debug, Error)]
pub enum ActionError {
    #[error("{0:?} is not one of the statuses in the config")]
    UnknownStatus(String),
    #[error("the note is longer than {MAX_NOTE_CHARS} characters")]
    LongNote,
    #[error("no such order")]
    NoSuchOrder,
    #[error("{0}")]
    Bulk(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("audit log")]
    Audit(#[source] crate::errors::Cause),
}

/// A status change asked for by a person: checked against the config.
/// `status` empty clears it; the note is trimmed, and empty means none.
pub fn status_change(
    merchant: &MerchantConfig,
    status: &str,
    note: &str,
    by: String,
    at: DateTime<Utc>,
) -> Result<StatusChange, ActionError> {
    let status = status.trim();
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(ActionError::LongNote);
    }
    let (status, position) = if status.is_empty() {
        (None, 0)
    } else {
        let def = merchant
            .status(status)
            .ok_or_else(|| ActionError::UnknownStatus(status.chars().take(60).collect()))?;
        (Some(def.id.clone()), def.position)
    };
    Ok(StatusChange {
        at,
        status,
        position,
        note: (!note.is_empty()).then(|| note.to_string()),
        by,
    })
}

/// Sets (or clears) the status of one order; returns whether anything
/// changed (the same status again, with no new note, changes nothing).
pub async fn set_status(
    store: &Store,
    audit: &AuditLog,
    key: &str,
    change: StatusChange,
) -> Result<bool, ActionError> {
    let report = store
        .apply(vec![Change::Status {
            key: key.to_string(),
            change: change.clone(),
        }])
        .await?;
    if report.unknown > 0 {
        return Err(ActionError::NoSuchOrder);
    }
    let changed = report.applied > 0;
    if changed {
        audit.append(vec![AuditEntry::status(key, &change)]).await?;
    }
    Ok(changed)
}
