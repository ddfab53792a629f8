//! Link epochs: per order, the number that status links must carry at
//! least to be valid. "Revoke links" bumps it, so every link issued before
//! stops working while new ones do. Rarely written, read on every status
//! page: kept in memory and saved to `<data dir>/link-epochs.json`
//! (write to a temp file, fsync, rename) before a bump is acknowledged.
//!
//! With replication on, the epochs are shared by every replica through a
//! [`SharedEpochs`] (a JetStream key-value bucket, `crate::replicate`):
//! a bump is stored there first, and every replica's map follows the
//! bucket, so a revocation made on one holds on all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use futures_util::future::BoxFuture;

use super::StoreError;

/// Epochs kept where every replica sees them.
pub trait SharedEpochs: Send + Sync + 'static {
    /// Raises `key`'s epoch by one where it is shared; resolves with the
    /// new epoch once it is stored there.
    fn bump(&self, key: String) -> BoxFuture<'static, Result<u32, StoreError>>;
}

/// The epochs of every order that ever had its links revoked.
#[derive(Debug)]
pub struct LinkEpochs {
    path: PathBuf,
    map: RwLock<HashMap<String, u32>>,
    // Serialises bumps so two revocations cannot write files out of order.
    write: Mutex<()>,
    shared: OnceLock<Arc<dyn SharedEpochs>>,
}

impl std::fmt::Debug for dyn SharedEpochs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedEpochs")
    }
}

impl LinkEpochs {
    /// Loads `<data_dir>/link-epochs.json` (absent means none revoked).
    pub fn open(data_dir: &Path) -> Result<LinkEpochs, StoreError> {
        let path = data_dir.join("link-epochs.json");
        let map = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Open {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => {
                return Err(StoreError::Open {
                    path,
                    reason: e.to_string(),
                });
            }
        };
        Ok(LinkEpochs {
            path,
            map: RwLock::new(map),
            write: Mutex::new(()),
            shared: OnceLock::new(),
        })
    }

    /// The current epoch of an order (0 if never revoked).
    pub fn get(&self, key: &str) -> u32 {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// Keeps the epochs where every replica sees them from now on (the
    /// first call counts); the map then follows [`LinkEpochs::observe`].
    pub fn set_shared(&self, shared: Arc<dyn SharedEpochs>) {
        let _ = self.shared.set(shared);
    }

    /// An epoch read from the shared store: raises the map's (never lowers
    /// it, so a late, older value cannot bring a revoked link back).
    pub fn observe(&self, key: &str, epoch: u32) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        let e = map.entry(key.to_string()).or_insert(0);
        *e = (*e).max(epoch);
    }

    /// Revokes every link of an order issued so far; returns the new epoch
    /// once it is stored (on disk, or in the shared store).
    pub async fn bump(&self, key: &str) -> Result<u32, StoreError> {
        if let Some(shared) = self.shared.get() {
            let epoch = shared.bump(key.to_string()).await?;
            self.observe(key, epoch);
            return Ok(epoch);
        }
        self.bump_local(key)
    }

    fn bump_local(&self, key: &str) -> Result<u32, StoreError> {
        let _writing = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = self.map.read().unwrap_or_else(|p| p.into_inner()).clone();
        let epoch = next.get(key).copied().unwrap_or(0).saturating_add(1);
        next.insert(key.to_string(), epoch);
        self.save(&next)?;
        *self.map.write().unwrap_or_else(|p| p.into_inner()) = next;
        Ok(epoch)
    }

    fn save(&self, map: &HashMap<String, u32>) -> Result<(), StoreError> {
        let err = |e: std::io::Error| {
            StoreError::Write(super::context(self.path.display().to_string(), e))
        };
        let bytes = serde_json::to_vec(map).map_err(|e| StoreError::Encode(e.into()))?;
        // The epochs are no secret, but the same atomic write serves: a
        // crash leaves the old revocations, never half a file.
        crate::files::write_private(&self.path, &bytes).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_persist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = LinkEpochs::open(dir.path()).expect("open");
        assert_eq!(e.get("s/1"), 0);
        assert_eq!(e.bump_local("s/1").expect("bump"), 1);
        assert_eq!(e.bump_local("s/1").expect("bump"), 2);
        let again = LinkEpochs::open(dir.path()).expect("reopen");
        assert_eq!(again.get("s/1"), 2);
        assert_eq!(again.get("s/2"), 0);
    }
}
