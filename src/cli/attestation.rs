//! The attestation options of `token generate`, `lock init` and `ceremony
//! verify`; the checks themselves are in [`crate::attestation_policy`].

use crate::attestation_policy::{self, Judged, Requirement};
use crate::signers::piv_attestation::{Evidence, TrustStore};
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
}

/// Prints the override warnings and returns the evidence to record.
pub fn accepted(judged: Vec<Judged>) -> Vec<Evidence> {
    judged
        .into_iter()
        .map(|j| {
            if let Some(w) = j.warning(&j.evidence.tlpub) {
                eoutln!("{w}");
            }
            j.evidence
        })
        .collect()
}

/// `lock init`: judges every YubiKey signer before any PIN is asked.
pub fn check_signers(specs: &[String], args: &RequiredPolicyArgs) -> anyhow::Result<Vec<Evidence>> {
    let trust = args.attestation.trust()?;
    let judged = attestation_policy::check_specs(
        specs,
        &args.requirement(),
        args.attestation.allow_unverified_attestation,
        &trust,
    )?;
    Ok(accepted(judged))
}

/// After the signers are open: each attested key is one that will sign.
pub fn ensure_signers_match(
    evidence: &[Evidence],
    signers: &[Box<dyn crate::tka::signer::Signer>],
) -> anyhow::Result<()> {
    for e in evidence {
        if !signers
            .iter()
            .any(|s| crate::tka::keyforms::tlpub_text(&s.public_key()) == e.tlpub)
        {
            anyhow::bail!(
                "the attested key {} is not the key that was opened to sign (was the card \
                 changed?); nothing was signed",
                e.tlpub
            );
        }
    }
    Ok(())
}

pub use crate::attestation_policy::summary_text;
