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
    #[arg(
        long = "signer",
        value_name = "SPEC",
        required_unless_present = "pkcs11_token"
    )]
    pub signers: Vec<String>,
    /// Instead of a `pkcs11:` URI: the PKCS#11 token label (tokens are
    /// chosen by label or serial, never by slot number, which is not stable).
    #[arg(long, value_name = "LABEL", conflicts_with = "signers")]
    pub pkcs11_token: Option<String>,
    /// With --pkcs11-token: the PKCS#11 module (default: $LOCKSMITH_PKCS11_MODULE, the defaults file, else p11-kit's proxy).
    #[arg(long, value_name = "PATH", requires = "pkcs11_token")]
    pub pkcs11_module: Option<std::path::PathBuf>,
    /// With --pkcs11-token: the key's label (CKA_LABEL).
    #[arg(long, value_name = "LABEL", requires = "pkcs11_token")]
    pub key_label: Option<String>,
    /// With --pkcs11-token: the key's id (CKA_ID) in hex.
    #[arg(long, value_name = "HEX", requires = "pkcs11_token")]
    pub key_id: Option<String>,
    /// With --pkcs11-token: where the PIN comes from (`file:PATH` or `env:VAR`; default: a prompt).
    #[arg(long, value_name = "SOURCE", requires = "pkcs11_token")]
    pub pin_source: Option<String>,
    /// Accept PKCS#11 keys that are extractable or not sensitive (never for real keys).
    #[arg(long)]
    pub allow_extractable: bool,
    /// Sign with a key that was imported onto the token (PKCS#11 CKA_LOCAL
    /// false; PIV origin "imported") instead of generated there: it existed
    /// outside the token, so copies may exist. Labelled IMPORTED, never
    /// hardware-backed.
    #[arg(long = "allow-imported-key")]
    pub allow_imported: bool,
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
    /// Also show the output as a QR code on the terminal (upstream's raw
    /// form: what `tailscale` or a phone reads); `locksmith exchange encode
    /// --qr png|gif|html|pdf` writes image files and animations.
    #[arg(long, conflicts_with = "json")]
    pub qr: bool,
    /// Write the output (--out) as a locksmith response envelope answering
    /// this request (the file `locksmith online export` made), for
    /// `locksmith online submit` on the connected machine.
    #[arg(long, value_name = "REQUEST")]
    pub respond_to: Option<std::path::PathBuf>,
    /// Also write the output as a locksmith exchange envelope here (kind,
    /// checksum), beside the raw form --out writes.
    #[arg(long, value_name = "PATH")]
    pub envelope_out: Option<std::path::PathBuf>,
    #[command(flatten, next_help_heading = "Ceremony record")]
    pub record: super::record::RecordArgs,
}

/// Checks, at preflight, where the command's main output goes: `path`,
/// the `--envelope-out` file, and the `--respond-to` request (readable,
/// a request, not expired).
pub fn check_primary_output(path: &Path, confirm: &ConfirmArgs, force: bool) -> anyhow::Result<()> {
    use crate::ceremony::commit::{check_target, Existing, Parent};
    check_target(path, Existing::from_force(force), Parent::MustExist)?;
    if let Some(env_path) = &confirm.envelope_out {
        check_target(env_path, Existing::from_force(force), Parent::MustExist)?;
    }
    if let Some(request_path) = &confirm.respond_to {
        read_request(request_path)?;
    }
    Ok(())
}

fn read_request(request_path: &Path) -> anyhow::Result<crate::exchange::RequestInfo> {
    let bytes = crate::input::Input::read_path(request_path)
        .context("--respond-to")?
        .bytes;
    let request =
        crate::exchange::Envelope::from_bytes(&bytes, &request_path.display().to_string())?;
    let Some(info) = request.request else {
        bail!("{} is not a request (it carries no nonce); use the file `locksmith online export` wrote", request_path.display());
    };
    if info.expires <= crate::exchange::unix_now() {
        bail!(
            "the request {} has expired; make a new export on the online machine",
            request_path.display()
        );
    }
    Ok(info)
}

/// The command's main output as files: the raw artifact at `path` (or
/// with `--respond-to` a response envelope answering the request), and
/// with `--envelope-out` the envelope. The note says what to do with a
/// response.
pub fn primary_outputs(
    path: &Path,
    kind: crate::exchange::ArtifactKind,
    payload: &[u8],
    confirm: &ConfirmArgs,
) -> anyhow::Result<(Vec<(std::path::PathBuf, Vec<u8>)>, Option<String>)> {
    let mut files = Vec::new();
    if let Some(env_path) = &confirm.envelope_out {
        let env = crate::exchange::Envelope::new(kind, payload.to_vec());
        files.push((env_path.clone(), env.to_bytes()));
    }
    let Some(request_path) = &confirm.respond_to else {
        files.push((path.to_path_buf(), payload.to_vec()));
        return Ok((files, None));
    };
    let info = read_request(request_path)?;
    let response = crate::exchange::Envelope::new_response(kind, payload.to_vec(), info.nonce);
    files.push((path.to_path_buf(), response.to_bytes()));
    let note = format!(
        "{} is a response to request {}: run `locksmith online submit {}` on the online machine",
        path.display(),
        info.nonce.to_hex(),
        path.display()
    );
    Ok((files, Some(note)))
}

/// Stages the command's main output (see [`primary_outputs`]) in `unit`.
pub fn stage_primary_output(
    unit: &mut crate::ceremony::commit::CommitUnit,
    path: &Path,
    kind: crate::exchange::ArtifactKind,
    payload: &[u8],
    confirm: &ConfirmArgs,
    force: bool,
) -> anyhow::Result<Option<String>> {
    use crate::ceremony::commit::{Existing, Parent};
    let (files, note) = primary_outputs(path, kind, payload, confirm)?;
    for (p, bytes) in files {
        unit.add(p, bytes, Existing::from_force(force), Parent::MustExist)?;
    }
    Ok(note)
}

/// Writes the command's main output: the raw artifact, or with
/// `--respond-to` a response envelope answering the request.
pub fn write_primary_output(
    path: &Path,
    kind: crate::exchange::ArtifactKind,
    payload: &[u8],
    confirm: &ConfirmArgs,
    force: bool,
) -> anyhow::Result<()> {
    let (files, note) = primary_outputs(path, kind, payload, confirm)?;
    for (p, bytes) in files {
        write_output(&p, &bytes, force)?;
    }
    if let Some(note) = note {
        eprintln!("{note}");
    }
    Ok(())
}

/// Shows an artifact as terminal QR codes (several, numbered, when it does
/// not fit one) in upstream's raw form.
pub fn show_qr(kind: crate::exchange::ArtifactKind, payload: &[u8]) -> anyhow::Result<()> {
    use crate::exchange::qr_out::{Density, QrContent, QrFormat};
    let args = super::exchange::QrArgs {
        qr: Some(QrFormat::Terminal),
        fps: crate::exchange::qr_out::DEFAULT_FPS,
        density: Density::Medium,
        ecc: None,
        frames: None,
        qr_content: QrContent::Raw,
        colors: None,
        cols: None,
        module_px: None,
    };
    let env = crate::exchange::Envelope::new(kind, payload.to_vec());
    super::exchange::write_qr(&env, QrFormat::Terminal, &args, None, false)?;
    Ok(())
}

impl SignerArgs {
    /// The signer specs: `--signer` values, or one `pkcs11:` URI built from the flags.
    pub fn specs(&self) -> anyhow::Result<Vec<String>> {
        let Some(token) = &self.pkcs11_token else {
            return Ok(self.signers.clone());
        };
        use crate::signers::spec::pct_encode;
        let mut uri = format!("pkcs11:token={}", pct_encode(token.as_bytes()));
        if let Some(label) = &self.key_label {
            uri.push_str(&format!(";object={}", pct_encode(label.as_bytes())));
        }
        if let Some(id) = &self.key_id {
            let bytes = crate::tka::hex::decode(id)
                .with_context(|| format!("--key-id {id:?} must be hex"))?;
            uri.push_str(&format!(";id={}", pct_encode(&bytes)));
        }
        let mut query = Vec::new();
        if let Some(m) = &self.pkcs11_module {
            query.push(format!(
                "module-path={}",
                pct_encode(m.display().to_string().as_bytes())
            ));
        }
        if let Some(p) = &self.pin_source {
            query.push(format!("pin-source={}", pct_encode(p.as_bytes())));
        }
        if !query.is_empty() {
            uri.push('?');
            uri.push_str(&query.join("&"));
        }
        Ok(vec![uri])
    }
}

/// Opened signers with a warning for software keys.
pub fn open_signers(args: &SignerArgs) -> anyhow::Result<Vec<Box<dyn Signer>>> {
    let options = OpenOptions {
        allow_extractable: args.allow_extractable,
        allow_imported: args.allow_imported,
    };
    let mut out: Vec<Box<dyn Signer>> = Vec::new();
    for spec in &args.specs()? {
        let signer = open_signer(spec, &options)
            .with_context(|| format!("opening signer {}", crate::signers::spec::shown(spec)))?;
        if out.iter().any(|s| s.public_key() == signer.public_key()) {
            bail!(
                "--signer {} names a key already given ({}); each key signs once",
                crate::signers::spec::shown(spec),
                tlpub_text(&signer.public_key())
            );
        }
        match signer.custody() {
            KeyCustody::Software => eprintln!(
                "WARNING: {} is a software key ({}); use a hardware token for real ceremonies",
                tlpub_text(&signer.public_key()),
                KeyCustody::Software.label()
            ),
            KeyCustody::Imported => eprintln!(
                "WARNING: {} is an {}: copies of it may exist off the token (--allow-imported-key)",
                tlpub_text(&signer.public_key()),
                KeyCustody::Imported.label()
            ),
            KeyCustody::Hardware => {}
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
    // The summary holds outside text: escaped at the sink too.
    eprintln!("{}", crate::shown::for_terminal(summary));
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
    super::write_stdout_raw(format_args!("{v}\n"));
}
