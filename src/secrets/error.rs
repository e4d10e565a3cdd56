//! Typed errors of the disablement-secrets module. Messages say what was
//! wrong, in which input, and what to do next; they never contain a secret.

use std::path::PathBuf;

/// Everything that can go wrong while making, writing, reading or checking
/// disablement secrets.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("the operating system's random number generator failed ({0}); no secret was made")]
    Random(String),

    #[error("{count} disablement secrets requested: upstream accepts 1 to 32; choose a count in that range")]
    BadCount { count: usize },

    #[error("genesis hash {text:?} is not an AUM hash (base32, 52 characters, no padding); copy it from the genesis AUM")]
    BadGenesisHash { text: String },

    #[error("{path}: already exists; pass --force to replace it or choose another directory")]
    WouldOverwrite { path: PathBuf },

    #[error("{path}: {action} failed: {cause}")]
    Io {
        path: PathBuf,
        action: &'static str,
        cause: std::io::Error,
    },

    #[error("recipient {input:?} is not an age recipient (age1…, age1<plugin>1…, ssh-ed25519 or ssh-rsa public key): {reason}")]
    BadRecipient { input: String, reason: String },

    #[error("age plugin {plugin:?} for recipient {recipient:?} could not be started: {reason} (age-plugin-{plugin} must be on PATH)")]
    PluginNotFound {
        plugin: String,
        recipient: String,
        reason: String,
    },

    #[error("no age recipient and no passphrase given: say where the encrypted secrets go (--to, --to-file or --passphrase)")]
    NoRecipients,

    #[error("age encryption failed: {0}")]
    Encrypt(String),

    #[error("{input}: age decryption failed: {reason}")]
    Decrypt { input: String, reason: String },

    #[error("{input}: identity file could not be read: {reason}; give an age identity (AGE-SECRET-KEY-1…, AGE-PLUGIN-…) or an unencrypted OpenSSH private key")]
    BadIdentity { input: String, reason: String },

    #[error("{input}: the decrypted file holds no `disablement-secret:` line; is it a locksmith disablement file?")]
    NoSecretInFile { input: String },

    #[error("{input}, line {line}: {problem}")]
    BadSecretText {
        input: String,
        line: usize,
        problem: String,
    },

    #[error("{input}: no QR code found in the image ({reason}); photograph the whole code flat, evenly lit, and try again")]
    NoQrCode { input: String, reason: String },

    #[error("{input}: the QR code does not hold a disablement secret; is this the QR code of a locksmith disablement sheet?")]
    QrNotASecret { input: String },

    #[error("{input}: the image could not be read: {reason}")]
    BadImage { input: String, reason: String },

    #[error("the QR code could not be made: {0}")]
    QrEncode(String),

    #[error("{input}, line {line}: {problem}")]
    BadValueText {
        input: String,
        line: usize,
        problem: String,
    },

    #[error("{path}: verification record is damaged: {reason}; restore it from its copy or start a new one")]
    BadRecord { path: PathBuf, reason: String },
}

impl SecretsError {
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        cause: std::io::Error,
    ) -> Self {
        SecretsError::Io {
            path: path.into(),
            action,
            cause,
        }
    }
}

impl From<crate::output::OutputError> for SecretsError {
    fn from(e: crate::output::OutputError) -> Self {
        match e {
            crate::output::OutputError::Exists(path) => {
                SecretsError::WouldOverwrite { path: path.into() }
            }
            crate::output::OutputError::Io {
                path,
                action,
                source,
            } => SecretsError::io(path, action, source),
        }
    }
}
