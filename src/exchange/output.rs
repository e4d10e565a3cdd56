//! Atomic output: a file or a directory of frames appears whole or not at
//! all, and an existing one is replaced only when asked (`--force`).

use std::io::Write;
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
    if !force && path.exists() {
        return Err(ExchangeError::WouldOverwrite { path: path.into() });
    }
    let dir = parent_dir(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".locksmith-")
        .tempfile_in(&dir)
        .map_err(|e| ExchangeError::io(&dir, "creating a temporary file in", e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| ExchangeError::io(tmp.path(), "write", e))?;
    if force {
        tmp.persist(path)
            .map_err(|e| ExchangeError::io(path, "rename into place", e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                ExchangeError::WouldOverwrite { path: path.into() }
            } else {
                ExchangeError::io(path, "rename into place", e.error)
            }
        })?;
    }
    Ok(())
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
