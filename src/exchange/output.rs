//! Atomic output: a file or a directory of frames appears whole or not at
//! all, and an existing one is replaced only when asked (`--force`).

use std::path::{Path, PathBuf};

use super::error::{ExchangeError, Result};

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// then renames it into place. Refuses to replace an existing file unless
/// `force`.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    crate::output::write_atomic(path, bytes, force).map_err(|e| match e {
        crate::output::OutputError::Exists(_) => {
            ExchangeError::WouldOverwrite { path: path.into() }
        }
        crate::output::OutputError::Io { source, .. } => ExchangeError::io(path, "write", source),
    })
}

/// Writes `files` (name, contents) into a new directory `dir`, built under
/// a temporary name beside it and renamed into place. An existing `dir` is
/// replaced only if `force`.
pub fn write_dir_atomic(dir: &Path, files: &[(String, Vec<u8>)], force: bool) -> Result<()> {
    if !force && dir.exists() {
        return Err(ExchangeError::WouldOverwrite { path: dir.into() });
    }
    let parent = parent_dir(dir);
    let tmp = tempfile::Builder::new()
        .prefix(".locksmith-frames-")
        .tempdir_in(&parent)
        .map_err(|e| ExchangeError::io(&parent, "creating a temporary directory in", e))?;
    for (name, contents) in files {
        let file = tmp.path().join(name);
        std::fs::write(&file, contents).map_err(|e| ExchangeError::io(&file, "write", e))?;
    }
    if dir.exists() {
        // force: move the old directory aside first, then remove it.
        let old = tempfile::Builder::new()
            .prefix(".locksmith-old-")
            .tempdir_in(&parent)
            .map_err(|e| ExchangeError::io(&parent, "creating a temporary directory in", e))?;
        let aside = old.path().join("old");
        std::fs::rename(dir, &aside)
            .map_err(|e| ExchangeError::io(dir, "move the old output aside", e))?;
        std::fs::rename(tmp.path(), dir)
            .map_err(|e| ExchangeError::io(dir, "rename into place", e))?;
        drop(old);
    } else {
        std::fs::rename(tmp.path(), dir)
            .map_err(|e| ExchangeError::io(dir, "rename into place", e))?;
    }
    // The temporary directory was renamed; nothing left for its guard to delete.
    let _ = tmp.keep();
    Ok(())
}
