//! The ceremony options every signing command takes (who is present, where
//! the transcript goes, the air-gap override) and the one call each makes
//! to append its transcript record.

use crate::store::Store;
use crate::tka::signer::Signer;
use crate::transcript::{self, Entry, People};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// `--operator`, `--witness`, `--transcript`, `--allow-network`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RecordArgs {
    /// The operator's name, recorded in the ceremony transcript.
    #[arg(long, value_name = "NAME", env = "LOCKSMITH_OPERATOR")]
    pub operator: Option<String>,
    /// A witness's name, recorded in the ceremony transcript (repeatable).
    #[arg(long = "witness", value_name = "NAME")]
    pub witnesses: Vec<String>,
    /// The ceremony transcript to append to (default: transcript.jsonl in
    /// the store; needed to keep a transcript with --chain).
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
    /// Do not warn when a network interface other than loopback is up.
    #[arg(long, env = "LOCKSMITH_ALLOW_NETWORK")]
    pub allow_network: bool,
}

/// The air-gap check before a command signs: a warning, unless --allow-network.
pub fn guard(args: &RecordArgs) {
    crate::airgap::warn_if_online(args.allow_network);
}

/// Where this command's record goes: `--transcript`, else the store's
/// transcript when the command used a store (`store`), else nowhere.
fn destination(args: &RecordArgs, store: Option<&Path>) -> Option<PathBuf> {
    args.transcript
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

/// Appends the command's record, signed by `signers`. Called after the
/// outputs were written, so a failure here says so.
pub fn record(
    args: &RecordArgs,
    store: Option<&Path>,
    entry: Entry,
    signers: &mut [Box<dyn Signer>],
) -> anyhow::Result<()> {
    let Some(path) = destination(args, store) else {
        eprintln!("note: no ceremony transcript kept (the authority came from --chain); pass --transcript FILE to keep one");
        return Ok(());
    };
    let people = People {
        operator: args.operator.clone().filter(|s| !s.trim().is_empty()),
        witnesses: args.witnesses.clone(),
    };
    let rec = transcript::append(&path, &entry, &people, signers).with_context(|| {
        format!(
            "the command's outputs were written, but its record could not be appended to the ceremony transcript {}",
            path.display()
        )
    })?;
    eprintln!(
        "recorded as entry {} of the ceremony transcript {}",
        rec.body.seq,
        path.display()
    );
    Ok(())
}
