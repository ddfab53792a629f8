//! The order store: one tantivy index on disk under the data dir.
//!
//! Reads (`get`, `lookup`, `search`) run on the caller's thread against the
//! latest committed searcher. Writes (`upsert`, `delete`) go to the single
//! writer thread in [`writer`], which batches them into group commits and
//! answers only once the commit holding the write is done and visible. The
//! store knows nothing about HTTP; the web layer maps [`StoreError`] to
//! status codes.
//!
//! Only one process may own a data dir: tantivy's writer lock makes a
//! second `serve` or `import` on the same directory fail at once with
//! [`StoreError::Locked`] instead of waiting or corrupting the index.

mod aggregate;
mod epochs;
pub mod log;
mod made_once;
mod merges;
mod migrate;
mod newest;
mod query;
mod rank;
mod read;
mod recent;
pub mod schema;
pub mod snapshot;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use tantivy::directory::MmapDirectory;
use tantivy::directory::error::LockError;
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, TantivyError, Term};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

pub use crate::order::search::SearchField;
pub use epochs::{LinkEpochs, SharedEpochs};
pub use merges::{Compacted, compact};
pub use query::{COUNT_LIMIT, Filters, SearchQuery, SearchResults, Sort, matched_fields};
use read::{docs_with_term, find_doc, load, load_as, stored_updated_at};
pub use schema::Part;
use schema::{Fields, part_term};
use writer::{Command, Op};

use crate::order::Order;
use crate::order::merge::Change;

/// Errors of the store layer.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Another process holds the data dir.
    #[error(
        "the data dir {0} is in use by another order-status process (stop it, or use another --data-dir)"
    )]
    Locked(PathBuf),
    #[error("cannot open the order index in {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    /// A write could not be made durable; nothing of it was applied.
    #[error("the order store cannot take writes right now")]
    Unavailable,
    #[error("order store write failed")]
    Write(#[source] Cause),
    #[error("order store read failed")]
    Read(#[source] Cause),
    #[error("cannot encode an order")]
    Encode(#[source] Cause),
    #[error("a stored order is unreadable")]
    Corrupt(#[source] Cause),
}

pub use crate::errors::{Cause, context};

impl StoreError {
    fn write(e: TantivyError) -> StoreError {
        StoreError::Write(Box::new(e))
    }
    fn read(e: TantivyError) -> StoreError {
        StoreError::Read(Box::new(e))
    }
}

/// What a write did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteReport {
    /// Orders written (changed) or removed (delete).
    pub applied: usize,
    /// Changes skipped because the stored order is newer.
    pub stale: usize,
    /// Changes that brought nothing new (replays, re-imports).
    pub unchanged: usize,
    /// Changes to parts of orders the store does not have.
    pub unknown: usize,
    /// Changes handed to the replication log by a store that applies
    /// nothing itself ([`Store::open_log_only`]): every replica applies
    /// them.
    pub logged: usize,
}

impl std::ops::AddAssign for WriteReport {
    fn add_assign(&mut self, r: WriteReport) {
        self.applied += r.applied;
        self.stale += r.stale;
        self.unchanged += r.unchanged;
        self.unknown += r.unknown;
        self.logged += r.logged;
    }
}

/// A queued write; await [`PendingWrite::committed`] for its outcome.
#[derive(Debug)]
pub struct PendingWrite(Vec<oneshot::Receiver<Result<WriteReport, StoreError>>>);

/// How long a replicated write waits to be applied here once the log has
/// stored it. It is durable by then; the wait is only for the caller to
/// see its own write.
const APPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// tantivy's merge threads per writer (its default): merges of different
/// size levels run side by side, at the lower priority.
const MERGE_THREADS: usize = 4;

impl PendingWrite {
    /// Waits until the write is committed (or failed).
    pub async fn committed(self) -> Result<WriteReport, StoreError> {
        let mut total = WriteReport::default();
        for rx in self.0 {
            let r = tokio::time::timeout(APPLY_WAIT, rx)
                .await
                .map_err(|_| StoreError::Unavailable)?
                .map_err(|_| StoreError::Unavailable)??;
            total += r;
        }
        Ok(total)
    }
}

/// Tuning for the writer; the defaults suit a server.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Indexing threads (1 for a server, 2 for a bulk import).
    pub writer_threads: usize,
    /// Indexing memory per thread, bytes.
    pub writer_memory: usize,
    /// Called by the writer with the stored and the new version of every
    /// order it is about to write; what it changes in the new version is
    /// written in the same commit (the mail outbox uses it).
    pub on_write: Option<WriteHook>,
    /// Tell the kernel that reads of the index are random, so it maps only
    /// the pages read: a lookup reads a few pages, and read-ahead around
    /// each made a server over 10,000,000 orders map 1.6 GB of index for
    /// 1,000 lookups. Off for bulk writes, whose merges read segments
    /// whole.
    pub random_reads: bool,
    /// How many segments of about one size gather before they are merged
    /// into one (tantivy's log merge policy; its default, 8, for a
    /// server). A bulk write takes 16: each order is then rewritten by
    /// merges about a third fewer times (an import of 10,000,000 orders
    /// went from 18,152 to 21,075 orders/s), for more segments.
    pub merge_factor: usize,
    /// Segments with more orders than this are left out of merges, but to
    /// drop their deleted versions (see `merges`). A server keeps to
    /// 500,000: otherwise its first write after a 10,000,000-order import
    /// would merge the ten segments of about 900,000 orders that the
    /// import leaves, rewriting nearly the whole index in the background.
    pub merge_max_orders: usize,
    /// How long after a commit began the next one may begin; writes that
    /// come meanwhile join it. Zero: each group commits as soon as it is
    /// taken (commands, tests). A server under 100 webhooks a second
    /// committed 60 times a second, each commit rewriting every touched
    /// segment's deleted-versions file (40 MB/s) and reloading the reader,
    /// a core's worth of work beside the pages (`commit_interval`).
    pub commits_apart: std::time::Duration,
}

impl StoreOptions {
    /// The tuning of commands that write many orders at once (`import`,
    /// `sync`): more indexing threads and memory than a server.
    pub const BATCH: StoreOptions = StoreOptions {
        writer_threads: 2,
        writer_memory: 128 << 20,
        on_write: None,
        random_reads: false,
        merge_factor: 16,
        merge_max_orders: 10_000_000,
        commits_apart: std::time::Duration::ZERO,
    };
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            writer_threads: 1,
            writer_memory: 48 << 20,
            on_write: None,
            random_reads: true,
            merge_factor: 8,
            merge_max_orders: 500_000,
            commits_apart: std::time::Duration::ZERO,
        }
    }
}

/// See [`StoreOptions::on_write`].
#[derive(Clone)]
pub struct WriteHook(pub Arc<WriteHookFn>);

/// The function of a [`WriteHook`]: (stored version, new version, the
/// time of the write). The time is the write's own, not the clock's when
/// it is applied: replicas applying one logged write at different moments
/// must come to the same order.
pub type WriteHookFn = dyn Fn(Option<&Order>, &mut Order, DateTime<Utc>) + Send + Sync;

impl std::fmt::Debug for WriteHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteHook")
    }
}

/// A handle to the order store; cheap to clone, all clones share one index.
#[derive(Clone)]
pub struct Store {
    reader: IndexReader,
    fields: Fields,
    tx: mpsc::Sender<Command>,
    stats: Arc<CommitStats>,
    writer: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
    /// Where writes go instead of the writer, when replication is on.
    log: Arc<std::sync::OnceLock<Arc<dyn log::ChangeLog>>>,
    applied: Arc<log::Applied>,
    /// Writes are only logged, never applied here (no index of its own).
    log_only: bool,
    typos: Arc<query::Typos>,
    recent: Arc<recent::Recent>,
}

/// Commits done and the time they took, for the metrics.
#[derive(Debug, Default)]
pub struct CommitStats {
    pub commits: AtomicU64,
    pub micros: AtomicU64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the index under `data_dir/index` and starts the
    /// writer thread. The thread ends when the last handle is dropped.
    pub fn open(data_dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        let path = data_dir.join("index");
        let open_err = |reason: String| StoreError::Open {
            path: path.clone(),
            reason,
        };
        std::fs::create_dir_all(&path).map_err(|e| open_err(e.to_string()))?;
        let (schema, fields) = schema::schema();
        migrate::if_needed(data_dir, &path, &schema, &fields)?;
        let dir = if options.random_reads {
            MmapDirectory::open_with_madvice(&path, tantivy::directory::Advice::Random)
        } else {
            MmapDirectory::open(&path)
        }
        .map_err(|e| open_err(e.to_string()))?;
        let mut index = Index::open_or_create(dir, schema).map_err(|e| open_err(e.to_string()))?;
        // Staff searches walk many postings; two threads halve a search's
        // latency on this kind of machine. Lookups and gets do not use it.
        index
            .set_multithread_executor(2)
            .map_err(|e| open_err(e.to_string()))?;
        let threads = options.writer_threads.max(1);
        let memory = options.writer_memory.max(15 << 20) * threads;
        let writer_index = index.clone();
        let (merge_factor, merge_max) = (options.merge_factor.max(2), options.merge_max_orders);
        let make_writer: writer::MakeWriter = Box::new(move || {
            let options = tantivy::indexer::IndexWriterOptions::builder()
                .num_worker_threads(threads)
                .memory_budget_per_thread(memory / threads)
                .num_merge_threads(MERGE_THREADS)
                .build();
            // Merges are the writer's background work: they rewrite whole
            // segments and nobody waits for them (see `crate::background`).
            let writer =
                crate::background::lower_threads_named("merge_thread_", MERGE_THREADS, || {
                    writer_index.writer_with_options(options)
                })?;
            writer.set_merge_policy(Box::new(merges::Merges::new(merge_factor, merge_max)));
            Ok(writer)
        });
        let reader = manual_reader(&index).map_err(|e| open_err(e.to_string()))?;
        let log_seq = log::parse_payload(
            index
                .load_metas()
                .map_err(|e| open_err(e.to_string()))?
                .payload
                .as_deref(),
        );
        let (tx, rx) = mpsc::channel(256);
        let (thread_reader, thread_fields) = (Clone::clone(&reader), fields.clone());
        let hook = options.on_write.clone();
        let commits_apart = options.commits_apart;
        let stats = Arc::new(CommitStats::default());
        let thread_stats = Arc::clone(&stats);
        // The writer thread keeps the requests' CPU priority: webhooks and
        // staff changes wait for its commits (see `crate::background`).
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                let writer = match make_writer() {
                    Ok(w) => {
                        let _ = ready_tx.send(Ok(()));
                        w
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                writer::run(
                    writer,
                    make_writer,
                    rx,
                    writer::With {
                        reader: thread_reader,
                        fields: thread_fields,
                        stats: thread_stats,
                        hook,
                        log_seq,
                        commits_apart,
                    },
                )
            })
            .map_err(|e| open_err(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(TantivyError::LockFailure(LockError::LockBusy, _))) => {
                return Err(StoreError::Locked(data_dir.to_path_buf()));
            }
            Ok(Err(other)) => return Err(open_err(other.to_string())),
            Err(_) => return Err(open_err("the writer thread ended at start".into())),
        }
        Ok(Store {
            reader,
            fields,
            tx,
            stats,
            writer: Arc::new(std::sync::Mutex::new(Some(handle))),
            log: Arc::default(),
            applied: Arc::new(log::Applied::new(log_seq)),
            log_only: false,
            typos: Arc::default(),
            recent: Arc::default(),
        })
    }

    /// Opens the index for reading only: no writer, no lock, so it works
    /// beside a running server (for `export`). Writes fail as unavailable.
    pub fn open_read_only(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join("index");
        let open_err = |reason: String| StoreError::Open {
            path: path.clone(),
            reason,
        };
        let (_, fields) = schema::schema();
        let index = Index::open_in_dir(&path).map_err(|e| open_err(e.to_string()))?;
        let reader = manual_reader(&index).map_err(|e| open_err(e.to_string()))?;
        Ok(Store::without_writer(reader, fields, false))
    }

    /// A store over `reader` whose writes never reach a writer of its own.
    fn without_writer(reader: IndexReader, fields: Fields, log_only: bool) -> Store {
        let (tx, _) = mpsc::channel(1);
        Store {
            reader,
            fields,
            tx,
            stats: Arc::new(CommitStats::default()),
            writer: Arc::new(std::sync::Mutex::new(None)),
            log: Arc::default(),
            applied: Arc::default(),
            log_only,
            typos: Arc::default(),
            recent: Arc::default(),
        }
    }

    /// A store that only hands writes to `log` and holds no orders (an
    /// `import` into running replicas): a write resolves once the log has
    /// stored it, with [`WriteReport::logged`] counting its changes.
    pub fn open_log_only(log: Arc<dyn log::ChangeLog>) -> Result<Store, StoreError> {
        let (schema, fields) = schema::schema();
        let index = Index::create_in_ram(schema);
        let reader = manual_reader(&index).map_err(StoreError::read)?;
        let store = Store::without_writer(reader, fields, true);
        store.set_log(log);
        Ok(store)
    }

    /// Calls `f` with every order in the store, segment by segment.
    pub fn for_each_order(
        &self,
        mut f: impl FnMut(Order) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
        let searcher = self.reader.searcher();
        let mut n = 0;
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            for doc in 0..segment.max_doc() {
                if segment.alive_bitset().is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let order = load(&searcher, &self.fields, DocAddress::new(ord as u32, doc))?;
                f(order).map_err(|e| StoreError::Read(e.into()))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Commits so far and their total time in seconds.
    pub fn commit_stats(&self) -> (u64, f64) {
        (
            self.stats.commits.load(Ordering::Relaxed),
            self.stats.micros.load(Ordering::Relaxed) as f64 / 1e6,
        )
    }

    /// Writes sent to the writer and not yet taken up by it: a number that
    /// keeps growing means writes come faster than commits.
    pub fn write_queue_len(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Waits (up to `timeout`) for the writer to finish once every handle
    /// is dropped: everything acknowledged was committed already, this only
    /// lets merges settle and releases the data dir's lock cleanly.
    pub async fn close(self, timeout: std::time::Duration) {
        let handle = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(self);
        if let Some(h) = handle {
            let joined =
                tokio::time::timeout(timeout, tokio::task::spawn_blocking(move || h.join()));
            if joined.await.is_err() {
                tracing::warn!(
                    "the store writer did not stop in time; acknowledged writes are committed regardless"
                );
            }
        }
    }

    /// Inserts or replaces orders, keeping whichever version of each has
    /// the newest `updated_at` (and what is ours of the stored one).
    /// Returns once the change is committed.
    pub async fn upsert(&self, orders: Vec<Order>) -> Result<WriteReport, StoreError> {
        self.submit(orders).await?.committed().await
    }

    /// Queues an upsert and returns as soon as it is queued, so a bulk
    /// import can keep several batches in flight (and in file order); the
    /// returned [`PendingWrite`] resolves once the batch is committed.
    pub async fn submit(&self, orders: Vec<Order>) -> Result<PendingWrite, StoreError> {
        self.submit_changes(orders.into_iter().map(Change::Replace).collect())
            .await
    }

    /// Applies changes part by part (see [`crate::order::merge`]); returns
    /// once they are committed.
    pub async fn apply(&self, changes: Vec<Change>) -> Result<WriteReport, StoreError> {
        self.submit_changes(changes).await?.committed().await
    }

    /// Queues changes; the [`PendingWrite`] resolves once committed.
    pub async fn submit_changes(&self, changes: Vec<Change>) -> Result<PendingWrite, StoreError> {
        self.queue(Op::Apply(changes)).await
    }

    /// Applies batches as they arrive from `batches`, keeping up to
    /// `in_flight` of them queued at the writer so that producing,
    /// indexing and committing overlap; batches commit in the order they
    /// came. `committed` is called with each batch's report and its
    /// companion value, in order, once the batch is committed.
    pub async fn apply_stream<M>(
        &self,
        mut batches: mpsc::Receiver<(Vec<Change>, M)>,
        in_flight: usize,
        mut committed: impl FnMut(WriteReport, M),
    ) -> Result<WriteReport, StoreError> {
        let mut total = WriteReport::default();
        let mut queue: std::collections::VecDeque<(Option<PendingWrite>, M)> =
            std::collections::VecDeque::new();
        let finish = |w: Option<PendingWrite>, m: M| async move {
            let r = match w {
                Some(w) => w.committed().await?,
                None => WriteReport::default(),
            };
            Ok::<_, StoreError>((r, m))
        };
        while let Some((changes, meta)) = batches.recv().await {
            let pending = if changes.is_empty() {
                None
            } else {
                Some(self.submit_changes(changes).await?)
            };
            queue.push_back((pending, meta));
            while queue.len() >= in_flight.max(1) {
                let Some((w, m)) = queue.pop_front() else {
                    break;
                };
                let (r, m) = finish(w, m).await?;
                total += r;
                committed(r, m);
            }
        }
        while let Some((w, m)) = queue.pop_front() {
            let (r, m) = finish(w, m).await?;
            total += r;
            committed(r, m);
        }
        Ok(total)
    }

    /// The key of the order that has this part (a fulfillment order,
    /// shipment or return named by a webhook without its order).
    pub fn find_by_part(&self, kind: Part, id: u64) -> Option<String> {
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.parts, &part_term(kind, id));
        let addr = docs_with_term(&searcher, term).into_iter().next()?;
        load(&searcher, &self.fields, addr).ok().map(|o| o.key())
    }

    /// Removes orders by key; returns once committed.
    pub async fn delete(&self, keys: Vec<String>) -> Result<WriteReport, StoreError> {
        self.queue(Op::Delete(keys)).await?.committed().await
    }

    /// Removes every order of a shop; returns how many once committed.
    pub async fn delete_shop(&self, shop: &str) -> Result<usize, StoreError> {
        let r = self
            .queue(Op::DeleteShop(shop.to_string()))
            .await?
            .committed()
            .await?;
        Ok(r.applied)
    }

    async fn queue(&self, op: Op) -> Result<PendingWrite, StoreError> {
        let at = Utc::now();
        if let Some(log) = self.log.get() {
            let changes = op.changes();
            let mut waits = Vec::new();
            let entries = log::encode(op, at)?;
            if self.log_only {
                for entry in entries {
                    log.append(entry).await?;
                }
                let (tx, rx) = oneshot::channel();
                let _ = tx.send(Ok(WriteReport {
                    logged: changes,
                    ..WriteReport::default()
                }));
                return Ok(PendingWrite(vec![rx]));
            }
            for entry in entries {
                let seq = log.append(entry).await?;
                waits.push(self.applied.wait(seq));
            }
            return Ok(PendingWrite(waits));
        }
        self.send(op, at, None).await
    }

    async fn send(
        &self,
        op: Op,
        at: DateTime<Utc>,
        seq: Option<u64>,
    ) -> Result<PendingWrite, StoreError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Command { op, at, seq, ack })
            .await
            .map_err(|_| StoreError::Unavailable)?;
        Ok(PendingWrite(vec![done]))
    }

    /// Sends every write from now on through `log` (see [`log`]); for
    /// every clone of this store. Only the first log set counts.
    pub fn set_log(&self, log: Arc<dyn log::ChangeLog>) {
        let _ = self.log.set(log);
    }

    /// How much of the replication log the index holds (0 without one).
    pub fn log_applied(&self) -> u64 {
        self.applied.seq()
    }

    /// Applies entry `seq` of the replication log, as read back from it,
    /// in log order; the [`PendingWrite`] resolves once it is committed,
    /// and [`Store::log_entry_done`] must then be told the result.
    ///
    /// An entry this build cannot read is logged and passed over (applied
    /// as nothing), so one bad entry cannot stop every later one; the
    /// `bool` says whether it was readable.
    pub async fn submit_logged(
        &self,
        seq: u64,
        entry: &[u8],
    ) -> Result<(PendingWrite, bool), StoreError> {
        match log::decode(entry) {
            Ok(e) => Ok((self.send(e.op, e.at, Some(seq)).await?, true)),
            Err(e) => {
                tracing::error!(seq, error = %crate::errors::chain(&e), "replication log entry unreadable; passed over");
                let pending = self
                    .send(Op::Apply(Vec::new()), Utc::now(), Some(seq))
                    .await?;
                Ok((pending, false))
            }
        }
    }

    /// Entry `seq` is applied (or could not be): answers whoever made it
    /// here, and moves [`Store::log_applied`].
    pub fn log_entry_done(&self, seq: u64, result: Result<WriteReport, StoreError>) {
        self.applied.done(seq, result);
    }
}

/// A reader that moves to a new commit only when told (the writer tells
/// it right after each commit, so a write is visible once acknowledged).
fn manual_reader(index: &Index) -> tantivy::Result<IndexReader> {
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
}

#[cfg(test)]
mod tests;
