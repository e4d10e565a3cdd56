//! `lock import`: an online node's export (AUM files, a directory of
//! them, `tailscale lock log --json=1`, status exports, `online export`
//! envelopes) verified against the store and added to it.
//!
//! - Every input is read and identified once, before anything is written.
//! - `--init` creates the store from the chain (pinning its first AUM).
//! - Otherwise the store is locked and the import planned in full
//!   ([`Store::plan_import`]: linked to what this store verified, every
//!   signature checked, every checkpoint restating its parent's state or a
//!   recovery this machine rebuilds) before its one pack file is written.
//! - A recovery checkpoint this machine cannot rebuild (`accept_unseen`,
//!   `--accept-unseen-recovery`) changes what the store trusts without a
//!   rebuild to compare with, so accepting it is a ceremony of its own on
//!   the pipeline: preflight (record destination, the signer of the record
//!   opened: the PIN prompt), the changes shown against the fork point's
//!   state, a typed `yes` (or `--yes`), then the pack and the signed
//!   transcript record of the acceptance in one commit: both or neither.
//! - Status exports are kept for the lockout preview once the AUMs are in.

use super::commit::CommitUnit;
use super::pipeline::{self, Ceremony, Options, Shown};
use super::record::{self, RecordOptions, Staged};
use super::signers::SignerRequest;
use super::terminal::Terminal;
use crate::ceremony::error::bail;
use crate::input::{self, Artifact, ChainInput, Input};
use crate::lockout_export::{self, Stored};
use crate::store::{ImportPlan, Store};
use crate::tka::recovery::UnseenRecovery;
use crate::tka::signer::Signer;
use crate::tka::Authority;
use crate::transcript::Entry;
use std::path::{Path, PathBuf};

/// What `lock import` asks for.
#[derive(Default)]
pub struct ImportRequest {
    /// AUM files, directories of them, upstream JSON, status exports.
    pub inputs: Vec<String>,
    pub store: PathBuf,
    /// Create the store from the chain.
    pub init: bool,
    /// Accept recovery checkpoints this machine cannot rebuild.
    pub accept_unseen: bool,
    /// Who signs the record of an acceptance.
    pub signer: SignerRequest,
    /// The record's people and destination (default: the store's transcript).
    pub record: RecordOptions,
}

/// What an import did, for the CLI to print.
pub struct ImportOutcome {
    pub authority: Authority,
    /// How many AUMs are new.
    pub added: usize,
    /// The status exports kept for the lockout preview.
    pub status_exports: Vec<Stored>,
    /// Recovery checkpoints accepted without a rebuild.
    pub unseen: Vec<UnseenRecovery>,
    /// Where the record of an acceptance went.
    pub record: Option<Staged>,
}

/// The inputs, read and identified once: status exports (name, text) and
/// chain inputs.
fn read_inputs(
    inputs: &[String],
) -> crate::ceremony::error::Result<(Vec<(String, String)>, Vec<ChainInput>)> {
    let mut statuses = Vec::new();
    let mut chain = Vec::new();
    for arg in inputs {
        if Path::new(arg).is_dir() {
            chain.push(ChainInput::Dir(arg.clone()));
            continue;
        }
        let input = Input::read(arg)?;
        let (_, artifact) = input::identify(&input)?;
        if let Some(text) = lockout_export::status_text_of(&input)? {
            statuses.push((input.name.clone(), text));
            if matches!(artifact, Artifact::LockStatus(_)) {
                continue;
            }
        }
        chain.push(ChainInput::Found {
            name: input.name,
            artifact,
        });
    }
    Ok((statuses, chain))
}

/// Runs `lock import`.
pub fn run(
    request: ImportRequest,
    term: &mut dyn Terminal,
    options: &Options,
) -> crate::ceremony::error::Result<ImportOutcome> {
    let (statuses, chain_inputs) = read_inputs(&request.inputs)?;
    let dir = request.store.clone();
    let (store, authority, added, unseen, staged) = if request.init {
        if chain_inputs.is_empty() {
            bail!("--init needs a chain (AUM files, a directory of them, or `tailscale lock log --json=1` output); a status export alone holds no AUMs");
        }
        let authority = super::chain::verify_chain(input::chain_of(chain_inputs)?)?;
        let count = authority.tree().len();
        let store = Store::create(&dir, &authority)?;
        (store, authority, count, Vec::new(), None)
    } else {
        let store = Store::open(&dir, true)?;
        // An acceptance interrupted inside its commit is undone before the
        // store is read, so that the pack it may have left is not taken as
        // imported without its record.
        let journal = super::commit::journal_path(Some(&dir), request.record.transcript.clone());
        pipeline::recover(&journal, term)?;
        if chain_inputs.is_empty() {
            let authority = store.load()?;
            (store, authority, 0, Vec::new(), None)
        } else {
            let plan = store.plan_import(input::chain_of(chain_inputs)?, request.accept_unseen)?;
            if plan.unseen.is_empty() {
                store.commit_import(&plan)?;
                (store, plan.after, plan.added, Vec::new(), None)
            } else {
                let mut ceremony = Acceptance {
                    request,
                    store,
                    plan,
                    signers: Vec::new(),
                    record: None,
                };
                pipeline::run(&mut ceremony, term, options)?;
                ceremony.store.note_committed(&ceremony.plan.after);
                let Acceptance {
                    store,
                    plan,
                    record,
                    ..
                } = ceremony;
                (store, plan.after, plan.added, plan.unseen, record)
            }
        }
    };
    let mut status_exports = Vec::new();
    for (name, text) in &statuses {
        status_exports.push(lockout_export::save(store.dir(), &authority, name, text)?);
    }
    Ok(ImportOutcome {
        authority,
        added,
        status_exports,
        unseen,
        record: staged,
    })
}

/// Accepting recovery checkpoints this machine cannot rebuild: the import
/// and its signed record, on the pipeline.
struct Acceptance {
    request: ImportRequest,
    store: Store,
    plan: ImportPlan,
    signers: Vec<Box<dyn Signer>>,
    record: Option<Staged>,
}

impl Acceptance {
    /// The record's inputs: each accepted checkpoint's bytes.
    fn accepted(&self) -> Vec<(String, Vec<u8>)> {
        self.plan
            .unseen
            .iter()
            .map(|u| {
                let bytes = self
                    .plan
                    .after
                    .tree()
                    .get(&u.checkpoint)
                    .map(|a| a.serialize())
                    .unwrap_or_default();
                (format!("recovery checkpoint {}", u.checkpoint), bytes)
            })
            .collect()
    }
}

/// The text shown (and recorded) for the accepted checkpoints.
pub fn acceptance_text(unseen: &[UnseenRecovery]) -> String {
    let mut shown = String::new();
    for u in unseen {
        shown.push_str(&format!(
            "WARNING: accepted without a rebuild (--accept-unseen-recovery): recovery checkpoint {} forking from {}, where this machine's chain ended; against the state there it:\n",
            u.checkpoint, u.fork_parent
        ));
        for c in &u.changes {
            shown.push_str(&format!("  {c}\n"));
        }
    }
    shown.trim_end().to_string()
}

impl Ceremony for Acceptance {
    type Plan = ();
    type Signed = ();

    fn journal(&self) -> PathBuf {
        super::commit::journal_path(
            Some(self.store.dir()),
            self.request.record.transcript.clone(),
        )
    }

    fn preflight(&mut self, term: &mut dyn Terminal) -> crate::ceremony::error::Result<()> {
        let store = Some(self.store.dir());
        record::check_destination(&self.request.record, store)?;
        if self.request.signer.specs.is_empty() {
            bail!("--accept-unseen-recovery needs --signer SPEC: a key in the room signs the transcript record of the acceptance (nothing was imported)");
        }
        record::guard(&self.request.record, term);
        self.signers = self.request.signer.open(term)?;
        Ok(())
    }

    fn plan(&mut self) -> crate::ceremony::error::Result<()> {
        Ok(())
    }

    fn show(&self, _: &()) -> Shown {
        Shown {
            text: acceptance_text(&self.plan.unseen),
            action: format!(
                "import {} AUM(s), trusting {} recovery checkpoint(s) nobody rebuilt",
                self.plan.added,
                self.plan.unseen.len()
            ),
        }
    }

    fn sign(&mut self, _: ()) -> crate::ceremony::error::Result<()> {
        Ok(())
    }

    fn stage(
        &mut self,
        _: &(),
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> crate::ceremony::error::Result<()> {
        if let Some((path, bytes)) = self.store.import_file(&self.plan) {
            // Content-named: an existing file of that name is this pack.
            unit.add(
                path,
                bytes,
                super::commit::Existing::Replace,
                super::commit::Parent::MustExist,
            )?;
        }
        let entry = self.accepted().into_iter().fold(
            Entry::new("lock import --accept-unseen-recovery", &shown.text),
            |e, (name, bytes)| e.input(name, &bytes),
        );
        let store = self.store.dir().to_path_buf();
        self.record = record::stage(
            &self.request.record,
            Some(&store),
            entry,
            &mut self.signers,
            unit,
        )?;
        Ok(())
    }
}
