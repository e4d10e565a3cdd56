//! locksmith: Tailnet Lock key ceremonies with keys that never leave a
//! smart card or HSM.
//!
//! - [`tka`]: the pure core (wire formats and the authority state machine).
//! - [`secrets`]: disablement secrets (generation, age files, sheets, verification).
//! - [`cli`]: the `locksmith` command line.

#![forbid(unsafe_code)]

pub mod cli;
pub mod secrets;
pub mod tka;
