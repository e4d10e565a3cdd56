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
//! - [`sig`]: Ed25519 verification under upstream's two rule sets.
//! - [`signer`]: the `Signer` trait the key backends implement.
//! - [`disablement`]: the disablement KDF and text forms.
//! - [`hex`]: hex text helpers.

#![forbid(unsafe_code)]

pub mod aum;
pub mod authority;
pub mod cbor;
pub mod disablement;
pub mod error;
pub mod hash;
pub mod hex;
pub mod key;
pub mod sig;
pub mod signer;
pub mod state;

pub use authority::{Authority, Stage};
pub use aum::{Aum, AumKind, Signature};
pub use error::TkaError;
pub use hash::AumHash;
pub use key::{Key, Meta};
pub use state::State;
