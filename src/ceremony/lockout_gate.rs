//! The lockout gate every command that removes or revokes keys runs at
//! preflight, before any token is opened: which nodes lose access (from
//! the latest status export imported into the store, see
//! [`crate::lockout`]), refused unless `--accept-lockout` states that
//! number. The preview is printed here only when it refuses; otherwise it
//! is part of the command's summary (returned).

use super::terminal::Terminal;
use crate::ceremony::error::Context;
use crate::lockout::Acceptance;
use crate::tka::{AumHash, State};
use std::path::Path;

pub fn lockout_gate(
    term: &mut dyn Terminal,
    store_dir: &Path,
    head: AumHash,
    before: &State,
    after: &State,
    accepted: Option<Acceptance>,
) -> crate::ceremony::error::Result<String> {
    let status = crate::lockout_export::load(store_dir)
        .context("reading the latest status export for the lockout preview")?;
    let assessment = crate::lockout::assess(head, before, after, status.as_ref())
        .context("the latest imported status export cannot be used for the lockout preview")?;
    let text = assessment.text();
    if let Err(refusal) = crate::lockout::gate(&assessment, accepted) {
        term.say(crate::shown::for_terminal(text.trim_end()).as_ref());
        return Err(refusal.into());
    }
    Ok(text)
}
