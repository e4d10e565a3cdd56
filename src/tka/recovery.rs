//! Retroactive revocation ("revoke-keys"): a checkpoint that forks the
//! chain from before a compromised key was trusted, and the tally of
//! whether its cosignatures are enough for it to win the fork.
//!
//! Compatibility rules:
//! - The recovery AUM's state is the *current* head state minus the
//!   revoked keys (keys added after the fork point survive), with no
//!   LastAUMHash, and its parent is the newest ancestor of head whose state
//!   trusts none of the revoked keys but trusts the signer, else the oldest
//!   ancestor (upstream's `findParentForRewrite`).
//! - It wins only if fork resolution at its parent picks it: its signers'
//!   votes (in the state at the parent) must beat every sibling's, so it
//!   needs more votes than the branch signed with the revoked keys.
//! - The blob exchanged by `tailscale lock revoke-keys --cosign|--finish`
//!   is the AUM's serialization in uppercase hex.

use super::aum::{Aum, AumKind, Signature};
use super::authority::{Authority, MAX_SCAN_ITERATIONS};
use super::error::TkaError;
use super::hash::AumHash;
use super::signer::{sign_verified, Signer, SignerError};

/// Upstream's `findParentForRewrite`.
pub fn find_parent_for_rewrite(
    authority: &Authority,
    remove: &[Vec<u8>],
    our_key: &[u8],
) -> Result<AumHash, TkaError> {
    let mut cursor = authority.head();
    for _ in 0..=MAX_SCAN_ITERATIONS {
        if cursor == authority.oldest_ancestor() {
            return Ok(cursor);
        }
        let aum = authority
            .tree()
            .get(&cursor)
            .ok_or_else(|| TkaError::rejected(format!("reading AUM {cursor}: not known")))?;
        let state = authority
            .state_at(cursor)
            .map_err(|e| TkaError::rejected(format!("computing state for {cursor}: {e}")))?;
        let revoked_trusted = remove.iter().any(|k| state.get_key(k).is_ok());
        if !revoked_trusted && state.get_key(our_key).is_ok() {
            return Ok(cursor);
        }
        match aum.parent() {
            None => return Ok(cursor),
            Some(p) => cursor = p,
        }
    }
    Err(TkaError::rejected(format!(
        "iteration limit exceeded ({MAX_SCAN_ITERATIONS})"
    )))
}

/// Builds the unsigned recovery AUM (upstream's `MakeRetroactiveRevocation`).
pub fn make_retroactive_revocation(
    authority: &Authority,
    remove: &[Vec<u8>],
    our_key: &[u8],
    fork_from: Option<AumHash>,
) -> Result<Aum, TkaError> {
    let parent = match fork_from.filter(|h| !h.is_zero()) {
        Some(p) => p,
        None => {
            if !remove.iter().any(|k| authority.key_trusted(k)) {
                return Err(TkaError::rejected("no provided key is currently trusted"));
            }
            find_parent_for_rewrite(authority, remove, our_key)
                .map_err(|e| TkaError::rejected(format!("finding parent: {e}")))?
        }
    };
    let mut state = authority.state().clone();
    for revoke in remove {
        if let Some(keys) = state.keys.as_mut() {
            let mut idx = None;
            for (i, k) in keys.iter().enumerate() {
                if k.id()? == &revoke[..] {
                    idx = Some(i);
                    break;
                }
            }
            if let Some(i) = idx {
                keys.remove(i);
            }
        }
    }
    if state.keys().is_empty() {
        return Err(TkaError::rejected("cannot revoke all trusted keys"));
    }
    state.last_aum_hash = None;
    let aum = Aum {
        kind: AumKind::CHECKPOINT,
        prev_aum_hash: Some(parent.0.to_vec()),
        state: Some(state),
        ..Default::default()
    };
    aum.static_validate()?;
    Ok(aum)
}

/// A sibling of the recovery AUM at the fork point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sibling {
    pub hash: AumHash,
    pub kind: AumKind,
    pub weight: u64,
}

/// Whether a recovery AUM's signatures are enough.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryTally {
    pub fork_parent: AumHash,
    /// Votes of the distinct trusted signers, in the state at the fork parent.
    pub weight: u64,
    /// The other children of the fork parent.
    pub siblings: Vec<Sibling>,
    pub max_sibling_weight: u64,
    /// Whether fork resolution would choose the recovery AUM (its chain
    /// verifies and it wins at the fork parent).
    pub chosen: bool,
    /// Why the recovery AUM cannot be informed, if it cannot.
    pub inform_error: Option<String>,
    /// More votes needed to beat the heaviest sibling (0 when chosen).
    pub votes_needed: u64,
}

/// Tallies a (partly) signed recovery AUM against the authority.
pub fn tally(authority: &Authority, recovery: &Aum) -> Result<RecoveryTally, TkaError> {
    let fork_parent = recovery
        .parent()
        .ok_or_else(|| TkaError::rejected("the recovery AUM has no parent AUM hash"))?;
    let state = authority.state_at(fork_parent).map_err(|e| {
        TkaError::rejected(format!(
            "the recovery AUM forks from {fork_parent}, which this authority does not know: {e}"
        ))
    })?;
    let own_hash = recovery.hash();
    let siblings: Vec<Sibling> = authority
        .tree()
        .children(&fork_parent)
        .into_iter()
        .map(|c| (c.hash(), c))
        .filter(|(h, _)| *h != own_hash)
        .map(|(hash, c)| Sibling {
            hash,
            kind: c.kind,
            weight: c.weight(&state),
        })
        .collect();
    let weight = recovery.weight(&state);
    let max_sibling_weight = siblings.iter().map(|s| s.weight).max().unwrap_or(0);
    let mut trial = authority.clone();
    let (chosen, inform_error) = match trial.inform(vec![recovery.clone()]) {
        Ok(()) => (
            trial.active_chain().iter().any(|(h, _)| *h == own_hash),
            None,
        ),
        Err(e) => (false, Some(e.to_string())),
    };
    let votes_needed = if chosen {
        0
    } else {
        (max_sibling_weight + 1).saturating_sub(weight)
    };
    Ok(RecoveryTally {
        fork_parent,
        weight,
        siblings,
        max_sibling_weight,
        chosen,
        inform_error,
        votes_needed,
    })
}

/// Why a cosignature was refused.
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    #[error("key tlpub:{0} has already signed this recovery AUM; a second signature from the same key adds no votes")]
    AlreadySigned(String),
    #[error("existing signature {index} (by tlpub:{key}) does not verify: the blob was altered or corrupted")]
    BadSignature { index: usize, key: String },
    #[error(transparent)]
    Signer(#[from] SignerError),
}

/// Checks that every existing signature on `aum` verifies (ZIP-215) over its SigHash.
pub fn check_existing_signatures(aum: &Aum) -> Result<(), CosignError> {
    let sig_hash = aum.sig_hash();
    for (index, s) in aum.signatures().iter().enumerate() {
        if !super::sig::verify_zip215(s.key_id(), &sig_hash, s.signature()) {
            return Err(CosignError::BadSignature {
                index,
                key: super::hex::lower(s.key_id()),
            });
        }
    }
    Ok(())
}

/// Adds `signer`'s signature to a recovery AUM, refusing a second
/// signature from the same key.
pub fn cosign(aum: &mut Aum, signer: &mut dyn Signer) -> Result<(), CosignError> {
    check_existing_signatures(aum)?;
    let public = signer.public_key();
    if aum.signatures().iter().any(|s| s.key_id() == public) {
        return Err(CosignError::AlreadySigned(super::hex::lower(&public)));
    }
    let signature = sign_verified(signer, &aum.sig_hash())?;
    aum.signatures
        .get_or_insert_with(Vec::new)
        .push(Signature::new(public, signature));
    Ok(())
}

/// The uppercase hex blob `tailscale lock revoke-keys` exchanges.
pub fn cli_blob(aum: &Aum) -> String {
    super::hex::upper(&aum.serialize())
}
