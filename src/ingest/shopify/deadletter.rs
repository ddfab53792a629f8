//! What webhook deliveries leave in the data dir: dead letters, and the
//! ids of deliveries already applied.
//!
//! A delivery that verifies but cannot be applied (a body its topic does
//! not promise, an order we cannot fetch) is answered 200 all the same:
//! otherwise Shopify retries it for hours and may remove the subscription.
//! It is kept whole, one file each in `<data dir>/webhooks/dead/` (owner
//! only: bodies hold personal data), for `order-status webhooks replay`.
//!
//! Shopify delivers at least once and retries for 4 hours, with the same
//! `X-Shopify-Event-Id`. Applied ids are kept, per (shop, topic, event id),
//! in `<data dir>/webhooks/seen.log` for [`SEEN_WINDOW`], so a retry after
//! a restart is skipped too (merges are idempotent anyway; this saves the
//! work and keeps the counts honest). With replicas, a delivery is also
//! claimed in a store every replica shares ([`SharedSeen`]) before it is
//! applied, so a retry that lands on another replica, or the same delivery
//! at two replicas at once, is applied by one.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::future::BoxFuture;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How long an applied delivery's id is remembered: Shopify retries for
/// 4 hours; a day covers that and a late manual resend.
pub const SEEN_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// How long a webhook waits for the shared record of claims.
const SHARED_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// One delivery kept because it could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub shop: String,
    pub topic: String,
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub triggered_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    /// Why it was not applied (no values of the body).
    pub reason: String,
    /// The body as received.
    pub body: String,
}

/// The dead-letter folder.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    dir: PathBuf,
}

impl DeadLetters {
    pub fn new(data_dir: &Path) -> DeadLetters {
        DeadLetters {
            dir: data_dir.join("webhooks").join("dead"),
        }
    }

    /// Where the letters are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps a letter; returns its file.
    pub fn keep(&self, letter: &DeadLetter) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let topic: String = letter
            .topic
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let mut rand = [0u8; 4];
        getrandom::fill(&mut rand).map_err(|e| std::io::Error::other(e.to_string()))?;
        let name = format!(
            "{}-{topic}-{:08x}.json",
            letter.received_at.format("%Y%m%dT%H%M%S%.3fZ"),
            u32::from_le_bytes(rand)
        );
        let path = self.dir.join(name);
        let bytes = serde_json::to_vec_pretty(letter).map_err(std::io::Error::other)?;
        crate::files::write_private(&path, &bytes)?;
        Ok(path)
    }

    /// Every letter, oldest first (unreadable files are reported, not
    /// skipped silently).
    pub fn list(&self) -> std::io::Result<Vec<(PathBuf, Result<DeadLetter, String>)>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        Ok(paths
            .into_iter()
            .map(|p| {
                let letter = std::fs::read(&p)
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
                (p, letter)
            })
            .collect())
    }

    /// How many letters wait.
    pub fn count(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .count()
            })
            .unwrap_or(0)
    }
}

/// How often the deliveries past [`SEEN_WINDOW`] are forgotten. Each
/// delivery pruned them all, a walk of every delivery of the last day: at
/// a hundred webhooks a second that grows to millions per webhook, and the
/// peak-day runs saw it (BENCHMARKS.md). A delivery is so kept up to a
/// minute past the window.
const PRUNE_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// Deliveries applied recently, by (shop, topic, event id).
pub struct SeenDeliveries {
    path: PathBuf,
    seen: Mutex<Recent>,
    shared: OnceLock<Arc<dyn SharedSeen>>,
}

impl std::fmt::Debug for SeenDeliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeenDeliveries")
            .field("path", &self.path)
            .field("shared", &self.shared.get().is_some())
            .finish_non_exhaustive()
    }
}

/// The deliveries every replica shares (kept for [`SEEN_WINDOW`]).
pub trait SharedSeen: Send + Sync {
    /// Claims delivery `key` for this replica: `Ok(true)` if nobody had,
    /// `Ok(false)` if it was claimed already (a duplicate).
    fn claim(&self, key: String) -> BoxFuture<'static, Result<bool, String>>;
    /// Gives a claim back (the delivery could not be applied: Shopify's
    /// retry may try again).
    fn release(&self, key: String) -> BoxFuture<'static, ()>;
}

/// Whether a delivery is to be applied here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Nobody applied it: this replica does.
    Mine,
    /// Applied already (here, or by another replica).
    Duplicate,
}

/// The deliveries in memory, and when those past the window were last
/// forgotten.
struct Recent {
    at: HashMap<String, DateTime<Utc>>,
    pruned: DateTime<Utc>,
}

fn seen_key(shop: &str, topic: &str, event_id: &str) -> String {
    format!("{shop}\t{topic}\t{event_id}")
}

impl SeenDeliveries {
    /// Loads `<data dir>/webhooks/seen.log`, dropping what is older than
    /// the window, and rewrites it compacted.
    pub fn open(data_dir: &Path, now: DateTime<Utc>) -> std::io::Result<SeenDeliveries> {
        let dir = data_dir.join("webhooks");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("seen.log");
        let mut seen = HashMap::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for line in text.lines() {
                    let mut parts = line.splitn(2, '\t');
                    let (Some(ts), Some(key)) = (parts.next(), parts.next()) else {
                        continue;
                    };
                    let Some(at) = ts.parse().ok().and_then(|t| DateTime::from_timestamp(t, 0))
                    else {
                        continue;
                    };
                    if now - at <= SEEN_WINDOW {
                        seen.insert(key.to_string(), at);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut compact = String::new();
        for (key, at) in &seen {
            compact.push_str(&format!("{}\t{key}\n", at.timestamp()));
        }
        crate::files::write_private(&path, compact.as_bytes())?;
        Ok(SeenDeliveries {
            path,
            seen: Mutex::new(Recent {
                at: seen,
                pruned: now,
            }),
            shared: OnceLock::new(),
        })
    }

    /// Shares the claims with every replica (once, at start).
    pub fn set_shared(&self, shared: Arc<dyn SharedSeen>) {
        let _ = self.shared.set(shared);
    }

    /// Whether this replica applies the delivery: not if it applied it,
    /// nor if another replica claimed it. A shared store that cannot be
    /// reached claims nothing (the write then goes through the stream,
    /// which is down too, or applies idempotently).
    pub async fn claim(&self, shop: &str, topic: &str, event_id: &str) -> Claim {
        if self.contains(shop, topic, event_id) {
            return Claim::Duplicate;
        }
        let Some(shared) = self.shared.get() else {
            return Claim::Mine;
        };
        // Bounded: Shopify waits 5 s for an answer, and a NATS that does
        // not answer leaves the write to fail (503) in time for it.
        let claimed =
            tokio::time::timeout(SHARED_WAIT, shared.claim(seen_key(shop, topic, event_id))).await;
        match claimed {
            Ok(Ok(true)) => Claim::Mine,
            Ok(Ok(false)) => Claim::Duplicate,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the shared webhook record cannot be reached; applying the delivery here");
                Claim::Mine
            }
            Err(_) => {
                tracing::warn!(
                    "the shared webhook record did not answer; applying the delivery here"
                );
                Claim::Mine
            }
        }
    }

    /// A claimed delivery that could not be applied: free for a retry.
    pub async fn release(&self, shop: &str, topic: &str, event_id: &str) {
        if let Some(shared) = self.shared.get() {
            let released =
                tokio::time::timeout(SHARED_WAIT, shared.release(seen_key(shop, topic, event_id)))
                    .await;
            if released.is_err() {
                tracing::warn!(
                    "a webhook claim could not be given back in time; Shopify's retry may be taken for a duplicate"
                );
            }
        }
    }

    /// Whether this delivery was applied already.
    pub fn contains(&self, shop: &str, topic: &str, event_id: &str) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .at
            .contains_key(&seen_key(shop, topic, event_id))
    }

    /// Remembers an applied delivery (appended to the log).
    pub fn remember(&self, shop: &str, topic: &str, event_id: &str, now: DateTime<Utc>) {
        let key = seen_key(shop, topic, event_id);
        if key.contains('\n') {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if now - seen.pruned >= PRUNE_EVERY {
            seen.at.retain(|_, at| now - *at <= SEEN_WINDOW);
            seen.pruned = now;
        }
        if seen.at.insert(key.clone(), now).is_none() {
            let line = format!("{}\t{key}\n", now.timestamp());
            let appended = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&self.path)
                .and_then(|mut f| f.write_all(line.as_bytes()));
            if let Err(e) = appended {
                tracing::warn!(error = %crate::errors::chain(&e), "cannot record an applied webhook; a retry after a restart will be applied again (harmlessly)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_deliveries_survive_a_restart_for_the_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Utc::now();
        let s = SeenDeliveries::open(dir.path(), now).expect("open");
        assert!(!s.contains("a.example", "orders/updated", "e1"));
        s.remember("a.example", "orders/updated", "e1", now);
        s.remember(
            "a.example",
            "orders/paid",
            "e2",
            now - chrono::Duration::hours(30),
        );
        let again = SeenDeliveries::open(dir.path(), now).expect("reopen");
        assert!(again.contains("a.example", "orders/updated", "e1"));
        assert!(
            !again.contains("b.example", "orders/updated", "e1"),
            "per shop"
        );
        assert!(
            !again.contains("a.example", "orders/create", "e1"),
            "per topic"
        );
        assert!(
            !again.contains("a.example", "orders/paid", "e2"),
            "past the window"
        );
    }

    #[test]
    fn deliveries_past_the_window_are_forgotten_within_a_minute() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Utc::now();
        let s = SeenDeliveries::open(dir.path(), now).expect("open");
        let day = chrono::Duration::hours(24);
        s.remember("a.example", "orders/updated", "old", now);
        s.remember("a.example", "orders/updated", "new", now + day);
        assert!(
            s.contains("a.example", "orders/updated", "old"),
            "still within the window"
        );
        s.remember(
            "a.example",
            "orders/updated",
            "later",
            now + day + PRUNE_EVERY + chrono::Duration::seconds(1),
        );
        assert!(!s.contains("a.example", "orders/updated", "old"), "past it");
        assert!(s.contains("a.example", "orders/updated", "new"));
        assert!(s.contains("a.example", "orders/updated", "later"));
    }

    #[test]
    fn dead_letters_are_kept_whole_and_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = DeadLetters::new(dir.path());
        assert_eq!(d.count(), 0);
        let letter = DeadLetter {
            shop: "a.example".into(),
            topic: "orders/updated".into(),
            event_id: Some("e1".into()),
            triggered_at: None,
            received_at: Utc::now(),
            reason: "why".into(),
            body: "{\"id\": 1}".into(),
        };
        let path = d.keep(&letter).expect("kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let all = d.list().expect("list");
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1.as_ref().expect("readable"), &letter);
    }
}
