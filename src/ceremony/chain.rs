//! Where a command gets its authority: a chain given (`--chain`), pinned
//! to a store's anchor, or the store itself; and the checks a signing
//! command adds (held back for custodians, stale or foreign chains).

use super::terminal::Terminal;
use crate::ceremony::error::{bail, refusal, Context};
use crate::input;
use crate::store::Store;
use crate::tka::{AumHash, Authority};
use std::path::PathBuf;

/// The authority a command asks for.
#[derive(Debug, Clone, Default)]
pub struct ChainRequest {
    /// Chain inputs (AUM files, a directory, `tailscale lock log --json=1`
    /// output, `-`), in chain order; empty: the store.
    pub chain: Vec<String>,
    /// The store (default: under the user's data directory).
    pub store: Option<PathBuf>,
    /// With a chain and no store: trust the chain's first AUM as it is.
    pub unpinned: bool,
}

/// The genesis an `--unpinned` signing command trusted, for its transcript record.
static UNPINNED_GENESIS: std::sync::Mutex<Option<AumHash>> = std::sync::Mutex::new(None);

/// The anchor an `--unpinned` chain was trusted with, in this process.
pub fn unpinned_genesis() -> Option<AumHash> {
    UNPINNED_GENESIS.lock().ok().and_then(|g| *g)
}

impl ChainRequest {
    /// The verified authority, refusing one held back for custodians (for
    /// commands that sign).
    ///
    /// Pinning: a `--chain` must link to the anchor of a store (the one
    /// `--store` names, else the default one), and its head must be the
    /// head that store and the chain together lead to: a stale prefix of
    /// the real chain, or another authority's chain, is refused, so a
    /// hostile online node cannot get fresh signatures on either. Without
    /// a store, only `--unpinned` lets the chain's first AUM be trusted as
    /// it is, with a warning that names its hash.
    pub fn authority_for_signing(
        &self,
        term: &mut dyn Terminal,
    ) -> crate::ceremony::error::Result<Authority> {
        let dir = self.store.clone().unwrap_or_else(Store::default_dir);
        if self.chain.is_empty() {
            Store::ensure_released(&dir)?;
            return self.authority();
        }
        let chain = verify_chain(input::read_chain(&self.chain)?)?;
        if self.unpinned {
            let genesis = chain.oldest_ancestor();
            term.say(&format!(
                "WARNING: --unpinned: trusting the chain's first AUM {genesis} as the authority's anchor without a store to check it against; \
                 compare this hash with the one recorded at `lock init`. It is recorded in the transcript."
            ));
            if let Ok(mut g) = UNPINNED_GENESIS.lock() {
                *g = Some(genesis);
            }
            return Ok(chain);
        }
        if !dir.join("anchor").is_file() {
            bail!(
                "--chain on a signing command must link to a store's pinned anchor, and there is no store at {}: \
                 import the chain first (`locksmith lock import --store DIR --init CHAIN` on the machine that pinned it) and pass --store DIR, \
                 or pass --unpinned to trust the chain's first AUM {} as it is",
                crate::shown::path(&dir),
                chain.oldest_ancestor()
            );
        }
        Store::ensure_released(&dir)?;
        pin_to_store(chain, &Store::open(&dir, false)?.load()?)
    }

    /// The verified authority. With both `--chain` and `--store`, the
    /// chain is pinned to the store as for signing.
    pub fn authority(&self) -> crate::ceremony::error::Result<Authority> {
        if !self.chain.is_empty() {
            let chain = verify_chain(input::read_chain(&self.chain)?)?;
            return match &self.store {
                Some(dir) => pin_to_store(chain, &Store::open(dir, false)?.load()?),
                None => Ok(chain),
            };
        }
        let dir = self.store.clone().unwrap_or_else(Store::default_dir);
        let store = Store::open(&dir, false)?;
        Ok(store.load()?)
    }
}

/// `chain` checked against the store's authority `pinned`: it must link to
/// the store's anchor, and its head must be the head both lead to.
pub fn pin_to_store(
    chain: Authority,
    pinned: &Authority,
) -> crate::ceremony::error::Result<Authority> {
    let anchor = pinned.oldest_ancestor();
    let mut merged = pinned.clone();
    let mut unknown: Vec<crate::tka::Aum> = chain
        .tree()
        .iter()
        .filter(|(h, _)| pinned.tree().get(h).is_none())
        .map(|(_, a)| a.clone())
        .collect();
    if chain.tree().get(&anchor).is_none() && !unknown.is_empty() {
        let linked = crate::tka::order_by_parent_links(unknown.clone())
            .ok()
            .and_then(|o| o.first().and_then(|a| a.parent()))
            .is_some_and(|p| pinned.tree().get(&p).is_some());
        if !linked {
            bail!(
                "the --chain does not link to the store's pinned anchor {anchor}: its first AUM is {}, which this machine never verified. \
                 Is it another tailnet's chain? Refusing to sign on it",
                chain.oldest_ancestor()
            );
        }
    }
    if !unknown.is_empty() {
        unknown = crate::tka::order_by_parent_links(unknown)
            .map_err(|e| refusal!("the --chain does not link to the store's authority: {e}"))?;
        merged.inform(unknown).map_err(|e| {
            refusal!(
                "the --chain does not verify against the store's authority (anchor {anchor}): {e}"
            )
        })?;
    }
    if merged.head() != chain.head() {
        bail!(
            "the --chain is stale or forked: its head is {}, but with what the store verified the authority's head is {}. \
             Export the current chain from an online node (or use --store alone); refusing to sign on an old head",
            chain.head(),
            merged.head()
        );
    }
    Ok(merged)
}

/// Bootstraps the first AUM and informs the rest, naming the AUM at fault
/// (the core reports its hash, so no AUM is hashed or formatted up front).
pub fn verify_chain(aums: Vec<crate::tka::Aum>) -> crate::ceremony::error::Result<Authority> {
    Authority::from_chain(aums)
        .map_err(|e| refusal!("invalid chain: {e}"))
        .context("verifying the chain")
}
