//! The authority's state and the rules for applying verified AUMs to it.

use super::aum::{Aum, AumKind};
use super::cbor::{self, CborProblem, Encoder, StructReader, Value};
use super::disablement::{disablement_kdf, DISABLEMENT_LENGTH};
use super::error::Error;
use super::hash::AumHash;
use super::key::Key;
use subtle::ConstantTimeEq;

/// At most this many disablement values in a checkpoint.
pub const MAX_DISABLEMENT_VALUES: usize = 32;
/// At most this many keys in a checkpoint, and in builders' output.
/// Compatibility rule: informing an add-key that would make a 513th key is
/// accepted, as upstream accepts it; only checkpoints and builders check.
pub const MAX_KEYS: usize = 512;

/// The state of an authority. CBOR: 1 LastAUMHash (always; `null` if
/// nil), 2 DisablementValues (always), 3 Keys (always), 4 StateID1 and
/// 5 StateID2 (omitted when zero).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub last_aum_hash: Option<AumHash>,
    /// `None` is a nil slice; inner `None` a nil byte string.
    pub disablement_values: Option<Vec<Option<Vec<u8>>>>,
    pub keys: Option<Vec<Key>>,
    pub state_id1: u64,
    pub state_id2: u64,
}

impl State {
    /// The trusted keys (empty for a nil slice).
    pub fn keys(&self) -> &[Key] {
        self.keys.as_deref().unwrap_or(&[])
    }

    /// The key with this ID (upstream's `GetKey`).
    pub fn get_key(&self, key_id: &[u8]) -> Result<&Key, Error> {
        for k in self.keys() {
            if k.id()? == key_id {
                return Ok(k);
            }
        }
        Err(Error::NoSuchKey)
    }

    /// The disablement values, skipping nil entries.
    pub fn disablement_values(&self) -> impl Iterator<Item = &[u8]> {
        self.disablement_values
            .iter()
            .flatten()
            .map(|v| v.as_deref().unwrap_or(&[]))
    }

    /// Whether `secret` derives to one of the disablement values (constant-time compare).
    pub fn check_disablement(&self, secret: &[u8]) -> bool {
        let derived = disablement_kdf(secret);
        self.disablement_value_index(&derived).is_some()
    }

    /// The index of a derived disablement value in this state.
    pub fn disablement_value_index(&self, derived: &[u8; DISABLEMENT_LENGTH]) -> Option<usize> {
        let mut found = None;
        for (i, candidate) in self.disablement_values().enumerate() {
            if bool::from(candidate.ct_eq(&derived[..])) && found.is_none() {
                found = Some(i);
            }
        }
        found
    }

    fn parent_matches(&self, update: &Aum) -> bool {
        match &self.last_aum_hash {
            None => true,
            Some(h) => update.prev_aum_hash.as_deref() == Some(&h.0[..]),
        }
    }

    /// Applies an AUM whose signatures were verified (upstream's `applyVerifiedAUM`).
    pub fn apply_verified(&self, update: &Aum) -> Result<State, Error> {
        let mut out = self.clone();
        out.apply_verified_in_place(update, update.hash())?;
        Ok(out)
    }

    /// [`State::apply_verified`] without the copy: `self` becomes the state
    /// after `update`, whose hash the caller already knows (`hash` must be
    /// `update.hash()`). Every check comes before the first change, so on
    /// an error `self` is as it was, except for an UpdateKey whose later
    /// key has an unknown kind (then the caller drops the state, as inform
    /// and the chain walks do).
    pub(crate) fn apply_verified_in_place(
        &mut self,
        update: &Aum,
        hash: AumHash,
    ) -> Result<(), Error> {
        if !self.parent_matches(update) {
            return Err(Error::rejected("parent AUMHash mismatch"));
        }
        match update.kind {
            AumKind::CHECKPOINT => {
                let Some(state) = &update.state else {
                    return Err(Error::rejected("missing checkpoint state"));
                };
                if state.state_id1 != self.state_id1 || state.state_id2 != self.state_id2 {
                    return Err(Error::rejected(
                        "checkpointed state has an incorrect stateID",
                    ));
                }
                self.clone_from(state);
            }
            AumKind::ADD_KEY => {
                let Some(key) = &update.key else {
                    return Err(Error::rejected("no key to add provided"));
                };
                let id = key.id()?;
                if self.get_key(id).is_ok() {
                    return Err(Error::rejected("key already exists"));
                }
                self.keys.get_or_insert_with(Vec::new).push(key.clone());
            }
            AumKind::UPDATE_KEY => {
                let key_id = update.key_id.as_deref().unwrap_or(&[]);
                let mut k = self.get_key(key_id)?.clone();
                if let Some(votes) = update.votes {
                    k.votes = votes;
                }
                if let Some(meta) = &update.meta {
                    k.meta = Some(meta.clone());
                }
                k.static_validate().map_err(|e| {
                    Error::rejected(format!(
                        "updated key fails validation: {}",
                        strip_invalid(&e)
                    ))
                })?;
                for slot in self.keys.iter_mut().flatten() {
                    if slot.id()? == key_id {
                        *slot = k.clone();
                    }
                }
            }
            AumKind::REMOVE_KEY => {
                let key_id = update.key_id.as_deref().unwrap_or(&[]);
                let mut idx = None;
                for (i, k) in self.keys().iter().enumerate() {
                    if k.id()? == key_id {
                        idx = Some(i);
                        break;
                    }
                }
                let Some(idx) = idx else {
                    return Err(Error::NoSuchKey);
                };
                if let Some(keys) = self.keys.as_mut() {
                    keys.remove(idx);
                }
            }
            // NoOp, unknown kinds and kind 0 apply as no-ops: the
            // forward-compatibility contract for new AUM kinds.
            _ => {}
        }
        self.last_aum_hash = Some(hash);
        Ok(())
    }

    /// Rules a checkpoint's state must meet (upstream's `staticValidateCheckpoint`).
    pub fn static_validate_checkpoint(&self) -> Result<(), Error> {
        if self.last_aum_hash.is_some() {
            return Err(Error::invalid("cannot specify a parent AUM"));
        }
        let values = self.disablement_values.as_deref().unwrap_or(&[]);
        if values.is_empty() {
            return Err(Error::invalid("at least one disablement secret required"));
        }
        if values.len() > MAX_DISABLEMENT_VALUES {
            return Err(Error::invalid(format!(
                "too many disablement values ({}, max {MAX_DISABLEMENT_VALUES})",
                values.len()
            )));
        }
        for (i, ds) in values.iter().enumerate() {
            let ds = ds.as_deref().unwrap_or(&[]);
            if ds.len() != DISABLEMENT_LENGTH {
                return Err(Error::invalid(format!(
                    "disablement[{i}]: invalid length (got {}, want {DISABLEMENT_LENGTH})",
                    ds.len()
                )));
            }
            for (j, ds2) in values.iter().enumerate() {
                if i != j && ds == ds2.as_deref().unwrap_or(&[]) {
                    return Err(Error::invalid(format!(
                        "disablement[{i}]: duplicates disablement[{j}]"
                    )));
                }
            }
        }
        let keys = self.keys();
        if keys.is_empty() {
            return Err(Error::invalid("at least one key is required"));
        }
        if keys.len() > MAX_KEYS {
            return Err(Error::invalid(format!(
                "too many keys ({}, max {MAX_KEYS})",
                keys.len()
            )));
        }
        for (i, k) in keys.iter().enumerate() {
            k.static_validate()
                .map_err(|e| Error::invalid(format!("key[{i}]: {}", strip_invalid(&e))))?;
        }
        for (i, k) in keys.iter().enumerate() {
            for (j, k2) in keys.iter().enumerate() {
                if i != j && k.id()? == k2.id()? {
                    return Err(Error::invalid(format!("key[{i}]: duplicates key[{j}]")));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn encode(&self, e: &mut Encoder) {
        let ids = usize::from(self.state_id1 != 0) + usize::from(self.state_id2 != 0);
        e.map_header(3 + ids);
        e.uint(1);
        e.opt_bytes(self.last_aum_hash.as_ref().map(|h| &h.0[..]));
        e.uint(2);
        match &self.disablement_values {
            None => e.null(),
            Some(values) => {
                e.array_header(values.len());
                for v in values {
                    e.opt_bytes(v.as_deref());
                }
            }
        }
        e.uint(3);
        match &self.keys {
            None => e.null(),
            Some(keys) => {
                e.array_header(keys.len());
                for k in keys {
                    k.encode(e);
                }
            }
        }
        if self.state_id1 != 0 {
            e.uint(4);
            e.uint(self.state_id1);
        }
        if self.state_id2 != 0 {
            e.uint(5);
            e.uint(self.state_id2);
        }
    }

    /// Decodes a State; `Ok(None)` for `null`.
    pub(crate) fn decode(value: &Value, context: &str) -> Result<Option<State>, CborProblem> {
        let Some(r) = StructReader::new(value, &[1, 2, 3, 4, 5], context)? else {
            return Ok(None);
        };
        // LastAUMHash is a *[32]byte: a byte string of another length is
        // truncated or zero-filled, as Go's decoder does for arrays.
        let last_aum_hash = cbor::decode_bytes(r.field(1), &format!("{context}.1"))?.map(|b| {
            let mut h = [0u8; 32];
            let n = b.len().min(32);
            h[..n].copy_from_slice(&b[..n]);
            AumHash(h)
        });
        let dv_ctx = format!("{context}.2");
        let keys_ctx = format!("{context}.3");
        Ok(Some(State {
            last_aum_hash,
            disablement_values: cbor::decode_array(r.field(2), &dv_ctx, |v| {
                cbor::decode_bytes(Some(v), &dv_ctx)
            })?,
            keys: cbor::decode_array(r.field(3), &keys_ctx, |v| {
                Key::decode(v, &keys_ctx).map(Option::unwrap_or_default)
            })?,
            state_id1: cbor::decode_uint(r.field(4), u64::MAX, "uint64", &format!("{context}.4"))?,
            state_id2: cbor::decode_uint(r.field(5), u64::MAX, "uint64", &format!("{context}.5"))?,
        }))
    }
}

/// The message of an `Invalid` error without its "invalid: " prefix.
pub(crate) fn strip_invalid(e: &Error) -> String {
    match e {
        Error::Invalid(m) => m.clone(),
        other => other.to_string(),
    }
}
