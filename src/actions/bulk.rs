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

use chrono::{DateTime, Utc};
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
}

/// The job files.
#[derive(Debug, Clone)]
pub struct Jobs {
    dir: PathBuf,
}

fn io(path: &Path, e: impl std::fmt::Display) -> ActionError {
    ActionError::Bulk(format!("{}: {e}", path.display()))
}

impl Jobs {
    pub fn new(data_dir: &Path) -> Jobs {
        Jobs {
            dir: data_dir.join("bulk"),
        }
    }

    fn path(&self, id: &str) -> Option<PathBuf> {
        let ok = !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| self.dir.join(format!("{id}.json")))
    }

    /// Makes a prepared job for `keys`.
    pub fn prepare(
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
        let job = Job {
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
        };
        self.save(&job)?;
        Ok(job)
    }

    /// The job `id`, if there is one.
    pub fn get(&self, id: &str) -> Result<Option<Job>, ActionError> {
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

    /// Saves `job` (atomically: a crash leaves the last saved progress).
    pub fn save(&self, job: &Job) -> Result<(), ActionError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let path = self
            .path(&job.id)
            .ok_or_else(|| ActionError::Bulk("bad job id".into()))?;
        let bytes = serde_json::to_vec(job).map_err(|e| io(&path, e))?;
        write_private(&path, &bytes).map_err(|e| io(&path, e))
    }

    /// Jobs that were running when the process stopped.
    pub fn unfinished(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let id = name.strip_suffix(".json")?.to_string();
                let job = self.get(&id).ok()??;
                (job.state == JobState::Running).then_some(id)
            })
            .collect()
    }

    /// Confirms a prepared (or resumes a paused) job; `count` must be the
    /// count staff saw. Returns the job, now running, and whether this
    /// call started it: prepared (or paused) to running is a
    /// compare-and-set under the jobs' lock, so of two confirmations at
    /// once (a double click) one starts the runner and the other is shown
    /// the running job.
    pub fn confirm(&self, id: &str, count: usize, by: &str) -> Result<(Job, bool), ActionError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let lock = self.dir.join(".lock");
        let _guard = crate::files::FileLock::acquire(&lock).map_err(|e| io(&lock, e))?;
        let mut job = self
            .get(id)?
            .ok_or_else(|| ActionError::Bulk("no such bulk change".into()))?;
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
            JobState::Running | JobState::Done => return Ok((job, false)),
        }
        job.state = JobState::Running;
        self.save(&job)?;
        Ok((job, true))
    }
}

/// Applies a running job to the end, batch by batch, saving progress.
/// Stops (paused, with the reason) at the first store error.
pub async fn run(
    store: &Store,
    shopify: &Apis,
    audit: &AuditLog,
    jobs: &Jobs,
    id: &str,
) -> Result<Job, ActionError> {
    let mut job = jobs
        .get(id)?
        .ok_or_else(|| ActionError::Bulk("no such bulk change".into()))?;
    if job.state != JobState::Running {
        return Ok(job);
    }
    if job.done == 0 {
        audit
            .append(vec![AuditEntry::new(
                &job.change.by,
                "bulk.start",
                None,
                format!(
                    "{} orders: {} ({})",
                    job.keys.len(),
                    job.change.status.as_deref().unwrap_or("clear"),
                    job.search
                ),
            )])
            .await?;
    }
    while job.done < job.keys.len() {
        let batch: Vec<String> =
            job.keys[job.done..(job.done + BATCH).min(job.keys.len())].to_vec();
        let mut changes = Vec::new();
        let mut logged = Vec::new();
        for key in &batch {
            let order = match store.get(key) {
                Ok(Some(o)) => o,
                Ok(None) => {
                    job.missing.push(key.clone());
                    continue;
                }
                Err(e) => return pause(jobs, job, e.to_string()),
            };
            // Already has this very change (a batch applied before a
            // restart): not changed, written or logged again.
            if order.status_history.contains(&job.change) {
                job.unchanged += 1;
                continue;
            }
            if let Some(api) = shopify.get(&order.shop).filter(|a| a.shop().write_back) {
                let status = job.change.status.as_deref();
                if let Err(e) =
                    super::write_back::write_status(api, order.id, &order.tags, status).await
                {
                    job.refused.push(format!("{key}: {e}"));
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
                job.unchanged += report.unchanged + report.stale;
                let lines = logged
                    .iter()
                    .map(|k| AuditEntry::status(k, &job.change))
                    .collect();
                audit.append(lines).await?;
                job.done += batch.len();
            }
            Err(e) => return pause(jobs, job, e.to_string()),
        }
        if job.done == job.keys.len() {
            job.state = JobState::Done;
            job.finished_at = Some(Utc::now());
        }
        jobs.save(&job)?;
    }
    Ok(job)
}

/// Stops a job at a store error, resumable.
fn pause(jobs: &Jobs, mut job: Job, error: String) -> Result<Job, ActionError> {
    job.state = JobState::Paused;
    job.error = Some(error);
    jobs.save(&job)?;
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

    #[test]
    fn a_job_is_confirmed_only_with_its_count_and_survives_a_reload() {
        let dir = tempfile::tempdir().expect("dir");
        let jobs = Jobs::new(dir.path());
        assert!(
            jobs.prepare("staff:anna", change(), "q".into(), Vec::new())
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
            .expect("prepare");
        assert!(jobs.confirm(&job.id, 3, "staff:anna").is_err());
        assert_eq!(
            jobs.get(&job.id).expect("read").map(|j| j.state),
            Some(JobState::Prepared)
        );
        let (running, started) = jobs.confirm(&job.id, 2, "staff:anna").expect("confirm");
        assert_eq!(running.state, JobState::Running);
        assert!(started);
        assert_eq!(jobs.unfinished(), vec![job.id.clone()]);
        assert!(jobs.get("../../etc/passwd").expect("refused").is_none());
    }

    #[test]
    fn of_confirmations_at_once_one_starts_the_job() {
        let dir = tempfile::tempdir().expect("tempdir");
        let jobs = Jobs::new(dir.path());
        let job = jobs
            .prepare("staff:anna", change(), "q".into(), vec!["s/1".into()])
            .expect("prepare");
        let started: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| jobs.confirm(&job.id, 1, "staff:anna").expect("confirm").1))
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().expect("thread")))
                .sum()
        });
        assert_eq!(started, 1, "one runner, not one per click");
    }
}
