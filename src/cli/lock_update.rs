//! `locksmith lock add|remove|update`: AUMs chained on the current head
//! with upstream's checkpoint rule, signed on the token(s).

use super::chain_source::ChainSource;
use super::lock_init::{parse_key_with_votes, parse_meta};
use super::render;
use super::signing::{
    open_signers, print_json, signers_json, signers_text, ConfirmArgs, SignerArgs,
};
use crate::ceremony::commit::{check_directory, check_target, CommitUnit, Existing, Parent};
use crate::ceremony::pipeline::{self, Ceremony, Hooks, Options, Shown};
use crate::ceremony::terminal::{Terminal, Tty};
use crate::store::Store;
use crate::tka::builder::UpdateBuilder;
use crate::tka::keyforms::parse_lock_key;
use crate::tka::recovery::cli_blob;
use crate::tka::signer::Signer;
use crate::tka::{Aum, Authority};
use anyhow::{bail, Context};
use serde_json::json;
use std::path::PathBuf;

/// Where the authority comes from, and where the new AUMs go.
#[derive(Debug, clap::Args)]
pub struct UpdateOutput {
    #[command(flatten)]
    pub source: ChainSource,
    /// Write the new AUMs (CBOR) into this directory as NNNN-<kind>.aum.
    /// The --out rule (every command): a file when the command makes one artifact, a directory (created if missing, one file per artifact) when it can make several.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

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
    fn verb(&self) -> &'static str {
        match self {
            Change::Add(_) => "add",
            Change::Remove(_) => "remove",
            Change::Update { .. } => "update",
        }
    }
}

fn apply(builder: &mut UpdateBuilder<'_>, change: &Change) -> anyhow::Result<()> {
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
fn not_trusted(e: crate::tka::TkaError, key: &[u8; 32]) -> anyhow::Error {
    // The builder words it as upstream does ("failed reading key …: key not found").
    let unknown = match &e {
        crate::tka::TkaError::NoSuchKey => true,
        crate::tka::TkaError::Rejected(m) => m.ends_with("key not found"),
        _ => false,
    };
    if !unknown {
        return e.into();
    }
    anyhow::anyhow!(
        "{} is not a key this authority trusts ({e}), so there is nothing to change; \
         `locksmith lock status` lists the trusted keys (nothing was signed)",
        crate::tka::keyforms::tlpub_text(key)
    )
}

/// Parses the positional keys of add.
pub fn parse_add(keys: &[String]) -> anyhow::Result<Change> {
    if keys.is_empty() {
        bail!("missing argument: one or more tailnet lock keys (tlpub:HEX[=VOTES])");
    }
    Ok(Change::Add(
        keys.iter()
            .map(|k| parse_key_with_votes(k))
            .collect::<anyhow::Result<_>>()?,
    ))
}

/// Parses the positional keys of remove.
pub fn parse_remove(keys: &[String]) -> anyhow::Result<Change> {
    if keys.is_empty() {
        bail!("missing argument: one or more tailnet lock keys (tlpub:HEX)");
    }
    Ok(Change::Remove(
        keys.iter()
            .map(|k| parse_lock_key(k).with_context(|| format!("key {k:?}")))
            .collect::<anyhow::Result<_>>()?,
    ))
}

/// Parses update's arguments.
pub fn parse_update(key: &str, votes: Option<u64>, meta: &[String]) -> anyhow::Result<Change> {
    Ok(Change::Update {
        key: parse_lock_key(key).with_context(|| format!("key {key:?}"))?,
        votes,
        meta: parse_meta(meta)?,
    })
}

/// The file `--out DIR` gets for the `i`th AUM: `NNNN-<kind>.aum`, or with
/// `--respond-to` (one AUM only) the response envelope `0000-<kind>.lks`.
fn out_file(dir: &std::path::Path, i: usize, aum: &Aum, respond: bool) -> PathBuf {
    let ext = if respond { "lks" } else { "aum" };
    dir.join(format!("{:04}-{}.{ext}", i, aum.kind))
}

/// `lock add|remove|update` as the pipeline runs it: the store locked and
/// every output checked at preflight, the AUMs built unsigned for the
/// summary, signed on the token(s) and required to carry the very
/// signature hashes shown, then the store's new AUM files, the `--out`
/// files and the transcript record committed as one unit.
struct UpdateCeremony<'a> {
    change: Change,
    signer: &'a SignerArgs,
    out: UpdateOutput,
    lockout: Option<&'a super::lockout::LockoutArgs>,
    store: Option<Store>,
    authority: Option<Authority>,
    lockout_text: String,
    signers: Vec<Box<dyn Signer>>,
    record: Option<super::record::Staged>,
    note: Option<String>,
}

/// What the sign stage returns: the verified AUMs, the authority they
/// advance, and the head they were chained on.
struct Signed {
    aums: Vec<Aum>,
    after: Authority,
}

impl UpdateCeremony<'_> {
    fn authority(&self) -> anyhow::Result<&Authority> {
        self.authority
            .as_ref()
            .context("no authority (preflight did not run)")
    }

    fn store_dir(&self) -> Option<PathBuf> {
        super::record::store_of(&self.out.source.chain, &self.out.source.store)
    }
}

impl Ceremony for UpdateCeremony<'_> {
    type Plan = Vec<Aum>;
    type Signed = Signed;

    fn journal(&self) -> PathBuf {
        if let Some(store) = self.store_dir() {
            return store.join(".locksmith-journal");
        }
        let beside = self
            .out
            .out
            .clone()
            .or_else(|| self.out.confirm.record.transcript.clone())
            .unwrap_or_else(|| PathBuf::from("locksmith"));
        let name = beside
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        beside.with_file_name(format!(".{name}.locksmith-journal"))
    }

    fn preflight(&mut self, _term: &mut dyn Terminal) -> anyhow::Result<()> {
        let (store, authority) = if self.out.source.chain.is_empty() {
            let dir = self
                .out
                .source
                .store
                .clone()
                .unwrap_or_else(Store::default_dir);
            Store::ensure_released(&dir)?;
            let store = Store::open(&dir, true)?;
            let authority = store.load()?;
            (Some(store), authority)
        } else {
            (None, self.out.source.authority_for_signing()?)
        };
        // A dry run with no signatures: the AUMs exactly as they will be signed.
        let preview = {
            let mut b = UpdateBuilder::new(&authority, Vec::new());
            apply(&mut b, &self.change)?;
            b.finalize()?
        };
        self.lockout_text = match self.lockout {
            Some(args) => {
                let mut after = authority.state().clone();
                for aum in &preview {
                    after = after.apply_verified(aum).context("previewing the update")?;
                }
                let dir = self
                    .out
                    .source
                    .store
                    .clone()
                    .unwrap_or_else(Store::default_dir);
                super::lockout::check(
                    Some(&dir),
                    authority.head(),
                    authority.state(),
                    &after,
                    args,
                )?
            }
            None => String::new(),
        };
        if let Some(dir) = &self.out.out {
            let respond = self.out.confirm.respond_to.is_some();
            if respond && preview.len() != 1 {
                bail!(
                    "--respond-to carries one AUM, and this change makes {}; write them without --respond-to and submit each (nothing was signed)",
                    preview.len()
                );
            }
            check_directory(dir, Parent::Create)?;
            for (i, aum) in preview.iter().enumerate() {
                let file = out_file(dir, i, aum, respond);
                if respond {
                    check_target(&file, Existing::from_force(self.out.force), Parent::Create)?;
                    super::signing::check_primary_output(&file, &self.out.confirm, self.out.force)
                        .or_else(|e| {
                            // The directory may not exist yet: only the request matters here.
                            if dir.exists() {
                                Err(e)
                            } else {
                                Ok(())
                            }
                        })?;
                } else {
                    check_target(&file, Existing::from_force(self.out.force), Parent::Create)?;
                }
            }
        }
        if let Some(env) = &self.out.confirm.envelope_out {
            check_target(env, Existing::from_force(self.out.force), Parent::MustExist)?;
        }
        super::record::check_destination(&self.out.confirm.record, self.store_dir().as_deref())?;
        super::record::guard(&self.out.confirm.record);
        self.signers = open_signers(self.signer)?;
        for s in &self.signers {
            if !authority.key_trusted(&s.public_key()) {
                bail!(
                    "the signer's key {} is not trusted by this authority (head {}), so its signature would not count; \
                     `locksmith lock status` lists the trusted keys: sign with one of them",
                    crate::tka::keyforms::tlpub_text(&s.public_key()),
                    authority.head()
                );
            }
        }
        self.store = store;
        self.authority = Some(authority);
        Ok(())
    }

    fn plan(&mut self) -> anyhow::Result<Vec<Aum>> {
        let authority = self.authority()?;
        let mut b = UpdateBuilder::new(authority, Vec::new());
        apply(&mut b, &self.change)?;
        Ok(b.finalize()?)
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
            text.push_str(&render::unsigned_aum_text(aum, Some(&state)));
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

    fn sign(&mut self, preview: Vec<Aum>) -> anyhow::Result<Signed> {
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
            apply(&mut b, &self.change)?;
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
    ) -> anyhow::Result<()> {
        if let Some(store) = &self.store {
            for (path, bytes) in store.new_aum_files(&signed.after) {
                // Content-named: an existing file of that name is this AUM.
                unit.add(path, bytes, Existing::Replace, Parent::MustExist)?;
            }
        }
        let confirm = &self.out.confirm;
        if let Some(dir) = &self.out.out {
            let respond = confirm.respond_to.is_some();
            for (i, aum) in signed.aums.iter().enumerate() {
                let file = out_file(dir, i, aum, respond);
                if respond {
                    let (files, note) = confirm.primary(self.out.force).files(
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
                        unit.add(p, bytes, Existing::from_force(self.out.force), parent)?;
                    }
                    self.note = note;
                } else {
                    unit.add(
                        file,
                        aum.serialize(),
                        Existing::from_force(self.out.force),
                        Parent::Create,
                    )?;
                }
            }
        }
        let authority = self.authority()?;
        let entry = signed.aums.iter().fold(
            crate::transcript::Entry::new(format!("lock {}", self.change.verb()), &shown.text)
                .input(
                    format!("authority head AUM {}", authority.head()),
                    &authority.head_aum().serialize(),
                )
                .signed(signed.aums.iter().map(Aum::sig_hash)),
            |e, a| e.output(format!("AUM {}", a.hash()), &a.serialize()),
        );
        let store = self.store_dir();
        self.record = super::record::stage(
            &self.out.confirm.record,
            store.as_deref(),
            entry,
            &mut self.signers,
            unit,
        )?;
        Ok(())
    }
}

/// Builds, shows, signs, verifies and writes the AUMs for `change`, as one
/// pipeline run (see `crate::ceremony::pipeline`).
/// `lockout` gates a change that removes trust (see `super::lockout`); an
/// update cannot remove trust (upstream refuses 0 votes), an add neither.
pub fn run(
    change: Change,
    signer: &SignerArgs,
    out: UpdateOutput,
    lockout: Option<&super::lockout::LockoutArgs>,
) -> anyhow::Result<()> {
    let options = Options {
        yes: out.confirm.yes,
        hooks: Hooks::from_env(),
    };
    let mut c = UpdateCeremony {
        change,
        signer,
        out,
        lockout,
        store: None,
        authority: None,
        lockout_text: String::new(),
        signers: Vec::new(),
        record: None,
        note: None,
    };
    let done = pipeline::run(&mut c, &mut Tty::open(), &options)?;
    let aums = &done.signed.aums;
    let after = &done.signed.after;
    if let Some(s) = &c.store {
        s.note_committed(after);
        eprintln!("stored {} new AUM(s) in {}", aums.len(), s.dir().display());
    }
    for w in &done.committed.written {
        let in_store = c.store.as_ref().is_some_and(|s| w.starts_with(s.dir()));
        if !in_store && c.record.as_ref().is_none_or(|r| &r.path != w) {
            eprintln!("wrote {}", w.display());
        }
    }
    if let Some(note) = &c.note {
        eprintln!("{note}");
    }
    super::record::report(&c.record);
    let confirm = &c.out.confirm;
    if confirm.json {
        print_json(&json!({
            "head": after.head().to_string(),
            "signers": signers_json(&c.signers),
            "aums": aums.iter().map(|a| {
                let mut v = render::aum_json(a);
                v["blob"] = json!(cli_blob(a));
                v["stock_submit_command"] = json!(format!("tailscale lock revoke-keys --finish {}", cli_blob(a)));
                v
            }).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    outln!("signed {} AUM(s); new head {}", aums.len(), after.head());
    for a in aums {
        outln!(
            "  AUM {} (final hash: signatures included; the value compared before signing was the sighash {})",
            a.hash(),
            crate::tka::hex::lower(&a.sig_hash())
        );
    }
    outln!("Submit them in this order from an online node (`--finish` submits any signed AUM):");
    for a in aums {
        outln!("  tailscale lock revoke-keys --finish {}", cli_blob(a));
        if confirm.qr {
            super::signing::show_qr(crate::exchange::ArtifactKind::RecoveryAum, &a.serialize())?;
        }
    }
    Ok(())
}
