//! What a ceremony demands of a YubiKey key's PIV attestation, and the
//! re-check a witness runs later.
//!
//! - `token generate` and `lock init` judge every YubiKey key: its
//!   attestation must verify to a bundled Yubico root
//!   ([`crate::signers::piv_attestation`]) for the card in use (serial), and
//!   state PIN and touch policies at least as strong as the ceremony asks.
//!   Otherwise the key is refused, unless the operator passes
//!   [`OVERRIDE_FLAG`], which the record keeps.
//! - A TEST root is trusted only when named by [`TEST_ROOTS_FLAG`] (hidden,
//!   for the virtual test card); every verdict through one says "TEST root,
//!   NOT Yubico's" and the record keeps `test_root: true`.
//! - The record ([`Evidence`]) keeps the chain (PEM), the verdict, the
//!   policies asked and any override; `ceremony verify` re-checks each
//!   kept chain ([`recheck_records`]) with the bundled roots.
//!
//! What this proves and what it does not is written in
//! hsm-config/yubikey/README.md: generation on a genuine card with the
//! stated policies, never who holds the card. PKCS#11 tokens have no
//! attestation here; nothing is claimed for them.

use crate::signers::piv_attestation::{
    pin_policy_rank, touch_policy_rank, Attestation, Evidence, TrustStore, Verdict,
};
use crate::signers::{self, OpenOptions, PinPolicyArg, TouchPolicyArg};
use std::path::Path;

/// The override flag, as recorded in the transcript.
pub const OVERRIDE_FLAG: &str = "--allow-unverified-attestation";
/// The (hidden, test-only) option naming extra TEST roots.
pub const TEST_ROOTS_FLAG: &str = "--attestation-test-roots";

/// Why an attestation stopped a ceremony.
#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    /// The key's attestation does not satisfy the ceremony.
    #[error(
        "{what} is refused: {}. A key for a ceremony must be attested by a genuine YubiKey \
         with the policies the plan asks; generate a new key on a genuine card (with \
         `locksmith token generate --pin-policy … --touch-policy …`), or pass {OVERRIDE_FLAG} \
         to accept it anyway (the transcript records the override)",
        problems.join("; ")
    )]
    Refused {
        /// The key, as the operator named it.
        what: String,
        /// Every shortfall.
        problems: Vec<String>,
    },
    /// A kept attestation that verified when recorded does not verify now.
    #[error(
        "record {seq}: the attestation of {tlpub} was recorded as {recorded} but {now}; \
         the transcript or the bundled roots changed: do not trust this key's provenance"
    )]
    Recheck {
        /// The record's sequence number.
        seq: u64,
        /// The key.
        tlpub: String,
        /// What the record says.
        recorded: String,
        /// What the re-check found.
        now: String,
    },
    /// The TEST roots file could not be used.
    #[error("{TEST_ROOTS_FLAG} {path}: {why}")]
    TestRoots {
        /// The file.
        path: String,
        /// What was wrong.
        why: String,
    },
    /// The card could not be read.
    #[error("reading the attestation of --signer {spec}: {source}")]
    Signer {
        /// The spec (PIN source hidden).
        spec: String,
        /// The backend's error.
        #[source]
        source: signers::Error,
    },
}

/// Yubico's bundled roots, plus TEST roots when `test_roots` names a PEM
/// file (the virtual card's root and intermediate).
pub fn load_trust(test_roots: Option<&Path>) -> Result<TrustStore, AttestationError> {
    let store = TrustStore::yubico();
    let Some(path) = test_roots else {
        return Ok(store);
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| AttestationError::TestRoots {
        path: shown.clone(),
        why: format!("cannot read it: {e}"),
    })?;
    store
        .with_test_roots(&text, &shown)
        .map_err(|why| AttestationError::TestRoots { path: shown, why })
}

/// The policies a ceremony asks of its YubiKey keys (`Default`: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// At least this PIN policy.
    pub pin: PinPolicyArg,
    /// At least this touch policy.
    pub touch: TouchPolicyArg,
}

impl Default for Requirement {
    fn default() -> Self {
        Requirement {
            pin: PinPolicyArg::Default,
            touch: TouchPolicyArg::Default,
        }
    }
}

impl Requirement {
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
        let parts: Vec<String> = [
            self.pin_name().map(|p| format!("pin>={p}")),
            self.touch_name().map(|t| format!("touch>={t}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(" ")
        }
    }

    /// Every way `verdict` falls short of this requirement (empty: none).
    pub fn shortfalls(&self, verdict: &Verdict) -> Vec<String> {
        let mut problems = Vec::new();
        if !verdict.verified {
            problems.push(format!(
                "its attestation does not verify: {}",
                verdict.summary
            ));
        }
        let st = verdict.statement.as_ref();
        type Rank = fn(&str) -> u8;
        let checks: [(&str, &str, Option<&str>, Option<&str>, Rank); 2] = [
            (
                "PIN",
                "--pin-policy",
                self.pin_name(),
                st.and_then(|s| s.pin_policy.as_deref()),
                pin_policy_rank,
            ),
            (
                "touch",
                "--touch-policy",
                self.touch_name(),
                st.and_then(|s| s.touch_policy.as_deref()),
                touch_policy_rank,
            ),
        ];
        for (what, flag, want, got, rank) in checks {
            let Some(want) = want else { continue };
            match got {
                Some(got) if rank(got) >= rank(want) => {}
                got => problems.push(format!(
                    "the attested {what} policy is {}, weaker than {flag} {want}",
                    got.unwrap_or("not stated")
                )),
            }
        }
        problems
    }
}

/// A key's attestation judged against the ceremony.
#[derive(Debug, Clone)]
pub struct Judged {
    /// What the record keeps.
    pub evidence: Evidence,
    /// The shortfalls accepted with the override (empty when none).
    pub overridden: Vec<String>,
}

impl Judged {
    /// The warning to print when the override was used.
    pub fn warning(&self, what: &str) -> Option<String> {
        (!self.overridden.is_empty()).then(|| {
            format!(
                "WARNING: {what}: {} — accepted because {OVERRIDE_FLAG} was given (recorded in the transcript)",
                self.overridden.join("; ")
            )
        })
    }
}

/// Judges `att` (the key named `what`) against `required`: the evidence to
/// record, or [`AttestationError::Refused`] unless `allow_override`.
pub fn judge(
    att: &Attestation,
    required: &Requirement,
    allow_override: bool,
    what: &str,
) -> Result<Judged, AttestationError> {
    let v = &att.verdict;
    let problems = required.shortfalls(v);
    if !problems.is_empty() && !allow_override {
        return Err(AttestationError::Refused {
            what: what.to_string(),
            problems,
        });
    }
    Ok(Judged {
        evidence: Evidence {
            tlpub: crate::tka::keyforms::tlpub_text(&att.public_key),
            verdict: v.line(),
            verified: v.verified,
            root: v.root.clone(),
            test_root: v.test_root,
            statement: v.statement.clone(),
            required: required.text(),
            overridden_by: (!problems.is_empty()).then(|| OVERRIDE_FLAG.to_string()),
            chain_pem: att.chain_pem.clone(),
        },
        overridden: problems,
    })
}

/// Reads and judges the attestation of every YubiKey spec in `specs` (no
/// PIN needed), before anything is signed. Other specs have no
/// attestation and are skipped (nothing is claimed for them).
pub fn check_specs(
    specs: &[String],
    required: &Requirement,
    allow_override: bool,
    trust: &TrustStore,
) -> Result<Vec<Judged>, AttestationError> {
    let mut out = Vec::new();
    for spec in specs {
        if !spec.trim_start().starts_with("yubikey:") {
            continue;
        }
        let shown = crate::signers::spec::shown(spec);
        let (_, att) = crate::signers::show_key_attested(spec, &OpenOptions::default(), trust)
            .map_err(|source| AttestationError::Signer {
                spec: shown.clone(),
                source,
            })?;
        let Some(att) = att else { continue };
        out.push(judge(
            &att,
            required,
            allow_override,
            &format!("the key of --signer {shown}"),
        )?);
    }
    Ok(out)
}

/// The lines a summary, a record and a printout show for one evidence:
/// verdict, policies asked, override, TEST root, the chain's fingerprints.
pub fn evidence_lines(e: &Evidence) -> Vec<String> {
    let mut out = vec![format!("attestation of {}: {}", e.tlpub, e.verdict)];
    if let Some(st) = &e.statement {
        out.push(format!("  attested: {}", st.described()));
    }
    out.push(format!("  required: {}", e.required));
    if let Some(o) = &e.overridden_by {
        out.push(format!("  OVERRIDDEN by {o}"));
    }
    if e.test_root {
        out.push(format!(
            "  TEST ROOT ({}), NOT Yubico's: proves nothing about real hardware",
            e.root.as_deref().unwrap_or("?")
        ));
    }
    for der in crate::signers::piv_attestation::pem_certificates(&e.chain_pem).unwrap_or_default() {
        out.push(format!(
            "  kept chain certificate sha256 {}",
            crate::signers::piv_attestation::fingerprint(&der)
        ));
    }
    out
}

/// `ceremony verify`: re-checks every attestation the records keep against
/// `trust`. One line per attestation; an error when one recorded as
/// verified does not verify now, reaches a different kind of root, or
/// states something else than recorded.
pub fn recheck_records(
    records: &[crate::transcript::Record],
    trust: &TrustStore,
) -> Result<Vec<String>, AttestationError> {
    let mut lines = Vec::new();
    for r in records {
        let seq = r.body.seq;
        for e in &r.body.attestations {
            let now = e.recheck(trust);
            let fail = |recorded: &str, found: String| AttestationError::Recheck {
                seq,
                tlpub: e.tlpub.clone(),
                recorded: recorded.to_string(),
                now: found,
            };
            if now.verified && now.statement != e.statement {
                return Err(fail(
                    "stating one thing",
                    "the kept certificate states something else".into(),
                ));
            }
            if e.verified && now.verified && now.test_root != e.test_root {
                return Err(fail(
                    if e.test_root {
                        "verified to a TEST root"
                    } else {
                        "verified to Yubico's root"
                    },
                    format!("now {}", now.line()),
                ));
            }
            let overridden = e
                .overridden_by
                .as_deref()
                .map(|o| format!(" (accepted with {o})"))
                .unwrap_or_default();
            if now.verified {
                lines.push(format!(
                    "record {seq}: attestation of {} re-checked{overridden}: {}",
                    e.tlpub,
                    now.line()
                ));
            } else if e.verified && e.test_root && !trust.has_test_roots() {
                lines.push(format!(
                    "record {seq}: attestation of {} was verified to a TEST root (not Yubico's); \
                     not re-checked without {TEST_ROOTS_FLAG}",
                    e.tlpub
                ));
            } else if e.verified {
                return Err(fail(
                    "verified",
                    format!("it does not verify now: {}", now.summary),
                ));
            } else {
                lines.push(format!(
                    "record {seq}: attestation of {} did NOT verify{overridden}: {}",
                    e.tlpub, now.summary
                ));
            }
        }
    }
    Ok(lines)
}

/// The summary lines for the evidence (shown before confirmation, kept in the record).
pub fn summary_text(evidence: &[Evidence]) -> String {
    let mut out = String::new();
    for e in evidence {
        for line in evidence_lines(e) {
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signers::piv_attestation::{self, Statement};

    fn real_attestation() -> Attestation {
        let base = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/piv-attestation/docker-tuf-25515003"
        );
        let read = |f: &str| std::fs::read_to_string(format!("{base}/{f}")).expect("test data");
        let pem = format!("{}{}", read("slot-9c-attestation.pem"), read("slot-f9.pem"));
        let ders = piv_attestation::pem_certificates(&pem).expect("pem");
        let verdict = piv_attestation::verify(
            &ders[0],
            Some(&ders[1]),
            &piv_attestation::Expected {
                public_key: None,
                serial: Some(25_515_003),
            },
            &TrustStore::yubico(),
        );
        Attestation {
            verdict,
            chain_pem: piv_attestation::chain_pem(&ders[0], Some(&ders[1])),
            // A real chain attests an ECDSA key; the tlpub is not re-checked here.
            public_key: [7; 32],
        }
    }

    fn record_with(e: Evidence) -> crate::transcript::Record {
        crate::transcript::Record {
            body: crate::transcript::RecordBody {
                version: 2,
                seq: 1,
                prev: String::new(),
                time: String::new(),
                command: "token generate".into(),
                operator: None,
                witnesses: vec![],
                shown: String::new(),
                signed: vec![],
                inputs: vec![],
                outputs: vec![],
                signers: vec![],
                attestations: vec![e],
            },
            signatures: vec![],
        }
    }

    #[test]
    fn weaker_policies_are_refused_and_the_override_is_recorded() {
        let att = real_attestation();
        assert!(att.verdict.verified, "{}", att.verdict.summary);
        let st = att.verdict.statement.clone().expect("statement");
        let none = judge(&att, &Requirement::default(), false, "k").expect("accepted");
        assert!(none.overridden.is_empty() && none.evidence.overridden_by.is_none());
        assert_eq!(none.evidence.required, "none");
        // Ask for more than the card stated.
        let strict = Requirement {
            pin: PinPolicyArg::Always,
            touch: TouchPolicyArg::Always,
        };
        // The vendored card states PIN always, touch never.
        assert_eq!(st.pin_policy.as_deref(), Some("always"));
        assert_eq!(st.touch_policy.as_deref(), Some("never"));
        let err = judge(&att, &strict, false, "the key").expect_err("refused");
        assert!(
            err.to_string()
                .contains("the attested touch policy is never, weaker than --touch-policy always"),
            "{err}"
        );
        assert!(!err.to_string().contains("PIN policy"), "{err}");
        assert!(err.to_string().contains(OVERRIDE_FLAG), "{err}");
        let j = judge(&att, &strict, true, "the key").expect("overridden");
        assert_eq!(j.evidence.overridden_by.as_deref(), Some(OVERRIDE_FLAG));
        assert_eq!(j.evidence.required, "pin>=always touch>=always");
        assert!(j.warning("k").expect("warning").contains(OVERRIDE_FLAG));
        // An unverified attestation is refused too.
        let mut bad = att.clone();
        bad.verdict.verified = false;
        assert!(judge(&bad, &Requirement::default(), false, "k").is_err());
    }

    #[test]
    fn recheck_passes_on_a_kept_chain_and_fails_on_a_flipped_byte() {
        let att = real_attestation();
        let mut e = judge(&att, &Requirement::default(), false, "k")
            .expect("accepted")
            .evidence;
        // The real chain attests an ECDSA key, so the re-check uses no tlpub.
        e.tlpub = "not a tlpub".into();
        let trust = TrustStore::yubico();
        let lines = recheck_records(&[record_with(e.clone())], &trust).expect("re-checks");
        assert!(
            lines[0].contains("re-checked") && lines[0].contains("verified"),
            "{lines:?}"
        );
        assert!(evidence_lines(&e)
            .iter()
            .any(|l| l.contains("kept chain certificate sha256")));
        // Flip one byte inside the kept f9 certificate's DER.
        let mut ders = piv_attestation::pem_certificates(&e.chain_pem).expect("pem");
        let mid = ders[1].len() / 2;
        ders[1][mid] ^= 0x01;
        let mut flipped = e.clone();
        flipped.chain_pem = piv_attestation::chain_pem(&ders[0], Some(&ders[1]));
        let err = recheck_records(&[record_with(flipped)], &trust).expect_err("fails");
        assert!(err.to_string().contains("does not verify now"), "{err}");
        // A recorded statement that differs from the certificate's is caught.
        let mut edited = e;
        edited.statement = Some(Statement {
            pin_policy: Some("never".into()),
            ..edited.statement.clone().unwrap_or_default()
        });
        assert_ne!(edited.statement, att.verdict.statement);
        assert!(recheck_records(&[record_with(edited)], &trust).is_err());
    }

    #[test]
    fn the_printed_transcript_keeps_the_verdict_and_the_chain() {
        let e = judge(&real_attestation(), &Requirement::default(), false, "k")
            .expect("accepted")
            .evidence;
        let lines = crate::transcript_print::text_lines("t", &[record_with(e.clone())]);
        let text = lines.join("\n");
        assert!(
            text.contains(&format!("attestation of {}: verified", e.tlpub)),
            "{text}"
        );
        assert!(text.contains("kept attestation chain (PEM"), "{text}");
        // Every line of the kept PEM is on the printout.
        for line in e.chain_pem.lines() {
            assert!(text.contains(line), "{line} missing");
        }
    }

    #[test]
    fn test_roots_file_errors_name_the_flag() {
        let err = load_trust(Some(Path::new("/nonexistent/roots.pem"))).expect_err("missing");
        assert!(err.to_string().contains(TEST_ROOTS_FLAG), "{err}");
        assert!(!load_trust(None).expect("yubico").has_test_roots());
    }
}
