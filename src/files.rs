//! Writing the small secret files kept in the data dir (link keys, the
//! session key, staff accounts): owner-only permissions, and atomic, so a
//! crash mid-write leaves the old file, never half a new one.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` readable by its owner only (mode 0600), via a
/// temp file, fsync and rename.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
