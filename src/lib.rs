//! locksmith: Tailnet Lock key ceremonies with keys that never leave a
//! smart card or HSM.
//!
//! - [`tka`]: the pure core (wire formats and the authority state machine).
//! - [`cli`]: the `locksmith` command line.

#![forbid(unsafe_code)]

pub mod cli;
pub mod exchange;
pub mod online;
pub mod tka;
