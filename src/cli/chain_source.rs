//! Where a command gets its authority: `--chain INPUT...` or `--store DIR`.

use crate::ceremony::chain::ChainRequest;
use crate::ceremony::terminal::Stderr;
use crate::tka::Authority;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct ChainSource {
    /// The chain to use: an AUM file (repeat for several, given in chain
    /// order), a directory of AUM files, or `tailscale lock log --json=1`
    /// output. `-` reads standard input.
    ///
    /// On a signing command the chain must link to a store's pinned
    /// anchor (`--store`, or the default store), or `--unpinned` must say
    /// that its first AUM is trusted as it is.
    #[arg(long = "chain", value_name = "INPUT")]
    pub chain: Vec<String>,
    /// The local authority store (default: under the user's data directory).
    #[arg(long, value_name = "DIR", env = "LOCKSMITH_STORE")]
    pub store: Option<PathBuf>,
    /// With --chain and no store: trust the chain's first AUM (genesis or
    /// checkpoint) as it is, unpinned. The genesis hash is printed and
    /// recorded in the transcript; check it against the one you know.
    #[arg(long, requires = "chain")]
    pub unpinned: bool,
}

impl ChainSource {
    /// The library's request, every `--chain` argument that looks like a
    /// path checked to name a file first.
    pub fn request(&self) -> anyhow::Result<ChainRequest> {
        Ok(ChainRequest {
            chain: self.chain.clone(),
            store: self.store.clone(),
            unpinned: self.unpinned,
        })
    }

    /// [`ChainRequest::authority_for_signing`], warnings on standard error.
    pub fn authority_for_signing(&self) -> anyhow::Result<Authority> {
        Ok(self.request()?.authority_for_signing(&mut Stderr)?)
    }

    /// [`ChainRequest::authority`].
    pub fn authority(&self) -> anyhow::Result<Authority> {
        Ok(self.request()?.authority()?)
    }
}
