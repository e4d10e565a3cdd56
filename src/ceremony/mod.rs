//! The layer above the pure core that turns a request into signed,
//! written outputs: one [`pipeline`] (preflight → plan → show → confirm →
//! sign → commit) for every signing command, the [`commit`] unit that
//! writes all outputs or none, and the [`terminal`] the people present
//! answer on, and what every ceremony shares: the [`chain`] it signs on,
//! the [`signers`] it opens, its main [`outputs`], its transcript
//! [`record`] and the [`render`]ings it shows. Every function of the
//! layer returns its one [`Error`] ([`error`]). See docs/pipeline.md.

pub mod chain;
pub mod commit;
pub mod custody;
pub mod disablement;
pub mod error;
pub mod generate;
pub mod import;
pub mod init;
pub mod lockout_gate;
pub mod outputs;
pub mod pipeline;
pub mod plan_run;
pub mod record;
pub mod render;
pub mod revoke;
pub mod sign;
pub mod sign_bulk;
pub mod signers;
pub mod terminal;
pub mod transcript_audit;
pub mod update;

pub use error::{Error, Result};

/// A software key file made in `dir` (passphrase in `dir/pw`; development
/// only, not hardware-backed), for the ceremonies' unit tests; its signer spec.
#[cfg(test)]
pub(crate) fn test_key_file(dir: &std::path::Path) -> String {
    std::fs::write(dir.join("pw"), "test passphrase\n").unwrap();
    let spec = format!(
        "file:{}?pin-source=file:{}",
        dir.join("key").display(),
        dir.join("pw").display()
    );
    crate::signers::generate_key(&spec, &Default::default()).unwrap();
    spec
}
