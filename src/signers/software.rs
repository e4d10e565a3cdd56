//! A software Ed25519 key in an age-encrypted file: for development, tests
//! and users without hardware. NOT HARDWARE-BACKED, and every description
//! and output made with it says so.
//!
//! The plaintext inside the age file is two lines: a header naming the
//! format and the 32-byte seed in hex. The file is encrypted either with a
//! passphrase (age scrypt) or to the recipients of an age identity file
//! (`file:PATH?identity=ID.txt`), so `age -d` can decrypt it as well.

use super::pin::{obtain_pin, Pin};
use super::spec::FileSpec;
use super::{tlpub, Error, GenerateOptions, KeyInfo};
use crate::tka::signer::{KeyCustody, Signer, SignerError, SoftwareSigner};
use age::secrecy::SecretString;
use std::io::Write;
use std::path::Path;
use zeroize::Zeroizing;

/// First line of the plaintext.
pub const KEY_FILE_HEADER: &str = "locksmith software ed25519 key v1 (NOT HARDWARE-BACKED)";

/// A software key read from an age-encrypted file.
pub struct FileSigner {
    inner: SoftwareSigner,
    public: [u8; 32],
    description: String,
}

impl std::fmt::Debug for FileSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSigner")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

fn sw(msg: impl Into<String>) -> Error {
    Error::Software(msg.into())
}

fn passphrase(spec: &FileSpec) -> Result<Pin, Error> {
    Ok(obtain_pin(
        spec.pin_source.as_ref(),
        &format!("software key file {}", spec.path.display()),
    )?)
}

/// A passphrase for a new key file: from the spec's source or
/// `LOCKSMITH_PIN` as given, or typed twice at the prompt.
fn new_passphrase(spec: &FileSpec) -> Result<Pin, Error> {
    let what = format!("new software key file {}", spec.path.display());
    if spec.pin_source.is_some() || std::env::var_os(super::pin::PIN_ENV_VAR).is_some() {
        return Ok(obtain_pin(spec.pin_source.as_ref(), &what)?);
    }
    let first = super::pin::prompt_pin(&what)?;
    let second = super::pin::prompt_pin(&format!("{what} (again)"))?;
    if first.expose() != second.expose() {
        return Err(sw("the two passphrases differ; nothing was written"));
    }
    Ok(first)
}

fn identities(path: &Path) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, Error> {
    let file = age::IdentityFile::from_file(path.to_string_lossy().into_owned()).map_err(|e| {
        Error::Io {
            what: format!("cannot read age identity file {}", path.display()),
            error: e,
        }
    })?;
    file.into_identities().map_err(|e| {
        sw(format!(
            "age identity file {} is not usable: {e}",
            path.display()
        ))
    })
}

fn decrypt(spec: &FileSpec) -> Result<Zeroizing<Vec<u8>>, Error> {
    let data = std::fs::read(&spec.path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => sw(format!(
            "software key file {}: {}",
            crate::shown::path(&spec.path),
            crate::input::path_hint::no_such_file(&spec.path)
        )),
        _ => Error::Io {
            what: format!("cannot read software key file {}", spec.path.display()),
            error: e,
        },
    })?;
    let decryptor = age::Decryptor::new_buffered(&data[..]).map_err(|e| {
        sw(format!(
            "{} is not an age-encrypted locksmith key file: {e}",
            spec.path.display()
        ))
    })?;
    let mut reader = if decryptor.is_scrypt() {
        let pass = passphrase(spec)?;
        let mut id = age::scrypt::Identity::new(SecretString::from(pass.expose().to_string()));
        // A fixed ceiling instead of age's default, which times the machine
        // and refused ordinary files on a loaded one ("excessive work
        // parameter"). 2^22 is 16 times age's own encryption default.
        id.set_max_work_factor(crate::limits::SCRYPT_MAX_LOG_N);
        decryptor
            .decrypt(std::iter::once(&id as &dyn age::Identity))
            .map_err(|e| {
                sw(format!(
                    "cannot decrypt {}: {e} (wrong passphrase?)",
                    spec.path.display()
                ))
            })?
    } else {
        let path = spec.identity.as_ref().ok_or_else(|| {
            sw(format!(
                "{} is encrypted to age recipients; add ?identity=/path/to/age-identity.txt to the spec",
                spec.path.display()
            ))
        })?;
        let ids = identities(path)?;
        decryptor
            .decrypt(ids.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .map_err(|e| {
                sw(format!(
                    "cannot decrypt {} with {}: {e}",
                    spec.path.display(),
                    path.display()
                ))
            })?
    };
    // Into a buffer that zeroizes every allocation it outgrows.
    let mut plain = crate::secrets::secret_buf::SecretBuf::with_capacity(data.len());
    plain
        .read_to_end_from(&mut reader, 64 * 1024)
        .map_err(|e| Error::Io {
            what: format!("cannot decrypt {}", spec.path.display()),
            error: e,
        })?;
    Ok(plain.into_zeroizing())
}

fn parse_plaintext(plain: &[u8], path: &Path) -> Result<Zeroizing<[u8; 32]>, Error> {
    let bad = || {
        sw(format!(
            "{} decrypted, but is not a locksmith software key file",
            path.display()
        ))
    };
    let text = std::str::from_utf8(plain).map_err(|_| bad())?;
    let mut lines = text.lines();
    if lines.next() != Some(KEY_FILE_HEADER) {
        return Err(bad());
    }
    let hex = lines.next().ok_or_else(bad)?.trim();
    let bytes = Zeroizing::new(
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(hex.as_bytes())
            .map_err(|_| bad())?,
    );
    let mut seed = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(bad());
    }
    seed.copy_from_slice(&bytes);
    Ok(seed)
}

impl FileSigner {
    /// Decrypts the key file (asking for the passphrase as the spec says).
    pub fn open(spec: &FileSpec) -> Result<Self, Error> {
        let plain = decrypt(spec)?;
        let seed = parse_plaintext(&plain, &spec.path)?;
        Ok(Self::from_seed(&seed, &spec.path))
    }

    fn from_seed(seed: &[u8; 32], path: &Path) -> Self {
        let inner = SoftwareSigner::from_seed(seed, path.display().to_string());
        let public = inner.public_key();
        FileSigner {
            inner,
            public,
            description: format!(
                "software key file {} ({})",
                path.display(),
                KeyCustody::Software.label()
            ),
        }
    }
}

impl Signer for FileSigner {
    fn public_key(&self) -> [u8; 32] {
        self.public
    }
    fn custody(&self) -> KeyCustody {
        KeyCustody::Software
    }
    fn describe(&self) -> String {
        self.description.clone()
    }
    fn sign_digest(&mut self, digest: &[u8; 32]) -> Result<[u8; 64], SignerError> {
        self.inner.sign_digest(digest)
    }
    fn sign_message(&mut self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        self.inner.sign_message(message)
    }
}

/// The record of the key in `spec`'s file, whose public key is `public`.
pub fn info(spec: &FileSpec, public: &[u8; 32]) -> KeyInfo {
    KeyInfo {
        spec: format!("file:{}", spec.path.display()),
        tlpub: tlpub(public),
        custody: KeyCustody::Software.label(),
        description: format!(
            "software key file {} ({})",
            spec.path.display(),
            KeyCustody::Software.label()
        ),
        details: vec![(
            "encryption".into(),
            if spec.identity.is_some() {
                "age recipients".into()
            } else {
                "age passphrase (scrypt)".into()
            },
        )],
        attestation_pem: None,
    }
}

/// Creates a new software key file. Refuses to overwrite unless `force`.
pub fn generate(spec: &FileSpec, options: &GenerateOptions) -> Result<KeyInfo, Error> {
    generate_signer(spec, options).map(|(k, _)| k)
}

/// [`generate`], and the new key as a signer (no second passphrase prompt).
pub fn generate_signer(
    spec: &FileSpec,
    options: &GenerateOptions,
) -> Result<(KeyInfo, FileSigner), Error> {
    if spec.path.exists() && !options.force {
        return Err(Error::Refused(existing_file_guidance(&spec.path, None)));
    }
    NewKeyFile::prepare(spec)?.write(options.force)
}

/// What to do about a key file `token generate` may not replace: remove
/// it (if it is in no authority), another path, or `--force`.
pub fn existing_file_guidance(path: &Path, why: Option<&str>) -> String {
    let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
    format!(
        "{} exists{why}. Nothing was generated. To continue, either choose another path; or, \
         if its key is in no authority (check `locksmith token show --signer file:{}` against \
         `locksmith lock status`), remove it with\n  rm -- {}\nand run this command again; \
         or pass --force to replace it (the old key is lost)",
        path.display(),
        path.display(),
        shell_quoted(path)
    )
}

/// `path` as one shell word: bare when it is plain, else single-quoted.
fn shell_quoted(path: &Path) -> String {
    let text = crate::shown::path(path);
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// A new key file made in memory, not yet written: the public key is known
/// before anything is on disk, so `token generate` can write its
/// pending-key marker first.
pub struct NewKeyFile {
    spec: FileSpec,
    signer: FileSigner,
    ciphertext: Vec<u8>,
}

impl std::fmt::Debug for NewKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKeyFile")
            .field("path", &self.spec.path)
            .finish_non_exhaustive()
    }
}

impl NewKeyFile {
    /// A new seed, encrypted with the passphrase (asked here, typed twice
    /// at a prompt) or to the identity file's recipients.
    pub fn prepare(spec: &FileSpec) -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed[..]);
        let signer = FileSigner::from_seed(&seed, &spec.path);
        // Encoded into a buffer wiped on drop: `HEXLOWER.encode` would return
        // a plain String holding the seed, freed without being wiped.
        let mut seed_hex = Zeroizing::new(String::with_capacity(64));
        data_encoding::HEXLOWER.encode_append(&seed[..], &mut seed_hex);
        let mut plain = Zeroizing::new(String::with_capacity(KEY_FILE_HEADER.len() + 66));
        plain.push_str(KEY_FILE_HEADER);
        plain.push('\n');
        plain.push_str(&seed_hex);
        plain.push('\n');
        let encryptor = match &spec.identity {
            Some(path) => {
                let file = age::IdentityFile::from_file(path.to_string_lossy().into_owned())
                    .map_err(|e| Error::Io {
                        what: format!("cannot read age identity file {}", path.display()),
                        error: e,
                    })?;
                let recipients = file.to_recipients().map_err(|e| {
                    sw(format!(
                        "age identity file {} has no usable recipients: {e}",
                        path.display()
                    ))
                })?;
                age::Encryptor::with_recipients(
                    recipients.iter().map(|r| r.as_ref() as &dyn age::Recipient),
                )
                .map_err(|e| sw(format!("cannot encrypt to {}: {e}", path.display())))?
            }
            None => {
                let pass = new_passphrase(spec)?;
                age::Encryptor::with_user_passphrase(SecretString::from(pass.expose().to_string()))
            }
        };
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).map_err(|e| Error::Io {
            what: "age encryption failed".into(),
            error: e,
        })?;
        writer
            .write_all(plain.as_bytes())
            .and_then(|_| writer.finish().map(|_| ()))
            .map_err(|e| Error::Io {
                what: "age encryption failed".into(),
                error: e,
            })?;
        Ok(NewKeyFile {
            spec: spec.clone(),
            signer,
            ciphertext: out,
        })
    }

    /// The new key's public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signer.public_key()
    }

    /// Writes the key file atomically (replacing one only if `overwrite`)
    /// and returns its record and the key as a signer.
    pub fn write(self, overwrite: bool) -> Result<(KeyInfo, FileSigner), Error> {
        write_atomically(&self.spec.path, &self.ciphertext, overwrite)?;
        let public = self.signer.public_key();
        Ok((info(&self.spec, &public), self.signer))
    }
}

/// Writes `data` to `path` through a temporary file in the same directory,
/// so a crash leaves either the old file or the new one.
pub fn write_atomically(path: &Path, data: &[u8], overwrite: bool) -> Result<(), Error> {
    crate::output::write_atomic(path, data, overwrite).map_err(|e| match e {
        crate::output::OutputError::Exists(_) => Error::Io {
            what: format!(
                "{} exists; refusing to overwrite it (pass --force to replace it)",
                path.display()
            ),
            error: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        },
        crate::output::OutputError::Io { source, .. } => Error::Io {
            what: format!("cannot write {}", path.display()),
            error: source,
        },
    })
}

/// Describes the key in the file (decrypts it to learn the public key).
pub fn show(spec: &FileSpec) -> Result<KeyInfo, Error> {
    let signer = FileSigner::open(spec)?;
    Ok(info(spec, &signer.public_key()))
}
