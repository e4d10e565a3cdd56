//! Tailnet lock keys as recorded in the authority's state.

use super::cbor::{self, CborProblem, Encoder, StructReader, Value};
use super::error::Error;
use std::collections::BTreeMap;

/// Key metadata (`map[string]string`).
pub type Meta = BTreeMap<String, String>;

/// `KeyKind` 1: an Ed25519 key, whose key ID is the public key itself.
pub const KEY_KIND_ED25519: u8 = 1;
/// Upper bound on a key's votes.
pub const MAX_VOTES: u64 = 4096;
/// Upper bound on the sum of a key's metadata key and value lengths.
pub const MAX_META_BYTES: usize = 512;

/// A trusted key. CBOR: 1 Kind, 2 Votes, 3 Public (always encoded),
/// 12 Meta (omitted when empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Key {
    pub kind: u8,
    pub votes: u64,
    /// `None` is Go's nil slice (encoded as `null`).
    pub public: Option<Vec<u8>>,
    pub meta: Option<Meta>,
}

impl Key {
    /// An Ed25519 key with the given votes.
    pub fn ed25519(public: [u8; 32], votes: u64) -> Self {
        Key {
            kind: KEY_KIND_ED25519,
            votes,
            public: Some(public.to_vec()),
            meta: None,
        }
    }

    /// The key ID: for Ed25519, the public key bytes as they are.
    pub fn id(&self) -> Result<&[u8], Error> {
        match self.kind {
            KEY_KIND_ED25519 => Ok(self.public.as_deref().unwrap_or(&[])),
            other => Err(Error::rejected(format!(
                "unknown key kind: {}",
                kind_name(other)
            ))),
        }
    }

    /// The public key as 32 bytes, if it is a well-formed Ed25519 key.
    pub fn ed25519_public(&self) -> Option<[u8; 32]> {
        if self.kind != KEY_KIND_ED25519 {
            return None;
        }
        self.public.as_deref()?.try_into().ok()
    }

    /// A meta value, such as the key's `name`.
    pub fn meta_value(&self, name: &str) -> Option<&str> {
        self.meta.as_ref()?.get(name).map(String::as_str)
    }

    /// Upstream's `Key.StaticValidate`.
    pub fn static_validate(&self) -> Result<(), Error> {
        if self.votes > MAX_VOTES {
            return Err(Error::invalid(format!(
                "excessive key weight: {} > {MAX_VOTES}",
                self.votes
            )));
        }
        if self.votes == 0 {
            return Err(Error::invalid("key votes must be non-zero"));
        }
        let meta_bytes: usize = self
            .meta
            .iter()
            .flatten()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        if meta_bytes > MAX_META_BYTES {
            return Err(Error::invalid(format!(
                "key metadata too big ({meta_bytes} > {MAX_META_BYTES})"
            )));
        }
        if self.kind != KEY_KIND_ED25519 {
            return Err(Error::invalid(format!(
                "unrecognized key kind: {}",
                kind_name(self.kind)
            )));
        }
        Ok(())
    }

    pub(crate) fn encode(&self, e: &mut Encoder) {
        let meta = self.meta.as_ref().filter(|m| !m.is_empty());
        e.map_header(3 + usize::from(meta.is_some()));
        e.uint(1);
        e.uint(u64::from(self.kind));
        e.uint(2);
        e.uint(self.votes);
        e.uint(3);
        e.opt_bytes(self.public.as_deref());
        if let Some(meta) = meta {
            e.uint(12);
            e.text_map(meta);
        }
    }

    /// Decodes a Key; `Ok(None)` for `null`.
    pub(crate) fn decode(value: &Value, context: &str) -> Result<Option<Key>, CborProblem> {
        let Some(r) = StructReader::new(value, &[1, 2, 3, 12], context)? else {
            return Ok(None);
        };
        Ok(Some(Key {
            kind: cbor::decode_uint(r.field(1), u8::MAX.into(), "uint8", &format!("{context}.1"))?
                as u8,
            votes: cbor::decode_uint(r.field(2), u64::MAX, "uint", &format!("{context}.2"))?,
            public: cbor::decode_bytes(r.field(3), &format!("{context}.3"))?,
            meta: cbor::text_map(r.field(12), &format!("{context}.12"))?,
        }))
    }
}

fn kind_name(kind: u8) -> String {
    match kind {
        0 => "invalid".to_string(),
        1 => "25519".to_string(),
        k => format!("Key?<{k}>"),
    }
}
