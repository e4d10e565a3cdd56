//! locksmith: Tailnet Lock key ceremonies with keys that never leave a
//! smart card or HSM.
//!
//! - [`tka`]: the pure core (wire formats and the authority state machine).
//! - [`signers`]: key backends (PKCS#11, YubiKey PIV, software files) and signer specs.
//! - [`cli`]: the `locksmith` command line.

#![forbid(unsafe_code)]

pub mod cli;
pub mod signers;
pub mod tka;
