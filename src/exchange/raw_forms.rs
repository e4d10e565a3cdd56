//! The raw forms an artifact takes outside the envelope, as upstream
//! prints and accepts them: uppercase hex blobs, base64 in both alphabets
//! with or without padding, raw CBOR, upstream JSON and plain text. Every
//! reader takes these as well as the envelope.

use data_encoding::{
    Encoding, BASE64, BASE64URL, BASE64URL_NOPAD, BASE64_NOPAD, HEXLOWER, HEXLOWER_PERMISSIVE,
    HEXUPPER,
};

use super::cbor::{self, as_u64, map_get, CborProblem, Value};
use super::envelope::{is_envelope, Envelope};
use super::error::{ExchangeError, Result};
use super::kind::ArtifactKind;
use crate::limits::MAX_INPUT_BYTES;

/// How an artifact is written outside the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RawForm {
    /// The bytes as they are (CBOR for AUMs and signatures).
    Binary,
    /// Uppercase hex, as `tailscale lock revoke-keys` passes recovery blobs.
    HexUpper,
    /// Lowercase hex.
    HexLower,
    /// Base64, standard alphabet, padded.
    Base64Std,
    /// Base64, standard alphabet, unpadded (wrapped auth keys).
    Base64StdNoPad,
    /// Base64, URL alphabet, padded (`tailscale lock log --json=1`).
    Base64Url,
    /// Base64, URL alphabet, unpadded.
    Base64UrlNoPad,
    /// UTF-8 text as it is (auth keys, deeplinks, JSON).
    Text,
}

impl RawForm {
    /// All forms.
    pub const ALL: [RawForm; 8] = [
        Self::Binary,
        Self::HexUpper,
        Self::HexLower,
        Self::Base64Std,
        Self::Base64StdNoPad,
        Self::Base64Url,
        Self::Base64UrlNoPad,
        Self::Text,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::HexUpper => "hex",
            Self::HexLower => "hex-lower",
            Self::Base64Std => "base64",
            Self::Base64StdNoPad => "base64-nopad",
            Self::Base64Url => "base64url",
            Self::Base64UrlNoPad => "base64url-nopad",
            Self::Text => "text",
        }
    }

    /// Encodes `bytes` in this form. Text forms of binary data get no
    /// trailing newline.
    pub fn encode(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Self::Binary | Self::Text => bytes.to_vec(),
            Self::HexUpper => HEXUPPER.encode(bytes).into_bytes(),
            Self::HexLower => HEXLOWER.encode(bytes).into_bytes(),
            Self::Base64Std => BASE64.encode(bytes).into_bytes(),
            Self::Base64StdNoPad => BASE64_NOPAD.encode(bytes).into_bytes(),
            Self::Base64Url => BASE64URL.encode(bytes).into_bytes(),
            Self::Base64UrlNoPad => BASE64URL_NOPAD.encode(bytes).into_bytes(),
        }
    }
}

impl std::str::FromStr for RawForm {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
                format!("unknown raw form {s:?}; one of: {}", names.join(", "))
            })
    }
}

/// The form an input was recognised in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputForm {
    Envelope,
    /// A Uniform Resource (`ur:locksmith/...` or `ur:bytes/...`).
    Ur,
    Raw(RawForm),
    /// Upstream JSON, passed through as text.
    Json,
    /// Decoded from one or more QR images.
    QrImage,
}

impl std::fmt::Display for InputForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Envelope => f.write_str("envelope"),
            Self::Ur => f.write_str("UR"),
            Self::Raw(r) => write!(f, "raw {}", r.name()),
            Self::Json => f.write_str("upstream JSON"),
            Self::QrImage => f.write_str("QR image"),
        }
    }
}

/// An artifact read from some input: its kind, canonical payload bytes,
/// the envelope it came in (if any) and the form it was recognised in.
#[derive(Clone)]
pub struct Artifact {
    pub kind: ArtifactKind,
    pub payload: Vec<u8>,
    pub envelope: Option<Envelope>,
    pub form: InputForm,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifact")
            .field("kind", &self.kind)
            .field("payload_len", &self.payload.len())
            .field("envelope", &self.envelope)
            .field("form", &self.form)
            .finish()
    }
}

impl Artifact {
    /// The artifact wrapped in an envelope: the one it came in, or a plain new one.
    pub fn to_envelope(&self) -> Envelope {
        self.envelope
            .clone()
            .unwrap_or_else(|| Envelope::new(self.kind, self.payload.clone()))
    }

    /// Checks that the artifact is of kind `expected`.
    pub fn expect_kind(self, expected: ArtifactKind, input: &str) -> Result<Self> {
        if self.kind == expected
            || (self.kind == ArtifactKind::Aum && expected == ArtifactKind::RecoveryAum)
        {
            Ok(Self {
                kind: expected,
                ..self
            })
        } else {
            Err(ExchangeError::WrongKind {
                input: input.into(),
                expected: expected.name().into(),
                found: self.kind.name().into(),
            })
        }
    }
}

/// Reads an artifact from `bytes`, whatever form it is in (envelope, UR,
/// hex, base64, raw CBOR, JSON, known text). QR images are handled one
/// level up ([`crate::exchange::read_qr_images`]), and command-line
/// arguments by [`crate::input::Input::read`]. `input` names the source
/// for errors. The size cap is the one input cap ([`MAX_INPUT_BYTES`]).
pub fn parse_artifact(bytes: &[u8], input: &str) -> Result<Artifact> {
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ExchangeError::TooLarge {
            input: input.into(),
            size: bytes.len() as u64,
            limit: MAX_INPUT_BYTES,
        });
    }
    if is_envelope(bytes) {
        let env = Envelope::from_bytes(bytes, input)?;
        return Ok(Artifact {
            kind: env.kind,
            payload: env.payload.clone(),
            envelope: Some(env),
            form: InputForm::Envelope,
        });
    }
    // Binary CBOR (not valid UTF-8, or starting with a map/array header).
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => return parse_binary(bytes, input),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ExchangeError::EmptyInput {
            input: input.into(),
        });
    }
    if let Some(kind) = known_text_kind(trimmed) {
        return Ok(Artifact {
            kind,
            payload: trimmed.as_bytes().to_vec(),
            envelope: None,
            form: InputForm::Raw(RawForm::Text),
        });
    }
    if trimmed.starts_with('{') {
        crate::limits::check_text(
            trimmed.as_bytes(),
            "the JSON document",
            crate::limits::Syntax::Json,
            crate::limits::MAX_JSON_BYTES,
            crate::limits::MAX_JSON_DEPTH,
        )
        .map_err(|reason| ExchangeError::OverLimit {
            input: input.into(),
            reason,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(trimmed).map_err(|e| ExchangeError::UnrecognisedForm {
                input: input.into(),
                reason: format!("it starts like JSON but is not valid JSON: {e}"),
            })?;
        let kind = if value.get("Messages").is_some() {
            ArtifactKind::ChainExport
        } else if value.get("TrustedKeys").is_some() || value.get("Enabled").is_some() {
            ArtifactKind::StatusExport
        } else {
            ArtifactKind::Opaque
        };
        return Ok(Artifact {
            kind,
            payload: trimmed.as_bytes().to_vec(),
            envelope: None,
            form: InputForm::Json,
        });
    }
    if trimmed.len() > 3
        && trimmed
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("ur:"))
    {
        // Bytewords spend two characters a byte: a UR longer than twice
        // the artifact cap (and its scheme, type and checksum) is refused
        // before it is decoded.
        let most = 2 * crate::limits::MAX_ARTIFACT_BYTES + 32;
        if trimmed.len() as u64 > most {
            return Err(ExchangeError::TooLarge {
                input: input.into(),
                size: trimmed.len() as u64 / 2,
                limit: crate::limits::MAX_ARTIFACT_BYTES,
            });
        }
        let decoded = super::multipart::decode_single_ur(trimmed, input)?;
        check_decoded_size(&decoded, input)?;
        let mut art = parse_artifact(&decoded, input)?;
        if art.form != InputForm::Envelope {
            art.form = InputForm::Ur;
        }
        return Ok(art);
    }
    // Text encodings of binary data. Whitespace (line breaks in pasted
    // blobs) is ignored.
    let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some((decoded, form)) = decode_text_encoding(&compact) {
        check_decoded_size(&decoded, input)?;
        if decoded.is_empty() {
            return Err(ExchangeError::EmptyInput {
                input: input.into(),
            });
        }
        if is_envelope(&decoded) {
            return parse_artifact(&decoded, input);
        }
        let mut art = parse_binary(&decoded, input)?;
        if form == RawForm::HexUpper
            && art.kind == ArtifactKind::Aum
            && is_checkpoint_with_parent(&decoded)
        {
            // An uppercase hex checkpoint forked from a parent: the recovery
            // blob `tailscale lock revoke-keys` passes around.
            art.kind = ArtifactKind::RecoveryAum;
        }
        art.form = InputForm::Raw(form);
        return Ok(art);
    }
    Err(ExchangeError::UnrecognisedForm {
        input: input.into(),
        reason: "the text is neither hex, base64, JSON, a UR nor a known upstream text form".into(),
    })
}

/// What hex, base64 or a UR decodes to is one artifact: at most
/// [`crate::limits::MAX_ARTIFACT_BYTES`].
fn check_decoded_size(decoded: &[u8], input: &str) -> Result<()> {
    let limit = crate::limits::MAX_ARTIFACT_BYTES;
    if decoded.len() as u64 > limit {
        return Err(ExchangeError::TooLarge {
            input: input.into(),
            size: decoded.len() as u64,
            limit,
        });
    }
    Ok(())
}

fn parse_binary(bytes: &[u8], input: &str) -> Result<Artifact> {
    if bytes.is_empty() {
        return Err(ExchangeError::EmptyInput {
            input: input.into(),
        });
    }
    let value = cbor::parse(bytes).map_err(|e| ExchangeError::UnrecognisedForm {
        input: input.into(),
        reason: match e {
            crate::tka::Error::Cbor(CborProblem::TrailingBytes { count, .. }) => {
                format!("CBOR followed by {count} trailing bytes")
            }
            e => format!("binary data that is not CBOR: {e}"),
        },
    })?;
    Ok(Artifact {
        kind: guess_cbor_kind(&value),
        payload: bytes.to_vec(),
        envelope: None,
        form: InputForm::Raw(RawForm::Binary),
    })
}

/// Recognises the upstream text artifacts by their prefixes.
fn known_text_kind(text: &str) -> Option<ArtifactKind> {
    if text.starts_with("tskey-") {
        Some(ArtifactKind::WrappedAuthKey)
    } else if text.starts_with("tailscale://sign-device/") {
        Some(ArtifactKind::SigningDeeplink)
    } else if text.starts_with("tailscale lock init") || text.starts_with("--gen-disablements") {
        Some(ArtifactKind::InitCommand)
    } else {
        None
    }
}

/// Decodes hex (either case) or base64 (either alphabet, with or without
/// padding). Hex is tried first: every hex string is also valid base64.
pub fn decode_text_encoding(text: &str) -> Option<(Vec<u8>, RawForm)> {
    if text.is_empty() {
        return None;
    }
    if text.len() % 2 == 0 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let form = if text.bytes().any(|b| b.is_ascii_lowercase()) {
            RawForm::HexLower
        } else {
            RawForm::HexUpper
        };
        return HEXLOWER_PERMISSIVE
            .decode(text.as_bytes())
            .ok()
            .map(|d| (d, form));
    }
    let candidates: [(Encoding, RawForm); 4] = [
        (BASE64, RawForm::Base64Std),
        (BASE64_NOPAD, RawForm::Base64StdNoPad),
        (BASE64URL, RawForm::Base64Url),
        (BASE64URL_NOPAD, RawForm::Base64UrlNoPad),
    ];
    candidates
        .into_iter()
        .find_map(|(enc, form)| enc.decode(text.as_bytes()).ok().map(|d| (d, form)))
}

/// A light structural guess at what a CBOR value is, until the core can
/// decode it: an AUM always has field 2 (PrevAUMHash, 32 bytes or null);
/// a node-key signature has SigKind 1..3 in field 1 and no such field 2.
pub fn guess_cbor_kind(value: &Value) -> ArtifactKind {
    let Value::Map(entries) = value else {
        return ArtifactKind::Opaque;
    };
    let field1 = map_get(entries, 1).and_then(as_u64);
    match (field1, map_get(entries, 2)) {
        (Some(_), Some(Value::Null)) => ArtifactKind::Aum,
        (Some(_), Some(Value::Bytes(b))) if b.len() == 32 => ArtifactKind::Aum,
        (Some(1..=3), _) => ArtifactKind::Nks,
        _ => ArtifactKind::Opaque,
    }
}

fn is_checkpoint_with_parent(bytes: &[u8]) -> bool {
    let Ok(Value::Map(entries)) = cbor::parse(bytes) else {
        return false;
    };
    let kind = map_get(&entries, 1).and_then(as_u64);
    kind == Some(5) && matches!(map_get(&entries, 2), Some(Value::Bytes(b)) if b.len() == 32)
}

/// The artifact's bytes in `form`, or in its kind's default raw form.
pub fn to_raw(kind: ArtifactKind, payload: &[u8], form: Option<RawForm>) -> Vec<u8> {
    let form = form.unwrap_or_else(|| kind.default_raw_form());
    let mut out = form.encode(payload);
    if form != RawForm::Binary && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}
