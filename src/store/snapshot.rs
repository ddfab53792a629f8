//! A snapshot of the index as of its last commit, taken while a server
//! writes to it (`order-status snapshot --out DIR`).
//!
//! A commit is a `meta.json` naming segment files that never change once
//! written. The snapshot reads `meta.json`, opens every file it names
//! (memory-mapped, so a file the server's merging deletes meanwhile stays
//! readable), copies them and writes that `meta.json` last. With replicas
//! the commit's payload says how much of the change stream the index
//! holds, so a replica started on a snapshot goes on from there: the way
//! back for a replica whose next change the stream no longer keeps.

use std::io::Write;
use std::path::{Path, PathBuf};

use tantivy::directory::MmapDirectory;
use tantivy::{Directory, Index};

use super::StoreError;

/// Reads of `meta.json` before giving up on a store that never stops
/// committing.
const ATTEMPTS: usize = 1000;

/// What a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Live orders.
    pub orders: u64,
    /// The last replication-log entry it holds (0: none).
    pub log_seq: u64,
}

/// Copies the last commit of `data_dir`'s index into `dest` (a directory
/// that must not exist yet): a whole `index/` to start a store on.
pub fn take(data_dir: &Path, dest: &Path) -> Result<Snapshot, StoreError> {
    let src = data_dir.join("index");
    let err = |path: &Path, reason: String| StoreError::Open {
        path: path.to_path_buf(),
        reason,
    };
    if dest.exists() {
        return Err(err(dest, "already exists: give a new directory".into()));
    }
    let dir = MmapDirectory::open(&src).map_err(|e| err(&src, e.to_string()))?;
    // A commit or merge may delete a file between reading meta.json and
    // opening it; then the newer commit is read instead (at once: under a
    // flood of writes there is a commit every few milliseconds).
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let index = Index::open(dir.clone()).map_err(|e| err(&src, e.to_string()))?;
        let metas = index.load_metas().map_err(|e| err(&src, e.to_string()))?;
        let mut files = Vec::new();
        let mut complete = true;
        for segment in &metas.segments {
            // The list names a deletes file whether or not there is one.
            let no_deletes = (!segment.has_deletes())
                .then(|| segment.relative_path(tantivy::index::SegmentComponent::Delete));
            for path in segment.list_files() {
                if no_deletes.as_ref() == Some(&path) {
                    continue;
                }
                match dir.open_read(&path) {
                    Ok(f) => files.push((path, f)),
                    Err(e) if is_absent(&e) => {
                        last = e.to_string();
                        complete = false;
                        break;
                    }
                    Err(e) => return Err(err(&src.join(&path), e.to_string())),
                }
            }
            if !complete {
                break;
            }
        }
        if !complete {
            continue;
        }
        let partial = dest.with_extension("partial");
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(|e| err(&partial, e.to_string()))?;
        }
        std::fs::create_dir_all(&partial).map_err(|e| err(&partial, e.to_string()))?;
        for (path, file) in files {
            let bytes = file
                .read_bytes()
                .map_err(|e| err(&src.join(&path), e.to_string()))?;
            write_synced(&partial.join(&path), bytes.as_slice())
                .map_err(|e| err(&partial.join(&path), e.to_string()))?;
        }
        let meta = serde_json::to_vec_pretty(&metas).map_err(|e| StoreError::Encode(e.into()))?;
        write_synced(&partial.join("meta.json"), &meta)
            .map_err(|e| err(&partial.join("meta.json"), e.to_string()))?;
        std::fs::rename(&partial, dest).map_err(|e| err(dest, e.to_string()))?;
        return Ok(Snapshot {
            orders: metas.segments.iter().map(|s| u64::from(s.num_docs())).sum(),
            log_seq: super::log::parse_payload(metas.payload.as_deref()),
        });
    }
    Err(err(
        &src,
        format!("the index kept changing under the snapshot: {last}"),
    ))
}

fn is_absent(e: &tantivy::directory::error::OpenReadError) -> bool {
    matches!(
        e,
        tantivy::directory::error::OpenReadError::FileDoesNotExist(_)
    )
}

fn write_synced(path: &PathBuf, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
