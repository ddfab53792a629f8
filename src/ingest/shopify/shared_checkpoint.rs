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
/// The checkpoint's key; the parcels it counts are `parcels.<n>` beside it.
const RECORD: &str = "checkpoint";

/// The checkpoint this replica last copied to (or from) the cluster, so
/// that a copy sends only what changed. The parcel list's length follows
/// from it (the checkpoint counts the parcels the file holds).
#[derive(Debug, Default)]
pub struct Copied(Option<Checkpoint>);

fn parcel_bytes(cp: Option<&Checkpoint>) -> u64 {
    cp.map_or(0, |cp| cp.parcels.saturating_mul(PARCEL_BYTES))
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
    let checkpoint: Checkpoint = match serde_json::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => {
            shared.refused(
                shop,
                RECORD,
                &format!("not a sync checkpoint ({e}); this replica's own is used"),
            );
            return Ok(Copied::default());
        }
    };
    let wanted = parcel_bytes(Some(&checkpoint));
    let mut parcels = Vec::new();
    for n in 0..wanted.div_ceil(PART) {
        let part = shared
            .get(shop, &part_name(n))
            .await
            .map_err(|e| err(shop, e))?
            .unwrap_or_default();
        parcels.extend_from_slice(&part);
    }
    if (parcels.len() as u64) < wanted {
        shared.refused(
            shop,
            RECORD,
            "its parcel list is short; this replica's own is used",
        );
        return Ok(Copied::default());
    }
    parcels.truncate(usize::try_from(wanted).unwrap_or(usize::MAX));
    let (dir, shop_owned, copy) = (data_dir.to_path_buf(), shop.to_string(), checkpoint.clone());
    tokio::task::spawn_blocking(move || -> Result<(), SyncError> {
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
        let bytes = serde_json::to_vec_pretty(&copy).map_err(|e| err(&shop_owned, e))?;
        crate::files::write_private(&checkpoint_path(&dir, &shop_owned), &bytes).map_err(io)
    })
    .await
    .map_err(|e| err(shop, e))??;
    Ok(Copied(Some(checkpoint)))
}

/// Copies the data dir's checkpoint of `shop` to the cluster, if it
/// changed since `copied`: the parcel list's new parts first (read from
/// the file only then, and only from the first part that changed), then
/// the checkpoint that counts them, so a reader never sees a checkpoint
/// without its parts.
pub async fn copy_up(
    shared: &dyn SharedCheckpoints,
    data_dir: &Path,
    shop: &str,
    copied: &mut Copied,
) -> Result<(), SyncError> {
    let (dir, shop_owned) = (data_dir.to_path_buf(), shop.to_string());
    let Some(checkpoint) = tokio::task::spawn_blocking(move || {
        match std::fs::read(checkpoint_path(&dir, &shop_owned)) {
            Ok(b) => serde_json::from_slice::<Checkpoint>(&b)
                .map(Some)
                .map_err(|e| err(&shop_owned, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(err(&shop_owned, e)),
        }
    })
    .await
    .map_err(|e| err(shop, e))??
    else {
        return Ok(());
    };
    if copied.0.as_ref() == Some(&checkpoint) {
        return Ok(());
    }
    let (had, bytes) = (
        parcel_bytes(copied.0.as_ref()),
        parcel_bytes(Some(&checkpoint)),
    );
    // The list only grows during a run (and is emptied at its end): the
    // parts already copied stay as they are.
    let from = if bytes >= had { had / PART * PART } else { 0 };
    if bytes > from {
        let (dir, shop_owned) = (data_dir.to_path_buf(), shop.to_string());
        let tail = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            use std::io::{Read, Seek, SeekFrom};
            let mut file = std::fs::File::open(parcels_path(&dir, &shop_owned))?;
            file.seek(SeekFrom::Start(from))?;
            let mut tail = vec![0u8; usize::try_from(bytes - from).unwrap_or(0)];
            file.read_exact(&mut tail)?;
            Ok(tail)
        })
        .await
        .map_err(|e| err(shop, e))?
        .map_err(|e| err(shop, e))?;
        for (k, chunk) in tail.chunks(PART as usize).enumerate() {
            shared
                .put(shop, &part_name(from / PART + k as u64), chunk.to_vec())
                .await
                .map_err(|e| err(shop, e))?;
        }
    }
    let record = serde_json::to_vec(&checkpoint).map_err(|e| err(shop, e))?;
    shared
        .put(shop, RECORD, record)
        .await
        .map_err(|e| err(shop, e))?;
    *copied = Copied(Some(checkpoint));
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
