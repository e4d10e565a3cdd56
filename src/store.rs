//! The local authority store on the offline machine: a directory holding
//! every AUM this machine has verified, pinned to the AUM it started from.
//!
//! Layout:
//! - `anchor`: the base32 hash of the pinned genesis (or first checkpoint).
//!   Written once; later imports must link to what this machine verified.
//! - `aums/<BASE32 HASH>.aum`: one verified AUM's canonical CBOR, for each
//!   AUM this machine signed (`lock init`, `add/remove/update`,
//!   `revoke-keys --finish`: the names those commands print).
//! - `aums/<HEX DIGEST>.pack`: the AUMs of one `lock import` in one file
//!   (`store/pack.rs`), so that importing 10,000 AUMs is one file.
//! - `lock`: an advisory lock file (exclusive for writers, shared for readers).
//! - `verified-cache`: what the last full verification established (see
//!   `verified_cache`): anchor, head, AUM count and a BLAKE2s digest of the
//!   anchor and every AUM file's (`.aum` and `.pack`) name and bytes.
//! - `held-for-custodians`: present while `lock init --await-custodians`
//!   holds the new authority back; `verifications.json` records who verified.
//!
//! Crash safety: every file is written atomically (temporary file, fsync,
//! rename) and named by its content's hash, so a crash leaves either the
//! old or the new set of complete AUMs, and loading re-verifies everything
//! from the anchor unless the verified cache matches every file byte for
//! byte. Concurrency: writers hold the exclusive lock for the
//! whole load-verify-write cycle, so two writers cannot interleave.

pub mod pack;
mod verified_cache;

use crate::output::write_atomic;
use crate::tka::hash::blake2s;
use crate::tka::recovery::{check_imported_checkpoints, UnseenRecovery};
use crate::tka::{order_by_parent_links, Aum, AumHash, Authority};
use std::collections::HashSet;
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
            if record.matches(&anchor, record.aums, &digest) {
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
        let stored = self.stored_aums(files).ok()?;
        let mut aums: Vec<Aum> = stored
            .par_iter()
            .map(|s| Aum::decode(s.bytes).ok())
            .collect::<Option<Vec<Aum>>>()?;
        dedup_by_hash(&mut aums);
        let authority =
            Authority::from_previously_verified(record.anchor, record.head, aums).ok()?;
        (count_of(&authority) == record.aums).then_some(authority)
    }

    /// Every AUM file of the store (`aums/*.aum` and `aums/*.pack`, file
    /// name and bytes), read in parallel, sorted by name.
    fn read_aum_files(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        use rayon::prelude::*;
        let dir = self.dir.join("aums");
        let names = self.aum_file_names()?;
        names
            .into_par_iter()
            .map(|name| {
                let bytes = std::fs::read(dir.join(&name)).map_err(|e| self.io(e))?;
                Ok((name, bytes))
            })
            .collect::<Vec<Result<_, StoreError>>>()
            .into_iter()
            .collect()
    }

    /// The names of the store's AUM files (`*.aum`, `*.pack`), sorted.
    fn aum_file_names(&self) -> Result<Vec<String>, StoreError> {
        let entries = std::fs::read_dir(self.dir.join("aums")).map_err(|e| self.io(e))?;
        let mut names = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| self.io(e))?.file_name();
            let Some(name) = name.to_str() else { continue };
            if stored_form(name).is_some() {
                names.push(name.to_string());
            }
        }
        // By name (a string sort; sorting the paths compared components).
        names.sort_unstable();
        Ok(names)
    }

    /// Every AUM in `files` (from [`Store::read_aum_files`]): where it is,
    /// its bytes, and for an `.aum` file the hash its name says. Refuses a
    /// pack that cannot be read or does not match its name.
    fn stored_aums<'a>(
        &self,
        files: &'a [(String, Vec<u8>)],
    ) -> Result<Vec<StoredAum<'a>>, StoreError> {
        let mut out = Vec::with_capacity(files.len());
        for (name, bytes) in files {
            match stored_form(name) {
                Some(StoredForm::Aum(stem)) => out.push(StoredAum {
                    file: name,
                    record: None,
                    named: Some(stem),
                    bytes,
                }),
                Some(StoredForm::Pack(stem)) => {
                    let records = pack::decode(stem, bytes).map_err(|e| StoreError::Corrupt {
                        path: self.dir.join("aums").join(name).display().to_string(),
                        reason: e.to_string(),
                    })?;
                    out.extend(records.into_iter().enumerate().map(|(i, bytes)| StoredAum {
                        file: name,
                        record: Some(i),
                        named: None,
                        bytes,
                    }));
                }
                None => {}
            }
        }
        Ok(out)
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
        let stored = self.stored_aums(&files)?;
        let decoded: Vec<Result<Aum, StoreError>> = stored
            .into_par_iter()
            .map(|s| {
                let path = dir.join(s.file);
                let place = match s.record {
                    Some(i) => format!("{} (AUM {i})", path.display()),
                    None => path.display().to_string(),
                };
                let aum = Aum::decode(s.bytes).map_err(|e| corrupt(format!("{place}: {e}")))?;
                if let Some(named) = s.named {
                    if named.parse::<AumHash>().ok() != Some(aum.hash()) {
                        return Err(corrupt(format!(
                            "{place} does not hold the AUM its name says"
                        )));
                    }
                }
                Ok(aum)
            })
            .collect();
        let mut aums = decoded
            .into_iter()
            .collect::<Result<Vec<Aum>, StoreError>>()?;
        dedup_by_hash(&mut aums);
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

    /// The hashes of the AUMs the store's files hold (an unreadable pack
    /// counts as holding nothing: its AUMs are written again).
    fn stored_hashes(&self) -> HashSet<AumHash> {
        let Ok(names) = self.aum_file_names() else {
            return HashSet::new();
        };
        let mut hashes = HashSet::with_capacity(names.len());
        for name in &names {
            match stored_form(name) {
                Some(StoredForm::Aum(stem)) => {
                    if let Ok(hash) = stem.parse() {
                        hashes.insert(hash);
                    }
                }
                Some(StoredForm::Pack(stem)) => {
                    let Ok(bytes) = std::fs::read(self.dir.join("aums").join(name)) else {
                        continue;
                    };
                    if let Ok(records) = pack::decode(stem, &bytes) {
                        hashes.extend(records.iter().map(|r| AumHash(blake2s(r))));
                    }
                }
                None => {}
            }
        }
        hashes
    }

    /// The AUMs of `authority` whose files this store does not hold yet,
    /// with the path each goes to as an `.aum` file.
    fn missing_aums<'a>(&self, authority: &'a Authority) -> Vec<(PathBuf, &'a Aum)> {
        let stored = self.stored_hashes();
        authority
            .tree()
            .iter()
            .filter(|(hash, _)| !stored.contains(hash))
            .map(|(hash, aum)| (Self::aum_file(&self.dir, hash), aum))
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
        let Ok(stored) = self.stored_aums(&files) else {
            return;
        };
        let count = distinct_count(&stored);
        if anchor != authority.oldest_ancestor() || count != count_of(authority) {
            return;
        }
        let digest = verified_cache::digest(&anchor, &files);
        let _ = verified_cache::write(&self.dir, &anchor, authority.head(), count, &digest);
    }

    /// Writes every AUM not yet in the store as one pack file
    /// (`store/pack.rs`), crash-safely: a temporary file (not `*.aum` or
    /// `*.pack`, so loading ignores it), synced, renamed to its
    /// content-derived name (never over an existing one), the directory
    /// synced. A crash leaves the old set, or the old set and the complete
    /// pack; loading re-verifies it. One file for the batch instead of one
    /// per AUM is what makes a 10,000-AUM import one file creation, not
    /// 10,000.
    fn write_aums(&self, authority: &Authority) -> Result<usize, StoreError> {
        let Some((path, bytes, count)) = self.pack_of(authority) else {
            return Ok(0);
        };
        match write_atomic(&path, &bytes, false) {
            Ok(()) => {}
            // Content-named: an existing pack of that name holds these bytes.
            Err(crate::output::OutputError::Exists(_)) => {}
            Err(e) => return Err(self.io(e)),
        }
        Ok(count)
    }

    /// The pack of every AUM of `authority` this store does not hold yet:
    /// its path, bytes and how many AUMs it holds (none: nothing is new).
    fn pack_of(&self, authority: &Authority) -> Option<(PathBuf, Vec<u8>, usize)> {
        let new = self.missing_aums(authority);
        if new.is_empty() {
            return None;
        }
        let records: Vec<Vec<u8>> = new.iter().map(|(_, aum)| aum.serialize()).collect();
        let bytes = pack::encode(records.iter().map(Vec::as_slice));
        let path = self.dir.join("aums").join(pack::file_name(&bytes));
        Some((path, bytes, new.len()))
    }

    /// The store file an import adds (one pack; none when nothing is new),
    /// for a command that stages it with its other outputs in one commit
    /// (content-named: an existing file of that name holds these bytes);
    /// [`Store::note_committed`] follows.
    pub fn import_file(&self, plan: &ImportPlan) -> Option<(PathBuf, Vec<u8>)> {
        self.pack_of(&plan.after)
            .map(|(path, bytes, _)| (path, bytes))
    }

    /// Verifies `updates` against the stored authority and adds them
    /// ([`Store::plan_import`] then [`Store::commit_import`]; recovery
    /// checkpoints this machine cannot rebuild are refused).
    pub fn import(&self, updates: Vec<Aum>) -> Result<(Authority, usize), StoreError> {
        let plan = self.plan_import(updates, false)?;
        self.commit_import(&plan)?;
        Ok((plan.after, plan.added))
    }

    /// Verifies `updates` against the stored authority without writing
    /// anything: they must link to what this store verified, verify, and
    /// every checkpoint among them must restate its parent's state or be a
    /// recovery this machine rebuilds ([`check_imported_checkpoints`]; with
    /// `accept_unseen`, one it cannot rebuild is listed in the plan for the
    /// caller to show and record instead of refused).
    pub fn plan_import(
        &self,
        updates: Vec<Aum>,
        accept_unseen: bool,
    ) -> Result<ImportPlan, StoreError> {
        let before = self.load()?;
        // Each update hashed once here; the new ones moved, not copied.
        let mut new = Vec::with_capacity(updates.len());
        let mut new_hashes = Vec::with_capacity(updates.len());
        for aum in updates {
            let hash = aum.hash();
            if before.tree().get(&hash).is_none() {
                new_hashes.push(hash);
                new.push(aum);
            }
        }
        if new.is_empty() {
            return Ok(ImportPlan {
                after: before,
                added: 0,
                unseen: Vec::new(),
            });
        }
        let ordered = order_by_parent_links(new).map_err(|e| StoreError::Refused(e.to_string()))?;
        if let Some(first) = ordered.first() {
            let linked = first
                .parent()
                .is_some_and(|p| before.tree().get(&p).is_some());
            if !linked {
                return Err(StoreError::Refused(format!(
                    "the imported AUMs do not link to this store's authority (anchor {}): AUM {} has parent {}, which this machine never verified. \
                     Is the export from another tailnet, or older than this store?",
                    before.oldest_ancestor(),
                    first.hash(),
                    first.parent().map(|p| p.to_string()).unwrap_or_else(|| "none".into())
                )));
            }
        }
        let added = ordered.len();
        let mut after = before.clone();
        after
            .inform(ordered)
            .map_err(|e| StoreError::Refused(format!("the imported AUMs do not verify: {e}")))?;
        let unseen = check_imported_checkpoints(&before, &after, &new_hashes, accept_unseen)
            .map_err(|e| {
                StoreError::Refused(format!(
                    "a checkpoint in the import replaces the state: {e}"
                ))
            })?;
        Ok(ImportPlan {
            after,
            added,
            unseen,
        })
    }

    /// Writes what [`Store::plan_import`] verified (one pack file) and
    /// records the verified cache. Call with the same exclusive `Store`.
    pub fn commit_import(&self, plan: &ImportPlan) -> Result<usize, StoreError> {
        let written = self.write_aums(&plan.after)?;
        self.record_verified(&plan.after);
        Ok(written)
    }
}

/// A verified import, not written yet.
pub struct ImportPlan {
    /// The store's authority with the import informed.
    pub after: Authority,
    /// How many AUMs are new.
    pub added: usize,
    /// Recovery checkpoints accepted without a rebuild (`accept_unseen`).
    pub unseen: Vec<UnseenRecovery>,
}

/// How many AUMs an authority holds.
fn count_of(authority: &Authority) -> usize {
    authority.tree().len()
}

/// One AUM as the store holds it: in which file, which record of a pack,
/// the hash an `.aum` file's name says, its bytes.
struct StoredAum<'a> {
    file: &'a str,
    record: Option<usize>,
    named: Option<&'a str>,
    bytes: &'a [u8],
}

/// The two forms of AUM file in `aums/`.
enum StoredForm<'a> {
    /// `HASH.aum`: one AUM (what this machine signed, or older stores).
    Aum(&'a str),
    /// `DIGEST.pack`: the AUMs of one import.
    Pack(&'a str),
}

fn stored_form(name: &str) -> Option<StoredForm<'_>> {
    if name.starts_with('.') {
        return None;
    }
    if let Some(stem) = name.strip_suffix(".aum") {
        return Some(StoredForm::Aum(stem));
    }
    name.strip_suffix(".pack").map(StoredForm::Pack)
}

/// How many different AUMs the stored records are (an AUM may be in a pack
/// and in an `.aum` file).
fn distinct_count(stored: &[StoredAum<'_>]) -> usize {
    stored
        .iter()
        .map(|s| blake2s(s.bytes))
        .collect::<HashSet<_>>()
        .len()
}

/// Drops later copies of the same AUM (a store keeps an AUM it signed as
/// its own file even when an import's pack holds it too).
pub fn dedup_by_hash(aums: &mut Vec<Aum>) {
    let mut seen = HashSet::with_capacity(aums.len());
    aums.retain(|a| seen.insert(a.hash()));
}
