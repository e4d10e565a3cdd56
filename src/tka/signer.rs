//! The signing interface every key backend implements.
//!
//! Tailnet Lock signs two kinds of digest, both 32-byte BLAKE2s-256 values:
//! an AUM's SigHash and a node-key signature's SigHash. Backends sign that
//! digest itself with plain ("pure") Ed25519: no prefix, no pre-hash.
//!
//! A backend never hands out private key material. Callers must verify every
//! signature a backend returns before using it (see [`sign_verified`]); a
//! token that answers with a wrong signature is reported, never written out.

use std::fmt;

/// What kind of store holds a signer's private key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCustody {
    /// The key lives on a token (PKCS#11 or PIV) and cannot be exported.
    Hardware,
    /// The key is in software (a file or memory): for development and tests.
    Software,
}

impl KeyCustody {
    /// A label shown beside every output made with a signer of this custody.
    pub fn label(self) -> &'static str {
        match self {
            KeyCustody::Hardware => "hardware-backed",
            KeyCustody::Software => "SOFTWARE KEY, NOT HARDWARE-BACKED",
        }
    }
}

/// An error from a signing backend. Carries a message meant for the user,
/// including the next step where the backend knows one.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SignerError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl SignerError {
    /// An error with a user-facing message.
    pub fn new(message: impl Into<String>) -> Self {
        SignerError { message: message.into(), source: None }
    }

    /// An error with a user-facing message and an underlying cause.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SignerError { message: message.into(), source: Some(Box::new(source)) }
    }
}

/// An Ed25519 key that can sign Tailnet Lock digests.
pub trait Signer {
    /// The Ed25519 public key (also the Tailnet Lock key ID).
    fn public_key(&self) -> [u8; 32];

    /// Whether the private key is held by hardware.
    fn custody(&self) -> KeyCustody;

    /// A short human description: token and key label, card serial and slot, or file.
    fn describe(&self) -> String;

    /// Signs `digest` (a 32-byte SigHash) with pure Ed25519.
    fn sign_digest(&mut self, digest: &[u8; 32]) -> Result<[u8; 64], SignerError>;
}

impl fmt::Debug for dyn Signer + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("describe", &self.describe()).finish()
    }
}

/// Signs `digest` and checks the signature against the signer's public key
/// (ZIP-215 rules, as upstream verifies AUM and node-key signatures) before
/// returning it.
pub fn sign_verified(signer: &mut dyn Signer, digest: &[u8; 32]) -> Result<[u8; 64], SignerError> {
    let sig = signer.sign_digest(digest)?;
    let public = signer.public_key();
    if !crate::tka::sig::verify_zip215(&public, digest, &sig) {
        return Err(SignerError::new(format!(
            "the signature returned by {} does not verify against its public key tlpub:{}; \
             the token may be faulty or the wrong key was selected; nothing was written",
            signer.describe(),
            crate::tka::hex::lower(&public)
        )));
    }
    Ok(sig)
}

/// An Ed25519 key held in memory: for development and tests only.
pub struct SoftwareSigner {
    key: ed25519_dalek::SigningKey,
    label: String,
}

impl SoftwareSigner {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(seed: &[u8; 32], label: impl Into<String>) -> Self {
        SoftwareSigner { key: ed25519_dalek::SigningKey::from_bytes(seed), label: label.into() }
    }

    /// A fresh key from the operating system's random number generator.
    pub fn generate(label: impl Into<String>) -> Self {
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        SoftwareSigner { key, label: label.into() }
    }
}

impl fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("public", &crate::tka::hex::lower(&self.public_key()))
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl Signer for SoftwareSigner {
    fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    fn custody(&self) -> KeyCustody {
        KeyCustody::Software
    }

    fn describe(&self) -> String {
        format!("software key {} ({})", self.label, KeyCustody::Software.label())
    }

    fn sign_digest(&mut self, digest: &[u8; 32]) -> Result<[u8; 64], SignerError> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(digest).to_bytes())
    }
}
