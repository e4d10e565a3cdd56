//! `lock add|remove|update` as a ceremony: AUMs chained on the current
//! head with upstream's checkpoint rule (`UpdateBuilder`), signed on the
//! token(s).
//!
//! Preflight locks the store, builds the AUMs unsigned for the summary,
//! runs the lockout gate for a change that removes trust, checks every
//! output and only then opens the signers. The sign stage builds them
//! again with the token(s) and requires the very signature hashes shown;
//! the store's new AUM files, the `--out DIR` files and the transcript
//! record are one commit.

use super::commit::{check_directory, check_target, CommitUnit, Existing, Parent};
use super::lockout_gate::lockout_gate;
use super::pipeline::{Ceremony, Shown};
use super::record::Staged;
use super::sign::SigningSetup;
use super::signers::signers_text;
use super::terminal::Terminal;
use crate::ceremony::error::{bail, Context};
use crate::lockout::Acceptance;
use crate::store::Store;
use crate::tka::builder::UpdateBuilder;
use crate::tka::signer::Signer;
use crate::tka::{Aum, Authority};
use std::path::PathBuf;

/// One change to make.
pub enum Change {
    Add(Vec<crate::tka::Key>),
    Remove(Vec<[u8; 32]>),
    Update {
        key: [u8; 32],
        votes: Option<u64>,
        meta: Option<crate::tka::Meta>,
    },
}

impl Change {
    /// The subcommand that makes this change.
    pub fn verb(&self) -> &'static str {
        match self {
            Change::Add(_) => "add",
            Change::Remove(_) => "remove",
            Change::Update { .. } => "update",
        }
    }
}

fn apply(builder: &mut UpdateBuilder<'_>, change: &Change) -> crate::ceremony::error::Result<()> {
    match change {
        Change::Add(keys) => {
            for k in keys {
                builder.add_key(k.clone())?;
            }
        }
        Change::Remove(keys) => {
            for k in keys {
                builder.remove_key(k).map_err(|e| not_trusted(e, k))?;
            }
        }
        Change::Update { key, votes, meta } => {
            if votes.is_none() && meta.is_none() {
                bail!("nothing to update: give --votes N and/or --meta KEY=VALUE");
            }
            if let Some(v) = votes {
                builder
                    .set_key_votes(key, *v)
                    .map_err(|e| not_trusted(e, key))?;
            }
            if let Some(m) = meta {
                builder
                    .set_key_meta(key, m.clone())
                    .map_err(|e| not_trusted(e, key))?;
            }
        }
    }
    Ok(())
}

/// Upstream's "key not found" for a key the authority does not trust,
/// with what to do about it.
fn not_trusted(e: crate::tka::Error, key: &[u8; 32]) -> crate::ceremony::Error {
    // The builder words it as upstream does ("failed reading key …: key not found").
    let unknown = match &e {
        crate::tka::Error::NoSuchKey => true,
        crate::tka::Error::Rejected(m) => m.ends_with("key not found"),
        _ => false,
    };
    if !unknown {
        return e.into();
    }
    crate::ceremony::error::refusal!(
        "{} is not a key this authority trusts ({e}), so there is nothing to change; \
         `locksmith lock status` lists the trusted keys (nothing was signed)",
        crate::tka::keyforms::tlpub_text(key)
    )
}

/// A `lock add|remove|update` request: plain values from the command line.
pub struct UpdateRequest {
    pub change: Change,
    /// The signers, the chain, where the record goes, and `out`: `--out
    /// DIR`, one `NNNN-<kind>.aum` file per AUM (with `respond_to`, the one
    /// AUM as `0000-<kind>.lks`).
    pub setup: SigningSetup,
    /// The lockout gate (for a change that removes trust) and what
    /// `--accept-lockout` accepted.
    pub lockout: Option<Option<Acceptance>>,
}

/// The file `--out DIR` gets for the `i`th AUM: `NNNN-<kind>.aum`, or with
/// `--respond-to` (one AUM only) the response envelope `0000-<kind>.lks`.
fn out_file(dir: &std::path::Path, i: usize, aum: &Aum, respond: bool) -> PathBuf {
    let ext = if respond { "lks" } else { "aum" };
    dir.join(format!("{:04}-{}.{ext}", i, aum.kind))
}

/// `lock add|remove|update` as the pipeline runs it.
pub struct UpdateCeremony {
    pub request: UpdateRequest,
    pub store: Option<Store>,
    pub authority: Option<Authority>,
    lockout_text: String,
    /// The AUMs built unsigned at preflight (for the lockout gate and the
    /// output checks): the plan.
    unsigned: Option<Vec<Aum>>,
    pub signers: Vec<Box<dyn Signer>>,
    pub record: Option<Staged>,
    pub note: Option<String>,
}

/// What the sign stage returns: the verified AUMs and the authority they
/// advance.
pub struct Signed {
    pub aums: Vec<Aum>,
    pub after: Authority,
}

impl UpdateCeremony {
    pub fn new(request: UpdateRequest) -> Self {
        UpdateCeremony {
            request,
            store: None,
            authority: None,
            lockout_text: String::new(),
            unsigned: None,
            signers: Vec::new(),
            record: None,
            note: None,
        }
    }

    fn authority(&self) -> crate::ceremony::error::Result<&Authority> {
        self.authority
            .as_ref()
            .context("no authority (preflight did not run)")
    }

    fn store_dir(&self) -> Option<PathBuf> {
        super::record::store_of(
            &self.request.setup.chain.chain,
            &self.request.setup.chain.store,
        )
    }

    fn respond(&self) -> bool {
        self.request.setup.primary.respond_to.is_some()
    }
}

impl Ceremony for UpdateCeremony {
    type Plan = Vec<Aum>;
    type Signed = Signed;

    fn journal(&self) -> PathBuf {
        super::commit::journal_path(
            self.store_dir().as_deref(),
            self.request
                .setup
                .out
                .clone()
                .or_else(|| self.request.setup.record.transcript.clone()),
        )
    }

    fn preflight(&mut self, term: &mut dyn Terminal) -> crate::ceremony::error::Result<()> {
        let r = &self.request;
        let store_dir = r
            .setup
            .chain
            .store
            .clone()
            .unwrap_or_else(Store::default_dir);
        let (store, authority) = if r.setup.chain.chain.is_empty() {
            Store::ensure_released(&store_dir)?;
            let store = Store::open(&store_dir, true)?;
            let authority = store.load()?;
            (Some(store), authority)
        } else {
            (None, r.setup.chain.authority_for_signing(term)?)
        };
        // A dry run with no signatures: the AUMs exactly as they will be signed.
        let preview = {
            let mut b = UpdateBuilder::new(&authority, Vec::new());
            apply(&mut b, &r.change)?;
            b.finalize()?
        };
        self.lockout_text = match r.lockout {
            Some(accepted) => {
                let mut after = authority.state().clone();
                for aum in &preview {
                    after = after.apply_verified(aum).context("previewing the update")?;
                }
                lockout_gate(
                    term,
                    &store_dir,
                    authority.head(),
                    authority.state(),
                    &after,
                    accepted,
                )?
            }
            None => String::new(),
        };
        let respond = r.setup.primary.respond_to.is_some();
        if let Some(dir) = &r.setup.out {
            if respond && preview.len() != 1 {
                bail!(
                    "--respond-to carries one AUM, and this change makes {}; write them without --respond-to and submit each (nothing was signed)",
                    preview.len()
                );
            }
            check_directory(dir, Parent::Create)?;
            for (i, aum) in preview.iter().enumerate() {
                check_target(
                    &out_file(dir, i, aum, respond),
                    Existing::from_force(r.setup.force),
                    Parent::Create,
                )?;
            }
        }
        if let Some(request) = &r.setup.primary.respond_to {
            super::outputs::read_request(request)?;
        }
        if let Some(env) = &r.setup.primary.envelope_out {
            check_target(env, Existing::from_force(r.setup.force), Parent::MustExist)?;
        }
        super::record::check_destination(&r.setup.record, self.store_dir().as_deref())?;
        super::record::guard(&r.setup.record, term);
        let signers = r.setup.signer.open(term)?;
        for s in &signers {
            if !authority.key_trusted(&s.public_key()) {
                bail!(
                    "the signer's key {} is not trusted by this authority (head {}), so its signature would not count; \
                     `locksmith lock status` lists the trusted keys: sign with one of them",
                    crate::tka::keyforms::tlpub_text(&s.public_key()),
                    authority.head()
                );
            }
        }
        self.signers = signers;
        self.unsigned = Some(preview);
        self.store = store;
        self.authority = Some(authority);
        Ok(())
    }

    fn plan(&mut self) -> crate::ceremony::error::Result<Vec<Aum>> {
        self.unsigned
            .take()
            .context("no AUMs planned (preflight did not run)")
    }

    fn show(&self, preview: &Vec<Aum>) -> Shown {
        let action = "sign these AUMs".to_string();
        let Some(authority) = self.authority.as_ref() else {
            return Shown {
                text: String::new(),
                action,
            };
        };
        let mut text = format!(
            "About to sign {} AUM(s) chained on head {}:\n{}",
            preview.len(),
            authority.head(),
            signers_text(&self.signers)
        );
        let mut state = authority.state().clone();
        for aum in preview {
            text.push_str(&super::render::unsigned_aum_text(aum, Some(&state)));
            text.push_str(&format!(
                "  sighash:   {}  (the value to compare: what the token signs)\n",
                crate::tka::hex::lower(&aum.sig_hash())
            ));
            match state.apply_verified(aum) {
                Ok(next) => state = next,
                Err(e) => text.push_str(&format!("  (cannot preview the state after it: {e})\n")),
            }
        }
        text.push_str(&self.lockout_text);
        Shown { text, action }
    }

    fn sign(&mut self, preview: Vec<Aum>) -> crate::ceremony::error::Result<Signed> {
        let authority = self
            .authority
            .as_ref()
            .context("no authority (preflight did not run)")?;
        let aums: Vec<Aum> = {
            let refs: Vec<&mut dyn Signer> = self
                .signers
                .iter_mut()
                .map(|s| s.as_mut() as &mut dyn Signer)
                .collect();
            let mut b = UpdateBuilder::new(authority, refs);
            apply(&mut b, &self.request.change)?;
            b.finalize()?
        };
        // What was signed is what was shown: the same AUMs, signature hash
        // for signature hash.
        let shown: Vec<_> = preview.iter().map(Aum::sig_hash).collect();
        let signed: Vec<_> = aums.iter().map(Aum::sig_hash).collect();
        if shown != signed {
            bail!("the signed AUMs differ from the ones shown (signature hashes changed); nothing was written");
        }
        let mut after = authority.clone();
        after
            .inform(aums.clone())
            .context("the signed AUMs do not verify against the chain")?;
        Ok(Signed { aums, after })
    }

    fn stage(
        &mut self,
        signed: &Signed,
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> crate::ceremony::error::Result<()> {
        if let Some(store) = &self.store {
            for (path, bytes) in store.new_aum_files(&signed.after) {
                // Content-named: an existing file of that name is this AUM.
                unit.add(path, bytes, Existing::Replace, Parent::MustExist)?;
            }
        }
        let respond = self.respond();
        let r = &self.request;
        if let Some(dir) = &r.setup.out {
            for (i, aum) in signed.aums.iter().enumerate() {
                let file = out_file(dir, i, aum, respond);
                if respond {
                    let (files, note) = r.setup.primary.files(
                        &file,
                        crate::exchange::ArtifactKind::Aum,
                        &aum.serialize(),
                    )?;
                    for (p, bytes) in files {
                        let parent = if p == file {
                            Parent::Create
                        } else {
                            Parent::MustExist
                        };
                        unit.add(p, bytes, Existing::from_force(r.setup.force), parent)?;
                    }
                    self.note = note;
                } else {
                    unit.add(
                        file,
                        aum.serialize(),
                        Existing::from_force(r.setup.force),
                        Parent::Create,
                    )?;
                }
            }
        }
        let authority = self.authority()?;
        let entry = signed.aums.iter().fold(
            crate::transcript::Entry::new(format!("lock {}", r.change.verb()), &shown.text)
                .input(
                    format!("authority head AUM {}", authority.head()),
                    &authority.head_aum().serialize(),
                )
                .signed(signed.aums.iter().map(Aum::sig_hash)),
            |e, a| e.output(format!("AUM {}", a.hash()), &a.serialize()),
        );
        let store = self.store_dir();
        self.record = super::record::stage(
            &self.request.setup.record,
            store.as_deref(),
            entry,
            &mut self.signers,
            unit,
        )?;
        Ok(())
    }
}
