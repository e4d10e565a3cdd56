//! The versioned exchange envelope: one compact CBOR structure for every
//! artifact that crosses the air gap.
//!
//! Wire form (CBOR array, definite lengths):
//!
//! ```text
//! [ "lks", version: uint, kind: uint, payload: bytes, checksum: bytes(4), meta: map? ]
//! ```
//!
//! - `"lks"` is the magic; with the array header it makes the first bytes
//!   `85 63 6c 6b 73` (or `86 ...` when meta is present), which no raw
//!   artifact form starts with.
//! - `checksum` is the first 4 bytes of SHA-256 over the CBOR encoding of
//!   `[version, kind, payload, meta]`: it catches damage in transit, it is
//!   not a signature (the artifacts carry their own).
//! - `meta` (optional, integer keys): 1 request nonce (16 bytes), 2 created
//!   (Unix seconds), 3 expires (Unix seconds), 4 the nonce of the request a
//!   response answers, 5 a human label. Unknown keys are ignored so that a
//!   later minor revision can add fields.
//!
//! The envelope is kept small on purpose: a recovery AUM of about 500 bytes
//! must still fit a single QR code narrow enough for an 80-column terminal.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::cbor::{self, as_u64, uint, CborProblem, Value};
use super::error::{ExchangeError, Result};
use super::kind::ArtifactKind;
use crate::shown::Untrusted;

/// The magic text at the start of every envelope.
pub const MAGIC: &str = "lks";
/// The envelope version this build writes and reads.
pub const VERSION: u64 = 1;
/// The length of a request nonce.
pub const NONCE_LEN: usize = 16;
use crate::limits::MAX_ARTIFACT_BYTES;

const META_NONCE: u64 = 1;
const META_CREATED: u64 = 2;
const META_EXPIRES: u64 = 3;
const META_ANSWERS: u64 = 4;
const META_LABEL: u64 = 5;

/// A request nonce: 16 random bytes, shown as lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nonce(pub [u8; NONCE_LEN]);

impl Nonce {
    /// A fresh random nonce from the operating system's generator.
    pub fn random() -> Self {
        use rand_core::RngCore;
        let mut bytes = [0u8; NONCE_LEN];
        rand_core::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }

    /// Parses 32 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.trim().as_bytes())
            .ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }
}

impl std::fmt::Display for Nonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// What makes an envelope a request: a nonce, when it was made and until
/// when an answer is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestInfo {
    pub nonce: Nonce,
    /// Unix seconds.
    pub created: u64,
    /// Unix seconds.
    pub expires: u64,
}

impl RequestInfo {
    /// A new request made now, valid for `lifetime`.
    pub fn new(lifetime: Duration) -> Self {
        let created = unix_now();
        Self {
            nonce: Nonce::random(),
            created,
            expires: created.saturating_add(lifetime.as_secs()),
        }
    }

    /// Whether the request has expired at `now` (Unix seconds).
    pub fn is_expired_at(&self, now: u64) -> bool {
        now >= self.expires
    }
}

/// The current time in Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One artifact with its kind and, for requests and responses, the
/// metadata that ties them together.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    pub kind: ArtifactKind,
    pub payload: Vec<u8>,
    /// Set on requests.
    pub request: Option<RequestInfo>,
    /// Set on responses: the nonce of the request answered.
    pub answers: Option<Nonce>,
    /// A short human label ("chain export from laptop", ...): the maker's
    /// text, so [`Untrusted`] (shown only escaped).
    pub label: Option<Untrusted>,
}

impl std::fmt::Debug for Envelope {
    // The payload may be a pre-auth key: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("kind", &self.kind)
            .field("payload_len", &self.payload.len())
            .field("request", &self.request)
            .field("answers", &self.answers)
            .field("label", &self.label)
            .finish()
    }
}

impl Envelope {
    /// A plain envelope around `payload`.
    pub fn new(kind: ArtifactKind, payload: impl Into<Vec<u8>>) -> Self {
        Self {
            kind,
            payload: payload.into(),
            request: None,
            answers: None,
            label: None,
        }
    }

    /// A request envelope: fresh nonce, created now, expiring after `lifetime`.
    pub fn new_request(
        kind: ArtifactKind,
        payload: impl Into<Vec<u8>>,
        lifetime: Duration,
    ) -> Self {
        Self {
            request: Some(RequestInfo::new(lifetime)),
            ..Self::new(kind, payload)
        }
    }

    /// A response envelope answering `request`.
    pub fn new_response(kind: ArtifactKind, payload: impl Into<Vec<u8>>, request: Nonce) -> Self {
        Self {
            answers: Some(request),
            ..Self::new(kind, payload)
        }
    }

    /// Sets the label.
    pub fn with_label(mut self, label: impl Into<Untrusted>) -> Self {
        self.label = Some(label.into());
        self
    }

    fn meta_value(&self) -> Option<Value> {
        let mut entries = Vec::new();
        if let Some(req) = &self.request {
            entries.push((uint(META_NONCE), Value::Bytes(req.nonce.0.to_vec())));
            entries.push((uint(META_CREATED), uint(req.created)));
            entries.push((uint(META_EXPIRES), uint(req.expires)));
        }
        if let Some(answers) = &self.answers {
            entries.push((uint(META_ANSWERS), Value::Bytes(answers.0.to_vec())));
        }
        if let Some(label) = &self.label {
            entries.push((
                uint(META_LABEL),
                Value::Text(label.raw_for_json().as_bytes().to_vec()),
            ));
        }
        (!entries.is_empty()).then_some(Value::Map(entries))
    }

    /// The checksum over version, kind, payload and meta; `input` names the
    /// envelope in the error when its meta cannot be re-encoded.
    fn checksum(kind: u64, payload: &[u8], meta: Option<&Value>, input: &str) -> Result<[u8; 4]> {
        let covered = Value::Array(vec![
            uint(VERSION),
            uint(kind),
            Value::Bytes(payload.to_vec()),
            meta.cloned().unwrap_or(Value::Null),
        ]);
        let encoded = cbor::encode(&covered).ok_or_else(|| ExchangeError::InvalidEnvelopeField {
            input: input.into(),
            reason: "the metadata holds a value locksmith does not write (text that is not UTF-8, a float or a simple value)".into(),
        })?;
        let digest = Sha256::digest(&encoded);
        let mut sum = [0u8; 4];
        sum.copy_from_slice(&digest[..4]);
        Ok(sum)
    }

    /// The envelope's CBOR encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let kind = kind_code(self.kind);
        let meta = self.meta_value();
        // Encoding a Value built from owned data into a Vec cannot fail.
        let sum = Self::checksum(kind, &self.payload, meta.as_ref(), "envelope").unwrap_or([0; 4]);
        let mut items = vec![
            Value::Text(MAGIC.as_bytes().to_vec()),
            uint(VERSION),
            uint(kind),
            Value::Bytes(self.payload.clone()),
            Value::Bytes(sum.to_vec()),
        ];
        if let Some(meta) = meta {
            items.push(meta);
        }
        // Every value here was built from owned, encodable data.
        cbor::encode(&Value::Array(items)).unwrap_or_default()
    }

    /// Decodes and verifies an envelope. `input` names where the bytes came
    /// from, for error messages.
    pub fn from_bytes(bytes: &[u8], input: &str) -> Result<Self> {
        let not = |reason: &str| ExchangeError::NotAnEnvelope {
            input: input.into(),
            reason: reason.to_string(),
        };
        if !is_envelope(bytes) {
            return Err(not("it does not start with the envelope magic"));
        }
        if bytes.len() as u64 > MAX_ARTIFACT_BYTES {
            return Err(ExchangeError::TooLarge {
                input: input.into(),
                size: bytes.len() as u64,
                limit: MAX_ARTIFACT_BYTES,
            });
        }
        // Depth-capped: the envelope is 3 levels deep (array > meta map > value).
        let value = cbor::parse(bytes).map_err(|e| match e {
            crate::tka::Error::Cbor(CborProblem::TrailingBytes { count, .. }) => {
                not(&format!("{count} trailing bytes after the envelope"))
            }
            e => not(&format!("malformed CBOR: {e}")),
        })?;
        let Value::Array(items) = value else {
            return Err(not("the top level is not an array"));
        };
        let field = |reason: String| ExchangeError::InvalidEnvelopeField {
            input: input.into(),
            reason,
        };
        let version = items
            .get(1)
            .and_then(as_u64)
            .ok_or_else(|| field("envelope version missing or not an unsigned integer".into()))?;
        if version != VERSION {
            return Err(ExchangeError::UnsupportedVersion {
                input: input.into(),
                found: version,
                supported: VERSION,
            });
        }
        if !(5..=6).contains(&items.len()) {
            return Err(field(format!(
                "envelope has {} fields, expected 5 or 6",
                items.len()
            )));
        }
        let kind_num = items
            .get(2)
            .and_then(as_u64)
            .ok_or_else(|| field("artifact kind missing or not an unsigned integer".into()))?;
        let payload = match items.get(3) {
            Some(Value::Bytes(b)) => b.clone(),
            _ => return Err(field("payload missing or not a byte string".into())),
        };
        let sum = match items.get(4) {
            Some(Value::Bytes(b)) if b.len() == 4 => b.clone(),
            _ => return Err(field("checksum missing or not 4 bytes".into())),
        };
        let meta = items.get(5);
        let expected = Self::checksum(kind_num, &payload, meta, input)?;
        if sum != expected {
            return Err(ExchangeError::ChecksumMismatch {
                input: input.into(),
            });
        }
        let kind = kind_from_code(kind_num).ok_or_else(|| ExchangeError::UnknownKind {
            input: input.into(),
            kind: kind_num.to_string(),
        })?;
        let mut env = Self::new(kind, payload);
        if let Some(meta) = meta {
            let Value::Map(entries) = meta else {
                return Err(field("envelope metadata is not a map".into()));
            };
            let (mut nonce, mut created, mut expires) = (None, None, None);
            for (k, v) in entries {
                match (as_u64(k), v) {
                    (Some(META_NONCE), Value::Bytes(b)) => {
                        nonce = Some(Nonce::from_slice(b).ok_or_else(|| {
                            field(format!(
                                "request nonce is {} bytes, expected {NONCE_LEN}",
                                b.len()
                            ))
                        })?)
                    }
                    (Some(META_CREATED), v) => {
                        created = Some(as_u64(v).ok_or_else(|| {
                            field("request creation time is not an unsigned integer".into())
                        })?)
                    }
                    (Some(META_EXPIRES), v) => {
                        expires = Some(as_u64(v).ok_or_else(|| {
                            field("request expiry is not an unsigned integer".into())
                        })?)
                    }
                    (Some(META_ANSWERS), Value::Bytes(b)) => {
                        env.answers = Some(Nonce::from_slice(b).ok_or_else(|| {
                            field(format!(
                                "answered request nonce is {} bytes, expected {NONCE_LEN}",
                                b.len()
                            ))
                        })?)
                    }
                    (Some(META_LABEL), Value::Text(t)) => {
                        env.label =
                            Some(Untrusted::new(String::from_utf8(t.clone()).map_err(
                                |_| field("the envelope label is not UTF-8 text".into()),
                            )?))
                    }
                    (Some(k @ (META_NONCE | META_ANSWERS | META_LABEL)), _) => {
                        return Err(field(format!(
                            "envelope metadata field {k} has the wrong type"
                        )))
                    }
                    _ => {} // unknown keys: ignored for forward compatibility
                }
            }
            match (nonce, created, expires) {
                (None, None, None) => {}
                (Some(nonce), Some(created), Some(expires)) => {
                    env.request = Some(RequestInfo { nonce, created, expires })
                }
                _ => return Err(field("request metadata incomplete: a request needs a nonce, a creation time and an expiry".into())),
            }
        }
        Ok(env)
    }
}

/// Whether `bytes` start like an envelope (array of 5 or 6, magic text).
pub fn is_envelope(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(0x85 | 0x86))
        && bytes.get(1..5) == Some(&[0x63, b'l', b'k', b's'][..])
}

/// The stable wire number of a kind. Never renumber: add new kinds at the end.
pub fn kind_code(kind: ArtifactKind) -> u64 {
    match kind {
        ArtifactKind::Opaque => 0,
        ArtifactKind::Aum => 1,
        ArtifactKind::RecoveryAum => 2,
        ArtifactKind::ChainExport => 3,
        ArtifactKind::StatusExport => 4,
        ArtifactKind::NodeExport => 5,
        ArtifactKind::Nks => 6,
        ArtifactKind::WrappedAuthKey => 7,
        ArtifactKind::SigningDeeplink => 8,
        ArtifactKind::SignRequest => 9,
        ArtifactKind::CosignRequest => 10,
        ArtifactKind::InitCommand => 11,
        ArtifactKind::Response => 12,
    }
}

/// The kind with wire number `code`, if known.
pub fn kind_from_code(code: u64) -> Option<ArtifactKind> {
    ArtifactKind::ALL
        .into_iter()
        .find(|k| kind_code(*k) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_plain_request_response() {
        let plain = Envelope::new(ArtifactKind::Aum, vec![0xa4, 1, 2]);
        assert_eq!(Envelope::from_bytes(&plain.to_bytes(), "t").unwrap(), plain);
        let req = Envelope::new_request(
            ArtifactKind::NodeExport,
            b"x".to_vec(),
            Duration::from_secs(60),
        )
        .with_label("l");
        let back = Envelope::from_bytes(&req.to_bytes(), "t").unwrap();
        assert_eq!(back, req);
        let info = back.request.unwrap();
        assert_eq!(info.expires - info.created, 60);
        let resp = Envelope::new_response(ArtifactKind::RecoveryAum, vec![1], info.nonce);
        assert_eq!(
            Envelope::from_bytes(&resp.to_bytes(), "t").unwrap().answers,
            Some(info.nonce)
        );
    }

    #[test]
    fn detects_damage_and_versions() {
        let env = Envelope::new(ArtifactKind::Nks, vec![7u8; 40]);
        let mut bytes = env.to_bytes();
        let last = bytes.len() - 10;
        bytes[last] ^= 1;
        assert!(matches!(
            Envelope::from_bytes(&bytes, "t"),
            Err(ExchangeError::ChecksumMismatch { .. })
        ));
        let mut v2 = env.to_bytes();
        v2[5] = 2;
        assert!(matches!(
            Envelope::from_bytes(&v2, "t"),
            Err(ExchangeError::UnsupportedVersion { found: 2, .. })
        ));
        for cut in 0..env.to_bytes().len() {
            assert!(Envelope::from_bytes(&env.to_bytes()[..cut], "t").is_err());
        }
    }

    #[test]
    fn kind_codes_are_unique() {
        for k in ArtifactKind::ALL {
            assert_eq!(kind_from_code(kind_code(k)), Some(k));
        }
    }
}
