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

/// `FromStr` for a value enum that names its values itself (`ALL` and
/// `name()`, listed by the CLI's `cli::values`): the value whose name is
/// the text, else `$err::UnknownName` with every name as the choices.
macro_rules! from_str_by_name {
    ($ty:ty, $err:ident, $what:literal) => {
        impl std::str::FromStr for $ty {
            type Err = $err;

            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.name() == s)
                    .ok_or_else(|| $err::UnknownName {
                        what: $what,
                        given: s.into(),
                        expected: Self::ALL.map(Self::name).to_vec(),
                    })
            }
        }
    };
}

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
