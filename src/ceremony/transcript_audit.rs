//! Checking and printing a kept transcript (`ceremony verify`, `ceremony
//! print`): the hash chain and every record's signature, optionally every
//! signer against the keys a store's authority ever trusted, the kept
//! YubiKey attestations against the bundled roots; and the printout
//! (HTML and PDF, written together as one commit unit).

use crate::attestation_policy::{load_trust, recheck_records, AttestationError};
use crate::ceremony::commit::{CommitUnit, Existing, Parent};
use crate::ceremony::error::Context;
use crate::store::Store;
use crate::transcript::{self, TranscriptError, LEGACY_VERSION};
use std::path::{Path, PathBuf};

/// What a transcript check found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Audit {
    pub records: usize,
    /// Records in the old version 1 format (token signature over a bare digest).
    pub legacy_v1_records: usize,
    /// The chain hash of the last record (what the next record points to).
    pub last_record_sha256: String,
    pub signers_checked_against_store: bool,
    /// One line per kept attestation, re-checked.
    pub attestations: Vec<String>,
}

/// Why a transcript did not pass.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A record breaks the chain or its signature does not verify.
    #[error(transparent)]
    Record(#[from] TranscriptError),
    /// A kept attestation does not re-check.
    #[error(transparent)]
    Attestation(AttestationError),
    /// The check could not be made (the store, the roots, the file).
    #[error(transparent)]
    Setup(crate::ceremony::Error),
}

/// Every key any AUM of the store's authority trusted (the signers a
/// transcript of that authority may hold).
pub fn ever_trusted(dir: &Path) -> crate::ceremony::error::Result<Vec<[u8; 32]>> {
    let store = Store::open(dir, false)?;
    let authority = store.load()?;
    let mut keys: Vec<[u8; 32]> = Vec::new();
    let mut add = |k: &crate::tka::Key| {
        if let Some(p) = k
            .public
            .as_deref()
            .and_then(|p| <[u8; 32]>::try_from(p).ok())
        {
            if !keys.contains(&p) {
                keys.push(p);
            }
        }
    };
    for (_, aum) in authority.tree().iter() {
        if let Some(st) = &aum.state {
            st.keys().iter().for_each(&mut add);
        }
        if let Some(k) = &aum.key {
            add(k);
        }
    }
    Ok(keys)
}

/// The chain hash of the transcript's last line (empty for an empty file).
pub fn last_record_hash(log: &Path) -> crate::ceremony::error::Result<String> {
    let bytes = std::fs::read(log).with_context(|| format!("reading {}", log.display()))?;
    Ok(bytes
        .split(|b| *b == b'\n')
        .rfind(|l| !l.is_empty())
        .map(transcript::line_hash)
        .unwrap_or_default())
}

/// Checks the transcript at `log`; with `store`, every signer must be a
/// key that store's authority ever trusted. `test_roots` adds TEST
/// attestation roots (the virtual test card's).
pub fn audit(
    log: &Path,
    store: Option<&Path>,
    test_roots: Option<&Path>,
) -> Result<Audit, AuditError> {
    let trusted = store
        .map(ever_trusted)
        .transpose()
        .map_err(AuditError::Setup)?;
    let trust = load_trust(test_roots).map_err(|e| AuditError::Setup(e.into()))?;
    let records = transcript::verify(log, trusted.as_deref())?;
    let attestations = recheck_records(&records, &trust).map_err(AuditError::Attestation)?;
    Ok(Audit {
        records: records.len(),
        legacy_v1_records: records
            .iter()
            .filter(|r| r.body.version == LEGACY_VERSION)
            .count(),
        last_record_sha256: last_record_hash(log).map_err(AuditError::Setup)?,
        signers_checked_against_store: store.is_some(),
        attestations,
    })
}

/// What `ceremony print` was asked for.
#[derive(Debug, Clone)]
pub struct PrintRequest {
    pub log: PathBuf,
    /// The directory for transcript.html and transcript.pdf (created if missing).
    pub out: PathBuf,
    pub title: String,
    pub force: bool,
}

/// What a printout wrote.
#[derive(Debug, Clone)]
pub struct Printed {
    pub records: usize,
    pub html: PathBuf,
    pub pdf: PathBuf,
    pub last_record_sha256: String,
}

/// Renders a transcript that verifies to `out/transcript.html` and
/// `out/transcript.pdf`, both or neither (an existing one is refused
/// before anything is written, unless `force`).
pub fn print(request: &PrintRequest) -> crate::ceremony::error::Result<Printed> {
    let records = transcript::verify(&request.log, None)
        .context("only a transcript that verifies can be printed")?;
    let last = last_record_hash(&request.log)?;
    let html = request.out.join("transcript.html");
    let pdf = request.out.join("transcript.pdf");
    let existing = Existing::from_force(request.force);
    // The journal lives beside the output directory, which the commit
    // may create.
    let mut unit = CommitUnit::new(crate::ceremony::commit::journal_path(
        None,
        Some(request.out.clone()),
    ));
    let html_text = crate::transcript_print::render_html(&request.title, &records, &last);
    unit.add(&html, html_text.into_bytes(), existing, Parent::Create)?;
    let pdf_bytes = crate::transcript_print::render_pdf(&request.title, &records, &last);
    unit.add(&pdf, pdf_bytes, existing, Parent::Create)?;
    unit.commit()
        .context("writing the printout; nothing was written")?;
    Ok(Printed {
        records: records.len(),
        html,
        pdf,
        last_record_sha256: last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI fixtures' transcript: one signed record.
    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cli/store/transcript.jsonl")
    }

    #[test]
    fn a_kept_transcript_audits_with_its_last_hash() {
        let audit = audit(&fixture(), None, None).unwrap();
        assert_eq!(audit.records, 1);
        assert!(!audit.signers_checked_against_store);
        let text = std::fs::read(fixture()).unwrap();
        let last = text
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap();
        assert_eq!(audit.last_record_sha256, transcript::line_hash(last));
    }

    #[test]
    fn a_changed_record_is_a_record_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.jsonl");
        let text = std::fs::read_to_string(fixture()).unwrap();
        std::fs::write(
            &log,
            text.replacen("\"operator\":\"fixture\"", "\"operator\":\"fixturf\"", 1),
        )
        .unwrap();
        match audit(&log, None, None) {
            Err(AuditError::Record(e)) => assert_eq!(e.record(), Some(1), "{e}"),
            other => panic!("not a record error: {other:?}"),
        }
    }

    #[test]
    fn the_printout_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("printout");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("transcript.pdf"), b"an older printout").unwrap();
        let mut request = PrintRequest {
            log: fixture(),
            out: out.clone(),
            title: "t".into(),
            force: false,
        };
        let err = print(&request).unwrap_err().to_string();
        assert!(err.contains("transcript.pdf already exists"), "{err}");
        assert!(!out.join("transcript.html").exists(), "nothing written");
        assert_eq!(
            std::fs::read(out.join("transcript.pdf")).unwrap(),
            b"an older printout"
        );

        request.force = true;
        let printed = print(&request).unwrap();
        assert_eq!(printed.records, 1);
        assert!(std::fs::read(&printed.pdf).unwrap().starts_with(b"%PDF"));
        assert!(std::fs::read_to_string(&printed.html)
            .unwrap()
            .contains("<html"));
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, ["printout"], "no journal or staging file left");
    }
}
