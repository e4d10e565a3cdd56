//! Where a command gets its authority: `--chain INPUT...` or `--store DIR`.

use crate::input;
use crate::store::Store;
use crate::tka::{Authority, Stage};
use anyhow::{anyhow, Context};
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct ChainSource {
    /// The chain to use: an AUM file (repeat for several, given in chain
    /// order), a directory of AUM files, or `tailscale lock log --json=1`
    /// output. `-` reads standard input.
    #[arg(long = "chain", value_name = "INPUT", conflicts_with = "store")]
    pub chain: Vec<String>,
    /// The local authority store (default: under the user's data directory).
    #[arg(long, value_name = "DIR", env = "LOCKSMITH_STORE")]
    pub store: Option<PathBuf>,
}

impl ChainSource {
    /// The verified authority, refusing one held back for custodians (for
    /// commands that sign).
    pub fn authority_for_signing(&self) -> anyhow::Result<Authority> {
        if self.chain.is_empty() {
            Store::ensure_released(&self.store.clone().unwrap_or_else(Store::default_dir))?;
        }
        self.authority()
    }

    /// The verified authority.
    pub fn authority(&self) -> anyhow::Result<Authority> {
        if !self.chain.is_empty() {
            let aums = input::read_chain(&self.chain)?;
            return verify_chain(aums);
        }
        let dir = self.store.clone().unwrap_or_else(Store::default_dir);
        let store = Store::open(&dir, false)?;
        Ok(store.load()?)
    }
}

/// Bootstraps the first AUM and informs the rest, naming the AUM at fault.
pub fn verify_chain(aums: Vec<crate::tka::Aum>) -> anyhow::Result<Authority> {
    let hashes: Vec<String> = aums.iter().map(|a| a.hash().to_string()).collect();
    Authority::from_chain(aums)
        .map_err(|(stage, e)| {
            let what = match stage {
                Stage::Bootstrap => format!(
                    "the first AUM ({}) cannot start an authority",
                    hashes.first().map(String::as_str).unwrap_or("?")
                ),
                Stage::Inform => {
                    let msg = e.to_string();
                    let at = msg
                        .strip_prefix("update ")
                        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                        .and_then(|n| n.parse::<usize>().ok())
                        .and_then(|i| hashes.get(i + 1));
                    match at {
                        Some(h) => format!("AUM {h} does not verify"),
                        None => "the chain does not verify".to_string(),
                    }
                }
            };
            anyhow!("invalid chain: {what}: {e}")
        })
        .context("verifying the chain")
}
