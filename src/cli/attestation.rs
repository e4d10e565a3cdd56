//! The attestation options of `token generate`, `lock init` and `ceremony
//! verify`; the checks themselves are in [`crate::attestation_policy`].

use crate::attestation_policy::{self, Requirement};
use crate::ceremony::init::AttestationRequest;
use crate::signers::piv_attestation::TrustStore;
use crate::signers::{PinPolicyArg, TouchPolicyArg};
use std::path::PathBuf;

/// `--allow-unverified-attestation`, and the hidden `--attestation-test-roots`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AttestationArgs {
    /// YubiKey: accept a key whose PIV attestation does not verify to a
    /// bundled Yubico root for the card in use, or states weaker PIN/touch
    /// policies than asked. The transcript records that this was passed.
    #[arg(long)]
    pub allow_unverified_attestation: bool,
    /// TEST ONLY (hidden): also trust the root and intermediate in this PEM
    /// file (the virtual test card's). Every verdict through it says "TEST
    /// root, NOT Yubico's" and the transcript records it as such.
    #[arg(long, value_name = "PEM", hide = true)]
    pub attestation_test_roots: Option<PathBuf>,
}

impl AttestationArgs {
    /// Yubico's bundled roots, plus the TEST roots when named (with a warning).
    pub fn trust(&self) -> anyhow::Result<TrustStore> {
        let store = attestation_policy::load_trust(self.attestation_test_roots.as_deref())?;
        if let Some(path) = &self.attestation_test_roots {
            eoutln!(
                "WARNING: {} {}: TEST roots are trusted for attestation; this is for the \
                 virtual test card, never for a real ceremony",
                attestation_policy::TEST_ROOTS_FLAG,
                path.display()
            );
        }
        Ok(store)
    }
}

/// `lock init`: the policies every YubiKey signing key must be attested with.
#[derive(Debug, Clone, clap::Args)]
pub struct RequiredPolicyArgs {
    /// YubiKey keys must be attested with at least this PIN policy
    /// (never < once < always; `default`: no requirement).
    #[arg(long, value_enum, default_value_t = PinPolicyArg::Default)]
    pub pin_policy: PinPolicyArg,
    /// YubiKey keys must be attested with at least this touch policy
    /// (never < cached < always; `default`: no requirement).
    #[arg(long, value_enum, default_value_t = TouchPolicyArg::Default)]
    pub touch_policy: TouchPolicyArg,
    #[command(flatten)]
    pub attestation: AttestationArgs,
}

impl RequiredPolicyArgs {
    /// What the ceremony asks.
    pub fn requirement(&self) -> Requirement {
        Requirement {
            pin: self.pin_policy,
            touch: self.touch_policy,
        }
    }

    /// The library's request (`lock init`).
    pub fn request(&self) -> AttestationRequest {
        AttestationRequest {
            requirement: self.requirement(),
            allow_unverified: self.attestation.allow_unverified_attestation,
            test_roots: self.attestation.attestation_test_roots.clone(),
        }
    }
}
