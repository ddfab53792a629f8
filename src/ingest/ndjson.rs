//! Import of the project's own order format: NDJSON, one order per line
//! (the fields are documented in the README and in `order::model`).
//!
//! A bad line (not JSON, not an order, missing its id...) is reported with
//! its line number and reason and does not stop the good lines. Parsing
//! runs on a blocking thread and hands batches to the store, which keeps a
//! few of them in flight so parsing, indexing and committing overlap.
//! Importing the same file twice gives the same store: upserts are keyed
//! and equal `updated_at` re-applies the same content.

use std::io::BufRead;

use thiserror::Error;
use tokio::sync::mpsc;

use crate::order::Order;
use crate::order::merge::Change;
use crate::store::{Store, StoreError};

/// Orders per store write.
const BATCH: usize = 2_000;
/// Batches queued at the store at once.
const IN_FLIGHT: usize = 4;
/// Longest line we read; a longer one is reported, not loaded into memory.
pub const MAX_LINE_BYTES: usize = 4 << 20;
/// How many bad lines are kept with their reason (all are counted).
const KEEP_ERRORS: usize = 1_000;

/// Why an import as a whole failed (single bad lines do not fail it).
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("cannot read the input: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One line that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Lines read, blank ones included.
    pub lines: usize,
    /// Orders written.
    pub applied: usize,
    /// Orders skipped because the store has a newer version.
    pub stale: usize,
    /// Orders the store already had exactly so.
    pub unchanged: usize,
    /// Orders handed to the replication log (an import beside replicas).
    pub logged: usize,
    /// Lines that failed, in all.
    pub failed: usize,
    /// The first failures, with reasons.
    pub errors: Vec<LineError>,
}

/// What a batch of lines held besides its orders.
struct Batch {
    errors: Vec<LineError>,
    lines: usize,
    bytes: u64,
}

/// Imports NDJSON from `input` into `store`. Orders without a `shop` get
/// `default_shop`. `progress` is called with the bytes read so far.
pub async fn import<R>(
    store: &Store,
    input: R,
    default_shop: &str,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError>
where
    R: BufRead + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<(Vec<Change>, Batch)>(IN_FLIGHT);
    let shop = default_shop.to_string();
    let parser = tokio::task::spawn_blocking(move || parse(input, &shop, tx));

    let mut report = ImportReport::default();
    let written = store
        .apply_stream(rx, IN_FLIGHT, |_, batch| {
            report.lines = batch.lines;
            report.failed += batch.errors.len();
            let room = KEEP_ERRORS.saturating_sub(report.errors.len());
            report.errors.extend(batch.errors.into_iter().take(room));
            progress(batch.bytes);
        })
        .await?;
    report.applied = written.applied;
    report.stale = written.stale;
    report.unchanged = written.unchanged;
    report.logged = written.logged;
    parser
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    Ok(report)
}

/// Parses one line into a valid order.
pub fn parse_line(line: &[u8], default_shop: &str) -> Result<Order, String> {
    let order: Order = serde_json::from_slice(line).map_err(|e| {
        // serde_json's messages say "at line 1 column N": within the line.
        let msg = e.to_string();
        match msg.rsplit_once(" at line 1 ") {
            Some((what, at)) => format!("{what} ({at})"),
            None => msg,
        }
    })?;
    order.validated(default_shop).map_err(|e| e.to_string())
}

fn parse<R: BufRead>(
    mut input: R,
    default_shop: &str,
    tx: mpsc::Sender<(Vec<Change>, Batch)>,
) -> Result<(), std::io::Error> {
    let mut line_no = 0usize;
    let mut bytes = 0u64;
    let mut buf = Vec::with_capacity(4096);
    let mut orders = Vec::with_capacity(BATCH);
    let mut batch = Batch {
        errors: Vec::new(),
        lines: 0,
        bytes: 0,
    };
    loop {
        buf.clear();
        let (n, too_long) = read_line(&mut input, &mut buf)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        bytes += n as u64;
        let line = buf.trim_ascii();
        if too_long {
            batch.errors.push(LineError {
                line: line_no,
                reason: format!("line is longer than {MAX_LINE_BYTES} bytes"),
            });
        } else if !line.is_empty() {
            match parse_line(line, default_shop) {
                Ok(o) => orders.push(Change::Replace(o)),
                Err(reason) => batch.errors.push(LineError {
                    line: line_no,
                    reason,
                }),
            }
        }
        if orders.len() >= BATCH {
            batch.lines = line_no;
            batch.bytes = bytes;
            let full = std::mem::replace(
                &mut batch,
                Batch {
                    errors: Vec::new(),
                    lines: 0,
                    bytes: 0,
                },
            );
            let full_orders = std::mem::replace(&mut orders, Vec::with_capacity(BATCH));
            if tx.blocking_send((full_orders, full)).is_err() {
                return Ok(()); // the importer stopped (store error); it reports why
            }
        }
    }
    batch.lines = line_no;
    batch.bytes = bytes;
    let _ = tx.blocking_send((orders, batch));
    Ok(())
}

/// Reads one line into `buf`, keeping at most [`MAX_LINE_BYTES`] of it.
/// Returns the bytes consumed and whether the line was cut.
pub(crate) fn read_line<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut too_long = false;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok((consumed, too_long));
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > MAX_LINE_BYTES {
            too_long = true;
        } else {
            buf.extend_from_slice(&chunk[..take]);
        }
        input.consume(take);
        consumed += take;
        if done {
            return Ok((consumed, too_long));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    const GOOD: &str = r##"{"id": 1, "name": "#1001", "email": "a@example.com", "updated_at": "2026-11-01T10:00:00Z"}"##;

    async fn run(text: &str) -> (ImportReport, Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
        let input = std::io::Cursor::new(text.as_bytes().to_vec());
        let report = import(&store, input, "shop.example", |_| {})
            .await
            .expect("import runs");
        (report, store, dir)
    }

    #[tokio::test]
    async fn bad_lines_are_reported_and_good_lines_still_load() {
        let text = format!(
            "{GOOD}\nnot json\n\n{{\"id\": 0, \"order_number\": 5}}\n{{\"id\": 3, \"name\": \"x\"}}\n{}\n[1,2]\n",
            GOOD.replace("\"id\": 1", "\"id\": 2")
                .replace("#1001", "#1002")
        );
        let (report, store, _dir) = run(&text).await;
        assert_eq!(report.lines, 7);
        assert_eq!(report.applied, 2);
        assert_eq!(report.failed, 4);
        let lines: Vec<usize> = report.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 4, 5, 7]);
        assert!(
            report.errors[0].reason.contains("expected"),
            "{:?}",
            report.errors[0]
        );
        assert!(
            report.errors[1].reason.contains("id"),
            "{:?}",
            report.errors[1]
        );
        assert!(
            report.errors[2].reason.contains("order_number"),
            "{:?}",
            report.errors[2]
        );
        assert_eq!(store.count(), 2);
        assert!(
            store
                .lookup(1002, "a@example.com")
                .expect("lookup")
                .is_some()
        );
    }

    #[tokio::test]
    async fn invalid_utf8_is_a_bad_line_not_a_failed_import() {
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes.extend_from_slice(b"\n{\"id\": 5, \"name\": \"#5\xff\"}\n");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
        let report = import(&store, std::io::Cursor::new(bytes), "s", |_| {})
            .await
            .expect("import");
        assert_eq!((report.applied, report.failed), (1, 1));
        assert_eq!(report.errors[0].line, 2);
    }

    #[tokio::test]
    async fn importing_twice_gives_the_same_store() {
        let text: String = (0..5000)
            .map(|i| crate::ingest::demo::order(1, i, chrono::Utc::now(), "d.example"))
            .map(|o| serde_json::to_string(&o).expect("json") + "\n")
            .collect();
        let (first, store, dir) = run(&text).await;
        assert_eq!(first.applied, 5000);
        let before: Vec<_> = (0..5000)
            .map(|i| {
                store
                    .get(&format!("d.example/{}", 5_100_000_000u64 + i))
                    .expect("get")
            })
            .collect();
        let again = import(&store, std::io::Cursor::new(text.into_bytes()), "s", |_| {})
            .await
            .expect("import");
        assert_eq!(again.failed, 0);
        assert_eq!(store.count(), 5000);
        let after: Vec<_> = (0..5000)
            .map(|i| {
                store
                    .get(&format!("d.example/{}", 5_100_000_000u64 + i))
                    .expect("get")
            })
            .collect();
        assert_eq!(before, after);
        drop(dir);
    }

    #[test]
    fn every_shopify_sample_order_parses_as_a_line() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shopify");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("fixtures").flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !name.starts_with("rest_order_") {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(entry.path()).expect("read")).expect("json");
            let line = serde_json::to_vec(&v["order"]).expect("inner order");
            let o =
                parse_line(&line, "jsmith.myshopify.com").unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(o.order_number > 0, "{name}");
            seen += 1;
        }
        assert!(seen >= 6, "only {seen} order samples");
    }
}
