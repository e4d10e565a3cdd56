//! locksmith: Tailnet Lock key ceremonies with keys that never leave a
//! smart card or HSM.
//!
//! - [`tka`]: the pure core (wire formats and the authority state machine).
//! - [`input`], [`output`], [`store`]: files: reading artifacts, writing
//!   outputs atomically, and the local authority store.
//! - [`secrets`]: disablement secrets (generation, age files, sheets, verification).
//! - [`signers`]: key backends (PKCS#11, YubiKey PIV, software files) and signer specs.
//! - [`attestation_policy`]: what ceremonies demand of a YubiKey key's PIV attestation.
//! - [`cli`]: the `locksmith` command line.
//! - [`shown`]: outside text escaped for messages (no raw control or bidi characters).
//! - [`hygiene`]: process hardening at start-up (no core dumps, locked memory).
//! - [`limits`]: size and depth caps for every decoder of outside input.

#![forbid(unsafe_code)]

pub mod airgap;
pub mod attestation_policy;
pub mod build_info;
pub mod ceremony;
pub mod ceremony_plan;
pub mod cli;
pub mod exchange;
pub mod hygiene;
pub mod input;
pub mod limits;
pub mod lockout;
pub mod lockout_export;
pub mod online;
pub mod output;
pub mod pdf;
pub mod secrets;
pub mod shown;
pub mod signers;
pub mod store;
pub mod tka;
pub mod transcript;
pub mod transcript_print;
