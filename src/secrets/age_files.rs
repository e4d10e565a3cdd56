//! age output for disablement secrets: one file per secret or one for all,
//! to recipients (native X25519 `age1…`, SSH ed25519/RSA keys, plugin
//! recipients such as `age1yubikey1…` through age's plugin protocol) or to
//! a passphrase, optionally ASCII-armored.
//!
//! What a file holds is visible without decrypting it:
//! - its name: `disablement-<first 16 characters of the genesis hash>-<i>of<n>.age`
//!   (or `-all<n>.age` for one file holding every secret);
//! - in recipient mode and binary (unarmored) output, a cleartext,
//!   MAC-authenticated line in the age header,
//!   `-> locksmith-label <genesis hash> <StateID1:StateID2> <date> secret-<i>-of-<n>`,
//!   which stock age and rage skip as a stanza meant for someone else.
//!   Passphrase files cannot carry it (age requires the scrypt stanza to
//!   be alone), nor can armored files show it (it is inside the base64).
//!
//! The decrypted text starts with `#` comment lines naming the authority,
//! the secret's index and its disablement value, followed by the
//! `disablement-secret:` line.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::SecretString;
use age_core::format::{FileKey, Stanza};
use zeroize::Zeroizing;

use super::error::SecretsError;
use super::label::AuthorityLabel;
use super::progress::{LazyBar, Progress};
use super::secret::DisablementSecret;
use super::values::{value_text, DisablementValue};
use crate::output::{check_free, ensure_dir, Batch, Overwrite};

/// One parsed age recipient.
#[derive(Clone)]
pub enum AgeRecipient {
    /// `age1…` X25519.
    Native(age::x25519::Recipient),
    /// `ssh-ed25519 …` or `ssh-rsa …`.
    Ssh(age::ssh::Recipient),
    /// `age1<plugin>1…`, encrypted by running `age-plugin-<plugin>`.
    Plugin(age::plugin::Recipient),
}

impl std::fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgeRecipient::Native(r) => write!(f, "Native({r})"),
            AgeRecipient::Ssh(r) => write!(f, "Ssh({r})"),
            AgeRecipient::Plugin(r) => write!(f, "Plugin({r})"),
        }
    }
}

impl AgeRecipient {
    /// Parses `age1…`, `age1<plugin>1…`, `ssh-ed25519 …` or `ssh-rsa …`.
    pub fn parse(text: &str) -> Result<Self, SecretsError> {
        let t = text.trim();
        let bad = |reason: String| SecretsError::BadRecipient {
            input: t.chars().take(120).collect(),
            reason,
        };
        if t.starts_with("ssh-") {
            return age::ssh::Recipient::from_str(t)
                .map(AgeRecipient::Ssh)
                .map_err(|e| bad(format!("{e:?}")));
        }
        if t.to_ascii_lowercase().starts_with("age1") {
            if let Ok(r) = age::x25519::Recipient::from_str(t) {
                return Ok(AgeRecipient::Native(r));
            }
            return age::plugin::Recipient::from_str(t)
                .map(AgeRecipient::Plugin)
                .map_err(|e| bad(e.to_string()));
        }
        Err(bad("unknown recipient type".into()))
    }

    /// Parses a recipients file (as `age -R` reads): one recipient per
    /// line, blank lines and `#` comments skipped.
    pub fn parse_file(path: &Path) -> Result<Vec<Self>, SecretsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SecretsError::io(path, "reading the recipients file", e))?;
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            out.push(Self::parse(l).map_err(|e| SecretsError::BadSecretText {
                input: path.display().to_string(),
                line: n + 1,
                problem: e.to_string(),
            })?);
        }
        Ok(out)
    }
}

/// Whom the age files are encrypted to.
pub enum AgeTarget {
    /// Every recipient can decrypt every file.
    Recipients(Vec<AgeRecipient>),
    /// A passphrase (scrypt); prompted, never from argv.
    Passphrase(SecretString),
}

/// One file per secret, or one for all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FileLayout {
    #[default]
    PerSecret,
    Single,
}

/// How to write the age files.
pub struct AgeOptions {
    pub target: AgeTarget,
    pub layout: FileLayout,
    /// ASCII armor (PEM-like text) instead of binary.
    pub armor: bool,
    pub overwrite: Overwrite,
    /// Progress bar (passphrase files take about a second each).
    pub progress: Progress,
}

/// Talks to the user on behalf of age plugins (e.g. "touch your YubiKey").
#[derive(Clone, Copy, Debug)]
pub struct TerminalCallbacks;

impl age::Callbacks for TerminalCallbacks {
    fn display_message(&self, message: &str) {
        // Plugin text is shown through the escaper, as all text is.
        eprintln!("{}", crate::shown::for_terminal(message));
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let prompt = format!("{message} [{yes}/{}] ", no.unwrap_or("no"));
        let answer = rpassword::prompt_password(prompt).ok()?;
        Some(answer.trim().eq_ignore_ascii_case(yes) || answer.trim().eq_ignore_ascii_case("y"))
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        eprint!("{} ", crate::shown::for_terminal(description));
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).ok()?;
        Some(line.trim_end().to_owned())
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        crate::hygiene::before_secret_input();
        rpassword::prompt_password(format!("{description} "))
            .ok()
            .map(SecretString::from)
    }
}

/// age's localized messages wrap names in Unicode isolation marks; a
/// terminal shows them as junk.
pub(crate) fn plain_text(message: &str) -> String {
    message
        .chars()
        .filter(|c| !matches!(c, '\u{2066}'..='\u{2069}'))
        .collect::<String>()
        .replace('\n', " ")
}

/// The cleartext label stanza (see the module docs).
struct LabelStanza {
    args: Vec<String>,
}

impl age::Recipient for LabelStanza {
    fn wrap_file_key(
        &self,
        _file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        Ok((
            vec![Stanza {
                tag: LABEL_STANZA_TAG.to_owned(),
                args: self.args.clone(),
                body: Vec::new(),
            }],
            HashSet::new(),
        ))
    }
}

/// Tag of the cleartext label stanza.
pub const LABEL_STANZA_TAG: &str = "locksmith-label";

/// Which secrets a file holds, 1-based, and how many were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSpan {
    pub first: usize,
    pub last: usize,
    pub count: usize,
}

impl FileSpan {
    fn tag(&self) -> String {
        if self.first == self.last {
            format!("secret-{}-of-{}", self.first, self.count)
        } else {
            format!("secrets-{}-to-{}-of-{}", self.first, self.last, self.count)
        }
    }
}

/// The file names [`write_age_files`] uses, in order.
pub fn age_file_names(label: &AuthorityLabel, count: usize, layout: FileLayout) -> Vec<PathBuf> {
    match layout {
        FileLayout::PerSecret => (1..=count)
            .map(|i| {
                PathBuf::from(format!(
                    "disablement-{}-{i:02}of{count:02}.age",
                    label.file_tag()
                ))
            })
            .collect(),
        FileLayout::Single => vec![PathBuf::from(format!(
            "disablement-{}-all{count:02}.age",
            label.file_tag()
        ))],
    }
}

/// The decrypted content of a file holding `secrets[first-1..last]`.
pub fn payload_text(
    label: &AuthorityLabel,
    secrets: &[DisablementSecret],
    values: &[DisablementValue],
    span: FileSpan,
) -> Zeroizing<String> {
    // Grows in a buffer that zeroizes every allocation it leaves.
    let mut out = super::secret_buf::SecretBuf::with_capacity(1024 * (span.last + 1 - span.first));
    for i in span.first..=span.last {
        let (Some(secret), Some(value)) = (secrets.get(i - 1), values.get(i - 1)) else {
            continue;
        };
        if i > span.first {
            out.extend_from_slice(b"\n");
        }
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# locksmith disablement secret {i} of {}", span.count);
        let _ = writeln!(out, "# authority: {}", label.describe());
        let _ = writeln!(out, "# value: {}", value_text(value));
        let _ = writeln!(
            out,
            "# use: tailscale lock disable <the disablement-secret line below>"
        );
        let _ = writeln!(out, "{}", secret.text().as_str());
    }
    // Only text was written.
    out.into_string().unwrap_or_default()
}

/// Encrypts `plaintext` for `target`, with the label stanza when possible.
pub fn encrypt(
    plaintext: &[u8],
    target: &AgeTarget,
    armor: bool,
    label: &AuthorityLabel,
    span: FileSpan,
) -> Result<Vec<u8>, SecretsError> {
    let encryptor = match target {
        AgeTarget::Passphrase(pass) => age::Encryptor::with_user_passphrase(pass.clone()),
        AgeTarget::Recipients(list) => {
            if list.is_empty() {
                return Err(SecretsError::NoRecipients);
            }
            let mut boxed: Vec<Box<dyn age::Recipient>> = Vec::new();
            let mut plugins: Vec<age::plugin::Recipient> = Vec::new();
            for r in list {
                match r {
                    AgeRecipient::Native(n) => boxed.push(Box::new(n.clone())),
                    AgeRecipient::Ssh(s) => boxed.push(Box::new(s.clone())),
                    AgeRecipient::Plugin(p) => plugins.push(p.clone()),
                }
            }
            let mut names: Vec<&str> = plugins.iter().map(|p| p.plugin()).collect();
            names.sort_unstable();
            names.dedup();
            for name in names {
                let plugin =
                    age::plugin::RecipientPluginV1::new(name, &plugins, &[], TerminalCallbacks)
                        .map_err(|e| SecretsError::PluginNotFound {
                            plugin: name.to_owned(),
                            recipient: plugins
                                .iter()
                                .find(|p| p.plugin() == name)
                                .map(|p| p.to_string())
                                .unwrap_or_default(),
                            reason: plain_text(&e.to_string()),
                        })?;
                boxed.push(Box::new(plugin));
            }
            let stanza = LabelStanza {
                args: vec![
                    label.genesis_hash.clone(),
                    label.state_id_text(),
                    label.created_text(),
                    span.tag(),
                ],
            };
            let with_label = age::Encryptor::with_recipients(
                boxed
                    .iter()
                    .map(|b| b.as_ref())
                    .chain(std::iter::once(&stanza as &dyn age::Recipient)),
            );
            match with_label {
                Ok(e) => e,
                // A recipient that insists on its own labels (e.g. a
                // post-quantum plugin) refuses company: drop ours.
                Err(age::EncryptError::IncompatibleRecipients { .. }) => {
                    age::Encryptor::with_recipients(boxed.iter().map(|b| b.as_ref()))
                        .map_err(|e| SecretsError::Encrypt(e.to_string()))?
                }
                Err(e) => return Err(SecretsError::Encrypt(e.to_string())),
            }
        }
    };
    let io_err = |e: std::io::Error| SecretsError::Encrypt(e.to_string());
    let format = if armor {
        age::armor::Format::AsciiArmor
    } else {
        age::armor::Format::Binary
    };
    let out = Vec::new();
    let armored = age::armor::ArmoredWriter::wrap_output(out, format).map_err(io_err)?;
    let mut writer = encryptor.wrap_output(armored).map_err(io_err)?;
    writer.write_all(plaintext).map_err(io_err)?;
    let armored = writer.finish().map_err(io_err)?;
    armored.finish().map_err(io_err)
}

/// Encrypts the secrets for files in `dir`: each file's path and bytes,
/// nothing written (a commit unit writes them with the other outputs).
pub fn render_age_files(
    dir: &Path,
    label: &AuthorityLabel,
    secrets: &[DisablementSecret],
    values: &[DisablementValue],
    options: &AgeOptions,
) -> Result<Vec<(PathBuf, Vec<u8>)>, SecretsError> {
    let count = secrets.len();
    let names = age_file_names(label, count, options.layout);
    let spans: Vec<FileSpan> = match options.layout {
        FileLayout::PerSecret => (1..=count)
            .map(|i| FileSpan {
                first: i,
                last: i,
                count,
            })
            .collect(),
        FileLayout::Single => vec![FileSpan {
            first: 1,
            last: count,
            count,
        }],
    };
    let bar = LazyBar::new(names.len(), options.progress, "encrypting age files");
    let mut out = Vec::new();
    for (name, span) in names.iter().zip(spans) {
        let plaintext = payload_text(label, secrets, values, span);
        let bytes = encrypt(
            plaintext.as_bytes(),
            &options.target,
            options.armor,
            label,
            span,
        )?;
        out.push((dir.join(name), bytes));
        bar.tick();
    }
    bar.finish();
    Ok(out)
}

/// Encrypts the secrets into `dir` and returns the files written. Checks
/// every destination first, so an existing file stops the batch before
/// anything is written.
pub fn write_age_files(
    dir: &Path,
    label: &AuthorityLabel,
    secrets: &[DisablementSecret],
    values: &[DisablementValue],
    options: &AgeOptions,
) -> Result<Vec<PathBuf>, SecretsError> {
    let paths: Vec<PathBuf> = age_file_names(label, secrets.len(), options.layout)
        .iter()
        .map(|n| dir.join(n))
        .collect();
    ensure_dir(dir)?;
    check_free(&paths, options.overwrite.force())?;
    let mut batch = Batch::new();
    for (path, bytes) in render_age_files(dir, label, secrets, values, options)? {
        batch.write(&path, &bytes, options.overwrite.force())?;
    }
    Ok(batch.commit())
}
