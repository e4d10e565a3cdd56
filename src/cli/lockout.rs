//! The lockout gate the removing and revoking commands call before any
//! token is opened: shows which nodes lose access (from the latest status
//! export in the store, see [`crate::lockout`]) and refuses unless
//! `--accept-lockout` states that number.

use crate::lockout::{assess, gate, Acceptance};
use crate::tka::{AumHash, State};
use anyhow::Context;
use std::path::Path;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct LockoutArgs {
    /// Proceed although the lockout preview says N nodes lose access (give
    /// exactly the number it shows), or `unknown` when no current status
    /// export was imported. Not needed when the preview shows 0.
    #[arg(long, value_name = "N|unknown")]
    pub accept_lockout: Option<Acceptance>,
}

/// Assesses the change from `before` (the state at `head`) to `after`,
/// prints the preview on stderr, and returns it for the summary, or
/// refuses the change.
pub fn check(
    store_dir: Option<&Path>,
    head: AumHash,
    before: &State,
    after: &State,
    args: &LockoutArgs,
) -> anyhow::Result<String> {
    let status = match store_dir {
        Some(dir) => crate::lockout_export::load(dir)
            .context("reading the latest status export for the lockout preview")?,
        None => None,
    };
    let assessment = assess(head, before, after, status.as_ref())
        .context("the latest imported status export cannot be used for the lockout preview")?;
    let text = assessment.text();
    eprint!("{text}");
    gate(&assessment, args.accept_lockout)?;
    Ok(text)
}
