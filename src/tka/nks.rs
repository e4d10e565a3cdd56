//! Node-key signatures (NKS): how a trusted key authorizes a node key.
//!
//! Compatibility rules:
//! - CBOR keys 1 SigKind (always), 2 Pubkey, 3 KeyID, 4 Signature,
//!   5 Nested, 6 WrappingPubkey (all omitted when nil or empty).
//! - Pubkey is the node key's binary form (`np` + 32 bytes).
//! - SigHash = BLAKE2s-256 of the serialization without field 4.
//! - Direct and credential signatures verify under ZIP-215; the outer
//!   signature of a rotation under Go's crypto/ed25519 rules, against the
//!   nested signature's wrapping key.
//! - A credential alone never authorizes a node.

use super::cbor::{self, CborProblem, Encoder, StructReader, Value};
use super::error::Error;
use super::hash::blake2s;
use super::keyforms::{node_key_binary, parse_node_key_binary};
use super::sig::{verify_go_std, verify_zip215};
use super::signer::{sign_verified, Signer};
use super::state::State;
use std::fmt;

/// The kind of a node-key signature. Unknown values are kept as they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigKind(pub u8);

impl SigKind {
    pub const INVALID: SigKind = SigKind(0);
    pub const DIRECT: SigKind = SigKind(1);
    pub const ROTATION: SigKind = SigKind(2);
    pub const CREDENTIAL: SigKind = SigKind(3);

    /// The name locksmith prints.
    pub fn name(self) -> String {
        match self.0 {
            0 => "invalid".into(),
            1 => "direct".into(),
            2 => "rotation".into(),
            3 => "credential".into(),
            n => format!("unknown-{n}"),
        }
    }

    /// Upstream's `SigKind.String()`, used in its error messages.
    fn upstream_name(self) -> String {
        match self.0 {
            0..=3 => self.name(),
            n => format!("Sig?<{n}>"),
        }
    }
}

impl fmt::Display for SigKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A node-key signature, field for field as upstream's Go struct.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeKeySignature {
    pub kind: SigKind,
    pub pubkey: Option<Vec<u8>>,
    pub key_id: Option<Vec<u8>>,
    pub signature: Option<Vec<u8>>,
    pub nested: Option<Box<NodeKeySignature>>,
    pub wrapping_pubkey: Option<Vec<u8>>,
}

/// What a valid rotation signature says about the node's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationDetails {
    /// Earlier node keys, newest first.
    pub prev_node_keys: Vec<[u8; 32]>,
    /// The innermost (direct or credential) signature.
    pub initial: Option<NodeKeySignature>,
}

fn non_empty(b: &Option<Vec<u8>>) -> Option<&[u8]> {
    b.as_deref().filter(|b| !b.is_empty())
}

fn bytes_len(b: &Option<Vec<u8>>) -> usize {
    b.as_deref().map_or(0, <[u8]>::len)
}

impl NodeKeySignature {
    /// The canonical serialization.
    pub fn serialize(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        self.encode(&mut e, true);
        e.into_bytes()
    }

    fn encode(&self, e: &mut Encoder, with_signature: bool) {
        let signature = non_empty(&self.signature).filter(|_| with_signature);
        let n = 1
            + usize::from(non_empty(&self.pubkey).is_some())
            + usize::from(non_empty(&self.key_id).is_some())
            + usize::from(signature.is_some())
            + usize::from(self.nested.is_some())
            + usize::from(non_empty(&self.wrapping_pubkey).is_some());
        e.map_header(n);
        e.uint(1);
        e.uint(u64::from(self.kind.0));
        if let Some(b) = non_empty(&self.pubkey) {
            e.uint(2);
            e.bytes(b);
        }
        if let Some(b) = non_empty(&self.key_id) {
            e.uint(3);
            e.bytes(b);
        }
        if let Some(b) = signature {
            e.uint(4);
            e.bytes(b);
        }
        if let Some(nested) = &self.nested {
            e.uint(5);
            nested.encode(e, true);
        }
        if let Some(b) = non_empty(&self.wrapping_pubkey) {
            e.uint(6);
            e.bytes(b);
        }
    }

    /// Decodes with upstream's strict decoder.
    pub fn decode(input: &[u8]) -> Result<NodeKeySignature, Error> {
        let value = cbor::parse(input)?;
        Ok(Self::from_value(&value, "NodeKeySignature")?.unwrap_or_default())
    }

    fn from_value(value: &Value, context: &str) -> Result<Option<NodeKeySignature>, CborProblem> {
        let Some(r) = StructReader::new(value, &[1, 2, 3, 4, 5, 6], context)? else {
            return Ok(None);
        };
        let nested = match r.field(5) {
            None => None,
            Some(v) => Self::from_value(v, &format!("{context}.5"))?.map(Box::new),
        };
        Ok(Some(NodeKeySignature {
            kind: SigKind(cbor::decode_uint(
                r.field(1),
                u8::MAX.into(),
                "uint8",
                &format!("{context}.1"),
            )? as u8),
            pubkey: cbor::decode_bytes(r.field(2), &format!("{context}.2"))?,
            key_id: cbor::decode_bytes(r.field(3), &format!("{context}.3"))?,
            signature: cbor::decode_bytes(r.field(4), &format!("{context}.4"))?,
            nested,
            wrapping_pubkey: cbor::decode_bytes(r.field(6), &format!("{context}.6"))?,
        }))
    }

    /// BLAKE2s-256 of the serialization without the signature.
    pub fn sig_hash(&self) -> [u8; 32] {
        let mut e = Encoder::new();
        self.encode(&mut e, false);
        blake2s(&e.into_bytes())
    }

    /// How many signatures deep this is (1 for a direct signature).
    pub fn depth(&self) -> usize {
        1 + self.nested.as_ref().map_or(0, |n| n.depth())
    }

    /// The key that may sign a rotation over this signature.
    pub fn wrapping_public(&self) -> Option<&[u8]> {
        if let Some(w) = non_empty(&self.wrapping_pubkey) {
            return Some(w);
        }
        match self.kind {
            SigKind::ROTATION => self.nested.as_ref()?.wrapping_public(),
            _ => None,
        }
    }

    /// The tailnet lock key that ultimately authorizes this signature.
    pub fn authorizing_key_id(&self) -> Result<&[u8], Error> {
        match self.kind {
            SigKind::DIRECT | SigKind::CREDENTIAL => non_empty(&self.key_id)
                .ok_or_else(|| Error::rejected("invalid signature: no keyID present")),
            SigKind::ROTATION => match &self.nested {
                None => Err(Error::rejected(
                    "invalid signature: rotation signature missing nested signature",
                )),
                Some(n) => n.authorizing_key_id(),
            },
            other => Err(Error::rejected(format!(
                "unhandled signature type: {}",
                other.upstream_name()
            ))),
        }
    }

    /// Upstream's `verifySignature`: `node_key` is `None` only where upstream
    /// passes a zero key (a credential nested in a rotation).
    fn verify(&self, node_key: &[u8; 32], key_public: &[u8], key_kind: u8) -> Result<(), Error> {
        if self.kind != SigKind::CREDENTIAL
            && self.pubkey.as_deref() != Some(&node_key_binary(node_key)[..])
        {
            return Err(Error::rejected("signature does not authorize nodeKey"));
        }
        let sig_hash = self.sig_hash();
        let signature = self.signature.as_deref().unwrap_or(&[]);
        match self.kind {
            SigKind::ROTATION => {
                let Some(nested) = &self.nested else {
                    return Err(Error::rejected("nested signatures must nest a signature"));
                };
                let verify_pub = nested
                    .wrapping_public()
                    .ok_or_else(|| Error::rejected("missing rotation key"))?;
                if verify_pub.len() != 32 {
                    return Err(Error::rejected(format!(
                        "bad rotation key length: {}",
                        verify_pub.len()
                    )));
                }
                if !verify_go_std(verify_pub, &sig_hash, signature) {
                    return Err(Error::rejected("invalid signature"));
                }
                let nested_pub = if nested.kind != SigKind::CREDENTIAL {
                    parse_node_key_binary(nested.pubkey.as_deref().unwrap_or(&[])).map_err(|e| {
                        Error::rejected(format!("nested pubkey: {}", upstream_binary_error(&e)))
                    })?
                } else {
                    [0u8; 32]
                };
                nested
                    .verify(&nested_pub, key_public, key_kind)
                    .map_err(|e| Error::rejected(format!("nested: {e}")))
            }
            SigKind::DIRECT | SigKind::CREDENTIAL => {
                if self.nested.is_some() {
                    return Err(Error::rejected(format!(
                        "invalid signature: signatures of type {} cannot nest another signature",
                        self.kind.upstream_name()
                    )));
                }
                if key_kind != super::key::KEY_KIND_ED25519 {
                    return Err(Error::rejected(format!("unhandled key type: {key_kind}")));
                }
                if key_public.len() != 32 {
                    return Err(Error::rejected(format!(
                        "ed25519 key has wrong length: {}",
                        key_public.len()
                    )));
                }
                if verify_zip215(key_public, &sig_hash, signature) {
                    Ok(())
                } else {
                    Err(Error::rejected("invalid signature"))
                }
            }
            other => Err(Error::rejected(format!(
                "unhandled signature type: {}",
                other.upstream_name()
            ))),
        }
    }

    /// The rotation history of a rotation signature, `None` for other kinds.
    pub fn rotation_details(&self) -> Result<Option<RotationDetails>, Error> {
        if self.kind != SigKind::ROTATION {
            return Ok(None);
        }
        let mut prev = Vec::new();
        let mut nested = self.nested.as_deref();
        while let Some(n) = nested {
            if bytes_len(&n.pubkey) > 0 {
                let key =
                    parse_node_key_binary(n.pubkey.as_deref().unwrap_or(&[])).map_err(|e| {
                        Error::rejected(format!("nested pubkey: {}", upstream_binary_error(&e)))
                    })?;
                prev.push(key);
            }
            if n.kind != SigKind::ROTATION {
                break;
            }
            nested = n.nested.as_deref();
        }
        Ok(Some(RotationDetails {
            prev_node_keys: prev,
            initial: nested.cloned(),
        }))
    }
}

fn upstream_binary_error(e: &Error) -> String {
    use super::keyforms::KeyFormProblem::*;
    match e {
        Error::KeyForm(BinaryPrefix) => "missing/incorrect type prefix np".into(),
        Error::KeyForm(BinaryLength(n)) => format!("incorrect len for NodePublic ({n} != 34)"),
        other => other.to_string(),
    }
}

/// Whether `nks` authorizes `node_key` under `state` (upstream's
/// `NodeKeyAuthorizedWithDetails`). Returns rotation details for a valid
/// rotation signature.
pub fn node_key_authorized(
    state: &State,
    node_key: &[u8; 32],
    nks: &[u8],
) -> Result<Option<RotationDetails>, Error> {
    let decoded =
        NodeKeySignature::decode(nks).map_err(|e| Error::rejected(format!("unserialize: {e}")))?;
    if decoded.kind == SigKind::CREDENTIAL {
        return Err(Error::rejected(
            "credential signatures cannot authorize nodes on their own",
        ));
    }
    let key_id = decoded.authorizing_key_id()?;
    let key = state
        .get_key(key_id)
        .map_err(|e| Error::rejected(format!("key: {e}")))?;
    decoded.verify(node_key, key.public.as_deref().unwrap_or(&[]), key.kind)?;
    decoded.rotation_details()
}

/// Builds and signs a direct signature for `node_key`, optionally naming a
/// rotation (wrapping) key that may later re-sign for new node keys.
pub fn sign_direct(
    signer: &mut dyn Signer,
    node_key: &[u8; 32],
    wrapping_pubkey: Option<[u8; 32]>,
) -> Result<NodeKeySignature, Error> {
    let mut sig = NodeKeySignature {
        kind: SigKind::DIRECT,
        pubkey: Some(node_key_binary(node_key).to_vec()),
        key_id: Some(signer.public_key().to_vec()),
        signature: None,
        nested: None,
        wrapping_pubkey: wrapping_pubkey.map(|w| w.to_vec()),
    };
    sig.signature = Some(sign_verified(signer, &sig.sig_hash())?.to_vec());
    Ok(sig)
}

/// Builds and signs a credential: a signature with no node key whose
/// wrapping key may sign any node key as a rotation over it.
pub fn sign_credential(
    signer: &mut dyn Signer,
    wrapping_pubkey: [u8; 32],
) -> Result<NodeKeySignature, Error> {
    let mut sig = NodeKeySignature {
        kind: SigKind::CREDENTIAL,
        key_id: Some(signer.public_key().to_vec()),
        wrapping_pubkey: Some(wrapping_pubkey.to_vec()),
        ..Default::default()
    };
    sig.signature = Some(sign_verified(signer, &sig.sig_hash())?.to_vec());
    Ok(sig)
}

/// Signs `node_key` as a rotation over `wrapped` with the wrapping key
/// (upstream's `SignByCredential` when `wrapped` is a credential).
pub fn sign_rotation(
    wrapping: &mut dyn Signer,
    wrapped: NodeKeySignature,
    node_key: &[u8; 32],
) -> Result<NodeKeySignature, Error> {
    let mut sig = NodeKeySignature {
        kind: SigKind::ROTATION,
        pubkey: Some(node_key_binary(node_key).to_vec()),
        nested: Some(Box::new(wrapped)),
        ..Default::default()
    };
    sig.signature = Some(wrapping.sign_digest(&sig.sig_hash())?.to_vec());
    Ok(sig)
}

/// Upstream keeps at most this many previous node keys in a rotation chain.
const MAX_PREV_KEYS: usize = 15;

/// Re-signs an existing signature for a new node key with the rotation key
/// (upstream's `ResignNKS`). Returns the old bytes unchanged when the node
/// key did not change.
pub fn resign(
    rotation: &mut dyn Signer,
    node_key: &[u8; 32],
    old: &[u8],
) -> Result<Vec<u8>, Error> {
    let old_sig =
        NodeKeySignature::decode(old).map_err(|e| Error::rejected(format!("decoding NKS: {e}")))?;
    let nk = node_key_binary(node_key);
    if old_sig.pubkey.as_deref() == Some(&nk[..]) {
        return Ok(old.to_vec());
    }
    let nested = trim_rotation_chain(old_sig, rotation)?;
    let sig = sign_rotation(rotation, nested, node_key)
        .map_err(|e| Error::rejected(format!("signing NKS: {e}")))?;
    Ok(sig.serialize())
}

fn trim_rotation_chain(
    sig: NodeKeySignature,
    rotation: &mut dyn Signer,
) -> Result<NodeKeySignature, Error> {
    if sig.kind != SigKind::ROTATION {
        return Ok(sig);
    }
    let mut prev: Vec<Vec<u8>> = vec![sig.pubkey.clone().unwrap_or_default()];
    let mut nested = sig.nested.as_deref();
    while let Some(n) = nested {
        if bytes_len(&n.pubkey) > 0 {
            prev.push(n.pubkey.clone().unwrap_or_default());
        }
        if n.kind != SigKind::ROTATION {
            break;
        }
        nested = n.nested.as_deref();
    }
    if prev.len() <= MAX_PREV_KEYS {
        return Ok(sig);
    }
    let mut result: Option<Box<NodeKeySignature>> = nested.cloned().map(Box::new);
    for i in (0..=MAX_PREV_KEYS - 2).rev() {
        let mut r = NodeKeySignature {
            kind: SigKind::ROTATION,
            pubkey: Some(prev[i].clone()),
            nested: result.take(),
            ..Default::default()
        };
        r.signature = Some(
            rotation
                .sign_digest(&r.sig_hash())
                .map_err(|e| Error::rejected(format!("signing NKS: {e}")))?
                .to_vec(),
        );
        result = Some(Box::new(r));
    }
    Ok(result.map(|b| *b).unwrap_or_default())
}
