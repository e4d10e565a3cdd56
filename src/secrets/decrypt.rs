//! Reading a disablement age file back (the yearly custody check): decrypt
//! with an age identity file (native, plugin, or OpenSSH key) or a
//! passphrase, and pull out the secrets it holds. The plaintext stays in
//! memory and is wiped after use.

use std::path::Path;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::age_files::{plain_text, TerminalCallbacks};
use super::error::SecretsError;
use super::secret::{parse_secret_hex, DisablementSecret, SECRET_PREFIX};
use super::values::{parse_value_text, DisablementValue};

/// How to open an age file.
pub enum Unlock {
    /// Identities from one or more identity files.
    Identities(Vec<Box<dyn age::Identity + Send + Sync>>),
    /// A passphrase (for files made with `--passphrase`).
    Passphrase(SecretString),
}

/// Reads identities from `path`: an age identity file (`AGE-SECRET-KEY-1…`,
/// `AGE-PLUGIN-…`) or an OpenSSH private key.
pub fn load_identities(
    path: &Path,
) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, SecretsError> {
    let input = path.display().to_string();
    let native = age::IdentityFile::from_file(input.clone())
        .map(|f| f.with_callbacks(TerminalCallbacks).into_identities());
    if let Ok(Ok(ids)) = native {
        if !ids.is_empty() {
            return Ok(ids);
        }
    }
    let file = std::fs::File::open(path)
        .map_err(|e| SecretsError::io(path, "opening the identity file", e))?;
    let ssh = age::ssh::Identity::from_buffer(std::io::BufReader::new(file), Some(input.clone()))
        .map_err(|e| SecretsError::BadIdentity {
        input: input.clone(),
        reason: e.to_string(),
    })?;
    match ssh {
        age::ssh::Identity::Unsupported(k) => Err(SecretsError::BadIdentity {
            input,
            reason: format!("unsupported SSH key ({k:?})"),
        }),
        other => Ok(vec![Box::new(other.with_callbacks(TerminalCallbacks))]),
    }
}

/// One secret found in a decrypted file.
#[derive(Debug)]
pub struct FoundSecret {
    /// The 1-based index the file's header gives, if any.
    pub index: Option<usize>,
    /// The value the file says the secret matches (informative only: check
    /// it against the authority, not against the file).
    pub recorded_value: Option<DisablementValue>,
    pub secret: DisablementSecret,
}

pub use crate::limits::MAX_SECRETS_PLAINTEXT as MAX_PLAINTEXT;

/// Decrypts `bytes` (binary or armored), read from `input`.
pub fn decrypt_bytes(
    input: &str,
    bytes: &[u8],
    unlock: &Unlock,
) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
    let fail = |reason: String| SecretsError::Decrypt {
        input: input.to_owned(),
        reason: plain_text(&reason),
    };
    let start = bytes.trim_ascii_start();
    if !start.starts_with(b"age-encryption.org/")
        && !start.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
    {
        return Err(fail(
            "not an age file (it starts with neither `age-encryption.org/` nor an armor line); is it the right file?".into(),
        ));
    }
    let reader = age::armor::ArmoredReader::new(bytes);
    let decryptor = age::Decryptor::new(reader)
        .map_err(|e| fail(format!("{e}; is this an age file (binary or armored)?")))?;
    let mut scrypt_id;
    let ids: Vec<&dyn age::Identity> = match unlock {
        Unlock::Passphrase(p) => {
            if !decryptor.is_scrypt() {
                return Err(fail(
                    "the file is encrypted to recipients, not to a passphrase; pass --identity"
                        .into(),
                ));
            }
            scrypt_id = age::scrypt::Identity::new(p.clone());
            // See limits::SCRYPT_MAX_LOG_N: a fixed ceiling, not a timing.
            scrypt_id.set_max_work_factor(crate::limits::SCRYPT_MAX_LOG_N);
            vec![&scrypt_id]
        }
        Unlock::Identities(list) => {
            if decryptor.is_scrypt() {
                return Err(fail(
                    "the file is encrypted to a passphrase; leave out --identity to be asked for it".into(),
                ));
            }
            list.iter()
                .map(|b| b.as_ref() as &dyn age::Identity)
                .collect()
        }
    };
    let mut reader = decryptor.decrypt(ids.into_iter()).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => {
            fail("none of the given identities can open it; is it the right key or card?".into())
        }
        age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed => {
            fail("wrong passphrase or damaged file".into())
        }
        other => fail(other.to_string()),
    })?;
    // Read into a buffer that zeroizes every allocation it outgrows.
    let mut out = super::secret_buf::SecretBuf::with_capacity(bytes.len());
    out.read_to_end_from(&mut reader, MAX_PLAINTEXT)
        .map_err(|e| fail(format!("{e}; the file is damaged or truncated")))?;
    Ok(out.into_zeroizing())
}

/// Decrypts the file at `path` and returns the secrets it holds.
pub fn decrypt_file(path: &Path, unlock: &Unlock) -> Result<Vec<FoundSecret>, SecretsError> {
    let input = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| SecretsError::io(path, "reading", e))?;
    let plain = decrypt_bytes(&input, &bytes, unlock)?;
    parse_payload(&input, &plain)
}

/// Finds the `disablement-secret:` lines of a decrypted payload, with the
/// index and value named by the comment lines before each.
pub fn parse_payload(input: &str, plain: &[u8]) -> Result<Vec<FoundSecret>, SecretsError> {
    let text = std::str::from_utf8(plain).map_err(|_| SecretsError::NoSecretInFile {
        input: input.to_owned(),
    })?;
    let mut found = Vec::new();
    let mut index = None;
    let mut value = None;
    for (n, line) in text.lines().enumerate() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("# locksmith disablement secret ") {
            index = rest.split_whitespace().next().and_then(|i| i.parse().ok());
        } else if let Some(rest) = l.strip_prefix("# value:") {
            value = parse_value_text(rest);
        } else if l
            .get(..SECRET_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(SECRET_PREFIX))
        {
            let secret = parse_secret_hex(l).ok_or_else(|| SecretsError::BadSecretText {
                input: input.to_owned(),
                line: n + 1,
                problem: "the disablement-secret line is not 64 hex digits".into(),
            })?;
            found.push(FoundSecret {
                index: index.take(),
                recorded_value: value.take(),
                secret,
            });
        }
    }
    if found.is_empty() {
        return Err(SecretsError::NoSecretInFile {
            input: input.to_owned(),
        });
    }
    Ok(found)
}
