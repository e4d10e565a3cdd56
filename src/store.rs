//! The local authority store on the offline machine: a directory holding
//! every AUM this machine has verified, pinned to the AUM it started from.
//!
//! Layout:
//! - `anchor`: the base32 hash of the pinned genesis (or first checkpoint).
//!   Written once; later imports must link to what this machine verified.
//! - `aums/<BASE32 HASH>.aum`: each verified AUM's canonical CBOR.
//! - `lock`: an advisory lock file (exclusive for writers, shared for readers).
//! - `verified-cache`: what the last full verification established (see
//!   `verified_cache`): anchor, head, AUM count and a BLAKE2s digest of the
//!   anchor and every AUM file's name and bytes.
//! - `held-for-custodians`: present while `lock init --await-custodians`
//!   holds the new authority back; `verifications.json` records who verified.
//!
//! Crash safety: every file is written atomically (temporary file, fsync,
//! rename) and named by its content's hash, so a crash leaves either the
//! old or the new set of complete AUMs, and loading re-verifies everything
//! from the anchor unless the verified cache matches every file byte for
//! byte. Concurrency: writers hold the exclusive lock for the
//! whole load-verify-write cycle, so two writers cannot interleave.

mod verified_cache;

use crate::output::write_atomic;
use crate::tka::{order_by_parent_links, Aum, AumHash, Authority};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The marker file of an authority held back for custodians.
const PENDING: &str = "held-for-custodians";

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no authority store at {0}: run `locksmith lock init` or `locksmith lock import --store {0} --init CHAIN` first")]
    Missing(String),
    #[error(
        "an authority store already exists at {0}; use another --store or remove it deliberately"
    )]
    Exists(String),
    #[error("store {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("store {path} is corrupt: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("refused: {0}")]
    Refused(String),
}

/// An opened store directory.
pub struct Store {
    dir: PathBuf,
    _lock: File,
}

impl Store {
    /// The default location, under the user's data directory.
    pub fn default_dir() -> PathBuf {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("locksmith")
            .join("authority")
    }

    /// The file of one AUM in the store at `dir`: content-named,
    /// `aums/HASH.aum` (an existing file of that name is that AUM).
    pub fn aum_file(dir: &Path, hash: &AumHash) -> PathBuf {
        dir.join("aums").join(format!("{hash}.aum"))
    }

    fn io(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Io {
            path: self.dir.display().to_string(),
            reason: e.to_string(),
        }
    }

    fn lock_file(dir: &Path, exclusive: bool) -> Result<File, StoreError> {
        let path = dir.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .read(true)
            .open(&path)
            .map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        let result = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        result.map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            reason: format!("locking: {e}"),
        })?;
        Ok(file)
    }

    /// Opens an existing store; `exclusive` for commands that will write.
    pub fn open(dir: &Path, exclusive: bool) -> Result<Store, StoreError> {
        if !dir.join("anchor").is_file() {
            return Err(StoreError::Missing(dir.display().to_string()));
        }
        let lock = Self::lock_file(dir, exclusive)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    /// Creates a store pinned to `authority`'s anchor and writes its AUMs.
    pub fn create(dir: &Path, authority: &Authority) -> Result<Store, StoreError> {
        if dir.join("anchor").exists() {
            return Err(StoreError::Exists(dir.display().to_string()));
        }
        std::fs::create_dir_all(dir.join("aums")).map_err(|e| StoreError::Io {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let lock = Self::lock_file(dir, true)?;
        let store = Store {
            dir: dir.to_path_buf(),
            _lock: lock,
        };
        store.write_aums(authority)?;
        let anchor = format!("{}\n", authority.oldest_ancestor());
        write_atomic(&dir.join("anchor"), anchor.as_bytes(), false).map_err(|e| match e {
            crate::output::OutputError::Exists(_) => StoreError::Exists(dir.display().to_string()),
            other => store.io(other),
        })?;
        store.record_verified(authority);
        Ok(store)
    }

    /// The files of a new store pinned to `authority`'s anchor, as paths
    /// under `dir` and contents, for a commit unit to write together with
    /// the command's other outputs (`held`: held back for custodians). The
    /// advisory `lock` file is made by the first [`Store::open`].
    pub fn new_store_files(
        dir: &Path,
        authority: &Authority,
        held: bool,
    ) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<(PathBuf, Vec<u8>)> = authority
            .tree()
            .iter()
            .map(|(hash, aum)| (Self::aum_file(dir, hash), aum.serialize()))
            .collect();
        if held {
            files.push((
                dir.join(PENDING),
                b"held back until every custodian has verified their secret\n".to_vec(),
            ));
        }
        // The anchor last: a store is only a store once it is pinned.
        files.push((
            dir.join("anchor"),
            format!("{}\n", authority.oldest_ancestor()).into_bytes(),
        ));
        files
    }

    /// Marks the authority as held back until every custodian has verified
    /// their disablement secret (`lock init --await-custodians`).
    pub fn hold_for_custodians(&self) -> Result<(), StoreError> {
        write_atomic(
            &self.dir.join(PENDING),
            b"held back until every custodian has verified their secret\n",
            true,
        )
        .map_err(|e| self.io(e))
    }

    /// Whether the authority is held back for custodians.
    pub fn is_held(dir: &Path) -> bool {
        dir.join(PENDING).exists()
    }

    /// Releases a held-back authority.
    pub fn release(&self) -> Result<(), StoreError> {
        std::fs::remove_file(self.dir.join(PENDING)).map_err(|e| self.io(e))
    }

    /// Refuses to work on an authority that is held back for custodians.
    pub fn ensure_released(dir: &Path) -> Result<(), StoreError> {
        if Self::is_held(dir) {
            return Err(StoreError::Refused(format!(
                "the authority in {} is held back until every custodian has verified their disablement secret; \
                 custodians run `locksmith secrets verify --store {0} --custodian NAME --record {0}/verifications.json`, \
                 then `locksmith lock release --store {0}`",
                dir.display()
            )));
        }
        Ok(())
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pinned anchor hash.
    pub fn anchor(&self) -> Result<AumHash, StoreError> {
        let path = self.dir.join("anchor");
        let text = std::fs::read_to_string(&path).map_err(|e| self.io(e))?;
        text.trim().parse().map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: format!("{e}"),
        })
    }

    /// Loads the authority: from the verified cache when it matches the
    /// anchor and every AUM file byte for byte, else by re-verifying the
    /// whole authority from the anchor (and recording a new cache).
    pub fn load(&self) -> Result<Authority, StoreError> {
        let anchor = self.anchor()?;
        let files = self.read_aum_files()?;
        let digest = verified_cache::digest(&anchor, &files);
        if let Some(record) = verified_cache::read(&self.dir) {
            if record.matches(&anchor, files.len(), &digest) {
                if let Some(authority) = self.load_cached(&record, &files) {
                    return Ok(authority);
                }
            }
        }
        let authority = self.verify_files(anchor, files)?;
        // A cache that cannot be written (a read-only store) only costs time.
        let _ = verified_cache::write(
            &self.dir,
            &anchor,
            authority.head(),
            count_of(&authority),
            &digest,
        );
        Ok(authority)
    }

    /// The authority rebuilt from files the cache says were verified, or
    /// `None` to verify in full (any decoding or consistency failure).
    fn load_cached(
        &self,
        record: &verified_cache::Record,
        files: &[(String, Vec<u8>)],
    ) -> Option<Authority> {
        use rayon::prelude::*;
        let aums: Vec<Aum> = files
            .par_iter()
            .map(|(_, bytes)| Aum::decode(bytes).ok())
            .collect::<Option<Vec<Aum>>>()?;
        let authority =
            Authority::from_previously_verified(record.anchor, record.head, aums).ok()?;
        (count_of(&authority) == record.aums).then_some(authority)
    }

    /// Every `aums/*.aum` file (name without extension, bytes), read in
    /// parallel, sorted by name.
    fn read_aum_files(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        use rayon::prelude::*;
        let dir = self.dir.join("aums");
        let entries = std::fs::read_dir(&dir).map_err(|e| self.io(e))?;
        let mut names = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| self.io(e))?.path();
            if path.extension().and_then(|e| e.to_str()) == Some("aum") {
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                names.push(stem.to_string());
            }
        }
        // By name (a string sort; sorting the paths compared components).
        names.sort_unstable();
        names
            .into_par_iter()
            .map(|name| {
                let bytes =
                    std::fs::read(dir.join(format!("{name}.aum"))).map_err(|e| self.io(e))?;
                Ok((name, bytes))
            })
            .collect::<Vec<Result<_, StoreError>>>()
            .into_iter()
            .collect()
    }

    /// Re-verifies the whole authority from the anchor.
    fn verify_files(
        &self,
        anchor: AumHash,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<Authority, StoreError> {
        use rayon::prelude::*;
        let corrupt = |reason: String| StoreError::Corrupt {
            path: self.dir.display().to_string(),
            reason,
        };
        let dir = self.dir.join("aums");
        let decoded: Vec<Result<Aum, StoreError>> = files
            .into_par_iter()
            .map(|(name, bytes)| {
                let path = dir.join(format!("{name}.aum"));
                let aum =
                    Aum::decode(&bytes).map_err(|e| corrupt(format!("{}: {e}", path.display())))?;
                if name.parse::<AumHash>().ok() != Some(aum.hash()) {
                    return Err(corrupt(format!(
                        "{} does not hold the AUM its name says",
                        path.display()
                    )));
                }
                Ok(aum)
            })
            .collect();
        let mut aums = decoded
            .into_iter()
            .collect::<Result<Vec<Aum>, StoreError>>()?;
        let anchor_aum = aums
            .iter()
            .position(|a| a.hash() == anchor)
            .map(|i| aums.swap_remove(i))
            .ok_or_else(|| corrupt(format!("the anchor AUM {anchor} is missing")))?;
        let mut authority =
            Authority::bootstrap(anchor_aum).map_err(|e| corrupt(format!("anchor: {e}")))?;
        if !aums.is_empty() {
            // The anchor is the root; order the rest by their links to it.
            let mut all = vec![authority.head_aum().clone()];
            all.extend(aums);
            let mut ordered = order_by_parent_links(all).map_err(|e| corrupt(e.to_string()))?;
            ordered.remove(0);
            authority
                .inform(ordered)
                .map_err(|e| corrupt(e.to_string()))?;
        }
        Ok(authority)
    }

    /// The AUMs of `authority` whose files this store does not hold yet,
    /// with the path each goes to.
    fn missing_aums<'a>(&self, authority: &'a Authority) -> Vec<(PathBuf, &'a Aum)> {
        authority
            .tree()
            .iter()
            .map(|(hash, aum)| (Self::aum_file(&self.dir, hash), aum))
            .filter(|(path, _)| !path.exists())
            .collect()
    }

    /// The store files of AUMs of `authority` this store does not hold yet
    /// (content-named, one per AUM), for a command that stages them with
    /// its other outputs in one commit; [`Store::note_committed`] follows.
    pub fn new_aum_files(&self, authority: &Authority) -> Vec<(PathBuf, Vec<u8>)> {
        self.missing_aums(authority)
            .into_iter()
            .map(|(path, aum)| (path, aum.serialize()))
            .collect()
    }

    /// After a commit that wrote [`Store::new_aum_files`]: records the
    /// verified cache (a missing or stale cache only costs a full
    /// verification on the next load).
    pub fn note_committed(&self, authority: &Authority) {
        self.record_verified(authority);
    }

    /// Records the verified cache for `authority`, whose AUMs are all on
    /// disk now: re-reads the files, so the record covers exactly them.
    fn record_verified(&self, authority: &Authority) {
        let (Ok(anchor), Ok(files)) = (self.anchor(), self.read_aum_files()) else {
            return;
        };
        if anchor != authority.oldest_ancestor() || files.len() != count_of(authority) {
            return;
        }
        let digest = verified_cache::digest(&anchor, &files);
        let _ = verified_cache::write(&self.dir, &anchor, authority.head(), files.len(), &digest);
    }

    /// Writes every AUM not yet on disk, crash-safely and in one batch:
    /// each goes to a temporary file (not `*.aum`, so loading ignores it),
    /// the file system is synced once, and only then are the files renamed
    /// to their names (never over an existing one) and the directory synced.
    /// A crash leaves the old set plus some complete new AUMs, each already
    /// verified; loading re-verifies them. One sync for the batch instead of
    /// two per AUM (`write_atomic`) is what makes a 100,000-AUM import take
    /// seconds, not minutes.
    fn write_aums(&self, authority: &Authority) -> Result<usize, StoreError> {
        use rayon::prelude::*;
        use std::io::Write;
        let dir = self.dir.join("aums");
        let new = self.missing_aums(authority);
        if new.is_empty() {
            return Ok(0);
        }
        let temps = new
            .par_iter()
            .map(|(path, aum)| {
                let mut tmp = tempfile::Builder::new()
                    .prefix(".locksmith-")
                    .tempfile_in(&dir)
                    .map_err(|e| self.io(e))?;
                tmp.write_all(&aum.serialize()).map_err(|e| self.io(e))?;
                // Closed now: a 100,000-AUM import must not hold 100,000 descriptors.
                Ok((path, tmp.into_temp_path()))
            })
            .collect::<Vec<Result<_, StoreError>>>()
            .into_iter()
            .collect::<Result<Vec<_>, StoreError>>()?;
        sync_files(&dir, temps.iter().map(|(_, t)| t.as_ref())).map_err(|e| self.io(e))?;
        for (path, tmp) in temps {
            match tmp.persist_noclobber(path) {
                Ok(_) => {}
                // Content-named: an existing file of that name is this AUM.
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(self.io(e.error)),
            }
        }
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io(e))?;
        Ok(new.len())
    }

    /// Verifies `updates` against the stored authority and adds them.
    /// Refuses AUMs that do not link to what this store verified. Returns
    /// the new authority and how many AUMs were new.
    pub fn import(&self, updates: Vec<Aum>) -> Result<(Authority, usize), StoreError> {
        let mut authority = self.load()?;
        let known: Vec<Aum> = updates
            .iter()
            .filter(|a| authority.tree().get(&a.hash()).is_none())
            .cloned()
            .collect();
        if known.is_empty() {
            return Ok((authority, 0));
        }
        let ordered =
            order_by_parent_links(known).map_err(|e| StoreError::Refused(e.to_string()))?;
        if let Some(first) = ordered.first() {
            let linked = first
                .parent()
                .is_some_and(|p| authority.tree().get(&p).is_some());
            if !linked {
                return Err(StoreError::Refused(format!(
                    "the imported AUMs do not link to this store's authority (anchor {}): AUM {} has parent {}, which this machine never verified. \
                     Is the export from another tailnet, or older than this store?",
                    authority.oldest_ancestor(),
                    first.hash(),
                    first.parent().map(|p| p.to_string()).unwrap_or_else(|| "none".into())
                )));
            }
        }
        let count = ordered.len();
        authority
            .inform(ordered)
            .map_err(|e| StoreError::Refused(format!("the imported AUMs do not verify: {e}")))?;
        self.write_aums(&authority)?;
        self.record_verified(&authority);
        Ok((authority, count))
    }

    /// Adds AUMs this machine just built and signed (already verified by
    /// informing them into `authority`).
    pub fn save(&self, authority: &Authority) -> Result<usize, StoreError> {
        let written = self.write_aums(authority)?;
        self.record_verified(authority);
        Ok(written)
    }
}

/// Makes the data of `files` (all in `dir`) durable: one `syncfs` of the
/// file system on Linux, each file's own sync elsewhere or if that fails.
fn sync_files<'a>(dir: &Path, files: impl Iterator<Item = &'a Path>) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Ok(d) = File::open(dir) {
        if rustix::fs::syncfs(&d).is_ok() {
            return Ok(());
        }
    }
    let _ = dir;
    for f in files {
        File::open(f)?.sync_all()?;
    }
    Ok(())
}

/// How many AUMs an authority holds (one file each in the store).
fn count_of(authority: &Authority) -> usize {
    authority.tree().len()
}
