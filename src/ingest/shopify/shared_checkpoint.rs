//! With replicas, one sync checkpoint for the cluster: the holder of the
//! jobs lease copies the cluster's checkpoint of a shop (and its list of
//! parcels still to read) into its data dir before a run, and copies its
//! progress back while the run goes on and when it ends. The next holder
//! (the first one died, or lost the lease) goes on from there instead of
//! reading the shop again from the start: a bulk operation under way is
//! waited for, not started twice, and paging resumes from the cursor.
//!
//! The run itself keeps working on the data dir's files ([`super::sync`]):
//! copying is around it, so the sync has one way to save. What a holder
//! did after its last copy is done again by the next, which changes
//! nothing twice (every import is idempotent).

use std::path::Path;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::sync::{Checkpoint, PARCEL_BYTES, SyncError, checkpoint_path, parcels_path};

/// The cluster's store of checkpoints (a key-value bucket only the jobs
/// lease holder writes).
pub trait SharedCheckpoints: Send + Sync {
    /// The value `name` of `shop`.
    fn get(&self, shop: &str, name: &str) -> BoxFuture<'static, Result<Option<Vec<u8>>, String>>;
    /// Stores the value `name` of `shop`.
    fn put(&self, shop: &str, name: &str, value: Vec<u8>)
    -> BoxFuture<'static, Result<(), String>>;
    /// A value this site did not write: logged with its key and counted.
    fn refused(&self, shop: &str, name: &str, why: &str);
}

/// Bytes of the parcel list in one stored part (a NATS message is at most
/// 1 MB; the list of a large shop is megabytes).
const PART: u64 = 256 * 1024;
const RECORD: &str = "checkpoint";

/// The cluster's record of a shop: its checkpoint and how many bytes of
/// parcel list go with it (stored apart, in parts).
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    checkpoint: Checkpoint,
    parcel_bytes: u64,
}

/// What this replica last copied to (or from) the cluster, so that a copy
/// sends only what changed.
#[derive(Debug, Default)]
pub struct Copied {
    checkpoint: Option<Checkpoint>,
    parcel_bytes: u64,
}

fn err(shop: &str, reason: impl std::fmt::Display) -> SyncError {
    SyncError::Checkpoint {
        path: format!("the replicas' checkpoint of {shop}").into(),
        reason: reason.to_string(),
    }
}

fn part_name(n: u64) -> String {
    format!("parcels.{n}")
}

/// Puts the cluster's checkpoint of `shop` in the data dir. With none yet
/// (the first run of the cluster), or an unreadable one (refused and
/// counted), the data dir's own is kept and copied up by the next
/// [`copy_up`].
pub async fn copy_down(
    shared: &dyn SharedCheckpoints,
    data_dir: &Path,
    shop: &str,
) -> Result<Copied, SyncError> {
    let Some(bytes) = shared.get(shop, RECORD).await.map_err(|e| err(shop, e))? else {
        return Ok(Copied::default());
    };
    let record: Record = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            shared.refused(
                shop,
                RECORD,
                &format!("not a sync checkpoint ({e}); this replica's own is used"),
            );
            return Ok(Copied::default());
        }
    };
    let mut parcels = Vec::with_capacity(usize::try_from(record.parcel_bytes).unwrap_or(0));
    for n in 0..record.parcel_bytes.div_ceil(PART) {
        let part = shared
            .get(shop, &part_name(n))
            .await
            .map_err(|e| err(shop, e))?
            .unwrap_or_default();
        parcels.extend_from_slice(&part);
    }
    if (parcels.len() as u64) < record.parcel_bytes {
        shared.refused(
            shop,
            RECORD,
            "its parcel list is short; this replica's own is used",
        );
        return Ok(Copied::default());
    }
    parcels.truncate(usize::try_from(record.parcel_bytes).unwrap_or(0));
    let (dir, shop_owned, checkpoint) =
        (data_dir.to_path_buf(), shop.to_string(), record.checkpoint);
    let copied = tokio::task::spawn_blocking(move || -> Result<Copied, SyncError> {
        let parcel_file = parcels_path(&dir, &shop_owned);
        let io = |e: std::io::Error| err(&shop_owned, e);
        if let Some(parent) = parcel_file.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        if parcels.is_empty() {
            match std::fs::remove_file(&parcel_file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        } else {
            crate::files::write_private(&parcel_file, &parcels).map_err(io)?;
        }
        let bytes = serde_json::to_vec_pretty(&checkpoint).map_err(|e| err(&shop_owned, e))?;
        crate::files::write_private(&checkpoint_path(&dir, &shop_owned), &bytes).map_err(io)?;
        Ok(Copied {
            checkpoint: Some(checkpoint),
            parcel_bytes: parcels.len() as u64,
        })
    })
    .await
    .map_err(|e| err(shop, e))??;
    Ok(copied)
}

/// Copies the data dir's checkpoint of `shop` to the cluster, if it
/// changed since `copied`: the parcel list's new parts first, then the
/// record that counts them (a reader never sees a record without its
/// parts).
pub async fn copy_up(
    shared: &dyn SharedCheckpoints,
    data_dir: &Path,
    shop: &str,
    copied: &mut Copied,
) -> Result<(), SyncError> {
    let (dir, shop_owned) = (data_dir.to_path_buf(), shop.to_string());
    let local = tokio::task::spawn_blocking(
        move || -> Result<Option<(Checkpoint, Vec<u8>)>, SyncError> {
            let checkpoint = match std::fs::read(checkpoint_path(&dir, &shop_owned)) {
                Ok(b) => {
                    serde_json::from_slice::<Checkpoint>(&b).map_err(|e| err(&shop_owned, e))?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(err(&shop_owned, e)),
            };
            // Only what the checkpoint counts: beyond it the file may hold a
            // record being written.
            let counted = usize::try_from(checkpoint.parcels.saturating_mul(PARCEL_BYTES))
                .unwrap_or(usize::MAX);
            let mut parcels = match std::fs::read(parcels_path(&dir, &shop_owned)) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(err(&shop_owned, e)),
            };
            parcels.truncate(counted);
            Ok(Some((checkpoint, parcels)))
        },
    )
    .await
    .map_err(|e| err(shop, e))??;
    let Some((checkpoint, parcels)) = local else {
        return Ok(());
    };
    let bytes = parcels.len() as u64;
    if copied.checkpoint.as_ref() == Some(&checkpoint) && copied.parcel_bytes == bytes {
        return Ok(());
    }
    // The list only grows during a run (and is emptied at its end): the
    // parts already copied stay as they are.
    let from = if bytes >= copied.parcel_bytes {
        copied.parcel_bytes / PART
    } else {
        0
    };
    for n in from..bytes.div_ceil(PART) {
        let start = usize::try_from(n * PART).unwrap_or(usize::MAX);
        let end = usize::try_from(((n + 1) * PART).min(bytes)).unwrap_or(usize::MAX);
        shared
            .put(shop, &part_name(n), parcels[start..end].to_vec())
            .await
            .map_err(|e| err(shop, e))?;
    }
    let record = serde_json::to_vec(&Record {
        checkpoint: checkpoint.clone(),
        parcel_bytes: bytes,
    })
    .map_err(|e| err(shop, e))?;
    shared
        .put(shop, RECORD, record)
        .await
        .map_err(|e| err(shop, e))?;
    *copied = Copied {
        checkpoint: Some(checkpoint),
        parcel_bytes: bytes,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Memory {
        values: Mutex<BTreeMap<String, Vec<u8>>>,
        puts: Mutex<Vec<String>>,
    }

    impl SharedCheckpoints for Memory {
        fn get(
            &self,
            shop: &str,
            name: &str,
        ) -> BoxFuture<'static, Result<Option<Vec<u8>>, String>> {
            let v = self
                .values
                .lock()
                .expect("lock")
                .get(&format!("{shop}.{name}"))
                .cloned();
            Box::pin(async move { Ok(v) })
        }
        fn put(
            &self,
            shop: &str,
            name: &str,
            value: Vec<u8>,
        ) -> BoxFuture<'static, Result<(), String>> {
            let key = format!("{shop}.{name}");
            self.puts.lock().expect("lock").push(key.clone());
            self.values.lock().expect("lock").insert(key, value);
            Box::pin(async { Ok(()) })
        }
        fn refused(&self, _: &str, _: &str, _: &str) {}
    }

    const SHOP: &str = "a.myshopify.com";

    fn write_local(dir: &Path, parcels: u64, cursor: &str) {
        let cp = Checkpoint {
            cursor: Some(cursor.into()),
            parcels,
            ..Checkpoint::default()
        };
        std::fs::create_dir_all(dir.join("sync")).expect("dir");
        std::fs::write(
            checkpoint_path(dir, SHOP),
            serde_json::to_vec(&cp).expect("json"),
        )
        .expect("checkpoint");
        let bytes: Vec<u8> = (0..parcels * PARCEL_BYTES)
            .map(|i| (i % 251) as u8)
            .collect();
        if parcels == 0 {
            let _ = std::fs::remove_file(parcels_path(dir, SHOP));
        } else {
            std::fs::write(parcels_path(dir, SHOP), bytes).expect("parcels");
        }
    }

    fn read_local(dir: &Path) -> (Checkpoint, Option<Vec<u8>>) {
        let cp = serde_json::from_slice(&std::fs::read(checkpoint_path(dir, SHOP)).expect("cp"))
            .expect("json");
        (cp, std::fs::read(parcels_path(dir, SHOP)).ok())
    }

    #[tokio::test]
    async fn the_next_holder_gets_the_checkpoint_and_the_parcels_and_only_changes_are_sent() {
        let memory = Memory::default();
        let (a, b) = (
            tempfile::tempdir().expect("a"),
            tempfile::tempdir().expect("b"),
        );
        // Nothing shared yet: the data dir's own is kept.
        let mut copied = copy_down(&memory, a.path(), SHOP).await.expect("down");
        // 20,000 parcels: two parts.
        write_local(a.path(), 20_000, "c1");
        copy_up(&memory, a.path(), SHOP, &mut copied)
            .await
            .expect("up");
        let first: Vec<String> = std::mem::take(&mut *memory.puts.lock().expect("lock"));
        assert_eq!(first.len(), 3, "two parts and the record: {first:?}");
        copy_up(&memory, a.path(), SHOP, &mut copied)
            .await
            .expect("up");
        assert!(
            memory.puts.lock().expect("lock").is_empty(),
            "nothing changed, nothing sent"
        );

        copy_down(&memory, b.path(), SHOP).await.expect("down");
        assert_eq!(read_local(b.path()), read_local(a.path()));

        // The list grows: the second part and a third are sent again,
        // not the first.
        write_local(a.path(), 40_000, "c2");
        copy_up(&memory, a.path(), SHOP, &mut copied)
            .await
            .expect("up");
        let puts = std::mem::take(&mut *memory.puts.lock().expect("lock"));
        assert!(!puts.iter().any(|k| k.ends_with("parcels.0")), "{puts:?}");
        copy_down(&memory, b.path(), SHOP).await.expect("down");
        assert_eq!(read_local(b.path()), read_local(a.path()));

        // The run ends: the list is gone everywhere.
        write_local(a.path(), 0, "c3");
        copy_up(&memory, a.path(), SHOP, &mut copied)
            .await
            .expect("up");
        copy_down(&memory, b.path(), SHOP).await.expect("down");
        let (cp, parcels) = read_local(b.path());
        assert_eq!((cp.cursor.as_deref(), parcels), (Some("c3"), None));

        // A record that is not a checkpoint: refused, the data dir's kept.
        memory
            .values
            .lock()
            .expect("lock")
            .insert(format!("{SHOP}.{RECORD}"), b"{ junk".to_vec());
        copy_down(&memory, b.path(), SHOP).await.expect("down");
        assert_eq!(read_local(b.path()).0.cursor.as_deref(), Some("c3"));
    }
}
