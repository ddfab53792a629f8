//! Addresses that asked for no more order emails at all ("stop all emails
//! to this address" on the unsubscribe page). Kept as SHA-256 digests of
//! the normalised address, one a line, in `<data dir>/mail/opted-out`,
//! appended and fsynced before the opt-out is confirmed to the shopper.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use sha2::{Digest, Sha256};

use super::NotifyError;
use crate::order::normalize_email;

/// The opted-out addresses.
#[derive(Debug)]
pub struct OptOuts {
    path: PathBuf,
    digests: RwLock<HashSet<String>>,
    write: Mutex<()>,
}

fn digest(email: &str) -> String {
    let d = Sha256::digest(normalize_email(email).as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
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

    /// Records an address's opt-out; returns once it is on disk.
    pub fn add(&self, email: &str) -> std::io::Result<()> {
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
        o.add(" anna@example.se ").expect("add");
        assert!(o.contains("ANNA@example.SE"));
        assert!(!o.contains("bo@example.se"));
        assert!(!o.contains(""));
        let again = OptOuts::open(dir.path()).expect("reopen");
        assert!(again.contains("anna@example.se"));
        let text = std::fs::read_to_string(dir.path().join("mail/opted-out")).expect("file");
        assert!(!text.contains("anna"), "only digests are kept");
    }
}
