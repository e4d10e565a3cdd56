//! What online nodes print: `tailscale lock log --json=1` and
//! `tailscale lock status --json=1`.
//!
//! Compatibility rules:
//! - Log: `Messages[]`, newest first, each with `Hash` (base32) and `Raw`,
//!   the AUM's CBOR in base64 with the URL alphabet and padding. Only `Raw`
//!   is trusted: it is decoded, and its hash must equal the stated `Hash`.
//!   The expanded `AUM` member is informational and ignored.
//! - Status: `Head`, `State` (StateID1), `TrustedKeys[]`, `FilteredPeers[]`
//!   (locked-out nodes) and `VisiblePeers[]`; a node-key signature's
//!   `PublicKey` is printed as `tlpub:` + the node key's binary form.
//!
//! Nothing here is trusted until the AUMs verify as a chain.

use super::aum::Aum;
use super::error::Error;
use super::hash::AumHash;
use serde::Deserialize;

/// A problem with an upstream JSON document (carried by [`super::Error::UpstreamJson`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamJsonProblem {
    #[error("not valid JSON of the expected shape: {0}; give the output of `tailscale lock log --json=1` or `tailscale lock status --json=1` unchanged")]
    Json(String),
    #[error("log message {index}: Raw is not base64 (URL alphabet, padded): {reason}")]
    RawBase64 { index: usize, reason: String },
    #[error("log message {index}: Raw does not decode as an AUM: {reason}")]
    RawAum { index: usize, reason: String },
    #[error("log message {index}: stated Hash {stated} does not match the hash of Raw ({actual}): the export was altered")]
    HashMismatch {
        index: usize,
        stated: String,
        actual: String,
    },
    #[error("log message {1}: Hash {0:?} is not a base32 AUM hash")]
    BadHash(String, usize),
    #[error("status: {0}")]
    Status(String),
    #[error("{0}")]
    TooBig(String),
}

/// The size and depth caps of [`crate::limits`], checked before parsing.
fn check_limits(text: &str) -> Result<(), UpstreamJsonProblem> {
    crate::limits::check_text(
        text.as_bytes(),
        "the JSON document",
        crate::limits::Syntax::Json,
        crate::limits::MAX_JSON_BYTES,
        crate::limits::MAX_JSON_DEPTH,
    )
    .map_err(UpstreamJsonProblem::TooBig)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LogJson {
    messages: Vec<LogMessage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LogMessage {
    hash: String,
    raw: String,
}

/// Whether a JSON document looks like a lock log export.
pub fn looks_like_log(text: &str) -> bool {
    check_limits(text).is_ok()
        && serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|v| v.get("Messages").is_some_and(|m| m.is_array()))
}

/// Whether a JSON document looks like a lock status export.
pub fn looks_like_status(text: &str) -> bool {
    check_limits(text).is_ok()
        && serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|v| v.get("TrustedKeys").is_some() || v.get("Enabled").is_some())
}

fn decode_raw(raw: &str) -> Result<Vec<u8>, data_encoding::DecodeError> {
    data_encoding::BASE64URL
        .decode(raw.as_bytes())
        .or_else(|_| data_encoding::BASE64URL_NOPAD.decode(raw.as_bytes()))
}

/// Parses a lock log export into its AUMs, newest first as printed, each
/// checked against its stated hash.
pub fn parse_log(text: &str) -> Result<Vec<Aum>, Error> {
    check_limits(text)?;
    let log: LogJson =
        serde_json::from_str(text).map_err(|e| UpstreamJsonProblem::Json(e.to_string()))?;
    let mut out = Vec::with_capacity(log.messages.len());
    for (index, m) in log.messages.iter().enumerate() {
        let stated: AumHash = m
            .hash
            .parse()
            .map_err(|_| UpstreamJsonProblem::BadHash(m.hash.clone(), index))?;
        let raw = decode_raw(&m.raw).map_err(|e| UpstreamJsonProblem::RawBase64 {
            index,
            reason: e.to_string(),
        })?;
        let aum = Aum::decode(&raw).map_err(|e| UpstreamJsonProblem::RawAum {
            index,
            reason: e.to_string(),
        })?;
        let actual = aum.hash();
        if actual != stated {
            return Err(UpstreamJsonProblem::HashMismatch {
                index,
                stated: stated.to_string(),
                actual: actual.to_string(),
            }
            .into());
        }
        out.push(aum);
    }
    Ok(out)
}

/// A trusted key as the status export lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusKey {
    pub kind: String,
    pub votes: u64,
    pub public: String,
    #[serde(default)]
    pub meta: Option<std::collections::BTreeMap<String, String>>,
}

/// A node-key signature as the status export prints it
/// (`feature/tailnetlock/tslockjsonv1/tka.go`, `nodeKeySignature`):
/// `SigKind` by name, `PublicKey`, `KeyID` and `WrappingPublicKey` as
/// `tlpub:` + hex of the raw bytes, `Signature` in base64 (URL alphabet,
/// padded), `Nested` recursively. Empty fields are omitted, exactly as
/// the CBOR form omits them, so the struct rebuilds losslessly.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusSignature {
    #[serde(default)]
    pub sig_kind: String,
    #[serde(default)]
    pub public_key: String,
    #[serde(rename = "KeyID", default)]
    pub key_id: String,
    #[serde(default)]
    pub signature: String,
    #[serde(default)]
    pub nested: Option<Box<StatusSignature>>,
    #[serde(default)]
    pub wrapping_public_key: String,
}

impl StatusSignature {
    /// Rebuilds the signature upstream serialized. Refuses unknown kind
    /// names and fields that are not `tlpub:`+hex or base64.
    pub fn to_nks(&self) -> Result<super::nks::NodeKeySignature, Error> {
        use super::nks::{NodeKeySignature, SigKind};
        let bad = |what: &str, why: String| {
            UpstreamJsonProblem::Status(format!("NodeKeySignature.{what}: {why}"))
        };
        let kind = match self.sig_kind.as_str() {
            "invalid" => SigKind::INVALID,
            "direct" => SigKind::DIRECT,
            "rotation" => SigKind::ROTATION,
            "credential" => SigKind::CREDENTIAL,
            other => match other
                .strip_prefix("Sig?<")
                .and_then(|r| r.strip_suffix('>'))
            {
                Some(n) => SigKind(
                    n.parse()
                        .map_err(|_| bad("SigKind", format!("{other:?} is not a kind")))?,
                ),
                None => return Err(bad("SigKind", format!("{other:?} is not a kind")).into()),
            },
        };
        let tl = |what: &str, text: &str| -> Result<Option<Vec<u8>>, UpstreamJsonProblem> {
            if text.is_empty() {
                return Ok(None);
            }
            let hex = text
                .strip_prefix("tlpub:")
                .ok_or_else(|| bad(what, format!("{text:?} does not start with tlpub:")))?;
            super::hex::decode(hex)
                .map(Some)
                .ok_or_else(|| bad(what, format!("{text:?} is not hex after tlpub:")))
        };
        let signature = if self.signature.is_empty() {
            None
        } else {
            Some(decode_raw(&self.signature).map_err(|e| bad("Signature", e.to_string()))?)
        };
        Ok(NodeKeySignature {
            kind,
            pubkey: tl("PublicKey", &self.public_key)?,
            key_id: tl("KeyID", &self.key_id)?,
            signature,
            nested: match &self.nested {
                Some(n) => Some(Box::new(n.to_nks()?)),
                None => None,
            },
            wrapping_pubkey: tl("WrappingPublicKey", &self.wrapping_public_key)?,
        })
    }
}

/// A peer in the status export (`VisiblePeers[]` carry their signature,
/// `FilteredPeers[]` do not).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusPeer {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(rename = "DNSName", default)]
    pub dns_name: String,
    #[serde(default)]
    pub node_key: String,
    #[serde(default)]
    pub node_key_signature: Option<StatusSignature>,
}

/// The parts of `tailscale lock status --json=1` locksmith uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Status {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub public_key: String,
    #[serde(default)]
    pub node_key: String,
    #[serde(default)]
    pub head: Option<String>,
    /// This node's own signature.
    #[serde(default)]
    pub node_key_signature: Option<StatusSignature>,
    #[serde(default)]
    pub trusted_keys: Vec<StatusKey>,
    #[serde(default)]
    pub visible_peers: Vec<StatusPeer>,
    #[serde(default)]
    pub filtered_peers: Vec<StatusPeer>,
    /// StateID1.
    #[serde(default)]
    pub state: Option<u64>,
}

/// Parses a lock status export.
pub fn parse_status(text: &str) -> Result<Status, Error> {
    check_limits(text)?;
    let status: Status =
        serde_json::from_str(text).map_err(|e| UpstreamJsonProblem::Json(e.to_string()))?;
    if let Some(head) = &status.head {
        head.parse::<AumHash>()
            .map_err(|e| UpstreamJsonProblem::Status(format!("Head: {e}")))?;
    }
    Ok(status)
}
