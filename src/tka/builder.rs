//! Building signed updates on top of an authority's head (upstream's
//! `UpdateBuilder`).
//!
//! Compatibility rules:
//! - Each update is chained on the previous one, signed, statically
//!   validated and applied to a running state before the next is built.
//! - Finalize inserts a checkpoint when the chain since the last checkpoint
//!   (or the oldest known AUM) would reach 50 AUMs.
//! - Adding a key fails when the state already holds 512 keys.

use super::aum::{Aum, AumKind, Signature};
use super::authority::Authority;
use super::error::Error;
use super::hash::AumHash;
use super::key::{Key, Meta};
use super::signer::{sign_verified, Signer};
use super::state::{State, MAX_KEYS};

/// Upstream's `checkpointEvery`.
pub const CHECKPOINT_EVERY: usize = 50;

/// Builds a run of updates on an authority's head.
pub struct UpdateBuilder<'a> {
    authority: &'a Authority,
    signers: Vec<&'a mut dyn Signer>,
    state: State,
    parent: AumHash,
    out: Vec<Aum>,
}

impl<'a> UpdateBuilder<'a> {
    /// A builder whose updates every signer signs, in order.
    pub fn new(authority: &'a Authority, signers: Vec<&'a mut dyn Signer>) -> Self {
        UpdateBuilder {
            authority,
            signers,
            state: authority.state().clone(),
            parent: authority.head(),
            out: Vec::new(),
        }
    }

    /// The state after the updates built so far.
    pub fn state(&self) -> &State {
        &self.state
    }

    fn make_update(&mut self, mut update: Aum) -> Result<(), Error> {
        update.prev_aum_hash = Some(self.parent.0.to_vec());
        let sig_hash = update.sig_hash();
        for signer in self.signers.iter_mut() {
            let signature = sign_verified(&mut **signer, &sig_hash)
                .map_err(|e| Error::rejected(format!("signing failed: {e}")))?;
            update
                .signatures
                .get_or_insert_with(Vec::new)
                .push(Signature::new(signer.public_key(), signature));
        }
        update
            .static_validate()
            .map_err(|e| Error::rejected(format!("generated update was invalid: {e}")))?;
        self.state = self
            .state
            .apply_verified(&update)
            .map_err(|e| Error::rejected(format!("update cannot be applied: {e}")))?;
        self.parent = update.hash();
        self.out.push(update);
        Ok(())
    }

    /// Trusts a new key.
    pub fn add_key(&mut self, key: Key) -> Result<(), Error> {
        let id = key.id()?.to_vec();
        let text = super::keyforms::tlpub_text(&id);
        if self.state.get_key(&id).is_ok() {
            return Err(Error::rejected(format!(
                "cannot add key {text}: already exists"
            )));
        }
        if self.state.keys().len() >= MAX_KEYS {
            return Err(Error::rejected(format!(
                "cannot add key {text}: maximum number of keys reached"
            )));
        }
        self.make_update(Aum {
            kind: AumKind::ADD_KEY,
            key: Some(key),
            ..Default::default()
        })
    }

    /// Stops trusting a key.
    pub fn remove_key(&mut self, key_id: &[u8]) -> Result<(), Error> {
        self.require_key(key_id)?;
        self.make_update(Aum {
            kind: AumKind::REMOVE_KEY,
            key_id: Some(key_id.to_vec()),
            ..Default::default()
        })
    }

    /// Changes a key's votes.
    pub fn set_key_votes(&mut self, key_id: &[u8], votes: u64) -> Result<(), Error> {
        self.require_key(key_id)?;
        self.make_update(Aum {
            kind: AumKind::UPDATE_KEY,
            key_id: Some(key_id.to_vec()),
            votes: Some(votes),
            ..Default::default()
        })
    }

    /// Replaces a key's metadata.
    pub fn set_key_meta(&mut self, key_id: &[u8], meta: Meta) -> Result<(), Error> {
        self.require_key(key_id)?;
        self.make_update(Aum {
            kind: AumKind::UPDATE_KEY,
            key_id: Some(key_id.to_vec()),
            meta: Some(meta),
            ..Default::default()
        })
    }

    fn require_key(&self, key_id: &[u8]) -> Result<(), Error> {
        self.state.get_key(key_id).map(|_| ()).map_err(|e| {
            Error::rejected(format!(
                "failed reading key {}: {e}",
                super::hex::lower(key_id)
            ))
        })
    }

    fn generate_checkpoint(&mut self) -> Result<(), Error> {
        let mut state = self.authority.state().clone();
        for (i, update) in self.out.iter().enumerate() {
            state = state
                .apply_verified(update)
                .map_err(|e| Error::rejected(format!("applying update {i}: {e}")))?;
        }
        state.last_aum_hash = None;
        self.make_update(Aum {
            kind: AumKind::CHECKPOINT,
            state: Some(state),
            ..Default::default()
        })
    }

    /// The signed updates, with a checkpoint appended when one is due.
    pub fn finalize(mut self) -> Result<Vec<Aum>, Error> {
        let mut need_checkpoint = true;
        let mut cursor = self.authority.head();
        for _ in self.out.len()..CHECKPOINT_EVERY {
            let Some(aum) = self.authority.tree().get(&cursor) else {
                need_checkpoint = false;
                break;
            };
            if aum.kind == AumKind::CHECKPOINT {
                need_checkpoint = false;
                break;
            }
            match aum.parent() {
                None => {
                    need_checkpoint = false;
                    break;
                }
                Some(p) => cursor = p,
            }
        }
        if need_checkpoint {
            self.generate_checkpoint()
                .map_err(|e| Error::rejected(format!("generating checkpoint: {e}")))?;
        }
        Ok(self.out)
    }
}

/// The unsigned genesis checkpoint of a new authority: `keys` trusted,
/// `disablement_values` able to disable it, identified by the two
/// (non-zero) state IDs. Its sighash is what every signer signs and what
/// witnesses compare; its hash changes once signatures are added.
pub fn unsigned_genesis(
    keys: Vec<Key>,
    disablement_values: Vec<Vec<u8>>,
    state_id1: u64,
    state_id2: u64,
) -> Result<Aum, Error> {
    let genesis = Aum {
        kind: AumKind::CHECKPOINT,
        state: Some(State {
            last_aum_hash: None,
            disablement_values: Some(disablement_values.into_iter().map(Some).collect()),
            keys: Some(keys),
            state_id1: state_id1.max(1),
            state_id2: state_id2.max(1),
        }),
        ..Default::default()
    };
    genesis
        .static_validate()
        .map_err(|e| Error::rejected(format!("the genesis would be invalid: {e}")))?;
    Ok(genesis)
}

/// Signs `genesis` with every signer (each returned signature verified
/// against the signer's key) and bootstraps the authority from it.
pub fn sign_genesis(mut genesis: Aum, signers: &mut [Box<dyn Signer>]) -> Result<Authority, Error> {
    let sig_hash = genesis.sig_hash();
    for s in signers.iter_mut() {
        let signature = sign_verified(s.as_mut(), &sig_hash)
            .map_err(|e| Error::rejected(format!("signing failed: {e}")))?;
        genesis
            .signatures
            .get_or_insert_with(Vec::new)
            .push(Signature::new(s.public_key(), signature));
    }
    Authority::bootstrap(genesis)
        .map_err(|e| Error::rejected(format!("the signed genesis does not verify: {e}")))
}
