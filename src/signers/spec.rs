//! Signer specs: one string naming a key, accepted by every command that
//! signs (`--signer SPEC`).
//!
//! - `pkcs11:token=…;object=…;id=%01?module-path=…&pin-source=file:…`
//!   (RFC 7512; the module defaults to `$LOCKSMITH_PKCS11_MODULE`, the
//!   defaults file, then p11-kit's proxy, which loads every module
//!   registered with p11-kit, as `p11tool` and `pkcs11-tool` users expect).
//! - `yubikey:serial=12345678;slot=9c?pin-source=file:PATH` (serial optional
//!   when exactly one YubiKey is present; slot defaults to 9c).
//! - `file:PATH?pin-source=…` or `file:PATH?identity=PATH`: a software key in
//!   an age-encrypted file, for development and tests only.

use super::pin::PinSource;
use super::Error;
use std::path::PathBuf;

/// Environment variable naming the default PKCS#11 module.
pub const PKCS11_MODULE_ENV: &str = "LOCKSMITH_PKCS11_MODULE";

/// A parsed signer spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerSpec {
    /// A key on a PKCS#11 token.
    Pkcs11(Pkcs11Uri),
    /// A key in a YubiKey PIV slot.
    YubiKey(YubiKeySpec),
    /// A software key in an age-encrypted file.
    File(FileSpec),
}

/// The parts of an RFC 7512 PKCS#11 URI that locksmith uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token=`: the token label.
    pub token: Option<String>,
    /// `serial=`: the token serial number.
    pub serial: Option<String>,
    /// `manufacturer=`: the token manufacturer.
    pub manufacturer: Option<String>,
    /// `model=`: the token model.
    pub model: Option<String>,
    /// `object=`: the key label (CKA_LABEL).
    pub object: Option<String>,
    /// `id=`: the key id (CKA_ID), percent-decoded bytes.
    pub id: Option<Vec<u8>>,
    /// `type=`: object type; only `private`, `public` or absent make sense.
    pub object_type: Option<String>,
    /// `module-path=`: the PKCS#11 module to load.
    pub module_path: Option<PathBuf>,
    /// `pin-source=`: where the user PIN comes from.
    pub pin_source: Option<PinSource>,
}

/// Where p11-kit's proxy module is installed (Debian's multiarch path
/// first, then the usual others). The proxy loads every module registered
/// in p11-kit's registry (`/usr/share/p11-kit/modules/*.module`,
/// `/etc/pkcs11/modules`, `~/.config/pkcs11/modules`; SoftHSM2 and OpenSC
/// register themselves there) and shows all their tokens as one module.
pub const P11_KIT_PROXY_PATHS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so",
    "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
    "/usr/lib/arm-linux-gnueabihf/p11-kit-proxy.so",
    "/usr/lib/i386-linux-gnu/p11-kit-proxy.so",
    "/usr/lib64/p11-kit-proxy.so",
    "/usr/lib/p11-kit-proxy.so",
    "/usr/local/lib/p11-kit-proxy.so",
];

/// p11-kit's proxy module, if installed (Debian: package p11-kit-modules).
pub fn p11_kit_proxy() -> Option<PathBuf> {
    P11_KIT_PROXY_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The module to use when a spec or command names none:
/// `$LOCKSMITH_PKCS11_MODULE`, else `pkcs11-module` in the defaults file,
/// else p11-kit's proxy (every module registered with p11-kit).
pub fn default_module() -> Option<PathBuf> {
    match std::env::var_os(PKCS11_MODULE_ENV) {
        Some(path) if !path.is_empty() => return Some(PathBuf::from(path)),
        _ => {}
    }
    config_default("pkcs11-module")
        .map(PathBuf::from)
        .or_else(p11_kit_proxy)
}

/// The error when no module is given and none is found.
pub fn no_module_error() -> Error {
    Error::Spec(format!(
        "no PKCS#11 module given and p11-kit's proxy module is not installed (apt-get install \
         p11-kit-modules); add ?module-path=/path/to/module.so to the pkcs11: URI, set \
         {PKCS11_MODULE_ENV}, or put `pkcs11-module = PATH` in {} (SoftHSM2 on Debian: \
         /usr/lib/softhsm/libsofthsm2.so)",
        defaults_file()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.config/locksmith/defaults".into())
    ))
}

impl Pkcs11Uri {
    /// The module to load: `module-path`, else [`default_module`].
    pub fn module(&self) -> Result<PathBuf, Error> {
        if let Some(path) = &self.module_path {
            return Ok(path.clone());
        }
        default_module().ok_or_else(no_module_error)
    }

    /// Renders the URI back (for display; never contains a PIN).
    pub fn to_uri(&self) -> String {
        let mut path = Vec::new();
        if let Some(v) = &self.token {
            path.push(format!("token={}", pct_encode(v.as_bytes())));
        }
        if let Some(v) = &self.serial {
            path.push(format!("serial={}", pct_encode(v.as_bytes())));
        }
        if let Some(v) = &self.object {
            path.push(format!("object={}", pct_encode(v.as_bytes())));
        }
        if let Some(v) = &self.id {
            path.push(format!(
                "id={}",
                v.iter().map(|b| format!("%{b:02x}")).collect::<String>()
            ));
        }
        let mut s = format!("pkcs11:{}", path.join(";"));
        if let Some(m) = &self.module_path {
            s.push_str(&format!(
                "?module-path={}",
                pct_encode(m.to_string_lossy().as_bytes())
            ));
        }
        s
    }
}

/// The defaults file: `$XDG_CONFIG_HOME/locksmith/defaults` (or
/// `$LOCKSMITH_DEFAULTS`), lines of `name = value`, `#` comments.
pub fn defaults_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOCKSMITH_DEFAULTS") {
        return Some(PathBuf::from(p));
    }
    dirs::config_dir().map(|d| d.join("locksmith").join("defaults"))
}

/// A value from the defaults file, if the file and the name exist.
pub fn config_default(name: &str) -> Option<String> {
    let text = std::fs::read_to_string(defaults_file()?).ok()?;
    parse_defaults(&text, name)
}

fn parse_defaults(text: &str, name: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A YubiKey PIV key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YubiKeySpec {
    /// The card serial; `None` means the only YubiKey present.
    pub serial: Option<u32>,
    /// The PIV slot (9a, 9c, 9d, 9e, 82..95).
    pub slot: u8,
    /// Where the PIN comes from.
    pub pin_source: Option<PinSource>,
    /// Where the management key (hex) comes from; default key when absent.
    pub mgmt_key_source: Option<PinSource>,
    /// The management key algorithm (`3des`, `aes128`, `aes192`, `aes256`);
    /// asked from the card (GET METADATA) when absent.
    pub mgmt_key_alg: Option<String>,
}

/// A software key in an age-encrypted file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// The encrypted key file.
    pub path: PathBuf,
    /// Where the passphrase comes from (passphrase-encrypted files).
    pub pin_source: Option<PinSource>,
    /// An age identity file (recipient-encrypted files).
    pub identity: Option<PathBuf>,
}

/// The PIV slots a key can live in.
pub const PIV_KEY_SLOTS: &[u8] = &[
    0x9a, 0x9c, 0x9d, 0x9e, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d,
    0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
];

impl SignerSpec {
    /// Parses a signer spec.
    pub fn parse(spec: &str) -> Result<Self, Error> {
        if let Some(rest) = spec.strip_prefix("pkcs11:") {
            return parse_pkcs11(rest).map(SignerSpec::Pkcs11);
        }
        if let Some(rest) = spec.strip_prefix("yubikey:") {
            return parse_yubikey(rest).map(SignerSpec::YubiKey);
        }
        if spec == "yubikey" {
            return parse_yubikey("").map(SignerSpec::YubiKey);
        }
        if let Some(rest) = spec.strip_prefix("file:") {
            return parse_file(rest).map(SignerSpec::File);
        }
        Err(Error::Spec(format!(
            "signer spec {} is not understood; use pkcs11:token=…;object=…?module-path=…, \
             yubikey:serial=…;slot=9c, or file:PATH",
            shown(spec)
        )))
    }
}

fn spec_err(msg: String) -> Error {
    Error::Spec(msg)
}

fn parse_pkcs11(rest: &str) -> Result<Pkcs11Uri, Error> {
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    let mut uri = Pkcs11Uri::default();
    for attr in path.split(';').filter(|a| !a.is_empty()) {
        let (name, value) = attr.split_once('=').ok_or_else(|| {
            spec_err(format!(
                "pkcs11: URI attribute {attr:?} has no '='; write name=value"
            ))
        })?;
        let bytes = pct_decode(value)?;
        let text = || {
            String::from_utf8(bytes.clone())
                .map_err(|_| spec_err(format!("pkcs11: URI attribute {name} is not UTF-8")))
        };
        // CK_TOKEN_INFO's fixed-size fields: a longer value matches no token.
        let max = match name {
            "token" | "manufacturer" => 32,
            "serial" | "model" => 16,
            _ => usize::MAX,
        };
        if bytes.len() > max {
            return Err(spec_err(format!(
                "pkcs11: URI {name}= is {} bytes long; PKCS#11 allows at most {max} bytes \
                 (CK_TOKEN_INFO), so it matches no token; see `locksmith token list`",
                bytes.len()
            )));
        }
        match name {
            "token" => uri.token = Some(text()?),
            "serial" => uri.serial = Some(text()?),
            "manufacturer" => uri.manufacturer = Some(text()?),
            "model" => uri.model = Some(text()?),
            "object" => uri.object = Some(text()?),
            "id" => uri.id = Some(bytes),
            "type" => {
                let t = text()?;
                if t != "private" && t != "public" {
                    return Err(spec_err(format!(
                        "pkcs11: URI has type={t}; locksmith signs with type=private keys"
                    )));
                }
                uri.object_type = Some(t)
            }
            "slot-id" | "slot-description" | "slot-manufacturer" => {
                return Err(spec_err(format!(
                    "pkcs11: URI selects by {name}; slot numbers are not stable, select the token \
                     by token= (label) or serial= instead"
                )))
            }
            "library-manufacturer" | "library-description" | "library-version" => {}
            other => {
                return Err(spec_err(format!(
                    "pkcs11: URI attribute {other:?} is not supported"
                )))
            }
        }
    }
    for attr in query.split('&').filter(|a| !a.is_empty()) {
        let (name, value) = attr
            .split_once('=')
            .ok_or_else(|| spec_err(format!("pkcs11: URI query attribute {attr:?} has no '='")))?;
        let text = String::from_utf8(pct_decode(value)?)
            .map_err(|_| spec_err(format!("pkcs11: URI attribute {name} is not UTF-8")))?;
        match name {
            "module-path" => uri.module_path = Some(PathBuf::from(text)),
            "pin-source" => uri.pin_source = Some(PinSource::parse(&text)?),
            "pin-value" => {
                return Err(spec_err(
                    "pkcs11: URI contains pin-value; a PIN on the command line is visible to \
                     every user of this machine. Use pin-source=file:PATH, LOCKSMITH_PIN or the prompt"
                        .to_string(),
                ))
            }
            "module-name" => {
                return Err(spec_err(
                    "pkcs11: URI module-name is not supported; give module-path=/full/path.so"
                        .to_string(),
                ))
            }
            other => {
                return Err(spec_err(format!("pkcs11: URI query attribute {other:?} is not supported")))
            }
        }
    }
    Ok(uri)
}

fn parse_yubikey(rest: &str) -> Result<YubiKeySpec, Error> {
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    let mut spec = YubiKeySpec {
        serial: None,
        slot: 0x9c,
        pin_source: None,
        mgmt_key_source: None,
        mgmt_key_alg: None,
    };
    for attr in path.split(';').filter(|a| !a.is_empty()) {
        let (name, value) = attr.split_once('=').ok_or_else(|| {
            spec_err(format!(
                "yubikey: spec attribute {attr:?} has no '='; write serial=…;slot=9c"
            ))
        })?;
        match name {
            "serial" => {
                spec.serial = Some(value.parse().map_err(|_| {
                    spec_err(format!(
                        "yubikey: serial {value:?} is not a number (see `ykman list`)"
                    ))
                })?)
            }
            "slot" => spec.slot = parse_slot(value)?,
            other => {
                return Err(spec_err(format!(
                    "yubikey: spec attribute {other:?} is not supported; use serial= and slot="
                )))
            }
        }
    }
    for attr in query.split('&').filter(|a| !a.is_empty()) {
        let (name, value) = attr
            .split_once('=')
            .ok_or_else(|| spec_err(format!("yubikey: query attribute {attr:?} has no '='")))?;
        let value = String::from_utf8(pct_decode(value)?)
            .map_err(|_| spec_err(format!("yubikey: attribute {name} is not UTF-8")))?;
        match name {
            "pin-source" => spec.pin_source = Some(PinSource::parse(&value)?),
            "mgmt-key-source" => spec.mgmt_key_source = Some(PinSource::parse(&value)?),
            "mgmt-key-alg" => match value.to_ascii_lowercase().as_str() {
                "3des" | "tdes" | "aes128" | "aes192" | "aes256" => {
                    spec.mgmt_key_alg = Some(value.to_ascii_lowercase())
                }
                _ => {
                    return Err(spec_err(format!(
                        "yubikey: mgmt-key-alg {value:?} is not one of 3des, aes128, aes192, aes256"
                    )))
                }
            },
            "pin-value" | "pin" => {
                return Err(spec_err(
                    "yubikey: spec contains a PIN; a PIN on the command line is visible to every \
                     user of this machine. Use pin-source=file:PATH, LOCKSMITH_PIN or the prompt"
                        .to_string(),
                ))
            }
            other => {
                return Err(spec_err(format!(
                    "yubikey: query attribute {other:?} is not supported"
                )))
            }
        }
    }
    Ok(spec)
}

/// Parses a PIV slot name (`9c`, `0x9c`, or the names `authentication`,
/// `signature`, `key-management`, `card-authentication`).
pub fn parse_slot(value: &str) -> Result<u8, Error> {
    let v = value.to_ascii_lowercase();
    let v = v.strip_prefix("0x").unwrap_or(&v);
    let slot = match v {
        "authentication" => Some(0x9a),
        "signature" => Some(0x9c),
        "key-management" | "key_management" => Some(0x9d),
        "card-authentication" | "card_authentication" => Some(0x9e),
        hex => u8::from_str_radix(hex, 16).ok(),
    };
    match slot {
        Some(s) if PIV_KEY_SLOTS.contains(&s) => Ok(s),
        _ => Err(spec_err(format!(
            "PIV slot {value:?} is not a key slot; use 9a, 9c, 9d, 9e or 82..95"
        ))),
    }
}

fn parse_file(rest: &str) -> Result<FileSpec, Error> {
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    let path = path.strip_prefix("//").unwrap_or(path);
    if path.is_empty() {
        return Err(spec_err(
            "file: spec has no path; write file:/path/to/key.age".to_string(),
        ));
    }
    let mut spec = FileSpec {
        path: PathBuf::from(path),
        pin_source: None,
        identity: None,
    };
    for attr in query.split('&').filter(|a| !a.is_empty()) {
        let (name, value) = attr
            .split_once('=')
            .ok_or_else(|| spec_err(format!("file: query attribute {attr:?} has no '='")))?;
        let value = String::from_utf8(pct_decode(value)?)
            .map_err(|_| spec_err(format!("file: attribute {name} is not UTF-8")))?;
        match name {
            "pin-source" | "passphrase-source" => spec.pin_source = Some(PinSource::parse(&value)?),
            "identity" => spec.identity = Some(PathBuf::from(value)),
            other => {
                return Err(spec_err(format!(
                    "file: query attribute {other:?} is not supported; use pin-source= or identity="
                )))
            }
        }
    }
    Ok(spec)
}

/// A spec as typed, for messages: the value of `pin-value=` and of every
/// `*-source=` attribute (`pin-source`, `mgmt-key-source`,
/// `passphrase-source`, …) replaced by `<redacted>` whatever it holds (a
/// path today, but a user may have typed the PIN or the management key
/// itself there), hostile characters escaped, and cut to 200 characters.
pub fn shown(spec: &str) -> String {
    let mut out = String::with_capacity(spec.len());
    let mut rest = spec;
    while let Some(at) = rest.find(['?', '&', ';']) {
        out.push_str(&redact_attr(&rest[..at]));
        out.push_str(&rest[at..at + 1]);
        rest = &rest[at + 1..];
    }
    out.push_str(&redact_attr(rest));
    crate::shown::escape_short(&out, 200)
}

fn redact_attr(attr: &str) -> std::borrow::Cow<'_, str> {
    match attr.split_once('=') {
        Some((name, _)) if is_secret_attr(name) => format!("{name}=<redacted>").into(),
        _ => attr.into(),
    }
}

/// Attributes whose value is a secret or says where one is: `pin-value`
/// and anything ending in `-source` (compared without case or
/// percent-encoding, so `PIN%2Dsource` is caught too).
fn is_secret_attr(name: &str) -> bool {
    let name = pct_decode(name)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| name.to_string())
        .to_ascii_lowercase();
    name == "pin-value" || name == "pin" || name.ends_with("-source")
}

/// Decodes RFC 3986 percent-encoding.
pub fn pct_decode(value: &str) -> Result<Vec<u8>, Error> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                // from_str_radix alone would take "+f" as 0x0f.
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    spec_err(format!(
                        "bad percent-encoding in {value:?}; write %XX with two hex digits"
                    ))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/`.
pub fn pct_encode(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_redacts_pins_and_escapes() {
        assert_eq!(
            shown("pkcs11:token=a;object=k?pin-value=918273&module-path=/m.so"),
            "pkcs11:token=a;object=k?pin-value=<redacted>&module-path=/m.so"
        );
        assert_eq!(
            shown("file:/k?pin-source=918273"),
            "file:/k?pin-source=<redacted>"
        );
        assert_eq!(
            shown("file:/k?pin-source=file:/run/pin"),
            "file:/k?pin-source=<redacted>"
        );
        assert_eq!(
            shown("yubikey:slot=9c?mgmt-key-source=010203&pin-source=env:P"),
            "yubikey:slot=9c?mgmt-key-source=<redacted>&pin-source=<redacted>"
        );
        assert_eq!(
            shown("file:/k?passphrase-source=hunter2&PIN%2Dsource=1234"),
            "file:/k?passphrase-source=<redacted>&PIN%2Dsource=<redacted>"
        );
        assert_eq!(shown("pkcs11:token=\u{202e}x"), "pkcs11:token=\\u{202e}x");
        assert_eq!(shown(&"a".repeat(1000)).chars().count(), 201);
    }

    #[test]
    fn percent_escape_takes_only_hex_digits() {
        assert!(pct_decode("%+f").is_err());
        assert!(pct_decode("%-1").is_err());
        assert_eq!(pct_decode("%2Fa%2f").unwrap(), b"/a/");
    }

    #[test]
    fn pkcs11_uri_parses() {
        let s = SignerSpec::parse(
            "pkcs11:token=My%20Token;object=tl-1;id=%01%02;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin",
        )
        .unwrap();
        let SignerSpec::Pkcs11(u) = s else {
            panic!("not pkcs11")
        };
        assert_eq!(u.token.as_deref(), Some("My Token"));
        assert_eq!(u.object.as_deref(), Some("tl-1"));
        assert_eq!(u.id, Some(vec![1, 2]));
        assert_eq!(
            u.module_path,
            Some(PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert_eq!(u.pin_source, Some(PinSource::File("/run/pin".into())));
    }

    #[test]
    fn pkcs11_uri_refuses_token_fields_longer_than_pkcs11_allows() {
        assert!(SignerSpec::parse(&format!("pkcs11:token={}", "a".repeat(32))).is_ok());
        let err = SignerSpec::parse(&format!("pkcs11:token={}", "a".repeat(33))).unwrap_err();
        assert!(err.to_string().contains("at most 32 bytes"), "{err}");
        assert!(SignerSpec::parse(&format!("pkcs11:serial={}", "1".repeat(17))).is_err());
    }

    #[test]
    fn pkcs11_uri_refuses_pin_value_and_slot_id() {
        assert!(SignerSpec::parse("pkcs11:token=a?pin-value=1234").is_err());
        assert!(SignerSpec::parse("pkcs11:slot-id=3").is_err());
        assert!(SignerSpec::parse("pkcs11:token=%zz").is_err());
    }

    #[test]
    fn yubikey_spec_parses() {
        let s = SignerSpec::parse("yubikey:serial=12345678;slot=9a?pin-source=file:/p").unwrap();
        assert_eq!(
            s,
            SignerSpec::YubiKey(YubiKeySpec {
                serial: Some(12345678),
                slot: 0x9a,
                pin_source: Some(PinSource::File("/p".into())),
                mgmt_key_source: None,
                mgmt_key_alg: None,
            })
        );
        let SignerSpec::YubiKey(d) = SignerSpec::parse("yubikey:").unwrap() else {
            panic!()
        };
        assert_eq!((d.serial, d.slot), (None, 0x9c));
        assert!(SignerSpec::parse("yubikey:slot=9b").is_err());
        assert!(SignerSpec::parse("yubikey:serial=abc").is_err());
    }

    #[test]
    fn defaults_file_lines() {
        let text = "# comment\npkcs11-module = /usr/lib/x.so\nother=1\n";
        assert_eq!(
            parse_defaults(text, "pkcs11-module").as_deref(),
            Some("/usr/lib/x.so")
        );
        assert_eq!(parse_defaults(text, "missing"), None);
    }

    #[test]
    fn file_spec_parses() {
        let SignerSpec::File(f) = SignerSpec::parse("file:/k.age?identity=/id.txt").unwrap() else {
            panic!()
        };
        assert_eq!(f.path, PathBuf::from("/k.age"));
        assert_eq!(f.identity, Some(PathBuf::from("/id.txt")));
        assert!(SignerSpec::parse("nonsense").is_err());
    }
}
