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
use super::error::Error;
use super::hash::AumHash;
use super::key::Key;
use super::signer::{sign_verified, Signer};
use super::state::State;
use std::collections::{HashMap, HashSet};

/// Upstream's `findParentForRewrite`.
pub fn find_parent_for_rewrite(
    authority: &Authority,
    remove: &[Vec<u8>],
    our_key: &[u8],
) -> Result<AumHash, Error> {
    let mut cursor = authority.head();
    for _ in 0..=MAX_SCAN_ITERATIONS {
        if cursor == authority.oldest_ancestor() {
            return Ok(cursor);
        }
        let aum = authority
            .tree()
            .get(&cursor)
            .ok_or_else(|| Error::rejected(format!("reading AUM {cursor}: not known")))?;
        let state = authority
            .state_at(cursor)
            .map_err(|e| Error::rejected(format!("computing state for {cursor}: {e}")))?;
        let revoked_trusted = remove.iter().any(|k| state.get_key(k).is_ok());
        if !revoked_trusted && state.get_key(our_key).is_ok() {
            return Ok(cursor);
        }
        match aum.parent() {
            None => return Ok(cursor),
            Some(p) => cursor = p,
        }
    }
    Err(Error::rejected(format!(
        "iteration limit exceeded ({MAX_SCAN_ITERATIONS})"
    )))
}

/// Builds the unsigned recovery AUM (upstream's `MakeRetroactiveRevocation`).
pub fn make_retroactive_revocation(
    authority: &Authority,
    remove: &[Vec<u8>],
    our_key: &[u8],
    fork_from: Option<AumHash>,
) -> Result<Aum, Error> {
    let parent = match fork_from.filter(|h| !h.is_zero()) {
        Some(p) => p,
        None => {
            if !remove.iter().any(|k| authority.key_trusted(k)) {
                return Err(Error::rejected("no provided key is currently trusted"));
            }
            find_parent_for_rewrite(authority, remove, our_key)
                .map_err(|e| Error::rejected(format!("finding parent: {e}")))?
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
        return Err(Error::rejected("cannot revoke all trusted keys"));
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
pub fn tally(authority: &Authority, recovery: &Aum) -> Result<RecoveryTally, Error> {
    let fork_parent = recovery
        .parent()
        .ok_or_else(|| Error::rejected("the recovery AUM has no parent AUM hash"))?;
    let state = authority.state_at(fork_parent).map_err(|e| {
        Error::rejected(format!(
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

/// Checks that every existing signature on `aum` verifies (ZIP-215) over its SigHash.
/// A failure is an [`Error::BadSignature`].
pub fn check_existing_signatures(aum: &Aum) -> Result<(), Error> {
    let sig_hash = aum.sig_hash();
    for (index, s) in aum.signatures().iter().enumerate() {
        if !super::sig::verify_zip215(s.key_id(), &sig_hash, s.signature()) {
            return Err(Error::BadSignature {
                index,
                key: super::hex::lower(s.key_id()),
            });
        }
    }
    Ok(())
}

/// Adds `signer`'s signature to a recovery AUM, refusing a second
/// signature from the same key ([`Error::AlreadySigned`]).
pub fn cosign(aum: &mut Aum, signer: &mut dyn Signer) -> Result<(), Error> {
    check_existing_signatures(aum)?;
    let public = signer.public_key();
    if aum.signatures().iter().any(|s| s.key_id() == public) {
        return Err(Error::AlreadySigned(super::hex::lower(&public)));
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

/// One line of the difference between two states, keys matched by ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateChange {
    /// A key in both, unchanged.
    KeptKey(Key),
    /// A key only in the first state (revoked by the recovery).
    RemovedKey(Key),
    /// A key only in the second state.
    AddedKey(Key),
    /// A key in both whose kind, votes or meta differ.
    ChangedKey {
        before: Key,
        after: Key,
    },
    /// A disablement value only in the first / only in the second state.
    RemovedDisablement(Vec<u8>),
    AddedDisablement(Vec<u8>),
    /// The state IDs differ.
    StateIds {
        before: (u64, u64),
        after: (u64, u64),
    },
    /// The keys are the same set but in another order (changes the SigHash).
    KeyOrder,
    /// The LastAUMHash differs.
    LastAumHash {
        before: Option<AumHash>,
        after: Option<AumHash>,
    },
}

impl StateChange {
    /// Whether this line is a change (not an unchanged key).
    pub fn is_change(&self) -> bool {
        !matches!(self, StateChange::KeptKey(_))
    }
}

fn key_id_bytes(k: &Key) -> &[u8] {
    k.public.as_deref().unwrap_or(&[])
}

/// Every difference from `before` to `after`: keys (kept, removed, added,
/// changed), disablement values, state IDs, key order and LastAUMHash.
pub fn state_diff(before: &State, after: &State) -> Vec<StateChange> {
    let mut out = Vec::new();
    let find = |st: &State, k: &Key| {
        st.keys()
            .iter()
            .find(|o| o.kind == k.kind && key_id_bytes(o) == key_id_bytes(k))
            .cloned()
    };
    for k in before.keys() {
        match find(after, k) {
            None => out.push(StateChange::RemovedKey(k.clone())),
            Some(a) if a == *k => out.push(StateChange::KeptKey(k.clone())),
            Some(a) => out.push(StateChange::ChangedKey {
                before: k.clone(),
                after: a,
            }),
        }
    }
    for k in after.keys() {
        if find(before, k).is_none() {
            out.push(StateChange::AddedKey(k.clone()));
        }
    }
    let common_before: Vec<&[u8]> = before
        .keys()
        .iter()
        .filter(|k| find(after, k).is_some())
        .map(key_id_bytes)
        .collect();
    let common_after: Vec<&[u8]> = after
        .keys()
        .iter()
        .filter(|k| find(before, k).is_some())
        .map(key_id_bytes)
        .collect();
    if common_before != common_after {
        out.push(StateChange::KeyOrder);
    }
    let dv_before: Vec<&[u8]> = before.disablement_values().collect();
    let dv_after: Vec<&[u8]> = after.disablement_values().collect();
    for v in &dv_before {
        if !dv_after.contains(v) {
            out.push(StateChange::RemovedDisablement(v.to_vec()));
        }
    }
    for v in &dv_after {
        if !dv_before.contains(v) {
            out.push(StateChange::AddedDisablement(v.to_vec()));
        }
    }
    if (before.state_id1, before.state_id2) != (after.state_id1, after.state_id2) {
        out.push(StateChange::StateIds {
            before: (before.state_id1, before.state_id2),
            after: (after.state_id1, after.state_id2),
        });
    }
    if before.last_aum_hash != after.last_aum_hash {
        out.push(StateChange::LastAumHash {
            before: before.last_aum_hash,
            after: after.last_aum_hash,
        });
    }
    out
}

/// A recovery AUM that matched the one rebuilt from the local authority.
#[derive(Clone, Debug)]
pub struct CheckedRecovery {
    /// The fork point (the blob's parent), known to the local authority.
    pub fork_parent: AumHash,
    /// The state at the fork point.
    pub fork_state: State,
    /// The state the recovery installs.
    pub new_state: State,
    /// The authority's head and state now (what the recovery replaces).
    pub head: AumHash,
    pub current_state: State,
    /// The keys it revokes (trusted now, absent from the new state).
    pub revoked: Vec<Key>,
}

/// Why a recovery AUM blob was refused (carried by [`super::Error::Rebuild`]).
#[derive(Debug, thiserror::Error)]
pub enum RebuildProblem {
    #[error("the recovery AUM forks from {0}, which this machine's authority does not know (another tailnet's, or this machine's chain is behind: import the current chain first)")]
    UnknownParent(AumHash),
    #[error("the recovery AUM revokes no key that this authority trusts now (head {0}): there is nothing to recover, refusing to sign it")]
    RevokesNothing(AumHash),
    #[error("the recovery AUM is not the revocation it claims to be: rebuilt from this machine's authority (head {head}) as `revoke-keys` builds it, the state differs: {}; if this machine's chain is behind, import the current chain first, otherwise the blob was made to smuggle these changes in", .differences.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; "))]
    Smuggled {
        head: AumHash,
        differences: Vec<Difference>,
    },
    #[error("the recovery AUM cannot be rebuilt from this machine's authority: {0}")]
    Rebuild(Box<Error>),
    #[error("the checkpoint {checkpoint} replaces the state at {fork_parent}, where this machine's chain ends: this machine never saw the branch it recovers from, so it cannot rebuild the revocation from what it knows. Against the state at that fork point it: {}. If the people in the room agree this is the genuine recovery (compare its hash with the other signers'), import again with --accept-unseen-recovery; the acceptance is recorded in the store's transcript", .changes.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; "))]
    UnseenBranch {
        checkpoint: AumHash,
        fork_parent: AumHash,
        changes: Vec<Difference>,
    },
}

/// A recovery checkpoint accepted without a rebuild because this machine's
/// chain ends at its fork point (it never saw the branch it recovers
/// from); accepted only on an explicit request, its changes against the
/// fork point's state named for the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnseenRecovery {
    pub checkpoint: AumHash,
    pub fork_parent: AumHash,
    pub changes: Vec<Difference>,
}

/// One difference between a received recovery AUM and the rebuilt one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    /// A state difference (from the rebuilt state to the blob's).
    State(StateChange),
    /// The AUM differs outside its state (fields a recovery does not carry).
    OtherFields,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::keyforms::tlpub_text;
        let key = |k: &Key| tlpub_text(key_id_bytes(k));
        match self {
            Difference::OtherFields => f.write_str(
                "the AUM carries fields besides the checkpoint state (key, key ID, votes or meta)",
            ),
            Difference::State(c) => match c {
                StateChange::KeptKey(k) => write!(f, "keeps {}", key(k)),
                StateChange::RemovedKey(k) => write!(f, "drops key {}", key(k)),
                StateChange::AddedKey(k) => write!(
                    f,
                    "ADDS key {} with {} votes, which is not trusted now",
                    key(k),
                    k.votes
                ),
                StateChange::ChangedKey { before, after } => {
                    write!(f, "CHANGES key {}:", key(before))?;
                    if before.votes != after.votes {
                        write!(f, " votes {} -> {}", before.votes, after.votes)?;
                    }
                    if before.meta != after.meta {
                        write!(
                            f,
                            " meta {} -> {}",
                            crate::shown::Untrusted::from(format!("{:?}", before.meta)),
                            crate::shown::Untrusted::from(format!("{:?}", after.meta))
                        )?;
                    }
                    Ok(())
                }
                StateChange::RemovedDisablement(v) => {
                    write!(f, "DROPS disablement value {}", super::hex::lower(v))
                }
                StateChange::AddedDisablement(v) => {
                    write!(f, "ADDS disablement value {}", super::hex::lower(v))
                }
                StateChange::StateIds { before, after } => write!(
                    f,
                    "CHANGES the state IDs {} / {} -> {} / {}",
                    before.0, before.1, after.0, after.1
                ),
                StateChange::KeyOrder => f.write_str("reorders the keys"),
                StateChange::LastAumHash { after, .. } => write!(
                    f,
                    "sets LastAUMHash to {}",
                    after
                        .map(|h| h.to_string())
                        .unwrap_or_else(|| "none".into())
                ),
            },
        }
    }
}

/// The rebuild failed for a reason of the core (wrapped, to name the rebuild).
fn rebuild(e: Error) -> Error {
    RebuildProblem::Rebuild(Box::new(e)).into()
}

/// Rebuilds the revocation `blob` claims to be from the local authority
/// and refuses it unless its SigHash is the rebuilt one's.
///
/// Invariant: a recovery checkpoint replaces the whole state, so the only
/// recovery this machine signs or accepts is the one it would build
/// itself: the current state minus the keys the blob drops (upstream's
/// `MakeRetroactiveRevocation`), forking from a parent this authority
/// knows. The revoked set is what the blob claims (current keys absent
/// from its state); anything else it carries (an added key, changed votes
/// or meta, other disablement values or state IDs) is a difference and is
/// refused, each one named.
pub fn check_rebuild(authority: &Authority, blob: &Aum) -> Result<CheckedRecovery, Error> {
    let head = authority.head();
    let fork_parent = match blob.parent() {
        Some(p) if !p.is_zero() && authority.tree().get(&p).is_some() => p,
        Some(p) => return Err(RebuildProblem::UnknownParent(p).into()),
        None => return Err(RebuildProblem::UnknownParent(AumHash([0; 32])).into()),
    };
    let claimed = blob.state.clone().unwrap_or_default();
    let revoked: Vec<Key> = authority
        .keys()
        .iter()
        .filter(|k| claimed.get_key(key_id_bytes(k)).is_err())
        .cloned()
        .collect();
    if revoked.is_empty() {
        return Err(RebuildProblem::RevokesNothing(head).into());
    }
    let ids: Vec<Vec<u8>> = revoked.iter().map(|k| key_id_bytes(k).to_vec()).collect();
    let rebuilt =
        make_retroactive_revocation(authority, &ids, &[], Some(fork_parent)).map_err(rebuild)?;
    let fork_state = authority.state_at(fork_parent).map_err(rebuild)?;
    if rebuilt.sig_hash() != blob.sig_hash() {
        let rebuilt_state = rebuilt.state.clone().unwrap_or_default();
        let mut differences: Vec<Difference> = state_diff(&rebuilt_state, &claimed)
            .into_iter()
            .filter(StateChange::is_change)
            .map(Difference::State)
            .collect();
        let mut same_state = blob.clone();
        same_state.state = rebuilt.state.clone();
        if same_state.sig_hash() != rebuilt.sig_hash() {
            differences.push(Difference::OtherFields);
        }
        return Err(RebuildProblem::Smuggled { head, differences }.into());
    }
    Ok(CheckedRecovery {
        fork_parent,
        fork_state,
        new_state: claimed,
        head,
        current_state: authority.state().clone(),
        revoked,
    })
}

/// Checks the checkpoints among AUMs about to be imported into `current`:
/// a checkpoint that keeps the state at its parent (upstream's periodic
/// checkpoint) changes nothing; one that changes it is a recovery and must
/// be exactly the revocation [`check_rebuild`] rebuilds from the authority
/// as its maker saw it (the store plus the other imported AUMs, without
/// this checkpoint and what follows it).
///
/// A machine whose chain ends at the checkpoint's fork point never saw the
/// branch the recovery replaces and cannot rebuild it (the maker built it
/// from a state this machine does not have). Such a checkpoint is refused
/// with its changes against the fork point named (`UnseenBranch`), or,
/// with `accept_unseen`, returned in the list of [`UnseenRecovery`] for
/// the caller to show and record. Its signatures are still verified by
/// the import against the keys trusted at the fork point.
///
/// `imported` is `current` informed with the import (its result,
/// verified) and `new_hashes` the hashes of the imported AUMs: ordinary
/// checkpoints are recognised on it in one pass.
pub fn check_imported_checkpoints(
    current: &Authority,
    imported: &Authority,
    new_hashes: &[AumHash],
    accept_unseen: bool,
) -> Result<Vec<UnseenRecovery>, Error> {
    let mut unseen = Vec::new();
    // The imported AUMs `current` did not hold, as `imported` holds them
    // (with their hashes: nothing is hashed again here).
    let new: Vec<(AumHash, &Aum)> = new_hashes
        .iter()
        .filter(|h| current.tree().get(h).is_none())
        .filter_map(|h| imported.tree().get(h).map(|a| (*h, a)))
        .collect();
    let checkpoints: Vec<(AumHash, &Aum)> = new
        .iter()
        .filter(|(_, a)| a.kind == AumKind::CHECKPOINT && a.parent().is_some())
        .copied()
        .collect();
    if checkpoints.is_empty() {
        return Ok(unseen);
    }
    // Every import of an ordinary chain holds checkpoints with parents
    // (upstream writes one every 50 AUMs) that restate the state at their
    // parent. That is decided on `imported` (a state at a parent depends
    // only on the parent's ancestors); only the other checkpoints need the
    // authority as this machine saw it before each, one authority each.
    let restates_parent = |seen: &Authority, cp: &Aum| {
        cp.parent().is_some_and(|parent| {
            seen.state_at(parent).ok().is_some_and(|st| {
                let mut claimed = cp.state.clone().unwrap_or_default();
                claimed.last_aum_hash = st.last_aum_hash;
                claimed == st
            })
        })
    };
    let mut children: HashMap<AumHash, Vec<AumHash>> = HashMap::new();
    for (h, a) in &new {
        if let Some(p) = a.parent() {
            children.entry(p).or_default().push(*h);
        }
    }
    for (cp_hash, cp) in checkpoints {
        if restates_parent(imported, cp) {
            continue;
        }
        // The checkpoint and everything built on it, in this import.
        let mut after: HashSet<AumHash> = HashSet::from([cp_hash]);
        let mut queue = vec![cp_hash];
        while let Some(h) = queue.pop() {
            for c in children.get(&h).into_iter().flatten() {
                if after.insert(*c) {
                    queue.push(*c);
                }
            }
        }
        let others: Vec<Aum> = new
            .iter()
            .filter(|(h, _)| !after.contains(h))
            .map(|(_, a)| (*a).clone())
            .collect();
        let mut seen = current.clone();
        if !others.is_empty() {
            if let Ok(ordered) = super::authority::order_by_parent_links(others) {
                let mut trial = seen.clone();
                if trial.inform(ordered).is_ok() {
                    seen = trial;
                }
            }
        }
        let Some(parent) = cp.parent() else { continue };
        if restates_parent(&seen, cp) {
            continue;
        }
        match check_rebuild(&seen, cp) {
            Ok(_) => {}
            Err(Error::Rebuild(
                RebuildProblem::RevokesNothing(_) | RebuildProblem::Smuggled { .. },
            )) if seen.head() == parent => {
                let fork_state = seen.state_at(parent).map_err(rebuild)?;
                let claimed = cp.state.clone().unwrap_or_default();
                let changes: Vec<Difference> = state_diff(&fork_state, &claimed)
                    .into_iter()
                    .filter(StateChange::is_change)
                    .map(Difference::State)
                    .collect();
                let found = UnseenRecovery {
                    checkpoint: cp_hash,
                    fork_parent: parent,
                    changes,
                };
                if !accept_unseen {
                    return Err(RebuildProblem::UnseenBranch {
                        checkpoint: found.checkpoint,
                        fork_parent: found.fork_parent,
                        changes: found.changes,
                    }
                    .into());
                }
                unseen.push(found);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(unseen)
}
