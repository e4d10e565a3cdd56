//! The payload of a `node-export` envelope: what `locksmith online export`
//! collects from a connected node (`tailscale lock status --json=1` and
//! `tailscale lock log --json=1`), verbatim, for the offline machine.

use super::cbor::{self, as_u64, Encoder, Value};
use super::error::{ExchangeError, Result};

/// Status and log JSON as the node printed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeExport {
    /// `tailscale lock status --json=1` output.
    pub status_json: Vec<u8>,
    /// `tailscale lock log --json=1` output.
    pub log_json: Vec<u8>,
    /// Unix seconds when exported.
    pub exported_at: u64,
}

impl NodeExport {
    /// CBOR encoding: a map with text keys `s`, `l`, `t` in that order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.map_header(3);
        e.text("s");
        e.bytes(&self.status_json);
        e.text("l");
        e.bytes(&self.log_json);
        e.text("t");
        e.uint(self.exported_at);
        e.into_bytes()
    }

    /// Decodes the CBOR payload of a node-export envelope.
    pub fn from_bytes(bytes: &[u8], input: &str) -> Result<Self> {
        let bad = |reason: String| ExchangeError::InvalidEnvelopeField {
            input: input.into(),
            reason: format!("node export payload is malformed: {reason}"),
        };
        let value = cbor::parse(bytes).map_err(|e| bad(e.to_string()))?;
        let Value::Map(entries) = value else {
            return Err(bad(format!("expected a map, found {}", value.type_name())));
        };
        let (mut status_json, mut log_json, mut exported_at) = (None, None, None);
        for (k, v) in entries {
            let Value::Text(key) = k else { continue };
            let slot = match key.as_slice() {
                b"s" => &mut status_json,
                b"l" => &mut log_json,
                b"t" => {
                    let t = as_u64(&v)
                        .ok_or_else(|| bad("field `t` is not an unsigned integer".into()))?;
                    if exported_at.replace(t).is_some() {
                        return Err(bad("duplicate field `t`".into()));
                    }
                    continue;
                }
                _ => continue,
            };
            let Value::Bytes(b) = v else {
                return Err(bad("fields `s` and `l` must be byte strings".into()));
            };
            if slot.replace(b).is_some() {
                return Err(bad("duplicate field".into()));
            }
        }
        let missing = |f: &str| bad(format!("missing field `{f}`"));
        Ok(NodeExport {
            status_json: status_json.ok_or_else(|| missing("s"))?,
            log_json: log_json.ok_or_else(|| missing("l"))?,
            exported_at: exported_at.ok_or_else(|| missing("t"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_the_serde_layout() {
        let e = NodeExport {
            status_json: b"{}".to_vec(),
            log_json: b"[]".to_vec(),
            exported_at: 1_700_000_000,
        };
        let bytes = e.to_bytes();
        // {"s": h'7b7d', "l": h'5b5d', "t": 1700000000}, as serde wrote it.
        assert_eq!(
            data_encoding::HEXLOWER.encode(&bytes),
            "a36173427b7d616c425b5d61741a6553f100"
        );
        assert_eq!(NodeExport::from_bytes(&bytes, "t").unwrap(), e);
        assert!(NodeExport::from_bytes(&[0xa0], "t").is_err());
    }
}
