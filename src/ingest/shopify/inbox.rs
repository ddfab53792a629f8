//! Webhook deliveries taken and not yet applied: `<data dir>/webhooks/inbox.log`.
//!
//! Shopify asks for an answer within five seconds and advises taking a
//! delivery first and working on it after. A delivery used to be answered
//! only once the store's commit holding it was done, so under load its
//! answer waited for a commit or two (p99 150 ms on a 10,000,000-order
//! store, BENCHMARKS.md). Now a verified delivery is first appended here
//! and the file synced to disk (a fraction of a millisecond); from then on
//! it is ours, and the answer need not wait for the store. Once it is
//! applied (or kept as a dead letter), a `done` line follows. At start,
//! every delivery without its `done` line is applied again (started in the
//! order taken): merges are idempotent, so one that was applied just before a
//! crash is harmlessly applied twice.
//!
//! The file is JSON lines, owner only (bodies hold personal data): a
//! delivery `{"seq":N,"delivery":{...}}`, or `{"done":N}`. A line cut
//! short by a crash was never answered and is skipped. The file is
//! rewritten with only the deliveries still open when it passes
//! [`ROTATE_AT`] and at every start, so it stays small.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Past this size the file is rewritten with the open deliveries only.
pub const ROTATE_AT: u64 = 8 << 20;

/// At most this many deliveries wait to be applied; past it, deliveries
/// are applied before they are answered. A bound on the work left for a
/// start after a crash.
pub const MAX_OPEN: usize = 1024;

/// At most this many bytes of open lines are held (they are kept in
/// memory to write again when the file is rewritten): bodies reach 2 MiB,
/// so [`MAX_OPEN`] alone would let them hold 2 GiB.
pub const MAX_OPEN_BYTES: u64 = 64 << 20;

/// A verified delivery, as taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taken {
    pub shop: String,
    pub topic: String,
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub triggered_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    /// The body as received (deliveries that are not UTF-8 are not taken
    /// here: they are applied before they are answered, as before).
    pub body: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Line {
    Taken { seq: u64, delivery: Taken },
    Done { done: u64 },
}

/// A delivery's line as written (borrowing it: bodies are large).
#[derive(Serialize)]
struct TakenLine<'a> {
    seq: u64,
    delivery: &'a Taken,
}

/// The inbox file; one per data dir, shared by the webhook handlers.
#[derive(Debug)]
pub struct Inbox {
    path: PathBuf,
    journal: Mutex<Journal>,
}

#[derive(Debug)]
struct Journal {
    file: File,
    size: u64,
    next: u64,
    /// The open deliveries' lines, to write again when the file is
    /// rewritten.
    open: BTreeMap<u64, Vec<u8>>,
    /// Their bytes.
    open_bytes: u64,
}

impl Inbox {
    /// Opens the inbox and returns the deliveries taken and never
    /// finished (oldest first); the file is rewritten with only those.
    pub fn open(data_dir: &Path) -> std::io::Result<(Inbox, Vec<(u64, Taken)>)> {
        let dir = data_dir.join("webhooks");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("inbox.log");
        let mut taken: BTreeMap<u64, Taken> = BTreeMap::new();
        let mut next = 0;
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mut skipped = 0usize;
                for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    match serde_json::from_slice::<Line>(line) {
                        Ok(Line::Taken { seq, delivery }) => {
                            next = next.max(seq + 1);
                            taken.insert(seq, delivery);
                        }
                        Ok(Line::Done { done }) => {
                            taken.remove(&done);
                        }
                        Err(_) => skipped += 1,
                    }
                }
                if skipped > 0 {
                    // Only the last line can be cut short, and it was
                    // never answered: Shopify sends it again.
                    tracing::warn!(
                        file = %path.display(),
                        lines = skipped,
                        "unreadable lines in the webhook inbox skipped (a write cut short by a stop)"
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut open = BTreeMap::new();
        for (seq, delivery) in &taken {
            open.insert(*seq, encode_taken(*seq, delivery)?);
        }
        let file = rewrite(&path, &open)?;
        let size = open.values().map(|l| l.len() as u64).sum();
        let inbox = Inbox {
            path,
            journal: Mutex::new(Journal {
                file,
                size,
                next,
                open,
                open_bytes: size,
            }),
        };
        Ok((inbox, taken.into_iter().collect()))
    }

    /// Appends a delivery and syncs it to disk; returns its number, or
    /// None when [`MAX_OPEN`] deliveries or [`MAX_OPEN_BYTES`] are open
    /// already (the caller then
    /// applies it before answering, which slows Shopify down to the
    /// store's pace). Once this returns a number, the delivery survives a
    /// crash. Blocking: call it off the async threads.
    pub fn take(&self, delivery: &Taken) -> std::io::Result<Option<u64>> {
        let mut j = self.lock();
        let seq = j.next;
        let line = encode_taken(seq, delivery)?;
        if j.open.len() >= MAX_OPEN || j.open_bytes + line.len() as u64 > MAX_OPEN_BYTES {
            return Ok(None);
        }
        if let Err(e) = j.file.write_all(&line).and_then(|()| j.file.sync_data()) {
            // A line cut short (a full disk) is cut off, or the next line
            // would be read as part of it.
            let _ = j.file.set_len(j.size);
            return Err(e);
        }
        j.next += 1;
        j.size += line.len() as u64;
        j.open_bytes += line.len() as u64;
        j.open.insert(seq, line);
        Ok(Some(seq))
    }

    /// Marks a delivery finished (applied, kept as a dead letter, or
    /// handed back to Shopify with a 503). Not synced: a `done` lost in a
    /// crash only means the delivery is applied once more at start.
    pub fn done(&self, seq: u64) -> std::io::Result<()> {
        let mut j = self.lock();
        let Some(line) = j.open.remove(&seq) else {
            return Ok(());
        };
        j.open_bytes -= line.len() as u64;
        let line = format!("{{\"done\":{seq}}}\n");
        if let Err(e) = j.file.write_all(line.as_bytes()) {
            let _ = j.file.set_len(j.size);
            return Err(e);
        }
        j.size += line.len() as u64;
        if j.size > ROTATE_AT {
            let file = rewrite(&self.path, &j.open)?;
            j.size = j.open_bytes;
            j.file = file;
        }
        Ok(())
    }

    /// Deliveries taken and not finished.
    pub fn open_count(&self) -> usize {
        self.lock().open.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn encode_taken(seq: u64, delivery: &Taken) -> std::io::Result<Vec<u8>> {
    let mut line =
        serde_json::to_vec(&TakenLine { seq, delivery }).map_err(std::io::Error::other)?;
    line.push(b'\n');
    Ok(line)
}

/// Replaces the file with `open`'s lines (synced, then renamed over it)
/// and opens it for appending.
fn rewrite(path: &Path, open: &BTreeMap<u64, Vec<u8>>) -> std::io::Result<File> {
    let bytes: Vec<u8> = open.values().flatten().copied().collect();
    crate::files::write_private(path, &bytes)?;
    if let Some(dir) = path.parent() {
        // The rename itself must reach the disk before lines are appended
        // to the new file and answered.
        File::open(dir)?.sync_all()?;
    }
    std::fs::OpenOptions::new().append(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(n: u32) -> Taken {
        Taken {
            shop: "a.example".into(),
            topic: "orders/updated".into(),
            event_id: Some(format!("e{n}")),
            triggered_at: None,
            received_at: DateTime::from_timestamp(1_790_000_000, 0).expect("time"),
            body: format!("{{\"id\":{n},\"note\":\"line\\nbreak\"}}"),
        }
    }

    #[test]
    fn deliveries_not_done_come_back_at_start_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (inbox, open) = Inbox::open(dir.path()).expect("open");
        assert!(open.is_empty());
        let a = inbox.take(&delivery(1)).expect("take").expect("room");
        let b = inbox.take(&delivery(2)).expect("take").expect("room");
        let c = inbox.take(&delivery(3)).expect("take").expect("room");
        inbox.done(b).expect("done");
        assert_eq!(inbox.open_count(), 2);
        drop(inbox);

        let (inbox, open) = Inbox::open(dir.path()).expect("reopen");
        assert_eq!(open, vec![(a, delivery(1)), (c, delivery(3))]);
        // Numbers go on after the ones taken before.
        let d = inbox.take(&delivery(4)).expect("take").expect("room");
        assert!(d > c);
        inbox.done(a).expect("done");
        inbox.done(c).expect("done");
        inbox.done(d).expect("done");
        drop(inbox);
        let (_, open) = Inbox::open(dir.path()).expect("reopen");
        assert!(open.is_empty(), "all done: {open:?}");
    }

    #[test]
    fn a_line_cut_short_is_skipped_and_the_rest_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (inbox, _) = Inbox::open(dir.path()).expect("open");
        inbox.take(&delivery(1)).expect("take").expect("room");
        drop(inbox);
        let path = dir.path().join("webhooks").join("inbox.log");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("append");
        f.write_all(br#"{"seq":1,"delivery":{"shop":"a.ex"#)
            .expect("write");
        drop(f);
        let (inbox, open) = Inbox::open(dir.path()).expect("reopen");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].1.event_id.as_deref(), Some("e1"));
        // The rewritten file takes new lines cleanly after the cut one.
        inbox.take(&delivery(2)).expect("take").expect("room");
        drop(inbox);
        let (_, open) = Inbox::open(dir.path()).expect("reopen");
        assert_eq!(open.len(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner only: bodies hold personal data");
        }
    }

    #[test]
    fn the_file_is_rewritten_with_the_open_deliveries_past_its_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (inbox, _) = Inbox::open(dir.path()).expect("open");
        let kept = inbox.take(&delivery(0)).expect("take").expect("room");
        let mut big = delivery(1);
        big.body = "x".repeat(1 << 20);
        for _ in 0..10 {
            let s = inbox.take(&big).expect("take").expect("room");
            inbox.done(s).expect("done");
        }
        let path = dir.path().join("webhooks").join("inbox.log");
        let len = std::fs::metadata(&path).expect("meta").len();
        assert!(len < ROTATE_AT, "rewritten: {len} bytes");
        drop(inbox);
        let (_, open) = Inbox::open(dir.path()).expect("reopen");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].0, kept);
    }

    #[test]
    fn a_full_inbox_takes_nothing_until_one_is_done() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (inbox, _) = Inbox::open(dir.path()).expect("open");
        let first = inbox.take(&delivery(0)).expect("take").expect("room");
        for n in 1..MAX_OPEN {
            inbox
                .take(&delivery(n as u32))
                .expect("take")
                .expect("room");
        }
        assert_eq!(inbox.take(&delivery(9999)).expect("take"), None);
        inbox.done(first).expect("done");
        assert!(inbox.take(&delivery(9999)).expect("take").is_some());
    }

    #[test]
    fn open_bodies_are_bounded_in_bytes_too() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (inbox, _) = Inbox::open(dir.path()).expect("open");
        let mut big = delivery(1);
        big.body = "x".repeat(2 << 20);
        let mut taken = Vec::new();
        while let Some(seq) = inbox.take(&big).expect("take") {
            taken.push(seq);
            assert!(taken.len() <= 32, "64 MiB of 2 MiB bodies");
        }
        assert_eq!(taken.len(), 31);
        assert!(
            inbox.take(&delivery(2)).expect("take").is_some(),
            "a small one fits"
        );
        inbox.done(taken[0]).expect("done");
        assert!(inbox.take(&big).expect("take").is_some());
    }
}
