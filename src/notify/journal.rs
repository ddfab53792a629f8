//! The sender's journal: every final outcome (sent, or refused for good)
//! is appended to `<data dir>/mail/journal` and fsynced the moment it is
//! known, before the next message goes. Outcomes are folded into the
//! orders' mail logs in batches (one store commit for many messages), and
//! the journal is emptied once they are. Read back at start-up, it tells
//! the sender what was sent but not yet folded, so nothing is sent twice.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::order::MailState;

/// One final outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The order's key.
    pub order: String,
    /// The message's key within the order.
    pub message: String,
    pub state: MailState,
    pub at: DateTime<Utc>,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug)]
struct Held {
    /// Outcomes in the file, oldest first.
    entries: Vec<Outcome>,
    done: HashSet<(String, String)>,
}

/// The journal file and what it holds. Writing blocks on the disk (call
/// [`Journal::record`] and [`Journal::folded`] off the async threads);
/// looking up never waits for a write's fsync, so the sender's choice of
/// what to send next does not stall the threads that answer pages.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// Held through a write and its fsync; taken before `held`.
    file: Mutex<std::fs::File>,
    held: Mutex<Held>,
}

impl Journal {
    /// Opens (or creates) `<data_dir>/mail/journal`. A torn last line (a
    /// crash mid-append) is ignored: its message was not confirmed done.
    pub fn open(data_dir: &Path) -> std::io::Result<Journal> {
        let dir = data_dir.join("mail");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("journal");
        let mut entries = Vec::new();
        if let Ok(f) = std::fs::File::open(&path) {
            for line in std::io::BufReader::new(f).lines() {
                match serde_json::from_str::<Outcome>(&line?) {
                    Ok(o) => entries.push(o),
                    Err(_) => tracing::warn!("mail journal: an unreadable (torn) line skipped"),
                }
            }
        }
        // Rewrite what was read: drops a torn tail so appends start clean.
        let file = rewrite(&path, &entries)?;
        let done = entries
            .iter()
            .map(|o| (o.order.clone(), o.message.clone()))
            .collect();
        Ok(Journal {
            path,
            file: Mutex::new(file),
            held: Mutex::new(Held { entries, done }),
        })
    }

    fn file(&self) -> std::sync::MutexGuard<'_, std::fs::File> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records an outcome; returns once it is on disk (blocks).
    pub fn record(&self, o: Outcome) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(&o).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self.file();
        file.write_all(&line)?;
        file.sync_data()?;
        let mut held = self.held();
        held.done.insert((o.order.clone(), o.message.clone()));
        held.entries.push(o);
        Ok(())
    }

    /// Whether a message's outcome is recorded (and not yet folded).
    pub fn is_done(&self, order: &str, message: &str) -> bool {
        self.held()
            .done
            .contains(&(order.to_string(), message.to_string()))
    }

    /// The outcomes not yet folded into the store.
    pub fn unfolded(&self) -> Vec<Outcome> {
        self.held().entries.clone()
    }

    /// Forgets the first `n` outcomes (now folded into the store; blocks).
    pub fn folded(&self, n: usize) -> std::io::Result<()> {
        // The file lock keeps records out until the rewrite is in place;
        // meanwhile look-ups still see the folded ones as done, which they
        // are (in the store too).
        let mut file = self.file();
        let rest = {
            let held = self.held();
            held.entries[n.min(held.entries.len())..].to_vec()
        };
        *file = rewrite(&self.path, &rest)?;
        let mut held = self.held();
        held.done = rest
            .iter()
            .map(|o| (o.order.clone(), o.message.clone()))
            .collect();
        held.entries = rest;
        Ok(())
    }
}

/// Writes `entries` as the whole journal (temp file, fsync, rename) and
/// returns it opened for appending.
fn rewrite(path: &Path, entries: &[Outcome]) -> std::io::Result<std::fs::File> {
    let mut bytes = Vec::new();
    for o in entries {
        serde_json::to_writer(&mut bytes, o).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
    }
    crate::files::write_private(path, &bytes)?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    std::fs::OpenOptions::new().append(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(n: u32) -> Outcome {
        Outcome {
            order: "s/1".into(),
            message: format!("shipped:{n}"),
            state: MailState::Sent,
            at: Utc::now(),
            attempts: 1,
            note: None,
        }
    }

    #[test]
    fn outcomes_survive_a_reopen_and_a_torn_line_is_dropped() {
        let dir = tempfile::tempdir().expect("dir");
        let j = Journal::open(dir.path()).expect("open");
        j.record(outcome(1)).expect("record");
        j.record(outcome(2)).expect("record");
        drop(j);
        let path = dir.path().join("mail/journal");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("file");
        f.write_all(b"{\"order\":\"s/1\",\"mess").expect("torn");
        drop(f);
        let j = Journal::open(dir.path()).expect("reopen");
        assert!(j.is_done("s/1", "shipped:1") && j.is_done("s/1", "shipped:2"));
        assert_eq!(j.unfolded().len(), 2);
        j.record(outcome(3)).expect("append after a torn line");
        j.folded(2).expect("fold");
        assert!(!j.is_done("s/1", "shipped:1"));
        let j = Journal::open(dir.path()).expect("reopen");
        let left: Vec<String> = j.unfolded().into_iter().map(|o| o.message).collect();
        assert_eq!(left, ["shipped:3"]);
    }
}
