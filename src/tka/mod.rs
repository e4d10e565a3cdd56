//! The pure Tailnet Lock core: wire formats, hashes, signatures and the
//! authority state machine, byte-compatible with upstream's Go `tka`
//! package. Nothing in this module touches files, devices or the network;
//! it is tested without hardware and readable on its own.
//!
//! One concept per file, as upstream does:
//! - [`cbor`]: the strict decoder and canonical (CTAP2) encoder.
//! - [`hash`]: AUM hashes and their base32 text.
//! - [`key`], [`state`], [`aum`]: the chain's data and its static rules.
//! - [`authority`]: bootstrap, inform, fork resolution, state at any AUM.
//! - [`nks`], [`keyforms`]: node-key signatures and key text forms.
//! - [`wrapped_authkey`], [`deeplink`]: pre-auth credentials and signing links.
//! - [`builder`], [`recovery`]: signed updates and retroactive revocation.
//! - [`upstream_json`]: `tailscale lock log|status --json=1` exports.
//! - [`sig`]: Ed25519 verification under upstream's two rule sets.
//! - [`signer`]: the `Signer` trait the key backends implement.
//! - [`disablement`]: the disablement KDF and text forms.
//! - [`hex`]: hex text helpers.
//! - [`error`]: the core's one error type, [`Error`], and its detail enums.

#![forbid(unsafe_code)]

pub mod aum;
pub mod authority;
pub mod builder;
pub mod cbor;
pub mod deeplink;
pub mod disablement;
pub mod error;
pub mod hash;
pub mod hex;
pub mod key;
pub mod keyforms;
pub mod nks;
pub mod recovery;
pub mod sig;
pub mod signer;
pub mod state;
pub mod upstream_json;
pub mod wrapped_authkey;

pub use aum::{Aum, AumKind, Signature};
pub use authority::{order_by_parent_links, Authority, Stage};
pub use error::{
    CborProblem, Error, KeyFormProblem, RebuildProblem, UpstreamJsonProblem, WrapProblem,
};
pub use hash::AumHash;
pub use key::{Key, Meta};
pub use nks::{NodeKeySignature, SigKind};
pub use state::State;
