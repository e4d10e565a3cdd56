//! The commit unit: every output of one command written as one unit.
//!
//! A command stages its outputs (files, store AUMs, age files, sheets, its
//! transcript record) in a [`CommitUnit`]; [`CommitUnit::commit`] writes
//! them all or none of them:
//!
//! 1. every target is checked again (exists without `--force`, parent
//!    missing, directory not writable), as [`check_target`] did at
//!    preflight, before any PIN was asked for;
//! 2. a journal naming every temporary, backup and target file is written
//!    (atomically) before the first temporary file;
//! 3. each output is written to a temporary file in its target's own
//!    directory (so the final rename is atomic), mode 0600, synced;
//! 4. a target that `--force` replaces is hard-linked to a backup name;
//! 5. the temporaries are moved into place: a new target with `link`
//!    (which never replaces a file that appeared meanwhile), a replaced one
//!    with `rename`;
//! 6. the backups and then the journal are removed: the commit point.
//!
//! A failure at any step undoes the steps before it. A kill between two
//! renames leaves the journal behind; [`recover`] (called by the pipeline
//! before its preflight) then undoes the interrupted commit (targets whose
//! content is the staged content are removed or restored from their
//! backup, temporaries removed, directories the unit created removed if
//! empty), so the state is the one from before the interrupted command and
//! the same command can be run again.
//!
//! Invariant: a target is only ever removed by a rollback when its content
//! hashes to what this unit staged for it; anything else is left alone
//! and reported.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Why a commit (or its preflight, or a recovery) failed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("{0} already exists; refusing to overwrite it (pass --force to replace it, or choose another path)")]
    Exists(PathBuf),
    #[error("{0} is a directory; give a file name")]
    IsDir(PathBuf),
    #[error("cannot write {target}: its directory {dir} does not exist; create it first or choose another path")]
    NoParent { target: PathBuf, dir: PathBuf },
    #[error("cannot write {target}: {dir} is not a writable directory ({reason}); fix its permissions or choose another path")]
    NotWritable {
        target: PathBuf,
        dir: PathBuf,
        reason: String,
    },
    #[error("{0} is named twice among this command's outputs; give distinct paths")]
    Duplicate(PathBuf),
    #[error("{path}: {what}: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("injected failure {0} (test hook LOCKSMITH_TEST_FAIL_AFTER)")]
    Injected(String),
    #[error("the journal {path} of an interrupted commit is unreadable ({reason}); inspect the files it names and remove it by hand")]
    BadJournal { path: PathBuf, reason: String },
}

fn io<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(std::io::Error) -> CommitError + 'a {
    move |source| CommitError::Io {
        path: path.to_path_buf(),
        what,
        source,
    }
}

/// Whether an existing target may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Existing {
    /// Refuse (the default; no `--force`).
    Refuse,
    /// Replace it (`--force`, or a file the command rewrites by design,
    /// like the transcript).
    Replace,
}

impl Existing {
    pub fn from_force(force: bool) -> Self {
        if force {
            Existing::Replace
        } else {
            Existing::Refuse
        }
    }
}

/// Whether a missing parent directory may be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// It must exist.
    MustExist,
    /// Create it (and its parents) at commit, owner-only; removed again on rollback.
    Create,
}

/// A failure the tests inject into a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An error after this many temporaries were written (rolled back).
    ErrorAfterStaging(usize),
    /// An error after this many renames (rolled back in process).
    ErrorAfterRename(usize),
    /// Stop dead after this many renames, as a kill would: no rollback,
    /// the journal stays for [`recover`].
    CrashAfterRename(usize),
}

/// Checks that `target` can be written: it does not exist (unless
/// `existing` allows it), it is not a directory, and its directory exists
/// (or may be created) and is writable. Called at preflight, before any
/// PIN prompt, and again at commit.
pub fn check_target(target: &Path, existing: Existing, parent: Parent) -> Result<(), CommitError> {
    match fs::symlink_metadata(target) {
        Ok(m) if m.is_dir() => return Err(CommitError::IsDir(target.to_path_buf())),
        Ok(_) if existing == Existing::Refuse => {
            return Err(CommitError::Exists(target.to_path_buf()))
        }
        _ => {}
    }
    let dir = parent_of(target);
    check_dir(target, &dir, parent)
}

/// Checks that files can be created in `dir` (named only later, e.g.
/// after a hash is known).
pub fn check_directory(dir: &Path, parent: Parent) -> Result<(), CommitError> {
    check_dir(dir, dir, parent)
}

fn check_dir(target: &Path, dir: &Path, parent: Parent) -> Result<(), CommitError> {
    let existing_dir = if dir.is_dir() {
        dir.to_path_buf()
    } else if parent == Parent::MustExist {
        return Err(CommitError::NoParent {
            target: target.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    } else {
        let mut d = dir.to_path_buf();
        loop {
            if d.exists() {
                break;
            }
            match d.parent() {
                Some(p) if !p.as_os_str().is_empty() => d = p.to_path_buf(),
                _ => {
                    d = PathBuf::from(".");
                    break;
                }
            }
        }
        if !d.is_dir() {
            return Err(CommitError::NotWritable {
                target: target.to_path_buf(),
                dir: d,
                reason: "not a directory".into(),
            });
        }
        d
    };
    // A real probe, not permission bits: the same check the commit makes.
    tempfile::Builder::new()
        .prefix(".locksmith-probe-")
        .tempfile_in(&existing_dir)
        .map(drop)
        .map_err(|e| CommitError::NotWritable {
            target: target.to_path_buf(),
            dir: existing_dir,
            reason: e.to_string(),
        })
}

fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

struct Output {
    target: PathBuf,
    bytes: Zeroizing<Vec<u8>>,
    existing: Existing,
    parent: Parent,
}

/// The outputs of one command, written together by [`CommitUnit::commit`].
pub struct CommitUnit {
    journal: PathBuf,
    outputs: Vec<Output>,
    fault: Option<Fault>,
    /// Locks held until the commit is done (the transcript's).
    held: Vec<fs::File>,
}

/// One output in the journal.
#[derive(Debug, Serialize, Deserialize)]
struct JournalEntry {
    target: PathBuf,
    staged: PathBuf,
    backup: Option<PathBuf>,
    sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    /// Directories the unit created, outermost first.
    created_dirs: Vec<PathBuf>,
    entries: Vec<JournalEntry>,
}

/// What a commit wrote.
#[derive(Debug, Default)]
pub struct Committed {
    pub written: Vec<PathBuf>,
}

impl CommitUnit {
    /// A unit whose journal lives at `journal` (a fixed path per store or
    /// per output, so the next run finds it).
    pub fn new(journal: impl Into<PathBuf>) -> Self {
        CommitUnit {
            journal: journal.into(),
            outputs: Vec::new(),
            fault: None,
            held: Vec::new(),
        }
    }

    /// The journal path.
    pub fn journal(&self) -> &Path {
        &self.journal
    }

    /// Injects a failure (tests).
    pub fn inject(&mut self, fault: Option<Fault>) {
        self.fault = fault;
    }

    /// Keeps `lock` held until the unit is committed or dropped.
    pub fn hold(&mut self, lock: fs::File) {
        self.held.push(lock);
    }

    /// Adds one output. Checks its target now (see [`check_target`]).
    pub fn add(
        &mut self,
        target: impl Into<PathBuf>,
        bytes: impl Into<Vec<u8>>,
        existing: Existing,
        parent: Parent,
    ) -> Result<(), CommitError> {
        let target = target.into();
        if self.outputs.iter().any(|o| o.target == target) {
            return Err(CommitError::Duplicate(target));
        }
        check_target(&target, existing, parent)?;
        self.outputs.push(Output {
            target,
            bytes: Zeroizing::new(bytes.into()),
            existing,
            parent,
        });
        Ok(())
    }

    /// The targets added so far.
    pub fn targets(&self) -> impl Iterator<Item = &Path> {
        self.outputs.iter().map(|o| o.target.as_path())
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// Writes every output, or none of them.
    pub fn commit(mut self) -> Result<Committed, CommitError> {
        let outputs = std::mem::take(&mut self.outputs);
        if outputs.is_empty() {
            return Ok(Committed::default());
        }
        for o in &outputs {
            check_target(&o.target, o.existing, o.parent)?;
        }
        let mut journal = Journal::default();
        // Directories first (recorded, so a rollback removes them).
        for o in &outputs {
            let dir = parent_of(&o.target);
            if !dir.is_dir() {
                let mut missing = Vec::new();
                let mut d = dir.clone();
                while !d.exists() {
                    missing.push(d.clone());
                    match d.parent() {
                        Some(p) if !p.as_os_str().is_empty() => d = p.to_path_buf(),
                        _ => break,
                    }
                }
                for m in missing.into_iter().rev() {
                    if !journal.created_dirs.contains(&m) {
                        journal.created_dirs.push(m);
                    }
                }
            }
        }
        let tag = format!(
            "{}-{:08x}",
            std::process::id(),
            rand_core::RngCore::next_u32(&mut rand_core::OsRng)
        );
        for (i, o) in outputs.iter().enumerate() {
            let dir = parent_of(&o.target);
            let name = o
                .target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "output".into());
            let backup = (o.existing == Existing::Replace && o.target.exists())
                .then(|| dir.join(format!(".{name}.locksmith-backup-{tag}-{i}")));
            journal.entries.push(JournalEntry {
                target: o.target.clone(),
                staged: dir.join(format!(".{name}.locksmith-stage-{tag}-{i}")),
                backup,
                sha256: sha256_hex(&o.bytes),
            });
        }
        self.write_journal(&journal)?;
        match self.apply(&outputs, &journal) {
            Ok(written) => {
                for e in &journal.entries {
                    if let Some(b) = &e.backup {
                        let _ = fs::remove_file(b);
                    }
                }
                fs::remove_file(&self.journal)
                    .map_err(io(&self.journal, "removing the journal"))?;
                sync_dir(&parent_of(&self.journal));
                Ok(Committed { written })
            }
            Err(Stop::Crash(e)) => Err(e),
            Err(Stop::Fail(e)) => {
                let _ = undo(&journal);
                let _ = fs::remove_file(&self.journal);
                Err(e)
            }
        }
    }

    fn write_journal(&self, journal: &Journal) -> Result<(), CommitError> {
        let dir = parent_of(&self.journal);
        fs::create_dir_all(&dir).map_err(io(&dir, "creating the journal's directory"))?;
        if self.journal.exists() {
            // recover() runs first; a journal here is another command's.
            return Err(CommitError::Exists(self.journal.clone()));
        }
        let text = serde_json::to_vec_pretty(journal).map_err(|e| CommitError::Io {
            path: self.journal.clone(),
            what: "encoding the journal",
            source: std::io::Error::other(e),
        })?;
        write_new(&self.journal, &text)
    }

    fn apply(&self, outputs: &[Output], journal: &Journal) -> Result<Vec<PathBuf>, Stop> {
        for d in &journal.created_dirs {
            create_dir_private(d).map_err(Stop::Fail)?;
        }
        for (i, (o, e)) in outputs.iter().zip(&journal.entries).enumerate() {
            if self.fault == Some(Fault::ErrorAfterStaging(i)) {
                return Err(Stop::Fail(CommitError::Injected(format!(
                    "after staging {i} file(s)"
                ))));
            }
            write_new(&e.staged, &o.bytes).map_err(Stop::Fail)?;
        }
        for e in &journal.entries {
            if let Some(b) = &e.backup {
                fs::hard_link(&e.target, b)
                    .map_err(io(&e.target, "keeping a backup of the file it replaces"))
                    .map_err(Stop::Fail)?;
            }
        }
        let mut written = Vec::new();
        for (i, (o, e)) in outputs.iter().zip(&journal.entries).enumerate() {
            match self.fault {
                Some(Fault::ErrorAfterRename(n)) if n == i => {
                    return Err(Stop::Fail(CommitError::Injected(format!(
                        "after {i} rename(s)"
                    ))))
                }
                Some(Fault::CrashAfterRename(n)) if n == i => {
                    return Err(Stop::Crash(CommitError::Injected(format!(
                        "crash after {i} rename(s)"
                    ))))
                }
                _ => {}
            }
            match o.existing {
                Existing::Replace => fs::rename(&e.staged, &e.target)
                    .map_err(io(&e.target, "moving the finished file into place")),
                Existing::Refuse => match fs::hard_link(&e.staged, &e.target) {
                    Ok(()) => fs::remove_file(&e.staged)
                        .map_err(io(&e.staged, "removing the temporary file")),
                    Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                        Err(CommitError::Exists(e.target.clone()))
                    }
                    Err(err) => Err(io(&e.target, "moving the finished file into place")(err)),
                },
            }
            .map_err(Stop::Fail)?;
            sync_dir(&parent_of(&e.target));
            written.push(e.target.clone());
        }
        Ok(written)
    }
}

enum Stop {
    /// Roll back now.
    Fail(CommitError),
    /// Leave everything as a kill would.
    Crash(CommitError),
}

/// Undoes an interrupted commit whose journal is at `journal`, if any.
/// Returns the targets it found in place and removed or restored (none
/// when there was no journal). Run before a command's preflight.
pub fn recover(journal: &Path) -> Result<Option<Vec<PathBuf>>, CommitError> {
    let text = match fs::read(journal) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(journal, "reading the journal")(e)),
    };
    let parsed: Journal = serde_json::from_slice(&text).map_err(|e| CommitError::BadJournal {
        path: journal.to_path_buf(),
        reason: e.to_string(),
    })?;
    let undone = undo(&parsed)?;
    fs::remove_file(journal).map_err(io(journal, "removing the journal"))?;
    Ok(Some(undone))
}

fn undo(journal: &Journal) -> Result<Vec<PathBuf>, CommitError> {
    let mut undone = Vec::new();
    for e in journal.entries.iter().rev() {
        let ours = fs::read(&e.target)
            .map(|b| sha256_hex(&b) == e.sha256)
            .unwrap_or(false);
        let staged_left = e.staged.exists();
        match (&e.backup, ours) {
            (Some(b), true) if b.exists() => {
                fs::rename(b, &e.target).map_err(io(&e.target, "restoring the replaced file"))?;
                undone.push(e.target.clone());
            }
            (None, true) => {
                fs::remove_file(&e.target)
                    .map_err(io(&e.target, "removing a file of the interrupted commit"))?;
                undone.push(e.target.clone());
            }
            _ => {
                if let Some(b) = &e.backup {
                    let _ = fs::remove_file(b);
                }
            }
        }
        if staged_left {
            let _ = fs::remove_file(&e.staged);
        }
        sync_dir(&parent_of(&e.target));
    }
    for d in journal.created_dirs.iter().rev() {
        // Only when empty: someone else's file keeps it.
        let _ = fs::remove_dir(d);
    }
    Ok(undone)
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::tka::hex::lower(&Sha256::digest(bytes))
}

fn create_dir_private(dir: &Path) -> Result<(), CommitError> {
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    match b.create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(io(dir, "creating the directory")(e)),
    }
}

/// Writes a new file (never an existing one), owner-only, synced.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), CommitError> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .map_err(io(path, "creating a temporary file"))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io(path, "writing a temporary file"))?;
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Where a signing command's commit journal lives: in the store it works
/// on (`STORE/.locksmith-journal`), else beside its first output (`.NAME.locksmith-journal`
/// next to `beside`), so the next run of the same command finds an
/// interrupted commit.
pub fn journal_path(store: Option<&Path>, beside: Option<PathBuf>) -> PathBuf {
    if let Some(store) = store {
        return store.join(".locksmith-journal");
    }
    let beside = beside.unwrap_or_else(|| PathBuf::from("locksmith"));
    let name = beside
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    beside.with_file_name(format!(".{name}.locksmith-journal"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for e in walk(dir) {
            let rel = e.strip_prefix(dir).unwrap().display().to_string();
            out.push((rel, fs::read(&e).unwrap_or_default()));
        }
        out.sort();
        out
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.clone());
            if p.is_dir() {
                out.extend(walk(&p));
            }
        }
        out
    }

    /// A unit of four outputs: two new files (one in a new directory), one
    /// replaced file, one appended-to file (replaced whole).
    fn unit(root: &Path) -> CommitUnit {
        let mut u = CommitUnit::new(root.join("journal"));
        u.add(
            root.join("a.out"),
            b"A".to_vec(),
            Existing::Refuse,
            Parent::MustExist,
        )
        .unwrap();
        u.add(
            root.join("store/aums/x.aum"),
            b"X".to_vec(),
            Existing::Refuse,
            Parent::Create,
        )
        .unwrap();
        u.add(
            root.join("replaced"),
            b"new".to_vec(),
            Existing::Replace,
            Parent::MustExist,
        )
        .unwrap();
        u.add(
            root.join("transcript.jsonl"),
            b"line1\nline2\n".to_vec(),
            Existing::Replace,
            Parent::MustExist,
        )
        .unwrap();
        u
    }

    fn seed(root: &Path) {
        fs::write(root.join("replaced"), b"old").unwrap();
        fs::write(root.join("transcript.jsonl"), b"line1\n").unwrap();
    }

    #[test]
    fn all_outputs_appear_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        seed(d.path());
        let done = unit(d.path()).commit().unwrap();
        assert_eq!(done.written.len(), 4);
        let l = listing(d.path());
        let names: Vec<&str> = l.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "a.out",
                "replaced",
                "store",
                "store/aums",
                "store/aums/x.aum",
                "transcript.jsonl"
            ]
        );
        assert_eq!(fs::read(d.path().join("replaced")).unwrap(), b"new");
        assert_eq!(
            fs::read(d.path().join("transcript.jsonl")).unwrap(),
            b"line1\nline2\n"
        );
    }

    #[test]
    fn an_error_after_any_step_leaves_the_state_from_before() {
        for fault in (0..4)
            .map(Fault::ErrorAfterStaging)
            .chain((0..4).map(Fault::ErrorAfterRename))
        {
            let d = tempfile::tempdir().unwrap();
            seed(d.path());
            let before = listing(d.path());
            let mut u = unit(d.path());
            u.inject(Some(fault));
            let err = u.commit().unwrap_err();
            assert!(matches!(err, CommitError::Injected(_)), "{fault:?}: {err}");
            assert_eq!(listing(d.path()), before, "{fault:?}");
        }
    }

    #[test]
    fn a_kill_between_renames_is_undone_by_the_next_run_which_then_completes() {
        for n in 0..4 {
            let d = tempfile::tempdir().unwrap();
            seed(d.path());
            let before = listing(d.path());
            let mut u = unit(d.path());
            u.inject(Some(Fault::CrashAfterRename(n)));
            assert!(u.commit().is_err());
            assert!(
                d.path().join("journal").exists(),
                "the journal stays after a kill"
            );
            let undone = recover(&d.path().join("journal")).unwrap().unwrap();
            assert_eq!(undone.len(), n, "crash after {n} renames");
            assert_eq!(listing(d.path()), before, "crash after {n} renames");
            assert_eq!(recover(&d.path().join("journal")).unwrap(), None);
            // The same command again completes.
            unit(d.path()).commit().unwrap();
            assert_eq!(fs::read(d.path().join("replaced")).unwrap(), b"new");
        }
    }

    #[test]
    fn preflight_names_what_is_wrong() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("taken"), b"keep").unwrap();
        let e =
            check_target(&d.path().join("taken"), Existing::Refuse, Parent::MustExist).unwrap_err();
        assert!(
            matches!(e, CommitError::Exists(_)) && e.to_string().contains("--force"),
            "{e}"
        );
        check_target(
            &d.path().join("taken"),
            Existing::Replace,
            Parent::MustExist,
        )
        .unwrap();
        let e = check_target(
            &d.path().join("no/such/f"),
            Existing::Refuse,
            Parent::MustExist,
        )
        .unwrap_err();
        assert!(matches!(e, CommitError::NoParent { .. }), "{e}");
        check_target(
            &d.path().join("no/such/f"),
            Existing::Refuse,
            Parent::Create,
        )
        .unwrap();
        let e = check_target(d.path(), Existing::Replace, Parent::MustExist).unwrap_err();
        assert!(matches!(e, CommitError::IsDir(_)), "{e}");
        let mut u = CommitUnit::new(d.path().join("j"));
        u.add(
            d.path().join("x"),
            b"1".to_vec(),
            Existing::Refuse,
            Parent::MustExist,
        )
        .unwrap();
        let e = u
            .add(
                d.path().join("x"),
                b"2".to_vec(),
                Existing::Refuse,
                Parent::MustExist,
            )
            .unwrap_err();
        assert!(matches!(e, CommitError::Duplicate(_)), "{e}");
        assert_eq!(fs::read(d.path().join("taken")).unwrap(), b"keep");
    }

    #[test]
    fn a_target_created_meanwhile_is_not_replaced_and_the_rest_is_undone() {
        let d = tempfile::tempdir().unwrap();
        let mut u = CommitUnit::new(d.path().join("j"));
        u.add(
            d.path().join("one"),
            b"1".to_vec(),
            Existing::Refuse,
            Parent::MustExist,
        )
        .unwrap();
        u.add(
            d.path().join("two"),
            b"2".to_vec(),
            Existing::Refuse,
            Parent::MustExist,
        )
        .unwrap();
        fs::write(d.path().join("two"), b"someone else's").unwrap();
        assert!(matches!(u.commit(), Err(CommitError::Exists(_))));
        assert!(!d.path().join("one").exists());
        assert_eq!(fs::read(d.path().join("two")).unwrap(), b"someone else's");
        assert!(!d.path().join("j").exists());
    }
}
