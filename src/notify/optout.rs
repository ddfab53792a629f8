//! Addresses that asked for no more order emails at all ("stop all emails
//! to this address" on the unsubscribe page). Kept as SHA-256 digests of
//! the normalised address, one a line, in `<data dir>/mail/opted-out`,
//! appended and fsynced before the opt-out is confirmed to the shopper.
//!
//! With replicas, the digests are kept where every replica sees them
//! ([`SharedOptOuts`], a JetStream key-value bucket): an opt-out is stored
//! there first, and every replica's set follows the bucket.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use futures_util::future::BoxFuture;

use sha2::{Digest, Sha256};

use super::NotifyError;
use crate::order::normalize_email;

/// Opt-outs kept where every replica sees them.
pub trait SharedOptOuts: Send + Sync + 'static {
    /// Stores an address digest; resolves once it is stored.
    fn add(&self, digest: String) -> BoxFuture<'static, std::io::Result<()>>;
}

impl std::fmt::Debug for dyn SharedOptOuts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedOptOuts")
    }
}

/// The opted-out addresses.
#[derive(Debug)]
pub struct OptOuts {
    path: PathBuf,
    digests: RwLock<HashSet<String>>,
    write: Mutex<()>,
    shared: OnceLock<Arc<dyn SharedOptOuts>>,
}

fn digest(email: &str) -> String {
    let d = Sha256::digest(normalize_email(email).as_bytes());
    hex::encode(d)
}

impl OptOuts {
    /// Loads `<data_dir>/mail/opted-out` (absent: nobody opted out).
    pub fn open(data_dir: &Path) -> Result<OptOuts, NotifyError> {
        let path = data_dir.join("mail").join("opted-out");
        let digests = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .map(str::trim)
                .filter(|l| l.len() == 64)
                .map(String::from)
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
            Err(e) => {
                return Err(NotifyError::Files {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        Ok(OptOuts {
            path,
            digests: RwLock::new(digests),
            write: Mutex::new(()),
            shared: OnceLock::new(),
        })
    }

    /// Whether this address opted out of every order email.
    pub fn contains(&self, email: &str) -> bool {
        if email.trim().is_empty() {
            return false;
        }
        self.digests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&digest(email))
    }

    /// Keeps the opt-outs where every replica sees them from now on (the
    /// first call counts); the set then follows [`OptOuts::observe`].
    pub fn set_shared(&self, shared: Arc<dyn SharedOptOuts>) {
        let _ = self.shared.set(shared);
    }

    /// A digest read from the shared store (a well-formed one only);
    /// whether it was one.
    pub fn observe(&self, digest: &str) -> bool {
        let ok = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
        if ok {
            self.digests
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(digest.to_string());
        }
        ok
    }

    /// Records an address's opt-out; returns once it is stored (on disk,
    /// or in the shared store).
    pub async fn add(&self, email: &str) -> std::io::Result<()> {
        if let Some(shared) = self.shared.get() {
            let d = digest(email);
            shared.add(d.clone()).await?;
            self.observe(&d);
            return Ok(());
        }
        self.add_local(email)
    }

    fn add_local(&self, email: &str) -> std::io::Result<()> {
        let d = digest(email);
        let _writing = self.write.lock().unwrap_or_else(|p| p.into_inner());
        if self.contains(email) {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        writeln!(f, "{d}")?;
        f.sync_data()?;
        self.digests
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(d);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opt_out_holds_for_every_spelling_and_survives_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let o = OptOuts::open(dir.path()).expect("open");
        assert!(!o.contains("Anna@Example.se"));
        o.add_local(" anna@example.se ").expect("add");
        assert!(o.contains("ANNA@example.SE"));
        assert!(!o.contains("bo@example.se"));
        assert!(!o.contains(""));
        let again = OptOuts::open(dir.path()).expect("reopen");
        assert!(again.contains("anna@example.se"));
        let text = std::fs::read_to_string(dir.path().join("mail/opted-out")).expect("file");
        assert!(!text.contains("anna"), "only digests are kept");
    }
}
