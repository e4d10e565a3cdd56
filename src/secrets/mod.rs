//! Disablement secrets, from birth to the yearly custody check: made
//! offline from the OS CSPRNG, their values derived in parallel through the
//! core's KDF, encrypted with age to recipients or a passphrase, printed on
//! sheets (PDF, HTML, plain text) with per-line check letters and a QR
//! code, and verified back (typed, from a photo of the QR, or decrypted),
//! with a record of who verified what.
//!
//! Secrets live in [`DisablementSecret`] (zeroized, redacted `Debug`);
//! nothing plaintext is written unless sheets are asked for by name.
//!
//! One concept per file:
//! - [`secret`]: the secret type and its text forms.
//! - [`values`]: deriving disablement values, in parallel.
//! - [`progress`]: progress bars for steps over a second.
//! - [`label`]: which authority a set of secrets belongs to.
//! - [`lines`]: printed lines and their check letters.
//! - [`verify`]: matching a secret against the authority's values.
//! - [`age_files`], [`decrypt`]: age output and reading it back.
//! - [`sheet`], [`sheet_pdf`], [`sheet_html`], [`sheet_text`], [`font`],
//!   [`qr`]: the printable sheets.
//! - [`record`]: the verification record.
//! - [`ceremony`]: the steps `lock init` runs.

#![forbid(unsafe_code)]

pub mod age_files;
pub mod ceremony;
pub mod decrypt;
pub mod error;
pub mod font;
pub mod label;
pub mod lines;
pub mod progress;
pub mod qr;
pub mod record;
pub mod secret;
pub mod secret_buf;
pub mod sheet;
pub mod sheet_html;
pub mod sheet_pdf;
pub mod sheet_text;
pub mod values;
pub mod verify;

pub use crate::output::Overwrite;
pub use age_files::{AgeOptions, AgeRecipient, AgeTarget, FileLayout};
pub use ceremony::{
    generate_secrets, render_outputs, write_outputs, GeneratedSecrets, OutputOptions,
    WrittenOutputs,
};
pub use error::SecretsError;
pub use label::AuthorityLabel;
pub use record::{VerificationRecord, VerifyMethod};
pub use secret::DisablementSecret;
pub use sheet::{SheetFormat, SheetOptions};
pub use values::{compute_values, DisablementValue, Progress};
pub use verify::{read_typed_secret, verify_secret, Verdict};
