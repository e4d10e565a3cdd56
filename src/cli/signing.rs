//! What every signing command shares: opening the signers, showing what
//! will be signed and asking for confirmation, and writing outputs.

use crate::output::write_atomic;
use crate::signers::{open_signer, OpenOptions};
use crate::tka::keyforms::tlpub_text;
use crate::tka::signer::{KeyCustody, Signer};
use anyhow::{bail, Context};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// `--signer` and what goes with it.
#[derive(Debug, Clone, clap::Args)]
pub struct SignerArgs {
    /// The signing key: a `pkcs11:` URI, `yubikey:serial=…;slot=9c`, or
    /// `file:PATH` (software key, for development and tests only).
    /// Repeat it where several keys sign.
    #[arg(long = "signer", value_name = "SPEC", required = true)]
    pub signers: Vec<String>,
    /// Accept PKCS#11 keys that are extractable or not sensitive (never for real keys).
    #[arg(long)]
    pub allow_extractable: bool,
}

/// Confirmation and output options.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfirmArgs {
    /// Sign without asking (after reviewing the summary, which is still printed).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print one JSON object on standard output instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub record: super::record::RecordArgs,
}

/// Opened signers with a warning for software keys.
pub fn open_signers(args: &SignerArgs) -> anyhow::Result<Vec<Box<dyn Signer>>> {
    let options = OpenOptions {
        allow_extractable: args.allow_extractable,
    };
    let mut out: Vec<Box<dyn Signer>> = Vec::new();
    for spec in &args.signers {
        let signer =
            open_signer(spec, &options).with_context(|| format!("opening signer {spec:?}"))?;
        if out.iter().any(|s| s.public_key() == signer.public_key()) {
            bail!(
                "--signer {spec:?} names a key already given ({}); each key signs once",
                tlpub_text(&signer.public_key())
            );
        }
        if signer.custody() == KeyCustody::Software {
            eprintln!(
                "WARNING: {} is a software key ({}); use a hardware token for real ceremonies",
                tlpub_text(&signer.public_key()),
                KeyCustody::Software.label()
            );
        }
        out.push(signer);
    }
    Ok(out)
}

/// One line per signer: its key, what holds it and its custody.
pub fn signers_text(signers: &[Box<dyn Signer>]) -> String {
    signers
        .iter()
        .map(|s| {
            format!(
                "  signer:    {} on {} [{}]\n",
                tlpub_text(&s.public_key()),
                s.describe(),
                s.custody().label()
            )
        })
        .collect()
}

pub fn signers_json(signers: &[Box<dyn Signer>]) -> serde_json::Value {
    serde_json::Value::Array(
        signers
            .iter()
            .map(|s| {
                serde_json::json!({
                    "tlpub": tlpub_text(&s.public_key()),
                    "token": s.describe(),
                    "custody": s.custody().label(),
                })
            })
            .collect(),
    )
}

/// Shows `summary` on standard error and asks for confirmation. Without a
/// terminal, `--yes` is required.
pub fn confirm(summary: &str, action: &str, yes: bool) -> anyhow::Result<()> {
    eprintln!("{summary}");
    if yes {
        eprintln!("--yes given: {action} without asking");
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("confirmation needed to {action}: review the summary above and run again with --yes (standard input is not a terminal)");
    }
    eprint!("{action}? Type 'yes' to continue: ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the confirmation")?;
    if answer.trim() != "yes" {
        bail!("not confirmed: nothing was signed");
    }
    Ok(())
}

/// Writes an output file atomically, refusing to overwrite without `force`.
pub fn write_output(path: &Path, data: &[u8], force: bool) -> anyhow::Result<()> {
    write_atomic(path, data, force)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Prints a JSON object on standard output.
pub fn print_json(v: &serde_json::Value) {
    outln!("{v}");
}
