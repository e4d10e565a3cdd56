//! Opening the keys a command signs with: which keys (signer specs, or a
//! PKCS#11 token named by label and the key on it), opened once each,
//! software and imported keys labelled as such, and how they are shown.

use super::terminal::Terminal;
use crate::ceremony::error::{bail, Context};
use crate::signers::{open_signer, OpenOptions};
use crate::tka::keyforms::tlpub_text;
use crate::tka::signer::{KeyCustody, Signer};
use std::path::PathBuf;

/// The keys a command asks for: signer specs, or (instead) a PKCS#11
/// token by label with the key's label/id, module and PIN source.
#[derive(Debug, Clone, Default)]
pub struct SignerRequest {
    /// `pkcs11:` URIs, `yubikey:…`, `file:PATH` (ignored when
    /// `pkcs11_token` is set).
    pub specs: Vec<String>,
    /// The PKCS#11 token label (tokens are chosen by label or serial,
    /// never by slot number, which is not stable).
    pub pkcs11_token: Option<String>,
    pub pkcs11_module: Option<PathBuf>,
    /// The key's CKA_LABEL.
    pub key_label: Option<String>,
    /// The key's CKA_ID in hex.
    pub key_id: Option<String>,
    /// `file:PATH` or `env:VAR`; none: a prompt.
    pub pin_source: Option<String>,
    /// Accept PKCS#11 keys that are extractable or not sensitive.
    pub allow_extractable: bool,
    /// Accept keys imported onto the token (labelled IMPORTED).
    pub allow_imported: bool,
}

impl SignerRequest {
    /// The signer specs: the specs given, or one `pkcs11:` URI built from
    /// the token fields.
    pub fn specs(&self) -> crate::ceremony::error::Result<Vec<String>> {
        let Some(token) = &self.pkcs11_token else {
            return Ok(self.specs.clone());
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

    /// Opens every signer (PKCS#11 logs in here), refusing a key given
    /// twice; a software or imported key gets a warning on `term`.
    pub fn open(
        &self,
        term: &mut dyn Terminal,
    ) -> crate::ceremony::error::Result<Vec<Box<dyn Signer>>> {
        let options = OpenOptions {
            allow_extractable: self.allow_extractable,
            allow_imported: self.allow_imported,
        };
        let mut out: Vec<Box<dyn Signer>> = Vec::new();
        for spec in &self.specs()? {
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
                KeyCustody::Software => term.say(&format!(
                    "WARNING: {} is a software key ({}); use a hardware token for real ceremonies",
                    tlpub_text(&signer.public_key()),
                    KeyCustody::Software.label()
                )),
                KeyCustody::Imported => term.say(&format!(
                    "WARNING: {} is an {}: copies of it may exist off the token (--allow-imported-key)",
                    tlpub_text(&signer.public_key()),
                    KeyCustody::Imported.label()
                )),
                KeyCustody::Hardware => {}
            }
            out.push(signer);
        }
        Ok(out)
    }
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

/// The signers as JSON: key, token, custody.
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
