//! Writing the small secret files kept in the data dir (link keys, the
//! session key, staff accounts, checkpoints): owner-only permissions, and
//! atomic, so a crash mid-write leaves the old file, never half a new one;
//! each write through a temp file of its own, so two writers at once never
//! rename each other's half-written file. And the data dir itself, kept
//! private to the service's user.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` readable by its owner only (mode 0600), via a
/// temp file of this write's own (pid and a random part in its name),
/// fsync, rename and an fsync of the directory.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(std::io::Error::other)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        u64::from_le_bytes(nonce)
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename is durable once the directory is.
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// An exclusive lock on `path` (created 0600 if missing), held until the
/// guard drops: a `flock`, so it keeps out other processes (the `staff`
/// commands while the server runs) and other writers of this process
/// alike (each takes it through a file description of its own).
#[derive(Debug)]
pub struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    /// Waits for the lock (blocking: call off the async workers).
    pub fn acquire(path: &Path) -> std::io::Result<FileLock> {
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path)?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(FileLock { _file: file })
    }
}

/// Makes the data dir and everything in it private to this user: the
/// process's umask becomes 077 (files it makes from now on are 0600,
/// directories 0700), and what an older version left readable by others
/// is tightened, said once in the log. Returns how many paths were
/// tightened.
pub fn make_private(data_dir: &Path) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
        std::fs::create_dir_all(data_dir)?;
        let mut tightened = 0;
        let mut stack = vec![data_dir.to_path_buf()];
        while let Some(p) = stack.pop() {
            let meta = std::fs::symlink_metadata(&p)?;
            if meta.file_type().is_symlink() {
                continue;
            }
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                let owner_only = mode & 0o700;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(owner_only))?;
                tightened += 1;
            }
            if meta.is_dir() {
                for entry in std::fs::read_dir(&p)? {
                    stack.push(entry?.path());
                }
            }
        }
        if tightened > 0 {
            tracing::warn!(
                data_dir = %data_dir.display(),
                paths = tightened,
                "the data dir was readable by other users; made it private to this user (files 0600, directories 0700)"
            );
        }
        Ok(tightened)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(data_dir)?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_each_leave_a_whole_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.json");
        std::thread::scope(|s| {
            for i in 0..16u8 {
                let path = &path;
                s.spawn(move || write_private(path, &[i; 4096]).expect("write"));
            }
        });
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|b| *b == bytes[0]), "one writer's bytes");
        let leftovers = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[cfg(unix)]
    #[test]
    fn an_old_readable_data_dir_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("index")).expect("dirs");
        std::fs::write(data.join("index/seg"), b"x").expect("file");
        for (p, m) in [(&data, 0o755), (&data.join("index"), 0o755)] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod");
        }
        std::fs::set_permissions(
            data.join("index/seg"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        assert_eq!(make_private(&data).expect("private"), 3);
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("index")), 0o700);
        assert_eq!(mode(&data.join("index/seg")), 0o600);
        assert_eq!(make_private(&data).expect("again"), 0);
    }
}
