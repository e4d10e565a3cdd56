//! YubiKey attestation in ceremonies: `token generate` and `lock init`
//! refuse a key whose PIV attestation does not verify to a bundled Yubico
//! root, or states weaker PIN/touch policies than the ceremony asks, unless
//! the operator passes `--allow-unverified-attestation`; either way the
//! chain, the verdict and any override go into the transcript record
//! ([`Evidence`]), which `ceremony verify` re-checks.

use crate::signers::piv_attestation::{
    pin_policy_rank, touch_policy_rank, Attestation, Evidence, TrustStore,
};
use crate::signers::{PinPolicyArg, TouchPolicyArg};
use anyhow::{bail, Context};
use std::path::PathBuf;

/// The override flag, as recorded in the transcript.
pub const OVERRIDE_FLAG: &str = "--allow-unverified-attestation";

/// `--allow-unverified-attestation`, `--attestation-test-roots`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AttestationArgs {
    /// YubiKey: accept a key whose PIV attestation does not verify to a
    /// bundled Yubico root, or states weaker PIN/touch policies than asked.
    /// The transcript records that this was passed.
    #[arg(long)]
    pub allow_unverified_attestation: bool,
    /// TEST ONLY: also trust the roots and intermediates in this PEM file
    /// (the virtual test card's CA). Never for real ceremonies: every
    /// verdict reached through it says TEST root, and the transcript names it.
    #[arg(long, value_name = "PEM")]
    pub attestation_test_roots: Option<PathBuf>,
}

impl AttestationArgs {
    /// Yubico's bundled roots, plus the test roots when named.
    pub fn trust(&self) -> anyhow::Result<TrustStore> {
        let store = TrustStore::yubico();
        let Some(path) = &self.attestation_test_roots else {
            return Ok(store);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --attestation-test-roots {}", path.display()))?;
        eprintln!(
            "WARNING: --attestation-test-roots {}: TEST roots are trusted for attestation; \
             this is for the virtual test card, never for a real ceremony",
            path.display()
        );
        store
            .with_test_roots(&text, &path.display().to_string())
            .map_err(|e| anyhow::anyhow!("--attestation-test-roots: {e}"))
    }
}

/// The policies a ceremony asks of its YubiKey keys (none when `Default`).
#[derive(Debug, Clone, Copy)]
pub struct Required {
    pub pin: PinPolicyArg,
    pub touch: TouchPolicyArg,
}

impl Required {
    fn pin_name(&self) -> Option<&'static str> {
        match self.pin {
            PinPolicyArg::Default => None,
            PinPolicyArg::Never => Some("never"),
            PinPolicyArg::Once => Some("once"),
            PinPolicyArg::Always => Some("always"),
        }
    }
    fn touch_name(&self) -> Option<&'static str> {
        match self.touch {
            TouchPolicyArg::Default => None,
            TouchPolicyArg::Never => Some("never"),
            TouchPolicyArg::Always => Some("always"),
            TouchPolicyArg::Cached => Some("cached"),
        }
    }
    /// `pin>=always touch>=cached`, or `none`.
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.pin_name() {
            parts.push(format!("pin>={p}"));
        }
        if let Some(t) = self.touch_name() {
            parts.push(format!("touch>={t}"));
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(" ")
        }
    }
}

/// Judges a key's attestation against the ceremony: returns the evidence to
/// record, or refuses (unless the override was given).
pub fn judge(
    att: &Attestation,
    required: &Required,
    args: &AttestationArgs,
    what: &str,
) -> anyhow::Result<Evidence> {
    let v = &att.verdict;
    let mut problems = Vec::new();
    if !v.verified {
        problems.push(format!("its attestation does not verify: {}", v.summary));
    }
    let st = v.statement.as_ref();
    if let Some(want) = required.pin_name() {
        match st.and_then(|s| s.pin_policy.as_deref()) {
            Some(got) if pin_policy_rank(got) >= pin_policy_rank(want) => {}
            got => problems.push(format!(
                "the attested PIN policy is {}, weaker than --pin-policy {want}",
                got.unwrap_or("not stated")
            )),
        }
    }
    if let Some(want) = required.touch_name() {
        match st.and_then(|s| s.touch_policy.as_deref()) {
            Some(got) if touch_policy_rank(got) >= touch_policy_rank(want) => {}
            got => problems.push(format!(
                "the attested touch policy is {}, weaker than --touch-policy {want}",
                got.unwrap_or("not stated")
            )),
        }
    }
    if !problems.is_empty() && !args.allow_unverified_attestation {
        bail!(
            "{what} is refused: {}. A key for a ceremony must be attested by a genuine YubiKey \
             with the policies the plan asks; generate a new key on a genuine card, or pass \
             {OVERRIDE_FLAG} to accept it anyway (the transcript records the override)",
            problems.join("; ")
        );
    }
    if !problems.is_empty() {
        eprintln!(
            "WARNING: {what}: {} — accepted because {OVERRIDE_FLAG} was given (recorded)",
            problems.join("; ")
        );
    }
    Ok(Evidence {
        tlpub: crate::tka::keyforms::tlpub_text(&att.public_key),
        verdict: v.line(),
        verified: v.verified,
        root: v.root.clone(),
        test_root: v.test_root,
        statement: v.statement.clone(),
        required: required.text(),
        overridden_by: (!problems.is_empty()).then(|| OVERRIDE_FLAG.to_string()),
        chain_pem: att.chain_pem.clone(),
    })
}

/// The text a record shows (and a printed record keeps) for an evidence.
pub fn evidence_text(e: &Evidence) -> String {
    let mut out = format!("  attestation of {}: {}\n", e.tlpub, e.verdict);
    out.push_str(&format!("    required: {}\n", e.required));
    if let Some(o) = &e.overridden_by {
        out.push_str(&format!("    OVERRIDDEN by {o}\n"));
    }
    if e.test_root {
        out.push_str("    TEST ROOT (not Yubico's)\n");
    }
    for der in crate::signers::piv_attestation::pem_certificates(&e.chain_pem).unwrap_or_default() {
        out.push_str(&format!(
            "    chain certificate sha256 {}\n",
            crate::signers::piv_attestation::fingerprint(&der)
        ));
    }
    out
}

/// `lock init`: judges every YubiKey signer before any PIN is asked.
pub fn check_signers(
    specs: &[String],
    required: &Required,
    args: &AttestationArgs,
) -> anyhow::Result<Vec<Evidence>> {
    let trust = args.trust()?;
    let mut out = Vec::new();
    for spec in specs {
        if !spec.trim_start().starts_with("yubikey:") {
            continue;
        }
        let shown = crate::signers::spec::shown(spec);
        let (_, att) = crate::signers::show_key_attested(
            spec,
            &crate::signers::OpenOptions::default(),
            &trust,
        )
        .with_context(|| format!("reading the attestation of --signer {shown}"))?;
        let Some(att) = att else { continue };
        out.push(judge(
            &att,
            required,
            args,
            &format!("the key of --signer {shown}"),
        )?);
    }
    Ok(out)
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
            bail!(
                "the attested key {} is not the key that was opened to sign (was the card \
                 changed?); nothing was signed",
                e.tlpub
            );
        }
    }
    Ok(())
}

/// `ceremony verify`: re-checks every attestation a transcript keeps.
/// Returns one line per attestation; fails when one that verified then
/// does not verify now.
pub fn recheck_records(
    records: &[crate::transcript::Record],
    trust: &TrustStore,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for r in records {
        for e in &r.body.attestations {
            let now = e.recheck(trust);
            let seq = r.body.seq;
            if now.verified {
                lines.push(format!(
                    "record {seq}: attestation of {} re-checked: {}",
                    e.tlpub,
                    now.line()
                ));
            } else if e.test_root && !trust.has_test_roots() {
                lines.push(format!(
                    "record {seq}: attestation of {} was verified to a TEST root; pass \
                     --attestation-test-roots to re-check it",
                    e.tlpub
                ));
            } else if e.verified {
                bail!(
                    "record {seq}: the attestation of {} was recorded as verified but does not \
                     verify now: {}",
                    e.tlpub,
                    now.summary
                );
            } else {
                lines.push(format!(
                    "record {seq}: attestation of {} did NOT verify (accepted with {}): {}",
                    e.tlpub,
                    e.overridden_by.as_deref().unwrap_or("no override"),
                    now.summary
                ));
            }
        }
    }
    Ok(lines)
}
