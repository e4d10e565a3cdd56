//! The arguments every signing command shares (`--signer` and the
//! PKCS#11 flags, confirmation and output options) and their conversion
//! into the library's requests (`crate::ceremony::signers`,
//! `crate::ceremony::outputs`); the terminal QR of a command's output.

use crate::ceremony::outputs::PrimaryOutput;
use crate::ceremony::signers::SignerRequest;

pub use crate::ceremony::signers::signers_json;

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

impl ConfirmArgs {
    /// The library's description of the main output's extra forms.
    pub fn primary(&self, force: bool) -> PrimaryOutput {
        PrimaryOutput {
            respond_to: self.respond_to.clone(),
            envelope_out: self.envelope_out.clone(),
            force,
        }
    }
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

impl From<&SignerArgs> for SignerRequest {
    fn from(args: &SignerArgs) -> Self {
        SignerRequest {
            specs: args.signers.clone(),
            pkcs11_token: args.pkcs11_token.clone(),
            pkcs11_module: args.pkcs11_module.clone(),
            key_label: args.key_label.clone(),
            key_id: args.key_id.clone(),
            pin_source: args.pin_source.clone(),
            allow_extractable: args.allow_extractable,
            allow_imported: args.allow_imported,
        }
    }
}

impl SignerArgs {
    /// The library's request for these keys.
    pub fn request(&self) -> SignerRequest {
        self.into()
    }

    /// The signer specs: `--signer` values, or one `pkcs11:` URI built from the flags.
    pub fn specs(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.request().specs()?)
    }
}

/// Prints a JSON object on standard output.
pub fn print_json(v: &serde_json::Value) {
    super::write_stdout_raw(format_args!("{v}\n"));
}
