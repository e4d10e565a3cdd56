//! The authority: a verified tree of AUMs, its active chain and the state
//! at its head, computed as upstream's `tka.Authority` computes them.
//!
//! The AUMs live in memory ([`AumTree`], upstream's `Mem` tailchonk); a
//! store on disk (see `crate::store`) persists the verified AUMs and rebuilds
//! an `Authority` by bootstrapping its anchor and informing the rest.
//!
//! Compatibility rules that bind here:
//! - Bootstrap takes a checkpoint (the genesis or a later one) whose own
//!   state trusts its signers.
//! - Inform is all-or-nothing and checks, per update, in this order: static
//!   validity, parent, at least one signature, each signature's key then its
//!   ZIP-215 validity, the last-key rule, then application. Signatures are
//!   checked in one batch for speed, but the error reported is the one
//!   upstream would report first.
//! - Fork resolution among the children of one AUM: highest weight, then a
//!   remove-key, then the lowest hash. Chain length does not matter.
//! - Walks are bounded by upstream's iteration limit (2000).

use super::aum::{Aum, AumKind};
use super::error::Error;
use super::hash::AumHash;
use super::key::Key;
use super::sig::verify_zip215;
use super::state::State;
use std::collections::{HashMap, HashSet};

/// Upstream's `maxScanIterations`.
pub const MAX_SCAN_ITERATIONS: usize = 2000;

/// AUMs by hash, with the parent-to-children index (upstream's `Mem`).
#[derive(Clone, Debug, Default)]
pub struct AumTree {
    aums: HashMap<AumHash, Aum>,
    children: HashMap<AumHash, Vec<AumHash>>,
    /// Insertion order, so that exports are deterministic.
    order: Vec<AumHash>,
}

impl AumTree {
    pub fn get(&self, hash: &AumHash) -> Option<&Aum> {
        self.aums.get(hash)
    }

    fn get_or_missing(&self, hash: &AumHash) -> Result<&Aum, Error> {
        self.aums.get(hash).ok_or_else(|| {
            Error::rejected(format!(
                "AUM {hash} is not known: the chain it links to is missing"
            ))
        })
    }

    pub fn children(&self, hash: &AumHash) -> Vec<&Aum> {
        self.children_of(hash).map(|(_, a)| a).collect()
    }

    /// The children of `hash` with their hashes, without allocating.
    fn children_of<'a>(&'a self, hash: &AumHash) -> impl Iterator<Item = (AumHash, &'a Aum)> {
        self.children
            .get(hash)
            .into_iter()
            .flatten()
            .filter_map(|h| self.aums.get(h).map(|a| (*h, a)))
    }

    /// Commits an AUM whose hash is `hash` (`aum.hash()`, computed once by the caller).
    fn commit(&mut self, hash: AumHash, aum: Aum) {
        if let Some(parent) = aum.parent() {
            let siblings = self.children.entry(parent).or_default();
            if !siblings.contains(&hash) {
                siblings.push(hash);
            }
        }
        if self.aums.insert(hash, aum).is_none() {
            self.order.push(hash);
        }
    }

    /// Every AUM, in the order it was first committed.
    pub fn iter(&self) -> impl Iterator<Item = (&AumHash, &Aum)> {
        self.order.iter().filter_map(|h| self.aums.get_key_value(h))
    }

    pub fn len(&self) -> usize {
        self.aums.len()
    }

    pub fn is_empty(&self) -> bool {
        self.aums.is_empty()
    }
}

/// A verified Tailnet Key Authority.
#[derive(Clone, Debug)]
pub struct Authority {
    tree: AumTree,
    head: AumHash,
    oldest_ancestor: AumHash,
    state: State,
}

/// Where a chain failed to verify: bootstrap or inform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Bootstrap,
    Inform,
}

/// Queued signatures are checked once this many have piled up, so that
/// memory for them stays bounded however long the chain.
const SIG_BATCH: usize = 4096;

/// A pending signature check: (update index, signature index, key, message, signature).
struct PendingSig {
    update: usize,
    index: usize,
    public: [u8; 32],
    message: [u8; 32],
    signature: [u8; 64],
}

impl Authority {
    /// Starts an authority from a checkpoint AUM (upstream's `Bootstrap`).
    pub fn bootstrap(aum: Aum) -> Result<Authority, Error> {
        if aum.kind != AumKind::CHECKPOINT {
            return Err(Error::rejected(format!(
                "bootstrap AUMs must be checkpoint messages, got {}",
                aum.kind
            )));
        }
        let Some(state) = aum.state.clone() else {
            return Err(Error::rejected("bootstrap AUM is missing state"));
        };
        let mut pending = Vec::new();
        aum_verify(&aum, &state, true, 0, &mut pending)
            .map_err(|e| Error::rejected(format!("invalid bootstrap: {e}")))?;
        check_pending(&pending)
            .map_err(|(_, e)| Error::rejected(format!("invalid bootstrap: {e}")))?;
        let hash = aum.hash();
        let mut tree = AumTree::default();
        tree.commit(hash, aum);
        let state = compute_state_at(&tree, hash)?;
        let (head, state) = fast_forward(&tree, hash, state)?;
        Ok(Authority {
            tree,
            head,
            oldest_ancestor: hash,
            state,
        })
    }

    /// Rebuilds an authority from AUMs that this machine verified before
    /// (a store whose verified cache matched, see `crate::store`), without
    /// checking their signatures or applying every update again.
    ///
    /// Only for AUMs that passed [`Authority::bootstrap`] from `anchor`
    /// and [`Authority::inform`] earlier, with `head` the head that
    /// verification reached. What is still checked, cheaply: the anchor is
    /// among them, and a checkpoint; the head is among them and has no
    /// children; the state at head is computed as upstream's
    /// `computeStateAt` computes it (back to the nearest checkpoint, at
    /// most [`MAX_SCAN_ITERATIONS`] AUMs). Any failure means: verify in full.
    pub fn from_previously_verified(
        anchor: AumHash,
        head: AumHash,
        aums: Vec<Aum>,
    ) -> Result<Authority, Error> {
        let mut tree = AumTree::default();
        for aum in aums {
            tree.commit(aum.hash(), aum);
        }
        match tree.get(&anchor) {
            Some(a) if a.kind == AumKind::CHECKPOINT => {}
            _ => return Err(Error::rejected("the anchor is not a known checkpoint")),
        }
        if tree.get(&head).is_none() {
            return Err(Error::rejected("the recorded head is not among the AUMs"));
        }
        if tree.children_of(&head).next().is_some() {
            return Err(Error::rejected("the recorded head has children"));
        }
        let state = compute_state_at(&tree, head)?;
        Ok(Authority {
            tree,
            head,
            oldest_ancestor: anchor,
            state,
        })
    }

    /// Verifies a chain given as single AUMs: the first is bootstrapped and
    /// the rest informed in one call, as upstream does.
    /// A failure is an [`Error::Chain`], naming the stage and the AUM at
    /// fault (its hash) when the error belongs to one, so that callers need
    /// not hash every AUM up front to say which one failed.
    pub fn from_chain(aums: Vec<Aum>) -> Result<Authority, Error> {
        let mut iter = aums.into_iter();
        let Some(first) = iter.next() else {
            return Err(Error::Chain {
                stage: Stage::Bootstrap,
                at: None,
                source: Box::new(Error::rejected(
                    "the chain has no AUMs: give the whole chain, genesis first",
                )),
            });
        };
        let first_hash = first.hash();
        let mut authority = Authority::bootstrap(first).map_err(|error| Error::Chain {
            stage: Stage::Bootstrap,
            at: Some(first_hash),
            source: Box::new(error),
        })?;
        let rest: Vec<Aum> = iter.collect();
        if !rest.is_empty() {
            authority
                .inform_located(rest)
                .map_err(|(error, at)| Error::Chain {
                    stage: Stage::Inform,
                    at,
                    source: Box::new(error),
                })?;
        }
        Ok(authority)
    }

    /// Adds updates, all or nothing (upstream's `Inform`). Updates should be
    /// ordered oldest first; ones already known are skipped.
    pub fn inform(&mut self, updates: Vec<Aum>) -> Result<(), Error> {
        self.inform_located(updates).map_err(|(e, _)| e)
    }

    /// Inform, with the hash of the update an error belongs to.
    ///
    /// Memory: upstream keeps the state after every update (`stateAt`);
    /// here a state is kept only while a later update of this batch still
    /// names it as parent (counted up front), and the state after the
    /// newest update is moved, not copied, into the next one. Each AUM is
    /// hashed once. Signatures are checked in batches of [`SIG_BATCH`] as
    /// they queue up; every check before them in update order has passed,
    /// so a bad signature found there is still the first error upstream
    /// would report.
    fn inform_located(&mut self, updates: Vec<Aum>) -> Result<(), (Error, Option<AumHash>)> {
        if updates.is_empty() {
            return Err((Error::rejected("inform called with empty slice"), None));
        }
        let hashes: Vec<AumHash> = updates.iter().map(Aum::hash).collect();
        let sig_error = |(u, e): (usize, Error)| {
            (
                Error::rejected(format!("update {u} invalid: {e}")),
                hashes.get(u).copied(),
            )
        };
        // How many updates of this batch name each hash as their parent.
        let mut uses: HashMap<AumHash, u32> = HashMap::with_capacity(updates.len() + 1);
        for update in &updates {
            if let Some(parent) = update.parent() {
                *uses.entry(parent).or_default() += 1;
            }
        }
        // States still needed by a later update (other than `latest`).
        let mut state_at: HashMap<AumHash, State> = HashMap::new();
        // The state after the newest applied update (at first: the head).
        let mut latest: Option<(AumHash, State)> = Some((self.head, self.state.clone()));
        let mut prev_hash = self.head;
        let mut is_head_chain = true;
        let mut pending: Vec<PendingSig> = Vec::with_capacity(SIG_BATCH.min(updates.len() * 2));
        let mut commit = vec![false; updates.len()];

        for (i, update) in updates.iter().enumerate() {
            let hash = hashes[i];
            if self.tree.get(&hash).is_some() {
                is_head_chain = false;
                continue;
            }
            let result = (|| {
                let parent = update
                    .parent()
                    .ok_or_else(|| Error::rejected(format!("update {i}: missing parent")))?;
                let remaining = uses.get_mut(&parent).map(|n| {
                    *n = n.saturating_sub(1);
                    *n
                });
                let last_use = remaining.unwrap_or(0) == 0;
                let mut state = match latest.take() {
                    Some((h, s)) if h == parent && last_use => s,
                    Some((h, s)) if h == parent => {
                        let copy = s.clone();
                        latest = Some((h, s));
                        copy
                    }
                    other => {
                        latest = other;
                        match state_at.get(&parent) {
                            Some(s) if !last_use => s.clone(),
                            Some(_) => state_at.remove(&parent).unwrap_or_default(),
                            None => {
                                let s = compute_state_at(&self.tree, parent).map_err(|e| {
                                    Error::rejected(format!("update {i} computing state: {e}"))
                                })?;
                                if !last_use {
                                    state_at.insert(parent, s.clone());
                                }
                                s
                            }
                        }
                    }
                };
                aum_verify(update, &state, false, i, &mut pending)
                    .map_err(|e| Error::rejected(format!("update {i} invalid: {e}")))?;
                state
                    .apply_verified_in_place(update, hash)
                    .map_err(|e| Error::rejected(format!("update {i} cannot be applied: {e}")))?;
                // The previous newest state moves aside if a later update
                // still needs it.
                if let Some((h, s)) = latest.take() {
                    if uses.get(&h).is_some_and(|n| *n > 0) {
                        state_at.entry(h).or_insert(s);
                    }
                }
                latest = Some((hash, state));
                Ok(parent)
            })();
            match result {
                Ok(parent) => {
                    if is_head_chain && parent != prev_hash {
                        is_head_chain = false;
                    }
                    prev_hash = hash;
                    commit[i] = true;
                    if pending.len() >= SIG_BATCH {
                        check_pending(&pending).map_err(sig_error)?;
                        pending.clear();
                    }
                }
                Err(e) => {
                    // An earlier bad signature is what upstream reports first.
                    check_pending(&pending).map_err(sig_error)?;
                    return Err((e, Some(hash)));
                }
            }
        }
        check_pending(&pending).map_err(sig_error)?;
        drop(pending);
        drop(state_at);

        let any = commit.iter().any(|c| *c);
        for ((aum, hash), keep) in updates.into_iter().zip(&hashes).zip(&commit) {
            if *keep {
                self.tree.commit(*hash, aum);
            }
        }
        if is_head_chain && any {
            self.head = prev_hash;
            if let Some((h, state)) = latest {
                if h == prev_hash {
                    self.state = state;
                    return Ok(());
                }
            }
        }
        let recompute = |e: Error| {
            (
                Error::rejected(format!("recomputing active chain: {e}")),
                None,
            )
        };
        let state = compute_state_at(&self.tree, self.oldest_ancestor).map_err(recompute)?;
        let (head, state) =
            fast_forward(&self.tree, self.oldest_ancestor, state).map_err(recompute)?;
        self.head = head;
        self.state = state;
        Ok(())
    }

    /// The hash of the head AUM.
    pub fn head(&self) -> AumHash {
        self.head
    }

    /// The head AUM.
    pub fn head_aum(&self) -> &Aum {
        // The head is always committed.
        &self.tree.aums[&self.head]
    }

    /// The AUM the authority was bootstrapped from.
    pub fn oldest_ancestor(&self) -> AumHash {
        self.oldest_ancestor
    }

    /// The state at head.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The trusted keys at head.
    pub fn keys(&self) -> &[Key] {
        self.state.keys()
    }

    /// Whether a key ID is trusted at head.
    pub fn key_trusted(&self, key_id: &[u8]) -> bool {
        self.state.get_key(key_id).is_ok()
    }

    /// Every verified AUM.
    pub fn tree(&self) -> &AumTree {
        &self.tree
    }

    /// The AUMs of the active chain, oldest first.
    pub fn active_chain(&self) -> Vec<(AumHash, &Aum)> {
        let mut out = Vec::new();
        let mut cursor = Some(self.head);
        while let Some(h) = cursor {
            let Some(aum) = self.tree.get(&h) else { break };
            out.push((h, aum));
            if h == self.oldest_ancestor {
                break;
            }
            cursor = aum.parent();
        }
        out.reverse();
        out
    }

    /// The state after the AUM `hash` (upstream's `computeStateAt`).
    pub fn state_at(&self, hash: AumHash) -> Result<State, Error> {
        compute_state_at(&self.tree, hash)
    }

    /// Whether `secret` is one of the authority's disablement secrets.
    pub fn valid_disablement(&self, secret: &[u8]) -> bool {
        self.state.check_disablement(secret)
    }
}

/// Upstream's `aumVerify`, with ZIP-215 checks queued in `pending`.
fn aum_verify(
    aum: &Aum,
    state: &State,
    is_genesis: bool,
    update: usize,
    pending: &mut Vec<PendingSig>,
) -> Result<(), Error> {
    aum.static_validate()?;
    if !is_genesis {
        let Some(parent) = aum.parent() else {
            return Err(Error::rejected("aum has no parent"));
        };
        match &state.last_aum_hash {
            None => {
                return Err(Error::rejected(
                    "cannot check update parent hash against a state with no previous AUM",
                ))
            }
            Some(last) if *last != parent => {
                return Err(Error::rejected(format!(
                    "aum with parent {} cannot be applied to a state with parent {}",
                    super::hex::lower(&parent.0),
                    super::hex::lower(&last.0)
                )))
            }
            Some(_) => {}
        }
    }
    if aum.signatures().is_empty() {
        return Err(Error::rejected("unsigned AUM"));
    }
    let sig_hash = aum.sig_hash();
    for (j, sig) in aum.signatures().iter().enumerate() {
        let key = state
            .get_key(sig.key_id())
            .map_err(|e| Error::rejected(format!("bad keyID on signature {j}: {e}")))?;
        let public = key.public.as_deref().unwrap_or(&[]);
        let (Ok(public), Ok(signature)) = (
            <[u8; 32]>::try_from(public),
            <[u8; 64]>::try_from(sig.signature()),
        ) else {
            return Err(Error::rejected(format!(
                "signature {j}: ed25519 key has wrong length: {}",
                public.len()
            )));
        };
        pending.push(PendingSig {
            update,
            index: j,
            public,
            message: sig_hash,
            signature,
        });
    }
    if aum.kind == AumKind::REMOVE_KEY {
        if let [only] = state.keys() {
            if only.id().ok() == Some(aum.key_id.as_deref().unwrap_or(&[])) {
                return Err(Error::rejected("cannot remove the last key in the state"));
            }
        }
    }
    Ok(())
}

/// Checks queued signatures: in one batch when there are several, falling
/// back to one by one to name the first bad one.
fn check_pending(pending: &[PendingSig]) -> Result<(), (usize, Error)> {
    // Large queues are split into batches verified on every core (rayon;
    // no I/O). Batches of a few hundred keep nearly all of the batch gain.
    const PARALLEL_CHUNK: usize = 512;
    let all_ok = if pending.len() >= 2 * PARALLEL_CHUNK {
        use rayon::prelude::*;
        pending.par_chunks(PARALLEL_CHUNK).all(batch_ok)
    } else {
        pending.len() >= 4 && batch_ok(pending)
    };
    if all_ok {
        return Ok(());
    }
    for p in pending {
        if !verify_zip215(&p.public, &p.message, &p.signature) {
            return Err((
                p.update,
                Error::rejected(format!("signature {}: invalid signature", p.index)),
            ));
        }
    }
    Ok(())
}

fn batch_ok(pending: &[PendingSig]) -> bool {
    let mut verifier = ed25519_consensus::batch::Verifier::new();
    for p in pending {
        let vk = ed25519_consensus::VerificationKeyBytes::from(p.public);
        verifier.queue((
            vk,
            ed25519_consensus::Signature::from(p.signature),
            &p.message[..],
        ));
    }
    verifier.verify(rand_core::OsRng).is_ok()
}

/// Picks the child to follow (upstream's `pickNextAUM`): highest weight,
/// then a remove-key, then the lowest hash. Each candidate's weight is
/// computed once and its hash is the tree's, never recomputed.
fn pick_next<'a>(
    state: &State,
    candidates: impl Iterator<Item = (AumHash, &'a Aum)>,
) -> Option<(AumHash, &'a Aum)> {
    let mut best: Option<(u64, bool, AumHash, &'a Aum)> = None;
    for (hash, aum) in candidates {
        let weight = aum.weight(state);
        let remove = aum.kind == AumKind::REMOVE_KEY;
        let better = match &best {
            None => true,
            Some((bw, br, bh, _)) => {
                // Lowest hash wins: compare the hashes reversed.
                (weight, remove)
                    .cmp(&(*bw, *br))
                    .then_with(|| bh.cmp(&hash))
                    .is_ge()
            }
        };
        if better {
            best = Some((weight, remove, hash, aum));
        }
    }
    best.map(|(_, _, h, a)| (h, a))
}

/// Follows the primary chain from `start` (whose state is `state`) to head.
fn fast_forward(
    tree: &AumTree,
    start: AumHash,
    mut state: State,
) -> Result<(AumHash, State), Error> {
    let mut cursor = start;
    for _ in 0..MAX_SCAN_ITERATIONS {
        let Some((hash, next)) = pick_next(&state, tree.children_of(&cursor)) else {
            return Ok((cursor, state));
        };
        state
            .apply_verified_in_place(next, hash)
            .map_err(|e| Error::rejected(format!("advance {}: advancing state: {e}", cursor)))?;
        cursor = hash;
    }
    Err(Error::rejected(format!(
        "iteration limit exceeded ({MAX_SCAN_ITERATIONS})"
    )))
}

/// The state after the AUM `want` (upstream's `computeStateAt`).
fn compute_state_at(tree: &AumTree, want: AumHash) -> Result<State, Error> {
    let mut cursor = tree.get_or_missing(&want)?;
    let mut cursor_hash = want;
    let mut path: HashSet<AumHash> = HashSet::new();
    let mut state;
    let mut i = 0usize;
    loop {
        if i > MAX_SCAN_ITERATIONS {
            return Err(Error::rejected(format!(
                "iteration limit exceeded ({MAX_SCAN_ITERATIONS})"
            )));
        }
        i += 1;
        path.insert(cursor_hash);
        if cursor.kind == AumKind::CHECKPOINT {
            let Some(s) = &cursor.state else {
                return Err(Error::rejected("checkpoint without state"));
            };
            state = s.clone();
            state.last_aum_hash = Some(cursor_hash);
            break;
        }
        match cursor.parent() {
            None => {
                if cursor.kind == AumKind::NO_OP || cursor.kind == AumKind::ADD_KEY {
                    state = State::default()
                        .apply_verified(cursor)
                        .map_err(|e| Error::rejected(format!("applying genesis: {e}")))?;
                    break;
                }
                return Err(Error::rejected(format!(
                    "invalid genesis update: {}",
                    cursor.kind
                )));
            }
            Some(parent) => {
                cursor = tree
                    .get_or_missing(&parent)
                    .map_err(|e| Error::rejected(format!("reading parent: {e}")))?;
                cursor_hash = parent;
            }
        }
    }
    // Walk forward along the path back to `want`.
    let mut at = cursor_hash;
    for _ in 0..MAX_SCAN_ITERATIONS {
        if at == want {
            return Ok(state);
        }
        let (hash, next) = tree
            .children_of(&at)
            .find(|(h, _)| path.contains(h))
            .ok_or_else(|| Error::rejected("no candidate matching path"))?;
        state
            .apply_verified_in_place(next, hash)
            .map_err(|e| Error::rejected(format!("advancing state: {e}")))?;
        at = hash;
    }
    Err(Error::rejected(format!(
        "iteration limit exceeded ({MAX_SCAN_ITERATIONS})"
    )))
}

/// Orders a set of AUMs by their parent links, oldest first: the one AUM
/// whose parent is not in the set comes first, then its descendants
/// breadth-first (siblings by hash). Duplicates are dropped. Fails when the
/// AUMs do not form a single tree.
pub fn order_by_parent_links(aums: Vec<Aum>) -> Result<Vec<Aum>, Error> {
    // Indices, not the AUMs, go into the maps: the AUMs stay where they
    // are until each is moved once into the output.
    let hashes: Vec<AumHash> = aums.iter().map(Aum::hash).collect();
    let mut index: HashMap<AumHash, usize> = HashMap::with_capacity(aums.len());
    for (i, h) in hashes.iter().enumerate() {
        // A duplicate keeps its first copy.
        index.entry(*h).or_insert(i);
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); aums.len()];
    let mut roots = Vec::new();
    for (h, &i) in &index {
        match aums[i].parent().and_then(|p| index.get(&p)) {
            Some(&parent) => children[parent].push(i),
            None => roots.push(*h),
        }
    }
    if roots.len() != 1 {
        roots.sort();
        let shown: Vec<String> = roots.iter().take(4).map(|h| h.to_string()).collect();
        return Err(Error::rejected(format!(
            "the AUMs do not form one chain: {} of them have no parent among the others ({})",
            roots.len(),
            shown.join(", ")
        )));
    }
    let mut slots: Vec<Option<Aum>> = aums.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(index.len());
    let mut queue: std::collections::VecDeque<usize> =
        roots.iter().filter_map(|h| index.get(h).copied()).collect();
    while let Some(i) = queue.pop_front() {
        let mut kids = std::mem::take(&mut children[i]);
        kids.sort_by_key(|&k| hashes[k]);
        queue.extend(kids);
        if let Some(aum) = slots[i].take() {
            out.push(aum);
        }
    }
    Ok(out)
}
