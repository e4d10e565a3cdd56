//! `locksmith lock add|remove|update`: the arguments, the request for the
//! library's ceremony (`crate::ceremony::update`) and the printing.

use super::chain_source::ChainSource;
use super::lock_init::{parse_key_with_votes, parse_meta};
use super::render;
use super::signing::{print_json, signers_json, ConfirmArgs, SignerArgs};
use crate::ceremony::pipeline::{self, Hooks, Options};
use crate::ceremony::terminal::Tty;
pub use crate::ceremony::update::Change;
use crate::ceremony::update::{UpdateCeremony, UpdateRequest};
use crate::tka::keyforms::parse_lock_key;
use crate::tka::recovery::cli_blob;
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

/// Parses the positional keys of add.
pub fn parse_add(keys: &[String]) -> anyhow::Result<Change> {
    if keys.is_empty() {
        bail!("missing argument: one or more tailnet lock keys (tlpub:HEX[=VOTES])");
    }
    Ok(Change::Add(
        keys.iter()
            .map(|k| parse_key_with_votes(k))
            .collect::<crate::ceremony::Result<_>>()?,
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
    let request = UpdateRequest {
        change,
        setup: crate::ceremony::sign::SigningSetup {
            signer: signer.request(),
            chain: out.source.request()?,
            out: out.out.clone(),
            force: out.force,
            primary: out.confirm.primary(out.force),
            record: out.confirm.record.options(),
        },
        lockout: lockout.map(|l| l.accept_lockout),
    };
    let mut c = UpdateCeremony::new(request);
    let done = pipeline::run(&mut c, &mut Tty::open(), &options)?;
    let aums = &done.signed.aums;
    let after = &done.signed.after;
    if let Some(s) = &c.store {
        s.note_committed(after);
        eoutln!("stored {} new AUM(s) in {}", aums.len(), s.dir().display());
    }
    for w in &done.committed.written {
        let in_store = c.store.as_ref().is_some_and(|s| w.starts_with(s.dir()));
        if !in_store && c.record.as_ref().is_none_or(|r| &r.path != w) {
            eoutln!("wrote {}", w.display());
        }
    }
    if let Some(note) = &c.note {
        eoutln!("{note}");
    }
    super::record::report(&c.record);
    let confirm = &out.confirm;
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
