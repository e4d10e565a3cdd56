//! The ceremony transcript: a hash-chained JSON Lines log of every command
//! that signed or generated, each record signed by the token that acted.
//!
//! One record per line. Each record carries the SHA-256 of the previous
//! line (its exact bytes, without the newline; 64 zeros for the first),
//! and one Ed25519 signature per acting key over the 56-byte message
//! `"locksmith transcript v2\0" || SHA-256(body)`, where `body` is the
//! record without its `signatures` field, serialized as compact JSON in
//! field order. A line must be exactly the compact serialization of the
//! record it holds, so changing any byte of it is caught at that record.
//!
//! Invariant (domain separation): the token is never asked to sign a bare
//! 32-byte value for a transcript record. AUM and node-key signatures are
//! pure Ed25519 over a bare 32-byte BLAKE2s SigHash; a transcript message
//! is 56 bytes and starts with the domain string, so neither kind of
//! signature can stand for the other, whatever the hashes.
//!
//! Version 1 records (before this rule) signed the bare 32-byte
//! `SHA-256("locksmith transcript v1\0" || body)`. They are still verified,
//! so transcripts of past ceremonies keep their evidence, and counted as
//! legacy by `ceremony verify`; new records are always version 2, and a
//! version 1 record after a version 2 record is refused (a downgrade).
//!
//! Appends are atomic: the whole line is written with one `write` to a file
//! opened for appending, then synced, under an exclusive lock on
//! `<log>.lock` (not the store's `lock`, which the signing command may
//! already hold). Nothing secret is recorded: the summary shown, sighashes,
//! public keys, and SHA-256 hashes of public artifacts.

use crate::tka::signer::{sign_message_verified, Signer};
use crate::tka::{hex, keyforms::tlpub_text};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The domain prefix of a transcript signature's message.
pub const DOMAIN: &[u8] = b"locksmith transcript v2\0";
/// The domain string hashed into version 1 records' bare 32-byte digest.
pub const LEGACY_V1_DOMAIN: &[u8] = b"locksmith transcript v1\0";
/// The transcript file name inside a store directory.
pub const FILE_NAME: &str = "transcript.jsonl";
/// The record format version written.
pub const VERSION: u32 = 2;
/// The oldest record format version still verified.
pub const LEGACY_VERSION: u32 = 1;

/// A named SHA-256 hash of an input or output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedHash {
    pub name: String,
    pub sha256: String,
}

/// A key that acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerInfo {
    pub tlpub: String,
    pub token: String,
    pub custody: String,
}

/// A record's signature by one acting key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSignature {
    pub tlpub: String,
    pub signature: String,
}

/// Everything a record says, except its signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordBody {
    pub version: u32,
    pub seq: u64,
    pub prev: String,
    pub time: String,
    pub command: String,
    pub operator: Option<String>,
    pub witnesses: Vec<String>,
    pub shown: String,
    pub signed: Vec<String>,
    pub inputs: Vec<NamedHash>,
    pub outputs: Vec<NamedHash>,
    pub signers: Vec<SignerInfo>,
    /// PIV attestations of the keys the command generated or used (chain,
    /// verdict, policies asked, any override), for `ceremony verify` to
    /// re-check. Absent (not serialized) when empty, so records without
    /// one keep their exact form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<crate::signers::piv_attestation::Evidence>,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    #[serde(flatten)]
    pub body: RecordBody,
    pub signatures: Vec<RecordSignature>,
}

/// What a command contributes to its record.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub command: String,
    pub shown: String,
    pub signed: Vec<[u8; 32]>,
    pub inputs: Vec<NamedHash>,
    pub outputs: Vec<NamedHash>,
    pub attestations: Vec<crate::signers::piv_attestation::Evidence>,
}

impl Entry {
    /// A record of `command` (e.g. `lock init`) that showed `shown`.
    pub fn new(command: impl Into<String>, shown: impl Into<String>) -> Self {
        Entry {
            command: command.into(),
            shown: shown.into(),
            ..Default::default()
        }
    }

    /// Adds the digests the token signed (SigHashes).
    pub fn signed(mut self, digests: impl IntoIterator<Item = [u8; 32]>) -> Self {
        self.signed.extend(digests);
        self
    }

    /// Adds the SHA-256 of an input (public data only).
    pub fn input(mut self, name: impl Into<String>, bytes: &[u8]) -> Self {
        self.inputs.push(named_hash(name, bytes));
        self
    }

    /// Adds the attestations of the keys involved.
    pub fn attestations(
        mut self,
        evidence: impl IntoIterator<Item = crate::signers::piv_attestation::Evidence>,
    ) -> Self {
        self.attestations.extend(evidence);
        self
    }

    /// Adds the SHA-256 of an output (public data only).
    pub fn output(mut self, name: impl Into<String>, bytes: &[u8]) -> Self {
        self.outputs.push(named_hash(name, bytes));
        self
    }
}

/// Who ran the ceremony, as the operator typed it.
#[derive(Debug, Clone, Default)]
pub struct People {
    pub operator: Option<String>,
    pub witnesses: Vec<String>,
}

fn named_hash(name: impl Into<String>, bytes: &[u8]) -> NamedHash {
    NamedHash {
        name: name.into(),
        sha256: hex::lower(&Sha256::digest(bytes)),
    }
}

/// Why a transcript could not be appended to or read.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("transcript {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("transcript {path}: its last line is incomplete (no newline at the end); an append was interrupted or the file was edited. Run `locksmith ceremony verify {path}`, keep the file as evidence, and start a new transcript with --transcript FILE")]
    Torn { path: String },
    #[error("transcript {path}: record {record}: {reason}")]
    Bad {
        path: String,
        record: u64,
        reason: String,
    },
    #[error("signing the transcript record: {0}")]
    Sign(#[from] crate::tka::Error),
}

impl TranscriptError {
    /// The 1-based record number at fault, for verification failures.
    pub fn record(&self) -> Option<u64> {
        match self {
            TranscriptError::Bad { record, .. } => Some(*record),
            _ => None,
        }
    }
}

/// The message a version 2 record's signatures sign:
/// `DOMAIN || SHA-256(body)`, 56 bytes (never a SigHash's 32).
pub fn signing_message(body: &RecordBody) -> Vec<u8> {
    let mut m = DOMAIN.to_vec();
    m.extend_from_slice(&Sha256::digest(canonical_body(body)));
    m
}

/// The bare 32-byte digest a version 1 record's signatures signed
/// (verification of old transcripts only; never signed any more).
pub fn legacy_v1_digest(body: &RecordBody) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(LEGACY_V1_DOMAIN);
    h.update(canonical_body(body));
    h.finalize().into()
}

/// The bytes a record's signatures are checked against, by its version.
fn signed_bytes(body: &RecordBody) -> Vec<u8> {
    if body.version == LEGACY_VERSION {
        legacy_v1_digest(body).to_vec()
    } else {
        signing_message(body)
    }
}

fn canonical_body(body: &RecordBody) -> Vec<u8> {
    // Serializing plain strings, numbers and vectors cannot fail.
    serde_json::to_vec(body).unwrap_or_default()
}

/// The chain hash of a line (its bytes without the newline).
pub fn line_hash(line: &[u8]) -> String {
    hex::lower(&Sha256::digest(line))
}

const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The transcript inside a store directory.
pub fn store_transcript(store: &Path) -> PathBuf {
    store.join(FILE_NAME)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// A record signed and ready to be appended: the whole new transcript
/// (the existing lines and the record's), for a commit unit to write in
/// place of the old file, and the transcript's lock, held until then.
pub struct Prepared {
    pub path: PathBuf,
    pub record: Record,
    /// The old content followed by the new line.
    pub contents: Vec<u8>,
    /// The new line alone (with its newline).
    pub line: Vec<u8>,
    /// Held until the new content is in place (none when the directory
    /// does not exist yet).
    pub lock: Option<std::fs::File>,
}

/// Signs `entry` as the next record of the transcript at `path` (created
/// if missing) by every signer in `signers`, without writing it.
pub fn prepare(
    path: &Path,
    entry: &Entry,
    people: &People,
    signers: &mut [Box<dyn Signer>],
) -> Result<Prepared, TranscriptError> {
    let shown = path.display().to_string();
    let io = |e: std::io::Error| TranscriptError::Io {
        path: shown.clone(),
        reason: e.to_string(),
    };
    // A transcript in a directory that does not exist yet (a store being
    // created by the same commit) has no other writer to lock out.
    let dir_exists = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .is_none_or(|d| d.is_dir());
    let lock = if dir_exists {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(path))
            .map_err(io)?;
        lock.lock().map_err(io)?;
        Some(lock)
    } else {
        None
    };

    let existing = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io(e)),
    };
    if !existing.is_empty() && !existing.ends_with(b"\n") {
        return Err(TranscriptError::Torn {
            path: shown.clone(),
        });
    }
    let lines: Vec<&[u8]> = existing
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let prev = lines
        .last()
        .map(|l| line_hash(l))
        .unwrap_or_else(|| GENESIS_PREV.to_string());
    let time = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let body = RecordBody {
        version: VERSION,
        seq: lines.len() as u64 + 1,
        prev,
        time,
        command: entry.command.clone(),
        operator: people.operator.clone(),
        witnesses: people.witnesses.clone(),
        shown: entry.shown.clone(),
        signed: entry.signed.iter().map(|d| hex::lower(d)).collect(),
        inputs: entry.inputs.clone(),
        outputs: entry.outputs.clone(),
        attestations: entry.attestations.clone(),
        signers: signers
            .iter()
            .map(|s| SignerInfo {
                tlpub: tlpub_text(&s.public_key()),
                token: s.describe(),
                custody: s.custody().label().to_string(),
            })
            .collect(),
    };
    let message = signing_message(&body);
    let mut signatures = Vec::new();
    for s in signers.iter_mut() {
        let sig = sign_message_verified(s.as_mut(), &message)?;
        signatures.push(RecordSignature {
            tlpub: tlpub_text(&s.public_key()),
            signature: hex::lower(&sig),
        });
    }
    let record = Record { body, signatures };
    let mut line = serde_json::to_vec(&record).map_err(|e| TranscriptError::Io {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    line.push(b'\n');
    let mut contents = existing;
    contents.extend_from_slice(&line);
    Ok(Prepared {
        path: path.to_path_buf(),
        record,
        contents,
        line,
        lock,
    })
}

/// Appends `entry` to the transcript at `path` (created if missing), signed
/// by every signer in `signers`. Returns the record written.
pub fn append(
    path: &Path,
    entry: &Entry,
    people: &People,
    signers: &mut [Box<dyn Signer>],
) -> Result<Record, TranscriptError> {
    let shown = path.display().to_string();
    let io = |e: std::io::Error| TranscriptError::Io {
        path: shown.clone(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let Prepared {
        record, line, lock, ..
    } = prepare(path, entry, people, signers)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    // One write of the whole line; a short write is reported, not retried,
    // so no record is ever split across two writes.
    let n = file.write(&line).map_err(io)?;
    if n != line.len() {
        return Err(io(std::io::Error::other(format!(
            "short write ({n} of {} bytes); the last line is torn",
            line.len()
        ))));
    }
    file.sync_all().map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    drop(lock);
    Ok(record)
}

/// Reads and verifies a transcript: every line parses, is in canonical
/// form, links to the line before, is numbered in order, and carries a
/// valid signature by each signer it names. `trusted`, when given, is the
/// set of keys every signer must belong to.
pub fn verify(path: &Path, trusted: Option<&[[u8; 32]]>) -> Result<Vec<Record>, TranscriptError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| TranscriptError::Io {
        path: shown.clone(),
        reason: crate::input::path_hint::io_reason(path, &e),
    })?;
    verify_bytes(&shown, &bytes, trusted)
}

/// [`verify`] on bytes already read; `name` names them in errors.
pub fn verify_bytes(
    name: &str,
    bytes: &[u8],
    trusted: Option<&[[u8; 32]]>,
) -> Result<Vec<Record>, TranscriptError> {
    if bytes.len() as u64 > crate::limits::MAX_TRANSCRIPT_BYTES {
        return Err(TranscriptError::Io {
            path: name.to_string(),
            reason: format!(
                "{} bytes, over the {}-byte limit for a transcript",
                bytes.len(),
                crate::limits::MAX_TRANSCRIPT_BYTES
            ),
        });
    }
    let mut records = Vec::new();
    let mut prev = GENESIS_PREV.to_string();
    let mut rest = bytes;
    let mut n: u64 = 0;
    let mut newest_version = LEGACY_VERSION;
    while !rest.is_empty() {
        n += 1;
        let bad = |reason: String| TranscriptError::Bad {
            path: name.to_string(),
            record: n,
            reason,
        };
        let (line, tail) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => {
                return Err(bad(
                    "the line does not end with a newline (torn append or edited file)".into(),
                ))
            }
        };
        rest = tail;
        crate::limits::check_text(
            line,
            "the line",
            crate::limits::Syntax::Json,
            crate::limits::MAX_TRANSCRIPT_LINE_BYTES,
            crate::limits::MAX_TRANSCRIPT_DEPTH,
        )
        .map_err(bad)?;
        let record: Record = serde_json::from_slice(line)
            .map_err(|e| bad(format!("not a transcript record: {e}")))?;
        let canonical = serde_json::to_vec(&record).unwrap_or_default();
        if canonical != line {
            return Err(bad(
                "the line is not in canonical form (it was edited after it was written)".into(),
            ));
        }
        let b = &record.body;
        if b.version != VERSION && b.version != LEGACY_VERSION {
            return Err(bad(format!(
                "unknown version {} (this locksmith reads versions {LEGACY_VERSION} and {VERSION})",
                b.version
            )));
        }
        if b.version < newest_version {
            return Err(bad(format!(
                "a version {} record after a version {newest_version} record: records are never \
                 written in an older format, so this one was added or edited later",
                b.version
            )));
        }
        newest_version = b.version;
        if b.seq != n {
            return Err(bad(format!(
                "sequence number {} where {n} was expected (a record was removed, added or reordered)",
                b.seq
            )));
        }
        if b.prev != prev {
            return Err(bad(format!(
                "previous-record hash {} does not match the record before it ({prev}): a record was changed, removed or inserted",
                b.prev
            )));
        }
        if b.signers.is_empty() || b.signers.len() != record.signatures.len() {
            return Err(bad(format!(
                "{} signer(s) named but {} signature(s) given",
                b.signers.len(),
                record.signatures.len()
            )));
        }
        let signed = signed_bytes(b);
        for (info, sig) in b.signers.iter().zip(&record.signatures) {
            if info.tlpub != sig.tlpub {
                return Err(bad(format!(
                    "signature by {} where {} was named",
                    sig.tlpub, info.tlpub
                )));
            }
            let public = crate::tka::keyforms::parse_lock_key(&sig.tlpub)
                .map_err(|e| bad(format!("signer key {}: {e}", sig.tlpub)))?;
            let signature: [u8; 64] = hex::decode(&sig.signature)
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| bad(format!("signature by {} is not 64 hex bytes", sig.tlpub)))?;
            if !crate::tka::sig::verify_zip215(&public, &signed, &signature) {
                return Err(bad(format!(
                    "the signature by {} does not verify: the record was changed after it was signed",
                    sig.tlpub
                )));
            }
            if let Some(keys) = trusted {
                if !keys.contains(&public) {
                    return Err(bad(format!(
                        "signer {} is not a trusted key of the authority in the store",
                        sig.tlpub
                    )));
                }
            }
        }
        prev = line_hash(line);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tka::signer::{KeyCustody, SignerError, SoftwareSigner};

    /// What a [`Recording`] signer was asked: digests signed, message lengths.
    type Asked = std::rc::Rc<std::cell::RefCell<(usize, Vec<usize>)>>;

    /// A software key that remembers what it was asked to sign.
    struct Recording {
        inner: SoftwareSigner,
        asked: Asked,
    }

    impl Signer for Recording {
        fn public_key(&self) -> [u8; 32] {
            self.inner.public_key()
        }
        fn custody(&self) -> KeyCustody {
            KeyCustody::Software
        }
        fn describe(&self) -> String {
            "recording test key".into()
        }
        fn sign_digest(&mut self, digest: &[u8; 32]) -> Result<[u8; 64], SignerError> {
            self.asked.borrow_mut().0 += 1;
            self.inner.sign_digest(digest)
        }
        fn sign_message(&mut self, message: &[u8]) -> Result<[u8; 64], SignerError> {
            self.asked.borrow_mut().1.push(message.len());
            self.inner.sign_message(message)
        }
    }

    fn entry() -> Entry {
        Entry::new("lock sign", "About to sign…").signed([[7u8; 32]])
    }

    #[test]
    fn records_are_signed_over_a_domain_prefixed_56_byte_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let asked = Asked::default();
        let signer = Recording {
            inner: SoftwareSigner::from_seed(&[3; 32], "t"),
            asked: asked.clone(),
        };
        let public = signer.public_key();
        let mut signers: Vec<Box<dyn Signer>> = vec![Box::new(signer)];
        let rec = append(&path, &entry(), &People::default(), &mut signers).unwrap();
        assert_eq!(rec.body.version, 2);
        let message = signing_message(&rec.body);
        assert_eq!(message.len(), 56);
        assert!(message.starts_with(b"locksmith transcript v2\0"));
        let sig: [u8; 64] = hex::decode(&rec.signatures[0].signature)
            .unwrap()
            .try_into()
            .unwrap();
        assert!(crate::tka::sig::verify_zip215(&public, &message, &sig));
        // Not a signature over any 32-byte value a SigHash could be.
        assert!(!crate::tka::sig::verify_zip215(
            &public,
            &message[DOMAIN.len()..],
            &sig
        ));
        assert!(!crate::tka::sig::verify_zip215(
            &public,
            &legacy_v1_digest(&rec.body),
            &sig
        ));
        assert_eq!(verify(&path, Some(&[public])).unwrap().len(), 1);

        // Another append: the token is asked for 56-byte messages only, never a digest.
        append(&path, &entry(), &People::default(), &mut signers).unwrap();
        assert_eq!(*asked.borrow(), (0, vec![56, 56]));
        assert_eq!(verify(&path, None).unwrap().len(), 2);
    }

    #[test]
    fn a_32_byte_record_message_is_refused() {
        let mut s = SoftwareSigner::from_seed(&[1; 32], "t");
        assert!(s.sign_message(&[0; 32]).is_err());
        assert!(sign_message_verified(&mut s, &[0; 32]).is_err());
        assert!(sign_message_verified(&mut s, &[0; 56]).is_ok());
    }

    /// A version 1 line as locksmith wrote it before domain separation.
    fn legacy_line(seed: u8, seq: u64, prev: &str) -> Vec<u8> {
        let mut signer = SoftwareSigner::from_seed(&[seed; 32], "old");
        let body = RecordBody {
            version: LEGACY_VERSION,
            seq,
            prev: prev.to_string(),
            time: "2026-01-01T00:00:00Z".into(),
            command: "lock init".into(),
            operator: None,
            witnesses: vec![],
            shown: "old".into(),
            signed: vec![],
            inputs: vec![],
            outputs: vec![],
            signers: vec![SignerInfo {
                tlpub: tlpub_text(&signer.public_key()),
                token: "old".into(),
                custody: "hardware-backed".into(),
            }],
            attestations: vec![],
        };
        let sig = signer.sign_digest(&legacy_v1_digest(&body)).unwrap();
        let record = Record {
            signatures: vec![RecordSignature {
                tlpub: tlpub_text(&signer.public_key()),
                signature: hex::lower(&sig),
            }],
            body,
        };
        serde_json::to_vec(&record).unwrap()
    }

    #[test]
    fn version_1_records_still_verify_but_never_after_version_2() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut old = legacy_line(5, 1, GENESIS_PREV);
        old.push(b'\n');
        std::fs::write(&path, &old).unwrap();
        assert_eq!(verify(&path, None).unwrap()[0].body.version, 1);
        // A new record continues the chain in version 2.
        let mut signers: Vec<Box<dyn Signer>> =
            vec![Box::new(SoftwareSigner::from_seed(&[5; 32], "new"))];
        let rec = append(&path, &entry(), &People::default(), &mut signers).unwrap();
        assert_eq!((rec.body.seq, rec.body.version), (2, 2));
        let records = verify(&path, None).unwrap();
        assert_eq!(
            records.iter().map(|r| r.body.version).collect::<Vec<_>>(),
            [1, 2]
        );
        // A version 1 record appended after it is a downgrade.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes[..bytes.len() - 1]
            .split(|b| *b == b'\n')
            .next_back()
            .map(line_hash)
            .unwrap();
        bytes.extend(legacy_line(5, 3, &last));
        bytes.push(b'\n');
        let err = verify_bytes("t", &bytes, None).unwrap_err();
        assert_eq!(err.record(), Some(3), "{err}");
        assert!(
            err.to_string()
                .contains("version 1 record after a version 2"),
            "{err}"
        );
    }
}
