//! The payload of a `node-export` envelope: what `locksmith online export`
//! collects from a connected node (`tailscale lock status --json=1` and
//! `tailscale lock log --json=1`), verbatim, for the offline machine.

use serde::{Deserialize, Serialize};

use super::error::{ExchangeError, Result};

/// Status and log JSON as the node printed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeExport {
    /// `tailscale lock status --json=1` output.
    #[serde(rename = "s", with = "serde_bytes")]
    pub status_json: Vec<u8>,
    /// `tailscale lock log --json=1` output.
    #[serde(rename = "l", with = "serde_bytes")]
    pub log_json: Vec<u8>,
    /// Unix seconds when exported.
    #[serde(rename = "t")]
    pub exported_at: u64,
}

impl NodeExport {
    /// CBOR encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Serializing plain fields into a Vec cannot fail.
        let _ = ciborium::ser::into_writer(self, &mut out);
        out
    }

    /// Decodes the CBOR payload of a node-export envelope.
    pub fn from_bytes(bytes: &[u8], input: &str) -> Result<Self> {
        ciborium::de::from_reader_with_recursion_limit(bytes, crate::limits::MAX_CBOR_DEPTH)
            .map_err(|e| ExchangeError::InvalidEnvelopeField {
                input: input.into(),
                reason: format!("node export payload is malformed: {e}"),
            })
    }
}
