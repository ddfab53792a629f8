//! Bulk status changes: set (or clear) a status on every order of a search.
//!
//! Three steps, so nothing is half-done by surprise: **prepare** fixes the
//! set (the keys the search matches now, kept in a job file under
//! `<data dir>/bulk/`) and shows the count; **confirm** (with that count)
//! starts the job; the runner applies it in batches through the store's
//! single writer, saving its progress after each batch. A job stopped
//! midway (a restart, a store error) is resumed from its last saved batch,
//! at start-up or by staff; applying a batch again changes nothing,
//! because every change of a job carries the job's one timestamp and a
//! change already in an order's history is not added twice. For a shop
//! with write-back on, each order's status goes to Shopify first and only
//! an order Shopify accepted changes here. The report says how many
//! orders changed, were already so, were gone, or Shopify refused (and
//! why).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{ActionError, AuditEntry, AuditLog};
use crate::files::write_private;
use crate::order::merge::Change;
use crate::order::status::StatusChange;
use crate::shopify::Apis;
use crate::store::Store;

/// Orders one batch changes (one store write, one progress save).
pub const BATCH: usize = 500;
/// Most orders one job may change.
pub const MAX_ORDERS: usize = 1_000_000;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Made, waiting for staff to confirm the count.
    Prepared,
    /// Confirmed and being applied (or to be resumed).
    Running,
    /// Stopped by an error; resumable.
    Paused,
    Done,
}

/// A bulk change and its progress, as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub created_at: DateTime<Utc>,
    /// Who prepared it; who confirmed it is in the audit log.
    pub by: String,
    /// The change every order gets (its `at` is the confirmation time).
    pub change: StatusChange,
    /// The search it came from, in words, for the page.
    pub search: String,
    pub keys: Vec<String>,
    pub state: JobState,
    /// Orders handled so far (a prefix of `keys`).
    pub done: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Orders gone since the job was prepared.
    pub missing: Vec<String>,
    /// Orders Shopify refused the status of (write-back on), with why;
    /// they are left as they were.
    #[serde(default)]
    pub refused: Vec<String>,
    /// Why it paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// How many runners have taken it up (more than one: resumed after a
    /// restart, or by another replica).
    #[serde(default)]
    pub runs: u32,
    /// With replicas: the parts its orders are stored in, apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_parts: Option<usize>,
    /// With replicas: the record's revision when read.
    #[serde(skip)]
    revision: u64,
}

/// A stored value and its revision.
pub type Revisioned = Option<(Vec<u8>, u64)>;

/// Where jobs are kept with replicas (a key-value store every replica
/// reads, written by compare-and-set): a job's record under its id, its
/// orders in parts beside it.
pub trait SharedJobs: Send + Sync {
    /// The value under `key` and its revision.
    fn get(&self, key: String) -> BoxFuture<'static, Result<Revisioned, String>>;
    /// Stores `value` under `key` if its revision is still `revision` (0:
    /// only if there is none yet); `None` when another write came first.
    fn put(
        &self,
        key: String,
        value: Vec<u8>,
        revision: u64,
    ) -> BoxFuture<'static, Result<Option<u64>, String>>;
    /// Every key.
    fn keys(&self) -> BoxFuture<'static, Result<Vec<String>, String>>;
    /// A value this site did not write: logged with its key and counted.
    fn refused(&self, key: &str, why: &str);
}

/// Bytes of order keys in one stored part (a NATS message is at most 1 MB).
const KEYS_PART: usize = 256 * 1024;

/// The jobs: files under `<data dir>/bulk/`, or, with replicas, the
/// cluster's [`SharedJobs`]. Cheap to clone (clones share it).
#[derive(Clone)]
pub struct Jobs {
    dir: PathBuf,
    shared: Arc<OnceLock<Arc<dyn SharedJobs>>>,
    /// Shared records refused, by key and revision: each counted once,
    /// though the lease holder looks at every job each second.
    refused: Arc<std::sync::Mutex<std::collections::HashSet<(String, u64)>>>,
    /// Shared jobs seen done (for good: a done job never runs again), so
    /// the holder's look each second does not read them again.
    done: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("dir", &self.dir)
            .field("shared", &self.shared.get().is_some())
            .finish()
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> ActionError {
    ActionError::Bulk(format!("{}: {e}", path.display()))
}

fn shared_err(e: String) -> ActionError {
    ActionError::Bulk(format!("the replicas' bulk jobs: {e}"))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn keys_part(id: &str, n: usize) -> String {
    format!("{id}.keys.{n}")
}

impl Jobs {
    pub fn new(data_dir: &Path) -> Jobs {
        Jobs {
            dir: data_dir.join("bulk"),
            shared: Arc::default(),
            refused: Arc::default(),
            done: Arc::default(),
        }
    }

    /// Keeps the jobs in the cluster (once, at start, with replicas): a
    /// job is then run by the jobs-lease holder (see [`run`]'s
    /// `keep_going`), not by the replica that confirmed it.
    pub fn set_shared(&self, shared: Arc<dyn SharedJobs>) {
        let _ = self.shared.set(shared);
    }

    /// Whether the jobs are the cluster's.
    pub fn is_shared(&self) -> bool {
        self.shared.get().is_some()
    }

    fn path(&self, id: &str) -> Option<PathBuf> {
        valid_id(id).then(|| self.dir.join(format!("{id}.json")))
    }

    /// Makes a prepared job for `keys`.
    pub async fn prepare(
        &self,
        by: &str,
        change: StatusChange,
        search: String,
        keys: Vec<String>,
    ) -> Result<Job, ActionError> {
        if keys.is_empty() {
            return Err(ActionError::Bulk("the search matches no orders".into()));
        }
        let mut id_bytes = [0u8; 8];
        getrandom::fill(&mut id_bytes).map_err(|e| ActionError::Bulk(e.to_string()))?;
        let now = Utc::now();
        let id = format!("{}{}", now.format("%Y%m%d%H%M%S"), hex::encode(id_bytes));
        let mut job = Job {
            id,
            created_at: now,
            by: by.to_string(),
            change,
            search,
            keys,
            state: JobState::Prepared,
            done: 0,
            changed: 0,
            unchanged: 0,
            missing: Vec::new(),
            refused: Vec::new(),
            error: None,
            finished_at: None,
            runs: 0,
            key_parts: None,
            revision: 0,
        };
        if let Some(shared) = self.shared.get() {
            // The orders once, in parts, before the record that names them.
            let mut parts: Vec<Vec<u8>> = vec![Vec::new()];
            for key in &job.keys {
                let last = parts.last_mut().expect("one part at least");
                if !last.is_empty() && last.len() + key.len() + 1 > KEYS_PART {
                    parts.push(Vec::new());
                }
                let last = parts.last_mut().expect("one part at least");
                if !last.is_empty() {
                    last.push(b'\n');
                }
                last.extend_from_slice(key.as_bytes());
            }
            job.key_parts = Some(parts.len());
            for (n, part) in parts.into_iter().enumerate() {
                shared
                    .put(keys_part(&job.id, n), part, 0)
                    .await
                    .map_err(shared_err)?;
            }
        }
        self.save(&mut job).await?;
        Ok(job)
    }

    /// The job `id`, if there is one.
    pub async fn get(&self, id: &str) -> Result<Option<Job>, ActionError> {
        let Some(mut job) = self.record(id).await? else {
            return Ok(None);
        };
        if let (Some(shared), Some(parts)) = (self.shared.get(), job.key_parts) {
            for n in 0..parts {
                let key = keys_part(id, n);
                let (bytes, _) = shared
                    .get(key.clone())
                    .await
                    .map_err(shared_err)?
                    .ok_or_else(|| shared_err(format!("{key} is missing")))?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    shared.refused(&key, "not a part of a bulk change's orders");
                    shared_err(format!("{key} is not a list of orders"))
                })?;
                job.keys.extend(text.split('\n').map(str::to_string));
            }
        }
        Ok(Some(job))
    }

    /// The job's record without its orders (those are stored apart with
    /// replicas).
    async fn record(&self, id: &str) -> Result<Option<Job>, ActionError> {
        if !valid_id(id) {
            return Ok(None);
        }
        if let Some(shared) = self.shared.get() {
            let Some((bytes, revision)) = shared.get(id.to_string()).await.map_err(shared_err)?
            else {
                return Ok(None);
            };
            let mut job: Job = serde_json::from_slice(&bytes).map_err(|e| {
                let first = self
                    .refused
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert((id.to_string(), revision));
                if first {
                    shared.refused(id, "not a bulk change");
                }
                shared_err(format!("{id}: {e}"))
            })?;
            job.revision = revision;
            return Ok(Some(job));
        }
        let this = self.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || this.get_file(&id))
            .await
            .map_err(|e| ActionError::Bulk(e.to_string()))?
    }

    fn get_file(&self, id: &str) -> Result<Option<Job>, ActionError> {
        let Some(path) = self.path(id) else {
            return Ok(None);
        };
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    /// Saves `job`: a file written atomically (a crash leaves the last
    /// saved progress), or with replicas its record if nobody saved it
    /// since it was read (an error otherwise: another runner has it).
    pub async fn save(&self, job: &mut Job) -> Result<(), ActionError> {
        if let Some(shared) = self.shared.get() {
            let record = Job {
                keys: Vec::new(),
                ..job.clone()
            };
            let bytes =
                serde_json::to_vec(&record).map_err(|e| ActionError::Bulk(e.to_string()))?;
            return match shared
                .put(job.id.clone(), bytes, job.revision)
                .await
                .map_err(shared_err)?
            {
                Some(revision) => {
                    job.revision = revision;
                    Ok(())
                }
                None => Err(ActionError::Bulk(format!(
                    "bulk change {} was saved meanwhile by another replica",
                    job.id
                ))),
            };
        }
        let (this, copy) = (self.clone(), job.clone());
        tokio::task::spawn_blocking(move || this.save_file(&copy))
            .await
            .map_err(|e| ActionError::Bulk(e.to_string()))?
    }

    fn save_file(&self, job: &Job) -> Result<(), ActionError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let path = self
            .path(&job.id)
            .ok_or_else(|| ActionError::Bulk("bad job id".into()))?;
        let bytes = serde_json::to_vec(job).map_err(|e| io(&path, e))?;
        write_private(&path, &bytes).map_err(|e| io(&path, e))
    }

    /// Jobs that are running (or, in one process, were running when it
    /// stopped).
    pub async fn unfinished(&self) -> Vec<String> {
        if let Some(shared) = self.shared.get() {
            let ids = match shared.keys().await {
                Ok(k) => k,
                Err(e) => {
                    tracing::warn!(error = %e, "the replicas' bulk jobs cannot be listed");
                    return Vec::new();
                }
            };
            let mut running = Vec::new();
            for id in ids.into_iter().filter(|k| !k.contains('.')) {
                if self.lock_done().contains(&id) {
                    continue;
                }
                match self.record(&id).await {
                    Ok(Some(job)) if job.state == JobState::Running => running.push(id),
                    Ok(Some(job)) if job.state == JobState::Done => {
                        self.lock_done().insert(id);
                    }
                    _ => {}
                }
            }
            return running;
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.unfinished_files())
            .await
            .unwrap_or_default()
    }

    fn lock_done(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn unfinished_files(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let id = name.strip_suffix(".json")?.to_string();
                let job = self.get_file(&id).ok()??;
                (job.state == JobState::Running).then_some(id)
            })
            .collect()
    }

    /// Confirms a prepared (or resumes a paused) job; `count` must be the
    /// count staff saw. Returns the job, now running, and whether this
    /// call started it: prepared (or paused) to running is a
    /// compare-and-set (under the jobs' lock, or on the record's revision
    /// with replicas), so of two confirmations at once (a double click)
    /// one starts the runner and the other is shown the running job.
    pub async fn confirm(
        &self,
        id: &str,
        count: usize,
        by: &str,
    ) -> Result<(Job, bool), ActionError> {
        if self.shared.get().is_none() {
            let (this, id, by) = (self.clone(), id.to_string(), by.to_string());
            return tokio::task::spawn_blocking(move || this.confirm_file(&id, count, &by))
                .await
                .map_err(|e| ActionError::Bulk(e.to_string()))?;
        }
        for _ in 0..8 {
            let mut job = self
                .get(id)
                .await?
                .ok_or_else(|| ActionError::Bulk("no such bulk change".into()))?;
            if !Self::to_running(&mut job, count, by)? {
                return Ok((job, false));
            }
            match self.save(&mut job).await {
                Ok(()) => return Ok((job, true)),
                // Confirmed (or saved) elsewhere meanwhile: look again.
                Err(e) => tracing::debug!(error = %e, "bulk confirmation raced; again"),
            }
        }
        Err(ActionError::Bulk(format!(
            "bulk change {id} keeps changing"
        )))
    }

    /// Moves `job` to running; false when it already runs or is done.
    fn to_running(job: &mut Job, count: usize, by: &str) -> Result<bool, ActionError> {
        match job.state {
            JobState::Prepared if count != job.keys.len() => {
                return Err(ActionError::Bulk(format!(
                    "the count confirmed ({count}) is not the job's ({})",
                    job.keys.len()
                )));
            }
            JobState::Prepared => {
                // One instant for the whole job: applying a batch again
                // adds nothing (see the module docs).
                job.change.at = Utc::now();
                job.change.by = format!("{by} (bulk {})", job.id);
            }
            JobState::Paused => job.error = None,
            JobState::Running | JobState::Done => return Ok(false),
        }
        job.state = JobState::Running;
        Ok(true)
    }

    fn confirm_file(&self, id: &str, count: usize, by: &str) -> Result<(Job, bool), ActionError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let lock = self.dir.join(".lock");
        let _guard = crate::files::FileLock::acquire(&lock).map_err(|e| io(&lock, e))?;
        let mut job = self
            .get_file(id)?
            .ok_or_else(|| ActionError::Bulk("no such bulk change".into()))?;
        if !Self::to_running(&mut job, count, by)? {
            return Ok((job, false));
        }
        self.save_file(&job)?;
        Ok((job, true))
    }
}

/// Applies a running job to the end, batch by batch, saving progress.
/// Stops (paused, with the reason) at the first store error, and (as it
/// is, still running, for the next holder of the jobs lease) as soon as
/// `keep_going` says no. The runner first counts itself in the job's
/// record; with replicas that save is the runner's claim: of two runners
/// at once, one saves first and the other stops.
pub async fn run(
    store: &Store,
    shopify: &Apis,
    audit: &AuditLog,
    jobs: &Jobs,
    id: &str,
    keep_going: &(dyn Fn() -> bool + Send + Sync),
) -> Result<Job, ActionError> {
    let mut job = jobs
        .get(id)
        .await?
        .ok_or_else(|| ActionError::Bulk("no such bulk change".into()))?;
    if job.state != JobState::Running || !keep_going() {
        return Ok(job);
    }
    job.runs += 1;
    jobs.save(&mut job).await?;
    let (action, detail) = if job.runs == 1 {
        (
            "bulk.start",
            format!(
                "{} orders: {} ({})",
                job.keys.len(),
                job.change.status.as_deref().unwrap_or("clear"),
                job.search
            ),
        )
    } else {
        (
            "bulk.resume",
            format!("from order {} of {}", job.done + 1, job.keys.len()),
        )
    };
    audit
        .append(vec![AuditEntry::new(&job.change.by, action, None, detail)])
        .await?;
    while job.done < job.keys.len() {
        let batch: Vec<String> =
            job.keys[job.done..(job.done + BATCH).min(job.keys.len())].to_vec();
        let mut changes = Vec::new();
        let mut logged = Vec::new();
        let (mut missing, mut refused, mut unchanged) = (Vec::new(), Vec::new(), 0);
        for key in &batch {
            if !keep_going() {
                // Nothing of this batch is saved: the next runner does it
                // again, which changes nothing twice (see the module docs).
                return Ok(job);
            }
            let order = match store.get(key) {
                Ok(Some(o)) => o,
                Ok(None) => {
                    missing.push(key.clone());
                    continue;
                }
                Err(e) => return pause(jobs, job, e.to_string()).await,
            };
            // Already has this very change (a batch applied before a
            // restart): not changed, written or logged again.
            if order.status_history.contains(&job.change) {
                unchanged += 1;
                continue;
            }
            if let Some(api) = shopify.get(&order.shop).filter(|a| a.shop().write_back) {
                let status = job.change.status.as_deref();
                if let Err(e) =
                    super::write_back::write_status(api, order.id, &order.tags, status).await
                {
                    refused.push(format!("{key}: {e}"));
                    continue;
                }
            }
            changes.push(Change::Status {
                key: key.clone(),
                change: job.change.clone(),
            });
            logged.push(key.clone());
        }
        match store.apply(changes).await {
            Ok(report) => {
                job.changed += report.applied;
                job.unchanged += unchanged + report.unchanged + report.stale;
                job.missing.extend(missing);
                job.refused.extend(refused);
                let lines = logged
                    .iter()
                    .map(|k| AuditEntry::status(k, &job.change))
                    .collect();
                audit.append(lines).await?;
                job.done += batch.len();
            }
            Err(e) => return pause(jobs, job, e.to_string()).await,
        }
        if job.done == job.keys.len() {
            job.state = JobState::Done;
            job.finished_at = Some(Utc::now());
        }
        jobs.save(&mut job).await?;
    }
    Ok(job)
}

/// Stops a job at a store error, resumable.
async fn pause(jobs: &Jobs, mut job: Job, error: String) -> Result<Job, ActionError> {
    job.state = JobState::Paused;
    job.error = Some(error);
    jobs.save(&mut job).await?;
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> StatusChange {
        StatusChange {
            at: Utc::now(),
            status: Some("qc".into()),
            position: 1,
            note: None,
            by: "staff:anna".into(),
        }
    }

    #[tokio::test]
    async fn a_job_is_confirmed_only_with_its_count_and_survives_a_reload() {
        let dir = tempfile::tempdir().expect("dir");
        let jobs = Jobs::new(dir.path());
        assert!(
            jobs.prepare("staff:anna", change(), "q".into(), Vec::new())
                .await
                .is_err(),
            "an empty set is refused"
        );
        let job = jobs
            .prepare(
                "staff:anna",
                change(),
                "q".into(),
                vec!["s/1".into(), "s/2".into()],
            )
            .await
            .expect("prepare");
        assert!(jobs.confirm(&job.id, 3, "staff:anna").await.is_err());
        assert_eq!(
            jobs.get(&job.id).await.expect("read").map(|j| j.state),
            Some(JobState::Prepared)
        );
        let (running, started) = jobs
            .confirm(&job.id, 2, "staff:anna")
            .await
            .expect("confirm");
        assert_eq!(running.state, JobState::Running);
        assert!(started);
        assert_eq!(jobs.unfinished().await, vec![job.id.clone()]);
        let reloaded = Jobs::new(dir.path()).get(&job.id).await.expect("read");
        assert_eq!(reloaded.map(|j| j.keys.len()), Some(2));
        assert!(
            jobs.get("../../etc/passwd")
                .await
                .expect("refused")
                .is_none()
        );
    }

    #[tokio::test]
    async fn of_confirmations_at_once_one_starts_the_job() {
        let dir = tempfile::tempdir().expect("tempdir");
        let jobs = Jobs::new(dir.path());
        let job = jobs
            .prepare("staff:anna", change(), "q".into(), vec!["s/1".into()])
            .await
            .expect("prepare");
        let started: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        jobs.confirm_file(&job.id, 1, "staff:anna")
                            .expect("confirm")
                            .1
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().expect("thread")))
                .sum()
        });
        assert_eq!(started, 1, "one runner, not one per click");
    }

    /// The cluster's store as NATS' key-value bucket behaves: a revision
    /// per key, create only when missing, update only from the latest.
    #[derive(Default)]
    struct Memory(
        std::sync::Mutex<std::collections::BTreeMap<String, (Vec<u8>, u64)>>,
        std::sync::atomic::AtomicUsize,
    );

    impl SharedJobs for Memory {
        fn get(&self, key: String) -> BoxFuture<'static, Result<Revisioned, String>> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let v = self.0.lock().expect("lock").get(&key).cloned();
            Box::pin(async move { Ok(v) })
        }
        fn put(
            &self,
            key: String,
            value: Vec<u8>,
            revision: u64,
        ) -> BoxFuture<'static, Result<Option<u64>, String>> {
            let mut map = self.0.lock().expect("lock");
            let now = map.get(&key).map_or(0, |(_, r)| *r);
            let out = (now == revision).then(|| {
                map.insert(key, (value, now + 1));
                now + 1
            });
            Box::pin(async move { Ok(out) })
        }
        fn keys(&self) -> BoxFuture<'static, Result<Vec<String>, String>> {
            let keys = self.0.lock().expect("lock").keys().cloned().collect();
            Box::pin(async move { Ok(keys) })
        }
        fn refused(&self, _: &str, _: &str) {}
    }

    #[tokio::test]
    async fn shared_jobs_keep_their_orders_in_parts_and_save_by_revision() {
        let dir = tempfile::tempdir().expect("dir");
        let memory = Arc::new(Memory::default());
        let jobs = Jobs::new(dir.path());
        jobs.set_shared(memory.clone());
        let keys: Vec<String> = (0..30_000u64)
            .map(|i| format!("shop.example/{}", 5_000_000_000 + i))
            .collect();
        let job = jobs
            .prepare("staff:anna", change(), "q".into(), keys.clone())
            .await
            .expect("prepare");
        let parts = memory
            .0
            .lock()
            .expect("lock")
            .iter()
            .filter(|(k, _)| k.contains(".keys."))
            .inspect(|(_, (v, _))| assert!(v.len() <= KEYS_PART))
            .count();
        assert!(parts >= 3, "{parts} parts");
        assert!(!dir.path().join("bulk").exists(), "no files with replicas");
        let other_replica = Jobs::new(dir.path());
        other_replica.set_shared(memory.clone());
        let read = other_replica
            .get(&job.id)
            .await
            .expect("read")
            .expect("job");
        assert_eq!(read.keys, keys, "every order, in order");
        // Two confirmations at once (two replicas): one starts it.
        let (a, b) = tokio::join!(
            jobs.confirm(&job.id, keys.len(), "staff:anna"),
            other_replica.confirm(&job.id, keys.len(), "staff:ben"),
        );
        let started = [a.expect("a").1, b.expect("b").1];
        assert_eq!(started.iter().filter(|s| **s).count(), 1, "{started:?}");
        assert_eq!(other_replica.unfinished().await, vec![job.id.clone()]);
        // A runner holding an old read cannot save over a newer one.
        let mut stale = other_replica
            .get(&job.id)
            .await
            .expect("read")
            .expect("job");
        let mut fresh = jobs.get(&job.id).await.expect("read").expect("job");
        fresh.done = 500;
        jobs.save(&mut fresh).await.expect("saved");
        stale.done = 1000;
        assert!(other_replica.save(&mut stale).await.is_err());
        assert_eq!(
            jobs.get(&job.id).await.expect("read").map(|j| j.done),
            Some(500)
        );
        // A done job is no longer read by the holder's look each second.
        let mut done = jobs.get(&job.id).await.expect("read").expect("job");
        done.state = JobState::Done;
        jobs.save(&mut done).await.expect("saved");
        assert!(jobs.unfinished().await.is_empty());
        let reads = memory.1.load(std::sync::atomic::Ordering::Relaxed);
        assert!(jobs.unfinished().await.is_empty());
        assert_eq!(memory.1.load(std::sync::atomic::Ordering::Relaxed), reads);
    }
}
