//! The ceremony options every signing command takes (who is present, where
//! the transcript goes, the air-gap override) as arguments, converted into
//! the library's `crate::ceremony::record::RecordOptions`; thin wrappers
//! for the commands that print to standard error.

use crate::ceremony::record::RecordOptions;
use crate::ceremony::terminal::Stderr;
use crate::tka::signer::Signer;
use crate::transcript::Entry;
use std::path::{Path, PathBuf};

pub use crate::ceremony::record::{store_of, Staged, AIRGAP_REPORTED_ENV};

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
    #[arg(
        long,
        env = "LOCKSMITH_ALLOW_NETWORK",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub allow_network: bool,
}

impl From<&RecordArgs> for RecordOptions {
    fn from(args: &RecordArgs) -> Self {
        RecordOptions {
            operator: args.operator.clone(),
            witnesses: args.witnesses.clone(),
            transcript: args.transcript.clone(),
            allow_network: args.allow_network,
        }
    }
}

impl RecordArgs {
    /// The library's record options.
    pub fn options(&self) -> RecordOptions {
        self.into()
    }
}

/// [`crate::ceremony::record::guard`], warnings on standard error.
pub fn guard(args: &RecordArgs) {
    crate::ceremony::record::guard(&args.options(), &mut Stderr)
}

/// [`crate::ceremony::record::check_destination`].
pub fn check_destination(args: &RecordArgs, store: Option<&Path>) -> anyhow::Result<()> {
    Ok(crate::ceremony::record::check_destination(
        &args.options(),
        store,
    )?)
}

/// Prints where the staged record went, once the commit is done.
pub fn report(staged: &Option<Staged>) {
    eoutln!("{}", Staged::report_line(staged));
}

/// [`crate::ceremony::record::stage`].
pub fn stage(
    args: &RecordArgs,
    store: Option<&Path>,
    entry: Entry,
    signers: &mut [Box<dyn Signer>],
    unit: &mut crate::ceremony::commit::CommitUnit,
) -> anyhow::Result<Option<Staged>> {
    Ok(crate::ceremony::record::stage(
        &args.options(),
        store,
        entry,
        signers,
        unit,
    )?)
}
