//! `locksmith lock add|remove|update`: AUMs chained on the current head
//! with upstream's checkpoint rule, signed on the token(s).

use super::chain_source::ChainSource;
use super::lock_init::{parse_key_with_votes, parse_meta};
use super::render;
use super::signing::{
    confirm, open_signers, print_json, signers_json, signers_text, write_output, ConfirmArgs,
    SignerArgs,
};
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
                builder.remove_key(k)?;
            }
        }
        Change::Update { key, votes, meta } => {
            if votes.is_none() && meta.is_none() {
                bail!("nothing to update: give --votes N and/or --meta KEY=VALUE");
            }
            if let Some(v) = votes {
                builder.set_key_votes(key, *v)?;
            }
            if let Some(m) = meta {
                builder.set_key_meta(key, m.clone())?;
            }
        }
    }
    Ok(())
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

/// Builds, shows, signs, verifies and writes the AUMs for `change`.
/// `lockout` gates a change that removes trust (see `super::lockout`); an
/// update cannot remove trust (upstream refuses 0 votes), an add neither.
pub fn run(
    change: Change,
    signer: &SignerArgs,
    out: UpdateOutput,
    lockout: Option<&super::lockout::LockoutArgs>,
) -> anyhow::Result<()> {
    let store = if out.source.chain.is_empty() {
        let dir = out.source.store.clone().unwrap_or_else(Store::default_dir);
        Store::ensure_released(&dir)?;
        Some(Store::open(&dir, true)?)
    } else {
        None
    };
    let mut authority: Authority = match &store {
        Some(s) => s.load()?,
        None => out.source.authority_for_signing()?,
    };

    // A dry run with no signatures shows exactly what will be signed.
    let preview = {
        let mut b = UpdateBuilder::new(&authority, Vec::new());
        apply(&mut b, &change)?;
        b.finalize()?
    };
    let lockout_text = match lockout {
        Some(args) => {
            let mut after = authority.state().clone();
            for aum in &preview {
                after = after.apply_verified(aum).context("previewing the update")?;
            }
            let dir = out.source.store.clone().unwrap_or_else(Store::default_dir);
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
    super::record::guard(&out.confirm.record);
    let mut signers = open_signers(signer)?;
    for s in &signers {
        if !authority.key_trusted(&s.public_key()) {
            bail!(
                "the signer's key {} is not trusted by this authority (head {}); its signature would not count",
                crate::tka::keyforms::tlpub_text(&s.public_key()),
                authority.head()
            );
        }
    }
    let mut summary = format!(
        "About to sign {} AUM(s) chained on head {}:\n{}",
        preview.len(),
        authority.head(),
        signers_text(&signers)
    );
    let mut state = authority.state().clone();
    for aum in &preview {
        summary.push_str(&render::aum_text(aum, Some(&state)));
        state = state.apply_verified(aum).context("previewing the update")?;
    }
    summary.push_str(&lockout_text);
    confirm(&summary, "sign these AUMs", out.confirm.yes)?;

    let aums: Vec<Aum> = {
        let refs: Vec<&mut dyn Signer> = signers
            .iter_mut()
            .map(|s| s.as_mut() as &mut dyn Signer)
            .collect();
        let mut b = UpdateBuilder::new(&authority, refs);
        apply(&mut b, &change)?;
        b.finalize()?
    };
    let (head_before, head_before_bytes) = (authority.head(), authority.head_aum().serialize());
    authority
        .inform(aums.clone())
        .context("the signed AUMs do not verify against the chain")?;
    if let Some(s) = &store {
        s.save(&authority)?;
        eprintln!("stored {} new AUM(s) in {}", aums.len(), s.dir().display());
    }
    if let Some(dir) = &out.out {
        if out.confirm.respond_to.is_some() && aums.len() != 1 {
            bail!("--respond-to carries one AUM, and this change made {}; write them without --respond-to and submit each", aums.len());
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        if out.confirm.respond_to.is_some() {
            let path = dir.join(format!("0000-{}.lks", aums[0].kind));
            super::signing::write_primary_output(
                &path,
                crate::exchange::ArtifactKind::Aum,
                &aums[0].serialize(),
                &out.confirm,
                out.force,
            )?;
        } else {
            for (i, aum) in aums.iter().enumerate() {
                write_output(
                    &dir.join(format!("{:04}-{}.aum", i, aum.kind)),
                    &aum.serialize(),
                    out.force,
                )?;
            }
        }
    }
    super::record::record(
        &out.confirm.record,
        store.as_ref().map(|s| s.dir()),
        aums.iter().fold(
            crate::transcript::Entry::new(format!("lock {}", change.verb()), &summary)
                .input(
                    format!("authority head AUM {}", head_before),
                    &head_before_bytes,
                )
                .signed(aums.iter().map(Aum::sig_hash)),
            |e, a| e.output(format!("AUM {}", a.hash()), &a.serialize()),
        ),
        &mut signers,
    )?;
    if out.confirm.json {
        print_json(&json!({
            "head": authority.head().to_string(),
            "signers": signers_json(&signers),
            "aums": aums.iter().map(|a| {
                let mut v = render::aum_json(a);
                v["blob"] = json!(cli_blob(a));
                v["stock_submit_command"] = json!(format!("tailscale lock revoke-keys --finish {}", cli_blob(a)));
                v
            }).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    outln!(
        "signed {} AUM(s); new head {}",
        aums.len(),
        authority.head()
    );
    outln!("Submit them in this order from an online node (`--finish` submits any signed AUM):");
    for a in &aums {
        outln!("  tailscale lock revoke-keys --finish {}", cli_blob(a));
        if out.confirm.qr {
            super::signing::show_qr(crate::exchange::ArtifactKind::RecoveryAum, &a.serialize())?;
        }
    }
    Ok(())
}
