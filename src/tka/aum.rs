//! Authority Update Messages: the links of the authority's hash chain.
//!
//! Compatibility rules (see also ../../docs/formats.md):
//! - CBOR keys: 1 MessageKind, 2 PrevAUMHash (always encoded, `null` in a
//!   genesis), 3 Key, 4 KeyID, 5 State, 6 Votes (a pointer: 0 is a value),
//!   7 Meta, 23 Signatures; 3..23 are omitted when nil or empty.
//! - Hash = BLAKE2s-256 of the re-serialization of the decoded value, never
//!   of the bytes received; SigHash likewise with the signatures removed.
//! - Unknown message kinds decode, validate and apply as no-ops.

use super::cbor::{self, CborProblem, Encoder, StructReader, Value};
use super::error::Error;
use super::hash::{blake2s, AumHash};
use super::key::{Key, Meta};
use super::state::{strip_invalid, State};
use std::fmt;

/// An AUM's `MessageKind`. Unknown values are kept as they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AumKind(pub u8);

impl AumKind {
    pub const INVALID: AumKind = AumKind(0);
    pub const ADD_KEY: AumKind = AumKind(1);
    pub const REMOVE_KEY: AumKind = AumKind(2);
    pub const NO_OP: AumKind = AumKind(3);
    pub const UPDATE_KEY: AumKind = AumKind(4);
    pub const CHECKPOINT: AumKind = AumKind(5);

    /// The name locksmith prints (`unknown-N` for kinds it does not know).
    pub fn name(self) -> String {
        match self {
            AumKind::INVALID => "invalid".to_string(),
            AumKind::ADD_KEY => "add-key".to_string(),
            AumKind::REMOVE_KEY => "remove-key".to_string(),
            AumKind::NO_OP => "no-op".to_string(),
            AumKind::UPDATE_KEY => "update-key".to_string(),
            AumKind::CHECKPOINT => "checkpoint".to_string(),
            AumKind(n) => format!("unknown-{n}"),
        }
    }
}

impl fmt::Display for AumKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One signature over an AUM's SigHash. CBOR: 1 KeyID, 2 Signature, both always encoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signature {
    pub key_id: Option<Vec<u8>>,
    pub signature: Option<Vec<u8>>,
}

impl Signature {
    pub fn new(key_id: [u8; 32], signature: [u8; 64]) -> Self {
        Signature {
            key_id: Some(key_id.to_vec()),
            signature: Some(signature.to_vec()),
        }
    }

    pub fn key_id(&self) -> &[u8] {
        self.key_id.as_deref().unwrap_or(&[])
    }

    pub fn signature(&self) -> &[u8] {
        self.signature.as_deref().unwrap_or(&[])
    }
}

/// An Authority Update Message, field for field as upstream's Go struct
/// (`Option` distinguishes Go's nil from empty where the encoding does).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Aum {
    pub kind: AumKind,
    pub prev_aum_hash: Option<Vec<u8>>,
    pub key: Option<Key>,
    pub key_id: Option<Vec<u8>>,
    pub state: Option<State>,
    pub votes: Option<u64>,
    pub meta: Option<Meta>,
    pub signatures: Option<Vec<Signature>>,
}

const AUM_FIELDS: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 23];

impl Aum {
    /// The canonical serialization (upstream's `Serialize`).
    pub fn serialize(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        self.encode(&mut e, true);
        e.into_bytes()
    }

    fn encode(&self, e: &mut Encoder, with_signatures: bool) {
        let key_id = self.key_id.as_deref().filter(|k| !k.is_empty());
        let meta = self.meta.as_ref().filter(|m| !m.is_empty());
        let sigs = self
            .signatures
            .as_deref()
            .filter(|s| !s.is_empty() && with_signatures);
        let n = 2
            + usize::from(self.key.is_some())
            + usize::from(key_id.is_some())
            + usize::from(self.state.is_some())
            + usize::from(self.votes.is_some())
            + usize::from(meta.is_some())
            + usize::from(sigs.is_some());
        e.map_header(n);
        e.uint(1);
        e.uint(u64::from(self.kind.0));
        e.uint(2);
        e.opt_bytes(self.prev_aum_hash.as_deref());
        if let Some(key) = &self.key {
            e.uint(3);
            key.encode(e);
        }
        if let Some(key_id) = key_id {
            e.uint(4);
            e.bytes(key_id);
        }
        if let Some(state) = &self.state {
            e.uint(5);
            state.encode(e);
        }
        if let Some(votes) = self.votes {
            e.uint(6);
            e.uint(votes);
        }
        if let Some(meta) = meta {
            e.uint(7);
            e.text_map(meta);
        }
        if let Some(sigs) = sigs {
            e.uint(23);
            e.array_header(sigs.len());
            for s in sigs {
                e.map_header(2);
                e.uint(1);
                e.opt_bytes(s.key_id.as_deref());
                e.uint(2);
                e.opt_bytes(s.signature.as_deref());
            }
        }
    }

    /// Decodes an AUM with upstream's strict decoder (upstream's `Unserialize`).
    pub fn decode(input: &[u8]) -> Result<Aum, Error> {
        let value = cbor::parse(input)?;
        Ok(Self::from_value(&value)?)
    }

    fn from_value(value: &Value) -> Result<Aum, CborProblem> {
        let Some(r) = StructReader::new(value, &AUM_FIELDS, "AUM")? else {
            // A top-level null decodes to the zero AUM.
            return Ok(Aum::default());
        };
        let key = match r.field(3) {
            None => None,
            Some(v) => Key::decode(v, "AUM.3")?,
        };
        let state = match r.field(5) {
            None => None,
            Some(v) => State::decode(v, "AUM.5")?,
        };
        Ok(Aum {
            kind: AumKind(cbor::decode_uint(r.field(1), u8::MAX.into(), "uint8", "AUM.1")? as u8),
            prev_aum_hash: cbor::decode_bytes(r.field(2), "AUM.2")?,
            key,
            key_id: cbor::decode_bytes(r.field(4), "AUM.4")?,
            state,
            votes: cbor::decode_opt_uint(r.field(6), "AUM.6")?,
            meta: cbor::text_map(r.field(7), "AUM.7")?,
            signatures: cbor::decode_array(r.field(23), "AUM.23", |v| {
                Ok(match StructReader::new(v, &[1, 2], "AUM.23")? {
                    None => Signature::default(),
                    Some(s) => Signature {
                        key_id: cbor::decode_bytes(s.field(1), "AUM.23.1")?,
                        signature: cbor::decode_bytes(s.field(2), "AUM.23.2")?,
                    },
                })
            })?,
        })
    }

    /// BLAKE2s-256 of the serialization.
    pub fn hash(&self) -> AumHash {
        AumHash(blake2s(&self.serialize()))
    }

    /// BLAKE2s-256 of the serialization without signatures: what is signed.
    pub fn sig_hash(&self) -> [u8; 32] {
        let mut e = Encoder::new();
        self.encode(&mut e, false);
        blake2s(&e.into_bytes())
    }

    /// The signatures (empty for nil).
    pub fn signatures(&self) -> &[Signature] {
        self.signatures.as_deref().unwrap_or(&[])
    }

    /// The parent's hash, or `None` for a genesis AUM.
    pub fn parent(&self) -> Option<AumHash> {
        let prev = self.prev_aum_hash.as_deref().filter(|p| !p.is_empty())?;
        let mut h = [0u8; 32];
        let n = prev.len().min(32);
        h[..n].copy_from_slice(&prev[..n]);
        Some(AumHash(h))
    }

    /// The signature weight given the state at the parent: the sum of the
    /// votes of distinct trusted signing keys (upstream's `Weight`).
    pub fn weight(&self, state: &State) -> u64 {
        let mut seen: Vec<&[u8]> = Vec::with_capacity(self.signatures().len());
        let mut weight = 0u64;
        for sig in self.signatures() {
            let Ok(key) = state.get_key(sig.key_id()) else {
                continue;
            };
            if seen.contains(&sig.key_id()) {
                continue;
            }
            weight = weight.saturating_add(key.votes);
            seen.push(sig.key_id());
        }
        weight
    }

    /// Upstream's `StaticValidate`.
    pub fn static_validate(&self) -> Result<(), Error> {
        if let Some(key) = &self.key {
            key.static_validate()?;
        }
        if matches!(&self.prev_aum_hash, Some(p) if p.is_empty()) {
            return Err(Error::invalid(
                "absent parent must be represented by a nil slice",
            ));
        }
        for (i, sig) in self.signatures().iter().enumerate() {
            if sig.key_id().len() != 32 || sig.signature().len() != 64 {
                return Err(Error::invalid(format!(
                    "signature {i} has missing keyID or malformed signature"
                )));
            }
        }
        if let Some(state) = &self.state {
            state
                .static_validate_checkpoint()
                .map_err(|e| Error::invalid(format!("checkpoint state: {}", strip_invalid(&e))))?;
        }
        let key_id_empty = self.key_id.as_deref().is_none_or(<[u8]>::is_empty);
        match self.kind {
            AumKind::ADD_KEY => {
                if self.key.is_none() {
                    return Err(Error::invalid("AddKey AUMs must contain a key"));
                }
                if self.key_id.is_some()
                    || self.state.is_some()
                    || self.votes.is_some()
                    || self.meta.is_some()
                {
                    return Err(Error::invalid("AddKey AUMs may only specify a Key"));
                }
            }
            AumKind::REMOVE_KEY => {
                if key_id_empty {
                    return Err(Error::invalid("RemoveKey AUMs must specify a key ID"));
                }
                if self.key.is_some()
                    || self.state.is_some()
                    || self.votes.is_some()
                    || self.meta.is_some()
                {
                    return Err(Error::invalid("RemoveKey AUMs may only specify a KeyID"));
                }
            }
            AumKind::UPDATE_KEY => {
                if key_id_empty {
                    return Err(Error::invalid("UpdateKey AUMs must specify a key ID"));
                }
                if self.meta.is_none() && self.votes.is_none() {
                    return Err(Error::invalid(
                        "UpdateKey AUMs must contain an update to votes or key metadata",
                    ));
                }
                if self.key.is_some() || self.state.is_some() {
                    return Err(Error::invalid(
                        "UpdateKey AUMs may only specify KeyID, Votes, and Meta",
                    ));
                }
            }
            AumKind::CHECKPOINT => {
                if self.state.is_none() {
                    return Err(Error::invalid("Checkpoint AUMs must specify the state"));
                }
                if self.key_id.is_some()
                    || self.key.is_some()
                    || self.votes.is_some()
                    || self.meta.is_some()
                {
                    return Err(Error::invalid("Checkpoint AUMs may only specify State"));
                }
            }
            _ => {}
        }
        Ok(())
    }
}
