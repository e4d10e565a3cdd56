//! Writing output files: atomically (a temporary file in the same
//! directory, synced, then renamed into place), never over an existing
//! file unless forced, and never leaving a partial file behind.

use std::io::Write;
use std::path::Path;

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{0} already exists; refusing to overwrite it (pass --force to replace it)")]
    Exists(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Writes `data` to `path` atomically. With `force` false an existing file
/// is an error and is left untouched.
pub fn write_atomic(path: &Path, data: &[u8], force: bool) -> Result<(), OutputError> {
    let shown = path.display().to_string();
    let io = |e: std::io::Error| OutputError::Io {
        path: shown.clone(),
        source: e,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".locksmith-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(data).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    if force {
        tmp.persist(path).map_err(|e| io(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                OutputError::Exists(shown.clone())
            } else {
                io(e.error)
            }
        })?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
