//! Where a PIN (or passphrase) comes from: a prompt on the terminal, the
//! `LOCKSMITH_PIN` environment variable, or a `pin-source` file named in the
//! signer spec. Never from the command line: argv is visible to every user
//! of the machine.
//!
//! A [`Pin`] zeroizes its bytes when dropped and never prints them.

use std::fmt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The environment variable read for a PIN when the spec names no pin-source.
pub const PIN_ENV_VAR: &str = "LOCKSMITH_PIN";

/// A secret PIN or passphrase. Zeroized on drop; `Debug` shows no digits.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Wraps a PIN given by the caller (tests, prompts).
    pub fn new(pin: impl Into<String>) -> Self {
        Pin(Zeroizing::new(pin.into()))
    }

    /// The PIN as text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The PIN as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// True when the PIN is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// Where to read a PIN from, as named in a spec's `pin-source=` attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinSource {
    /// `file:PATH`: the first line of a file (a trailing newline is ignored).
    File(PathBuf),
    /// `env:NAME`: an environment variable.
    Env(String),
}

/// Why a PIN could not be obtained (carried by [`super::Error::Pin`]).
#[derive(Debug, thiserror::Error)]
pub enum PinProblem {
    /// The pin-source attribute is not `file:` or `env:`.
    /// The value is neither shown nor kept (not even for `Debug`): a user
    /// who typed `pin-source=123456` has put the PIN itself there.
    #[error(
        "the pin-source value is not understood (not shown, in case it is a PIN); use \
         pin-source=file:/path/to/pin-file or pin-source=env:VARIABLE (a PIN is never \
         accepted on the command line)"
    )]
    BadSource,
    /// The pin-source file could not be read.
    #[error("cannot read the PIN from pin-source file {path}: {source}; check the path and its permissions")]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The named environment variable is not set.
    #[error("pin-source names environment variable {0}, which is not set (or not UTF-8); export it, or use pin-source=file:PATH")]
    MissingEnv(String),
    /// No terminal to prompt on and no other source.
    #[error(
        "a PIN is needed for {what} but there is no terminal to ask on; set {PIN_ENV_VAR} \
         or add ?pin-source=file:PATH to the signer spec"
    )]
    NoTerminal {
        /// What the PIN is for.
        what: String,
    },
    /// The person pressed Ctrl-C (or Ctrl-D) at the PIN prompt.
    #[error("the {} prompt for {what} was interrupted; nothing was sent to {} and nothing was signed or written. Run the command again to continue", noun(what), target(what))]
    Interrupted {
        /// What the PIN is for.
        what: String,
    },
    /// The PIN is empty.
    #[error(
        "the {} for {what} is empty; nothing was sent to {}. Run the command again and type the {}",
        noun(what),
        target(what),
        noun(what)
    )]
    Empty {
        /// What the PIN is for.
        what: String,
    },
    /// The text typed looks like a YubiKey OTP, not a PIN.
    #[error(
        "the PIN for {what} looks like a YubiKey one-time password (the key was touched while \
         the PIN prompt was open); nothing was sent to the token, so no PIN try was used. \
         Try again and type the PIN"
    )]
    LooksLikeOtp {
        /// What the PIN is for.
        what: String,
    },
}

impl PinSource {
    /// Parses a `pin-source` value: `file:PATH` (also `file://PATH`) or `env:NAME`.
    pub fn parse(value: &str) -> Result<Self, super::Error> {
        if let Some(rest) = value.strip_prefix("file:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(PinProblem::BadSource.into());
            }
            return Ok(PinSource::File(PathBuf::from(path)));
        }
        if let Some(name) = value.strip_prefix("env:") {
            if name.is_empty() {
                return Err(PinProblem::BadSource.into());
            }
            return Ok(PinSource::Env(name.to_string()));
        }
        // RFC 7512 allows a bare path as pin-source.
        if value.starts_with('/') {
            return Ok(PinSource::File(PathBuf::from(value)));
        }
        Err(PinProblem::BadSource.into())
    }

    /// Reads the PIN from this source.
    pub fn read(&self, what: &str) -> Result<Pin, super::Error> {
        let pin = match self {
            PinSource::File(path) => read_pin_file(path)?,
            PinSource::Env(name) => {
                let value =
                    std::env::var(name).map_err(|_| PinProblem::MissingEnv(name.clone()))?;
                Pin::new(value)
            }
        };
        Ok(check_pin(pin, what)?)
    }
}

fn read_pin_file(path: &Path) -> Result<Pin, PinProblem> {
    let text =
        Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| PinProblem::File {
                path: path.to_path_buf(),
                source,
            })?,
        );
    let first = text.lines().next().unwrap_or("");
    Ok(Pin::new(first.trim_end_matches('\r')))
}

/// What is asked for: a software key file is opened with a passphrase
/// (age scrypt), a token with a PIN. `what` is the prompt's subject.
fn noun(what: &str) -> &'static str {
    if what.contains("software key file") {
        "passphrase"
    } else {
        "PIN"
    }
}

fn capitalized_noun(what: &str) -> &'static str {
    if what.contains("software key file") {
        "Passphrase"
    } else {
        "PIN"
    }
}

/// Where the secret would have gone.
fn target(what: &str) -> &'static str {
    if what.contains("software key file") {
        "the key file"
    } else {
        "the token"
    }
}

/// Rejects empty PINs and text that looks like an OTP from an accidental touch.
fn check_pin(pin: Pin, what: &str) -> Result<Pin, PinProblem> {
    if pin.is_empty() {
        return Err(PinProblem::Empty {
            what: what.to_string(),
        });
    }
    if looks_like_yubikey_otp(pin.expose()) {
        return Err(PinProblem::LooksLikeOtp {
            what: what.to_string(),
        });
    }
    Ok(pin)
}

/// A Yubico OTP is 32 to 48 modhex characters (`cbdefghijklnrtuv`); no PIN
/// (at most 8 characters on PIV) or typical HSM PIN looks like that.
pub fn looks_like_yubikey_otp(text: &str) -> bool {
    (32..=48).contains(&text.len()) && text.bytes().all(|b| b"cbdefghijklnrtuv".contains(&b))
}

/// Obtains a PIN: from `source` when the spec names one, else from
/// `LOCKSMITH_PIN`, else by prompting on the terminal. `what` names the
/// token in the prompt and in errors.
pub fn obtain_pin(source: Option<&PinSource>, what: &str) -> Result<Pin, super::Error> {
    crate::hygiene::before_secret_input();
    if let Some(source) = source {
        return source.read(what);
    }
    if let Ok(value) = std::env::var(PIN_ENV_VAR) {
        return Ok(check_pin(Pin::new(value), what)?);
    }
    prompt_pin(what)
}

/// Asks for a PIN on the terminal (no echo).
pub fn prompt_pin(what: &str) -> Result<Pin, super::Error> {
    crate::hygiene::before_secret_input();
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() && !Path::new("/dev/tty").exists() {
        return Err(PinProblem::NoTerminal {
            what: what.to_string(),
        }
        .into());
    }
    // The terminal's mode is restored on every exit, Ctrl-C included
    // (crate::ceremony::terminal::ModeGuard).
    use crate::ceremony::terminal::{Terminal, TerminalError, Tty};
    match Tty::controlling().secret(&format!("{} for {what}: ", capitalized_noun(what))) {
        Ok(text) => Ok(check_pin(Pin::new(text.as_str().to_owned()), what)?),
        Err(TerminalError::Interrupted(_) | TerminalError::EndOfInput(_)) => {
            Err(PinProblem::Interrupted {
                what: what.to_string(),
            }
            .into())
        }
        Err(_) => Err(PinProblem::NoTerminal {
            what: what.to_string(),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_debug_hides_digits() {
        let pin = Pin::new("123456");
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    }

    #[test]
    fn pin_source_forms() {
        assert_eq!(
            PinSource::parse("file:/tmp/x").unwrap(),
            PinSource::File("/tmp/x".into())
        );
        assert_eq!(
            PinSource::parse("file:///tmp/x").unwrap(),
            PinSource::File("/tmp/x".into())
        );
        assert_eq!(
            PinSource::parse("env:FOO").unwrap(),
            PinSource::Env("FOO".into())
        );
        assert!(PinSource::parse("123456").is_err());
    }

    #[test]
    fn bad_pin_source_is_not_echoed() {
        // `pin-source=123456`: the user put the PIN where its source goes.
        let err = PinSource::parse("123456").unwrap_err();
        assert!(!err.to_string().contains("123456"), "{err}");
        assert!(!format!("{err:?}").contains("123456"), "{err:?}");
        assert!(err.to_string().contains("pin-source=file:"));
    }

    #[test]
    fn otp_is_detected() {
        assert!(looks_like_yubikey_otp(
            "ccccccjlkgjlrgtcvtnijefneuebhrtfbtcgkvtbfdne"
        ));
        assert!(!looks_like_yubikey_otp("123456"));
    }

    #[test]
    fn pin_file_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        std::fs::write(&path, "654321\n").unwrap();
        let pin = PinSource::File(path).read("test").unwrap();
        assert_eq!(pin.expose(), "654321");
    }
}
