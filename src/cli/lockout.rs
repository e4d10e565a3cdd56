//! `--accept-lockout`, the argument of the lockout gate the removing and
//! revoking commands run at preflight (`crate::ceremony::lockout_gate`).

use crate::lockout::Acceptance;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct LockoutArgs {
    /// Proceed although the lockout preview says N nodes lose access (give
    /// exactly the number it shows), or `unknown` when no current status
    /// export was imported. Not needed when the preview shows 0.
    #[arg(long, value_name = "N|unknown")]
    pub accept_lockout: Option<Acceptance>,
}
