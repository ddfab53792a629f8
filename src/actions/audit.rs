//! The audit log: who did what to which order, and when. One JSON line per
//! action in `<data dir>/audit.ndjson`, appended and fsynced after the
//! change it records has committed (so it never claims a change that did
//! not happen; a crash between the two loses at most that line, and the
//! order's own status history still says it). Staff see an order's lines
//! on its page; admins export the whole file.
//!
//! An order's lines are found by reading the file through (a plain-text
//! match first, then JSON): fine for the thousands of lines a shop makes
//! in months; a shop making millions would want an index, noted in the
//! README.
//!
//! With replicas the log is the cluster's ([`SharedAudit`], a JetStream
//! stream): whichever replica acts appends, any replica reads, so an
//! order's activity and the admin's export show every replica's actions,
//! in the order the stream took them. The data dir's file is then not
//! written.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::future::BoxFuture;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ActionError;
use crate::order::status::StatusChange;

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// `staff:NAME`, `rule`, `system`.
    pub by: String,
    /// `status.set`, `status.clear`, `link.share`, `link.revoke`,
    /// `mail.resend`, `bulk.start`, `account.add`, ...
    pub action: String,
    /// The order's key, when the action was on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// What exactly, in words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl AuditEntry {
    /// An action by `by` now.
    pub fn new(by: &str, action: &str, order: Option<&str>, detail: String) -> AuditEntry {
        AuditEntry {
            at: Utc::now(),
            by: by.to_string(),
            action: action.to_string(),
            order: order.map(str::to_string),
            detail,
        }
    }

    /// The line for a status change of `order`.
    pub fn status(order: &str, c: &StatusChange) -> AuditEntry {
        let (action, mut detail) = match &c.status {
            Some(id) => ("status.set", id.clone()),
            None => ("status.clear", String::new()),
        };
        if let Some(note) = &c.note {
            detail = format!("{detail} (note: {note})").trim().to_string();
        }
        AuditEntry {
            at: c.at,
            by: c.by.clone(),
            action: action.into(),
            order: Some(order.to_string()),
            detail,
        }
    }
}

/// The log; cheap to clone (clones share it).
#[derive(Clone)]
pub struct AuditLog {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
    shared: Arc<OnceLock<Arc<dyn SharedAudit>>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("shared", &self.shared.get().is_some())
            .finish_non_exhaustive()
    }
}

/// The cluster's audit log (with replicas): JSON lines appended by any
/// replica, read by all, in one order.
pub trait SharedAudit: Send + Sync {
    /// Appends the lines, about `order` each (or none); done once stored.
    fn append(
        &self,
        lines: Vec<(Option<String>, Vec<u8>)>,
    ) -> BoxFuture<'static, Result<(), String>>;
    /// The lines about `order` (or all), oldest first.
    fn read(&self, order: Option<String>) -> BoxFuture<'static, Result<Vec<Vec<u8>>, String>>;
}

impl AuditLog {
    /// The log in `data_dir` (made on the first append).
    pub fn new(data_dir: &Path) -> AuditLog {
        AuditLog {
            path: data_dir.join("audit.ndjson"),
            lock: Arc::new(Mutex::new(())),
            shared: Arc::default(),
        }
    }

    /// Makes the log the cluster's (once, at start, with replicas).
    pub fn set_shared(&self, shared: Arc<dyn SharedAudit>) {
        let _ = self.shared.set(shared);
    }

    /// The whole log as JSON lines, oldest first (the admins' export).
    pub async fn export(&self) -> Result<Vec<u8>, ActionError> {
        if let Some(shared) = self.shared.get() {
            let lines = shared
                .read(None)
                .await
                .map_err(|e| ActionError::Audit(e.into()))?;
            let mut out = Vec::new();
            for line in lines {
                out.extend_from_slice(&line);
                out.push(b'\n');
            }
            return Ok(out);
        }
        match tokio::fs::read(&self.path).await {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(ActionError::Audit(crate::errors::context(
                self.path.display().to_string(),
                e,
            ))),
        }
    }

    /// Appends `entries` and fsyncs (or, with replicas, once the stream
    /// stored them).
    pub async fn append(&self, entries: Vec<AuditEntry>) -> Result<(), ActionError> {
        if let Some(shared) = self.shared.get() {
            let mut lines = Vec::with_capacity(entries.len());
            for e in &entries {
                let json = serde_json::to_vec(e).map_err(|e| ActionError::Audit(e.into()))?;
                lines.push((e.order.clone(), json));
            }
            return shared
                .append(lines)
                .await
                .map_err(|e| ActionError::Audit(e.into()));
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.append_now(&entries))
            .await
            .map_err(|e| ActionError::Audit(e.into()))?
    }

    /// [`AuditLog::append`], on this thread.
    pub fn append_now(&self, entries: &[AuditEntry]) -> Result<(), ActionError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut text = Vec::new();
        for e in entries {
            serde_json::to_writer(&mut text, e).map_err(|e| ActionError::Audit(e.into()))?;
            text.push(b'\n');
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true).read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let io = |e: std::io::Error| {
            ActionError::Audit(crate::errors::context(self.path.display().to_string(), e))
        };
        let mut f = opts.open(&self.path).map_err(io)?;
        // After a crash mid-append the file may end in half a line: start
        // on a fresh one so this line is whole.
        let len = f.metadata().map_err(io)?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            read_at(&f, &mut last, len - 1).map_err(io)?;
            if last[0] != b'\n' {
                text.insert(0, b'\n');
            }
        }
        f.write_all(&text).map_err(io)?;
        f.sync_data().map_err(io)
    }

    /// The newest `limit` lines about `order`, newest first.
    pub async fn for_order(&self, order: &str, limit: usize) -> Vec<AuditEntry> {
        if let Some(shared) = self.shared.get() {
            let lines = match shared.read(Some(order.to_string())).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "the cluster's audit log cannot be read");
                    return Vec::new();
                }
            };
            return lines
                .iter()
                .rev()
                .filter_map(|l| serde_json::from_slice::<AuditEntry>(l).ok())
                .filter(|e| e.order.as_deref() == Some(order))
                .take(limit)
                .collect();
        }
        let this = self.clone();
        let order = order.to_string();
        tokio::task::spawn_blocking(move || this.read(Some(&order), limit))
            .await
            .unwrap_or_default()
    }

    /// Lines (about `order`, or all), newest first, at most `limit`.
    pub fn read(&self, order: Option<&str>, limit: usize) -> Vec<AuditEntry> {
        let Ok(f) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        // The key as it appears in the JSON, for a cheap first test.
        let needle = order.map(|o| serde_json::to_string(o).unwrap_or_default());
        let mut out = std::collections::VecDeque::new();
        for line in std::io::BufReader::new(f).lines() {
            let Ok(line) = line else { break };
            if needle.as_deref().is_some_and(|n| !line.contains(n)) {
                continue;
            }
            // A torn last line (a crash mid-append) is skipped.
            let Ok(e) = serde_json::from_str::<AuditEntry>(&line) else {
                continue;
            };
            if order.is_some_and(|o| e.order.as_deref() != Some(o)) {
                continue;
            }
            out.push_back(e);
            if out.len() > limit {
                out.pop_front();
            }
        }
        out.into_iter().rev().collect()
    }
}

#[cfg(unix)]
fn read_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, at)
}

#[cfg(not(unix))]
fn read_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = f;
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_append_and_read_back_per_order_newest_first() {
        let dir = tempfile::tempdir().expect("dir");
        let log = AuditLog::new(dir.path());
        assert!(log.read(None, 10).is_empty(), "no file yet");
        log.append_now(&[
            AuditEntry::new("staff:anna", "status.set", Some("s/1"), "qc".into()),
            AuditEntry::new("staff:anna", "link.share", Some("s/10"), String::new()),
            AuditEntry::new("staff:bo", "status.clear", Some("s/1"), String::new()),
        ])
        .expect("append");
        // A torn line from a crash is skipped, later lines still read.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log.path)
            .and_then(|mut f| f.write_all(b"{\"at\":\"2026-"))
            .expect("tear");
        log.append_now(&[AuditEntry::new("staff:bo", "x", Some("s/1"), String::new())])
            .expect("append");
        let mine: Vec<String> = log
            .read(Some("s/1"), 10)
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(mine, ["x", "status.clear", "status.set"]);
        assert_eq!(log.read(None, 2).len(), 2);
    }
}
