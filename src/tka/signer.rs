//! The signing interface every key backend implements.
//!
//! Tailnet Lock signs two kinds of digest, both 32-byte BLAKE2s-256 values:
//! an AUM's SigHash and a node-key signature's SigHash. Backends sign that
//! digest itself with plain ("pure") Ed25519: no prefix, no pre-hash.
//!
//! A backend never hands out private key material. Callers must verify every
//! signature a backend returns before using it (see [`sign_verified`]); a
//! token that answers with a wrong signature is reported, never written out.

use super::error::Error;
use std::fmt;

/// What kind of store holds a signer's private key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCustody {
    /// The key lives on a token (PKCS#11 or PIV) and cannot be exported.
    Hardware,
    /// The key is in software (a file or memory): for development and tests.
    Software,
    /// The key is on a token but was imported there (PKCS#11 CKA_LOCAL
    /// false, PIV origin "imported"): it existed outside the token, so
    /// copies may exist. Never called hardware-backed.
    Imported,
}

impl KeyCustody {
    /// A label shown beside every output made with a signer of this custody.
    pub fn label(self) -> &'static str {
        match self {
            KeyCustody::Hardware => "hardware-backed",
            KeyCustody::Software => "SOFTWARE KEY, NOT HARDWARE-BACKED",
            KeyCustody::Imported => {
                "IMPORTED KEY (or once extractable): copies may exist off the token"
            }
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
        SignerError {
            message: message.into(),
            source: None,
        }
    }

    /// An error with a user-facing message and an underlying cause.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SignerError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
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

    /// Signs a message that is not a Tailnet Lock SigHash (locksmith's own
    /// records, e.g. the ceremony transcript) with pure Ed25519.
    ///
    /// Invariant: such a message is never 32 bytes long and starts with a
    /// domain string, so no signature made here can be taken for an AUM or
    /// node-key signature (those sign a bare 32-byte BLAKE2s digest), and
    /// no AUM or node-key signature verifies as one of these. A 32-byte
    /// message is refused. A backend that cannot sign arbitrary messages
    /// keeps this default, which refuses.
    fn sign_message(&mut self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        let _ = message;
        Err(SignerError::new(format!(
            "{} cannot sign locksmith's own records (only 32-byte Tailnet Lock digests)",
            self.describe()
        )))
    }
}

/// Checks the invariant of [`Signer::sign_message`]: a record message is
/// never the length of a SigHash.
pub fn check_record_message(message: &[u8]) -> Result<(), SignerError> {
    if message.len() == 32 {
        return Err(SignerError::new(
            "internal error: refusing to sign a 32-byte record message (it could pass for a Tailnet \
             Lock SigHash)",
        ));
    }
    Ok(())
}

/// [`Signer::sign_message`], with the returned signature checked against
/// the signer's public key (ZIP-215) before it is returned.
pub fn sign_message_verified(signer: &mut dyn Signer, message: &[u8]) -> Result<[u8; 64], Error> {
    check_record_message(message)?;
    let sig = signer.sign_message(message)?;
    Ok(check_returned(signer, message, sig)?)
}

impl fmt::Debug for dyn Signer + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("describe", &self.describe())
            .finish()
    }
}

/// Signs `digest` and checks the signature against the signer's public key
/// (ZIP-215 rules, as upstream verifies AUM and node-key signatures) before
/// returning it.
pub fn sign_verified(signer: &mut dyn Signer, digest: &[u8; 32]) -> Result<[u8; 64], Error> {
    let sig = signer.sign_digest(digest)?;
    Ok(check_returned(signer, digest, sig)?)
}

/// Checks a signature `signer` returned over `message` against its public
/// key (ZIP-215) before anything uses it.
fn check_returned(
    signer: &dyn Signer,
    message: &[u8],
    sig: [u8; 64],
) -> Result<[u8; 64], SignerError> {
    let public = signer.public_key();
    if !crate::tka::sig::verify_zip215(&public, message, &sig) {
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
        SoftwareSigner {
            key: ed25519_dalek::SigningKey::from_bytes(seed),
            label: label.into(),
        }
    }

    /// The 64-byte private key (seed then public key), as Go's
    /// `ed25519.PrivateKey` holds it. Zeroized when dropped.
    pub fn private_key_bytes(&self) -> zeroize::Zeroizing<[u8; 64]> {
        zeroize::Zeroizing::new(self.key.to_keypair_bytes())
    }

    /// A fresh key from the operating system's random number generator.
    pub fn generate(label: impl Into<String>) -> Self {
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        SoftwareSigner {
            key,
            label: label.into(),
        }
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
        format!(
            "software key {} ({})",
            self.label,
            KeyCustody::Software.label()
        )
    }

    fn sign_digest(&mut self, digest: &[u8; 32]) -> Result<[u8; 64], SignerError> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(digest).to_bytes())
    }

    fn sign_message(&mut self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        use ed25519_dalek::Signer as _;
        check_record_message(message)?;
        Ok(self.key.sign(message).to_bytes())
    }
}

/// Signs many digests with one signer (one token session, one PIN entry)
/// and verifies every signature (ZIP-215) before returning any of them.
///
/// Verification runs on a second thread while the token signs the next
/// digest, so a batch costs little more than the token's own signing time.
/// If any signature fails to verify, the whole batch is refused.
pub fn sign_verified_batch(
    signer: &mut dyn Signer,
    digests: &[[u8; 32]],
) -> Result<Vec<[u8; 64]>, Error> {
    let public = signer.public_key();
    let describe = signer.describe();
    let (tx, rx) = std::sync::mpsc::channel::<(usize, [u8; 32], [u8; 64])>();
    let signed: Result<Vec<[u8; 64]>, SignerError> = std::thread::scope(|scope| {
        let checker = scope.spawn(move || {
            // Batches of 64 (ed25519-consensus batch verification, the same
            // ZIP-215 rules as single verification, about half the cost per
            // signature); a failed batch is re-checked one by one to name the
            // bad signature.
            const CHUNK: usize = 64;
            let mut bad = None;
            let mut pending: Vec<(usize, [u8; 32], [u8; 64])> = Vec::with_capacity(CHUNK);
            let mut check = |pending: &mut Vec<(usize, [u8; 32], [u8; 64])>| {
                if bad.is_some() || pending.is_empty() {
                    pending.clear();
                    return;
                }
                let key = ed25519_consensus::VerificationKeyBytes::from(public);
                let mut batch = ed25519_consensus::batch::Verifier::new();
                for (_, digest, sig) in pending.iter() {
                    batch.queue((key, ed25519_consensus::Signature::from(*sig), digest));
                }
                if batch.verify(rand_core::OsRng).is_err() {
                    bad = pending
                        .iter()
                        .find(|(_, d, s)| !crate::tka::sig::verify_zip215(&public, d, s))
                        .map(|(i, _, _)| *i)
                        .or(Some(pending[0].0));
                }
                pending.clear();
            };
            for item in rx {
                pending.push(item);
                if pending.len() == CHUNK {
                    check(&mut pending);
                }
            }
            check(&mut pending);
            bad
        });
        let mut sigs = Vec::with_capacity(digests.len());
        let mut result = Ok(());
        for (i, digest) in digests.iter().enumerate() {
            match signer.sign_digest(digest) {
                Ok(sig) => {
                    sigs.push(sig);
                    // The checker only stops early if it panicked; then join reports it.
                    let _ = tx.send((i, *digest, sig));
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        drop(tx);
        let bad = checker.join().map_err(|_| {
            SignerError::new(
                "internal error: the signature checker thread failed; nothing was written",
            )
        })?;
        result?;
        if let Some(i) = bad {
            return Err(SignerError::new(format!(
                "signature {} of {} returned by {describe} does not verify against its public key \
                 tlpub:{}; the token may be faulty or the wrong key was selected; nothing was written",
                i + 1,
                digests.len(),
                crate::tka::hex::lower(&public)
            )));
        }
        Ok(sigs)
    });
    Ok(signed?)
}
