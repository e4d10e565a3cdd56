//! The pure Tailnet Lock core: wire formats, hashes, signatures and the
//! authority state machine, byte-compatible with upstream's Go `tka`
//! package. Nothing in this module touches files, devices or the network;
//! it is tested without hardware and readable on its own.
//!
//! One concept per file, as upstream does:
//! - [`cbor`]: the strict decoder and canonical (CTAP2) encoder.
//! - [`sig`]: Ed25519 verification under upstream's two rule sets.
//! - [`signer`]: the `Signer` trait the key backends implement.
//! - [`disablement`]: the disablement KDF and text forms.
//! - [`hex`]: hex text helpers.

#![forbid(unsafe_code)]

pub mod disablement;
pub mod hex;
pub mod sig;
pub mod signer;
