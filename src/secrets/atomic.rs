//! Atomic file output: each file is written to a temporary file in the
//! destination directory (mode 0600), flushed to disk, then renamed into
//! place. Without `force` an existing file is never replaced, and a batch
//! checks every destination before writing any of them.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::SecretsError;

/// Whether an existing destination may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Refuse (the default).
    #[default]
    Refuse,
    /// Replace (`--force`).
    Replace,
}

/// Creates `dir` (and its parents) if missing, owner-only on Unix.
pub fn ensure_dir(dir: &Path) -> Result<(), SecretsError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| SecretsError::io(dir, "creating the directory", e))
}

/// Fails if any of `paths` exists and `overwrite` is `Refuse`.
pub fn check_free(paths: &[PathBuf], overwrite: Overwrite) -> Result<(), SecretsError> {
    if overwrite == Overwrite::Replace {
        return Ok(());
    }
    match paths.iter().find(|p| p.exists()) {
        Some(p) => Err(SecretsError::WouldOverwrite { path: p.clone() }),
        None => Ok(()),
    }
}

/// Writes `contents` to `path` atomically.
pub fn write_atomic(
    path: &Path,
    contents: &[u8],
    overwrite: Overwrite,
) -> Result<(), SecretsError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".locksmith-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| SecretsError::io(&dir, "creating a temporary file", e))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| SecretsError::io(tmp.path(), "writing", e))?;
    let result = match overwrite {
        Overwrite::Refuse => tmp.persist_noclobber(path),
        Overwrite::Replace => tmp.persist(path),
    };
    result.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            SecretsError::WouldOverwrite {
                path: path.to_path_buf(),
            }
        } else {
            SecretsError::io(path, "renaming the finished file into place", e.error)
        }
    })?;
    Ok(())
}

/// The files of one batch written so far. Unless [`Batch::commit`] is
/// called, dropping it removes them, so a batch that fails half-way leaves
/// no partial output behind.
#[derive(Debug, Default)]
pub struct Batch {
    written: Vec<PathBuf>,
    committed: bool,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes one file of the batch atomically.
    pub fn write(
        &mut self,
        path: &Path,
        contents: &[u8],
        overwrite: Overwrite,
    ) -> Result<(), SecretsError> {
        write_atomic(path, contents, overwrite)?;
        self.written.push(path.to_path_buf());
        Ok(())
    }

    /// Keeps the files; returns their paths.
    pub fn commit(mut self) -> Vec<PathBuf> {
        self.committed = true;
        std::mem::take(&mut self.written)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if !self.committed {
            for p in &self.written {
                let _ = fs::remove_file(p);
            }
        }
    }
}

/// Removes files written by an earlier, committed batch (when a later step
/// of the same ceremony fails).
pub fn remove_files(paths: &[PathBuf]) {
    for p in paths {
        let _ = fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_then_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_atomic(&p, b"one", Overwrite::Refuse).unwrap();
        let err = write_atomic(&p, b"two", Overwrite::Refuse).unwrap_err();
        assert!(matches!(err, SecretsError::WouldOverwrite { .. }));
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert!(check_free(std::slice::from_ref(&p), Overwrite::Refuse).is_err());
        write_atomic(&p, b"two", Overwrite::Replace).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }

    #[test]
    fn a_failed_batch_removes_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let taken = dir.path().join("taken");
        fs::write(&taken, b"keep").unwrap();
        {
            let mut batch = Batch::new();
            batch.write(&a, b"1", Overwrite::Refuse).unwrap();
            assert!(batch.write(&taken, b"2", Overwrite::Refuse).is_err());
        }
        assert!(!a.exists(), "rolled back");
        assert_eq!(fs::read(&taken).unwrap(), b"keep");
        let mut batch = Batch::new();
        batch.write(&a, b"1", Overwrite::Refuse).unwrap();
        assert_eq!(batch.commit(), vec![a.clone()]);
        assert!(a.exists(), "committed files stay");
    }
}
