//! The ceremony options every signing command takes (who is present,
//! where the transcript goes, the air-gap override), the air-gap guard
//! before signing, and the command's transcript record, staged in the
//! commit unit of the pipeline (every command that records runs on it).

use super::commit::{check_target, CommitUnit, Existing, Parent};
use super::terminal::Terminal;
use crate::ceremony::error::Context;
use crate::store::Store;
use crate::tka::signer::Signer;
use crate::transcript::{self, Entry, People};
use std::path::{Path, PathBuf};

/// Who is present, where the record goes, the air-gap override.
#[derive(Debug, Clone, Default)]
pub struct RecordOptions {
    /// The operator's name, recorded.
    pub operator: Option<String>,
    /// Witnesses' names, recorded.
    pub witnesses: Vec<String>,
    /// The transcript to append to (default: the store's, if the command
    /// used a store).
    pub transcript: Option<PathBuf>,
    /// A machine that is not air-gapped gets a note instead of a warning.
    pub allow_network: bool,
}

/// What the air-gap check of this command found, for its record.
static AIRGAP_WARNING: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Set by `ceremony run` for the commands it starts once it has reported
/// the air-gap finding itself: printed once per plan, still recorded.
pub const AIRGAP_REPORTED_ENV: &str = "LOCKSMITH_AIRGAP_REPORTED";

/// The air-gap check before a command signs. It always checks: a machine
/// that is not air-gapped gets a warning (once per command), and the
/// finding is recorded in the command's transcript record; `allow_network`
/// only turns the warning into a note.
pub fn guard(options: &RecordOptions, term: &mut dyn Terminal) {
    let Some(problem) = crate::airgap::problem() else {
        return;
    };
    if AIRGAP_WARNING.get().is_some() {
        return;
    }
    let reported = std::env::var_os(AIRGAP_REPORTED_ENV).is_some();
    if !options.allow_network {
        term.say(&format!(
            "WARNING: this machine is not air-gapped: {problem}. \
             Take them down (ip link set DEV down) or unplug them before a ceremony; \
             --allow-network turns this warning into a note (it is recorded in the transcript either way)"
        ));
    } else if !reported {
        term.say(&format!("note: air gap NOT verified: {problem}; continuing because of --allow-network (recorded in the transcript)"));
    }
    let _ = AIRGAP_WARNING.set(format!(
        "not air-gapped{}: {problem}",
        if options.allow_network {
            " (--allow-network)"
        } else {
            ""
        }
    ));
}

/// Where this command's record goes: the transcript named, else the
/// store's transcript when the command used a store (`store`), else nowhere.
fn destination(options: &RecordOptions, store: Option<&Path>) -> Option<PathBuf> {
    options
        .transcript
        .clone()
        .or_else(|| store.map(transcript::store_transcript))
}

/// The store directory a command with `--chain`/`--store` used, if any.
pub fn store_of(chain: &[String], store: &Option<PathBuf>) -> Option<PathBuf> {
    if chain.is_empty() {
        Some(store.clone().unwrap_or_else(Store::default_dir))
    } else {
        None
    }
}

/// The entry with what every record says about the air gap and an
/// unpinned `--chain`.
fn completed(entry: Entry) -> Entry {
    let entry = match AIRGAP_WARNING.get() {
        Some(w) => entry.input(format!("WARNING: {w}"), w.as_bytes()),
        None => entry,
    };
    match super::chain::unpinned_genesis() {
        Some(g) => entry.input(
            format!("UNPINNED: --chain trusted as it is, genesis AUM {g}"),
            &g.0,
        ),
        None => entry,
    }
}

fn people(options: &RecordOptions) -> People {
    People {
        operator: options.operator.clone().filter(|s| !s.trim().is_empty()),
        witnesses: options.witnesses.clone(),
    }
}

const NO_TRANSCRIPT: &str = "note: no ceremony transcript kept (the authority came from --chain); pass --transcript FILE to keep one";

/// Where the record will go, checked at preflight (the transcript is
/// rewritten whole by the commit, so it may exist).
pub fn check_destination(
    options: &RecordOptions,
    store: Option<&Path>,
) -> crate::ceremony::error::Result<()> {
    if let Some(path) = destination(options, store) {
        check_target(&path, Existing::Replace, Parent::Create)?;
    }
    Ok(())
}

/// A staged record: reported once the commit is done.
pub struct Staged {
    pub seq: u64,
    pub path: PathBuf,
}

impl Staged {
    /// The line that says where the record went (or that none was kept).
    pub fn report_line(staged: &Option<Staged>) -> String {
        match staged {
            Some(s) => format!(
                "recorded as entry {} of the ceremony transcript {}",
                s.seq,
                s.path.display()
            ),
            None => NO_TRANSCRIPT.to_string(),
        }
    }
}

/// Signs the command's record and stages it in `unit`: it is written with
/// the command's other outputs, or not at all.
pub fn stage(
    options: &RecordOptions,
    store: Option<&Path>,
    entry: Entry,
    signers: &mut [Box<dyn Signer>],
    unit: &mut CommitUnit,
) -> crate::ceremony::error::Result<Option<Staged>> {
    let Some(path) = destination(options, store) else {
        return Ok(None);
    };
    let prepared = transcript::prepare(&path, &completed(entry), &people(options), signers)
        .with_context(|| {
            format!(
                "signing the record for the ceremony transcript {}",
                path.display()
            )
        })?;
    let seq = prepared.record.body.seq;
    unit.add(&path, prepared.contents, Existing::Replace, Parent::Create)?;
    if let Some(lock) = prepared.lock {
        unit.hold(lock);
    }
    Ok(Some(Staged { seq, path }))
}
