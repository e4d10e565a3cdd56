//! Key backends behind the [`Signer`](crate::tka::signer::Signer) trait:
//! PKCS#11 tokens, YubiKey PIV cards, and (for development only) software
//! keys in age-encrypted files.
//!
//! Every backend is reached through a signer spec string (see [`spec`]) and
//! [`open_signer`]. Keys are generated on the token and never leave it;
//! the software backend labels itself "not hardware-backed" everywhere.

pub mod pin;
pub mod piv_attestation;
pub mod pkcs11;
pub mod software;
pub mod spec;
pub mod x509;
pub mod yubikey;

use crate::tka::signer::{KeyCustody, Signer, SignerError};
use serde::Serialize;
use spec::SignerSpec;

pub use pin::{Pin, PinProblem, PinSource};

/// The one error type of the key backends (`signers::Error`). Every
/// message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The signer spec is malformed or incomplete.
    #[error("{0}")]
    Spec(String),
    /// A PIN could not be obtained.
    #[error(transparent)]
    Pin(#[from] PinProblem),
    /// The token rejected the PIN; it was not retried.
    #[error("wrong PIN for {what}{}; locksmith does not retry a wrong PIN, check it and run the command again", tries_hint(.tries_left))]
    WrongPin {
        /// The token.
        what: String,
        /// What the token says about the remaining tries.
        tries_left: TriesLeft,
    },
    /// The PIN is blocked.
    #[error("the PIN of {what} is blocked (no tries left); {next}")]
    PinLocked {
        /// The token.
        what: String,
        /// How to unblock it.
        next: String,
    },
    /// No key (or token) matches the spec.
    #[error("{0}")]
    NotFound(String),
    /// More than one key or token matches and locksmith will not guess.
    #[error("{0}")]
    Ambiguous(String),
    /// The key is refused (extractable, non-sensitive, wrong type, exists already…).
    #[error("{0}")]
    Refused(String),
    /// An error from a PKCS#11 module.
    #[error("{message}")]
    Pkcs11 {
        /// What happened and what to do.
        message: String,
        /// The module's error.
        #[source]
        source: Option<cryptoki::error::Error>,
    },
    /// An error from a YubiKey or the PC/SC layer.
    #[error("{message}")]
    YubiKey {
        /// What happened and what to do.
        message: String,
        /// The crate's error.
        #[source]
        source: Option<::yubikey::Error>,
    },
    /// An error from the software backend.
    #[error("{0}")]
    Software(String),
    /// A value (a policy name, …) is not one of the names locksmith knows.
    #[error("{given:?} is not a {what}; use one of: {}", .expected.join(", "))]
    UnknownName {
        /// What kind of value.
        what: &'static str,
        /// What was given.
        given: String,
        /// The names accepted.
        expected: Vec<&'static str>,
    },
    /// A certificate request could not be encoded (a bug: the request is
    /// built by locksmith itself).
    #[error("cannot build the certificate: {0}; this is a bug in locksmith, please report it with the command you ran")]
    Certificate(String),
    /// A file could not be read or written. The I/O error is part of the
    /// message and not also a `source` (that printed it twice).
    #[error("{what}: {error}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        error: std::io::Error,
    },
}

impl Error {
    /// Whether the person pressed Ctrl-C (or Ctrl-D) at a PIN prompt.
    pub fn is_interruption(&self) -> bool {
        matches!(self, Error::Pin(PinProblem::Interrupted { .. }))
    }
}

/// What a token reports about the remaining PIN tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TriesLeft {
    /// An exact count (PIV cards report it).
    Exactly(u32),
    /// PKCS#11 CKF_USER_PIN_FINAL_TRY: the next wrong PIN locks the token.
    FinalTry,
    /// PKCS#11 CKF_USER_PIN_COUNT_LOW: some tries were used.
    Low,
    /// The token does not say.
    Unknown,
}

fn tries_hint(t: &TriesLeft) -> String {
    match t {
        TriesLeft::Exactly(1) => " (1 try left: the next wrong PIN blocks it)".to_string(),
        TriesLeft::Exactly(n) => format!(" ({n} tries left)"),
        TriesLeft::FinalTry => " (final try left: the next wrong PIN locks the token)".to_string(),
        TriesLeft::Low => " (the PIN retry count is low)".to_string(),
        TriesLeft::Unknown => String::new(),
    }
}

impl From<Error> for SignerError {
    fn from(e: Error) -> Self {
        SignerError::with_source(e.to_string(), e)
    }
}

/// Options for opening a signer.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// Accept PKCS#11 keys that are extractable or not sensitive.
    pub allow_extractable: bool,
    /// Accept keys imported onto the token rather than generated there
    /// (PKCS#11 CKA_LOCAL false, or never-extractable / always-sensitive
    /// false; PIV origin "imported"). They are labelled
    /// [`KeyCustody::Imported`], never hardware-backed.
    pub allow_imported: bool,
}

/// PIN policy for generated PIV keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PinPolicyArg {
    /// Card default (always for 9c, never for 9e, once elsewhere).
    Default,
    /// Never ask for the PIN.
    Never,
    /// Once per session.
    Once,
    /// Before every signature.
    Always,
}

/// Touch policy for generated PIV keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TouchPolicyArg {
    /// Card default (never).
    Default,
    /// No touch.
    Never,
    /// Touch for every signature.
    Always,
    /// Touch, cached for 15 seconds.
    Cached,
}

impl PinPolicyArg {
    /// Every value, in the order `--help` lists them.
    pub const ALL: [PinPolicyArg; 4] = [Self::Default, Self::Never, Self::Once, Self::Always];

    /// The name on the command line (what [`FromStr`](std::str::FromStr) reads).
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Never => "never",
            Self::Once => "once",
            Self::Always => "always",
        }
    }

    /// What the value means, in one line (the CLI's help for it).
    pub fn description(self) -> &'static str {
        match self {
            Self::Default => "Card default (always for 9c, never for 9e, once elsewhere)",
            Self::Never => "Never ask for the PIN",
            Self::Once => "Once per session",
            Self::Always => "Before every signature",
        }
    }
}

from_str_by_name!(PinPolicyArg, Error, "PIV PIN policy");

impl TouchPolicyArg {
    /// Every value, in the order `--help` lists them.
    pub const ALL: [TouchPolicyArg; 4] = [Self::Default, Self::Never, Self::Always, Self::Cached];

    /// The name on the command line (what [`FromStr`](std::str::FromStr) reads).
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Never => "never",
            Self::Always => "always",
            Self::Cached => "cached",
        }
    }

    /// What the value means, in one line (the CLI's help for it).
    pub fn description(self) -> &'static str {
        match self {
            Self::Default => "Card default (never)",
            Self::Never => "No touch",
            Self::Always => "Touch for every signature",
            Self::Cached => "Touch, cached for 15 seconds",
        }
    }
}

from_str_by_name!(TouchPolicyArg, Error, "PIV touch policy");

/// Options for generating a key on a token.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// The key label (PKCS#11 CKA_LABEL, PIV certificate subject).
    pub label: Option<String>,
    /// PIV PIN policy.
    pub pin_policy: PinPolicyArg,
    /// PIV touch policy.
    pub touch_policy: TouchPolicyArg,
    /// Generate an extractable key (PKCS#11, testing only).
    pub allow_extractable: bool,
    /// Replace a key already in the slot / with the label.
    pub force: bool,
    /// The roots a PIV attestation may chain to (Yubico's by default).
    pub attestation_trust: piv_attestation::TrustStore,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            label: None,
            pin_policy: PinPolicyArg::Default,
            touch_policy: TouchPolicyArg::Default,
            allow_extractable: false,
            force: false,
            attestation_trust: piv_attestation::TrustStore::yubico(),
        }
    }
}

/// A key and what is known about it, for `token list`, `show` and `generate`.
#[derive(Clone, Debug, Serialize)]
pub struct KeyInfo {
    /// A signer spec that selects this key.
    pub spec: String,
    /// `tlpub:<hex>`.
    pub tlpub: String,
    /// Who holds the private key.
    pub custody: &'static str,
    /// Human description.
    pub description: String,
    /// Backend-specific facts (sensitive, extractable, policies, attestation…).
    pub details: Vec<(String, String)>,
    /// The PIV attestation certificate (PEM), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation_pem: Option<String>,
}

/// Everything `token list` found, per backend, with per-backend problems.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Inventory {
    /// Tokens and cards found.
    pub tokens: Vec<TokenInfo>,
    /// Problems met while looking (e.g. pcscd not running); not fatal.
    pub problems: Vec<String>,
    /// The module named with `--module` could not be loaded: the listing
    /// is incomplete in a way the user asked about, so `token list` fails.
    #[serde(skip)]
    pub named_module_failed: bool,
}

/// A token or card and its keys.
#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    /// `pkcs11` or `yubikey`.
    pub kind: &'static str,
    /// A human description (label, serial, model, firmware).
    pub description: String,
    /// A spec prefix that selects this token.
    pub spec: String,
    /// Its Ed25519 keys.
    pub keys: Vec<KeyInfo>,
}

/// `tlpub:<hex>` for a public key.
pub fn tlpub(public: &[u8; 32]) -> String {
    format!("tlpub:{}", crate::tka::hex::lower(public))
}

/// Opens the key a spec names, ready to sign. Asks for a PIN as the spec says.
pub fn open_signer(spec: &str, options: &OpenOptions) -> Result<Box<dyn Signer>, Error> {
    match SignerSpec::parse(spec)? {
        SignerSpec::Pkcs11(uri) => Ok(Box::new(pkcs11::Pkcs11Signer::open(&uri, options)?)),
        SignerSpec::YubiKey(y) => Ok(Box::new(yubikey::YubiKeySigner::open(&y, options)?)),
        SignerSpec::File(f) => Ok(Box::new(software::FileSigner::open(&f)?)),
    }
}

/// Generates a key on the token a spec names and returns its record.
pub fn generate_key(spec: &str, options: &GenerateOptions) -> Result<KeyInfo, Error> {
    generate_key_attested(spec, options).map(|(k, _)| k)
}

/// [`generate_key`], with the PIV attestation (YubiKeys only) verified to
/// `options.attestation_trust`.
pub fn generate_key_attested(
    spec: &str,
    options: &GenerateOptions,
) -> Result<(KeyInfo, Option<piv_attestation::Attestation>), Error> {
    match SignerSpec::parse(spec)? {
        SignerSpec::Pkcs11(uri) => Ok((pkcs11::generate(&uri, options)?, None)),
        SignerSpec::YubiKey(y) => yubikey::generate(&y, options).map(|(k, a)| (k, Some(a))),
        SignerSpec::File(f) => Ok((software::generate(&f, options)?, None)),
    }
}

/// A generated key, its PIV attestation, and (where the backend keeps its
/// session) the key ready to sign.
pub type NewKey = (
    KeyInfo,
    Option<piv_attestation::Attestation>,
    Option<Box<dyn Signer>>,
);

/// [`generate_key_attested`], and the new key as a signer that needs no
/// second PIN or passphrase (YubiKey: the card session of the generation;
/// software: the seed just made); `None` for PKCS#11, whose generation
/// with one login is [`pkcs11::Pkcs11Token`].
pub fn generate_key_signer(spec: &str, options: &GenerateOptions) -> Result<NewKey, Error> {
    match SignerSpec::parse(spec)? {
        SignerSpec::YubiKey(y) => yubikey::generate_signer(&y, options)
            .map(|(k, a, s)| (k, Some(a), Some(Box::new(s) as Box<dyn Signer>))),
        SignerSpec::File(f) => software::generate_signer(&f, options)
            .map(|(k, s)| (k, None, Some(Box::new(s) as Box<dyn Signer>))),
        SignerSpec::Pkcs11(_) => generate_key_attested(spec, options).map(|(k, a)| (k, a, None)),
    }
}

/// Describes the key a spec names (public key, policies, attestation verdict).
pub fn show_key(spec: &str, options: &OpenOptions) -> Result<KeyInfo, Error> {
    show_key_attested(spec, options, &piv_attestation::TrustStore::yubico()).map(|(k, _)| k)
}

/// [`show_key`], with the PIV attestation (YubiKeys only) verified to `trust`.
pub fn show_key_attested(
    spec: &str,
    options: &OpenOptions,
    trust: &piv_attestation::TrustStore,
) -> Result<(KeyInfo, Option<piv_attestation::Attestation>), Error> {
    match SignerSpec::parse(spec)? {
        SignerSpec::Pkcs11(uri) => Ok((pkcs11::show(&uri, options)?, None)),
        SignerSpec::YubiKey(y) => yubikey::show(&y, trust).map(|(k, a)| (k, Some(a))),
        SignerSpec::File(f) => Ok((software::show(&f)?, None)),
    }
}

/// Lists PKCS#11 tokens (of `module`, else [`spec::default_module`]:
/// `$LOCKSMITH_PKCS11_MODULE`, the defaults file, or p11-kit's proxy with
/// every registered module) and YubiKeys reachable through PC/SC. Problems
/// with one backend do not hide the others.
pub fn inventory(module: Option<&std::path::Path>) -> Inventory {
    let mut inv = Inventory::default();
    let named = module.is_some();
    let module = module
        .map(|m| m.to_path_buf())
        .or_else(spec::default_module);
    match module {
        Some(m) => match pkcs11::list_tokens(&m) {
            Ok(tokens) => inv.tokens.extend(tokens),
            Err(e) => {
                inv.named_module_failed = named;
                inv.problems
                    .push(format!("PKCS#11 module {}: {e}", m.display()));
            }
        },
        None => inv.problems.push(format!(
            "{}; PKCS#11 tokens not listed",
            spec::no_module_error()
        )),
    }
    match yubikey::list_cards() {
        Ok((cards, problems)) => {
            inv.tokens.extend(cards);
            inv.problems.extend(problems);
        }
        Err(e) => inv.problems.push(format!("YubiKey: {e}")),
    }
    inv
}

/// A custody label for JSON and text output.
pub fn custody_label(c: KeyCustody) -> &'static str {
    c.label()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_pin_says_how_many_tries_are_left_and_what_to_do() {
        let e = Error::WrongPin {
            what: "token A".into(),
            tries_left: TriesLeft::Exactly(1),
        };
        assert_eq!(
            e.to_string(),
            "wrong PIN for token A (1 try left: the next wrong PIN blocks it); locksmith does \
             not retry a wrong PIN, check it and run the command again"
        );
    }

    #[test]
    fn pin_problems_are_signers_errors_that_say_what_to_do() {
        let e = PinSource::Env("LOCKSMITH_TEST_UNSET_PIN_VARIABLE".into())
            .read("token A")
            .unwrap_err();
        assert!(
            matches!(e, Error::Pin(PinProblem::MissingEnv(ref v)) if v == "LOCKSMITH_TEST_UNSET_PIN_VARIABLE")
        );
        assert!(
            e.to_string()
                .ends_with("export it, or use pin-source=file:PATH"),
            "{e}"
        );
        let e = PinSource::parse("123456").unwrap_err();
        assert!(matches!(e, Error::Pin(PinProblem::BadSource)));
        assert!(!e.to_string().contains("123456"));
    }
}

#[cfg(test)]
mod value_tests {
    use super::*;

    #[test]
    fn policy_names_parse_back_and_unknown_names_list_the_choices() {
        for p in PinPolicyArg::ALL {
            assert_eq!(p.name().parse::<PinPolicyArg>().expect("parses"), p);
        }
        for t in TouchPolicyArg::ALL {
            assert_eq!(t.name().parse::<TouchPolicyArg>().expect("parses"), t);
        }
        assert_eq!(
            "cached".parse::<TouchPolicyArg>().expect("parses"),
            TouchPolicyArg::Cached
        );
        let e = "sometimes".parse::<PinPolicyArg>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"sometimes\" is not a PIV PIN policy; use one of: default, never, once, always"
        );
    }
}
