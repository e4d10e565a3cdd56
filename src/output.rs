//! Writing output files, the one way every command does it: a temporary
//! file in the destination's directory (owner-only, as `tempfile` creates
//! it), written and synced, then renamed into place and the directory
//! synced. Without `force` an existing file is never replaced (the rename
//! itself refuses, so a file that appears meanwhile is not clobbered
//! either); nothing partial is ever left at the destination. A directory of
//! files ([`write_dir_atomic`]) is built beside its destination and renamed
//! as a whole; a [`Batch`] of files is removed again unless committed.
//!
//! The ceremony layer's commit unit (all outputs of a command or none)
//! builds on these primitives.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{0} already exists; refusing to overwrite it (pass --force to replace it)")]
    Exists(String),
    #[error("cannot write {path}: {action} failed: {source}; check that its directory exists and is writable, or choose another path")]
    Io {
        path: String,
        /// What failed ("creating the directory", "renaming into place", ...).
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Whether an existing destination may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Refuse (the default).
    #[default]
    Refuse,
    /// Replace (`--force`).
    Replace,
}

impl Overwrite {
    /// `--force`: an existing destination is replaced.
    pub fn force(self) -> bool {
        self == Overwrite::Replace
    }
}

impl OutputError {
    fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        OutputError::Io {
            path: path.display().to_string(),
            action,
            source,
        }
    }

    fn exists(path: &Path) -> Self {
        OutputError::Exists(path.display().to_string())
    }
}

/// The directory a path is created in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Syncs a directory so that a rename inside it survives a crash.
/// Best effort: not every platform or file system can open a directory.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `data` to `path` atomically. With `force` false an existing file
/// is an error and is left untouched.
pub fn write_atomic(path: &Path, data: &[u8], force: bool) -> Result<(), OutputError> {
    let io = |e| OutputError::io(path, "writing", e);
    let dir = parent_dir(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".locksmith-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(data).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    if force {
        tmp.persist(path)
            .map_err(|e| OutputError::io(path, "renaming into place", e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                OutputError::exists(path)
            } else {
                OutputError::io(path, "renaming into place", e.error)
            }
        })?;
    }
    sync_dir(dir);
    Ok(())
}

/// Writes `files` (name, contents) into a new directory `dir`, built under
/// a temporary name beside it, every file synced, and renamed into place.
/// An existing `dir` is replaced only if `force` (moved aside first, then
/// removed).
pub fn write_dir_atomic(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    force: bool,
) -> Result<(), OutputError> {
    if !force && dir.exists() {
        return Err(OutputError::exists(dir));
    }
    let parent = parent_dir(dir);
    let tmp = tempfile::Builder::new()
        .prefix(".locksmith-frames-")
        .tempdir_in(parent)
        .map_err(|e| OutputError::io(parent, "creating a temporary directory in", e))?;
    for (name, contents) in files {
        let file = tmp.path().join(name);
        let mut f = fs::File::create(&file).map_err(|e| OutputError::io(&file, "creating", e))?;
        f.write_all(contents)
            .and_then(|()| f.sync_all())
            .map_err(|e| OutputError::io(&file, "writing", e))?;
    }
    sync_dir(tmp.path());
    if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(".locksmith-old-")
            .tempdir_in(parent)
            .map_err(|e| OutputError::io(parent, "creating a temporary directory in", e))?;
        let aside = old.path().join("old");
        fs::rename(dir, &aside)
            .map_err(|e| OutputError::io(dir, "moving the old output aside", e))?;
        fs::rename(tmp.path(), dir).map_err(|e| OutputError::io(dir, "renaming into place", e))?;
        drop(old);
    } else {
        fs::rename(tmp.path(), dir).map_err(|e| OutputError::io(dir, "renaming into place", e))?;
    }
    sync_dir(parent);
    // The temporary directory was renamed; nothing left for its guard to delete.
    let _ = tmp.keep();
    Ok(())
}

/// Creates `dir` (and its parents) if missing, owner-only on Unix.
pub fn ensure_dir(dir: &Path) -> Result<(), OutputError> {
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
        .map_err(|e| OutputError::io(dir, "creating the directory", e))
}

/// Fails on the first of `paths` that exists, unless `force`.
pub fn check_free(paths: &[PathBuf], force: bool) -> Result<(), OutputError> {
    if force {
        return Ok(());
    }
    match paths.iter().find(|p| p.exists()) {
        Some(p) => Err(OutputError::exists(p)),
        None => Ok(()),
    }
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
    pub fn write(&mut self, path: &Path, contents: &[u8], force: bool) -> Result<(), OutputError> {
        write_atomic(path, contents, force)?;
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
            remove_files(&self.written);
        }
    }
}

/// Removes files written by an earlier, committed batch (when a later step
/// of the same command fails).
pub fn remove_files(paths: &[PathBuf]) {
    for p in paths {
        let _ = fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> usize {
        fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn refuses_then_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_atomic(&p, b"one", false).unwrap();
        let err = write_atomic(&p, b"two", false).unwrap_err();
        assert!(matches!(err, OutputError::Exists(_)), "{err}");
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert!(check_free(std::slice::from_ref(&p), false).is_err());
        assert!(check_free(std::slice::from_ref(&p), true).is_ok());
        write_atomic(&p, b"two", true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(entries(dir.path()), 1, "no temporary files left behind");
    }

    #[cfg(unix)]
    #[test]
    fn files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_atomic(&p, b"x", false).unwrap();
        let mode = fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/dir/f");
        let err = write_atomic(&p, b"x", true).unwrap_err();
        assert!(matches!(err, OutputError::Io { .. }), "{err}");
        assert_eq!(entries(dir.path()), 0);
    }

    #[test]
    fn a_directory_appears_whole_and_is_replaced_only_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("frames");
        let one = vec![
            ("a".to_string(), b"1".to_vec()),
            ("b".into(), b"2".to_vec()),
        ];
        write_dir_atomic(&out, &one, false).unwrap();
        assert_eq!(fs::read(out.join("b")).unwrap(), b"2");
        let two = vec![("c".to_string(), b"3".to_vec())];
        assert!(matches!(
            write_dir_atomic(&out, &two, false),
            Err(OutputError::Exists(_))
        ));
        assert!(out.join("a").exists(), "untouched when refused");
        write_dir_atomic(&out, &two, true).unwrap();
        assert!(!out.join("a").exists() && out.join("c").exists());
        assert_eq!(entries(dir.path()), 1, "no temporary directories left");
    }

    #[test]
    fn a_failed_batch_removes_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let taken = dir.path().join("taken");
        fs::write(&taken, b"keep").unwrap();
        {
            let mut batch = Batch::new();
            batch.write(&a, b"1", false).unwrap();
            assert!(batch.write(&taken, b"2", false).is_err());
        }
        assert!(!a.exists(), "rolled back");
        assert_eq!(fs::read(&taken).unwrap(), b"keep");
        let mut batch = Batch::new();
        batch.write(&a, b"1", false).unwrap();
        assert_eq!(batch.commit(), vec![a.clone()]);
        assert!(a.exists(), "committed files stay");
    }
}
