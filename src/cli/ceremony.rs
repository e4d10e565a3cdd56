//! `locksmith ceremony …`: verify and print a ceremony transcript, and run
//! a ceremony plan step by step.

use crate::ceremony::plan_run::{self, PlanOutcome, PlanRequest};
use crate::ceremony::terminal::{StdinLines, Tty};
use crate::ceremony::transcript_audit::{self, AuditError, PrintRequest};
use anyhow::Context;
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum CeremonyCommand {
    /// Check a transcript's hash chain and every record's signature.
    #[command(after_help = super::examples::CEREMONY_VERIFY)]
    Verify {
        /// The transcript (JSON Lines), e.g. STORE/transcript.jsonl.
        log: PathBuf,
        /// Also require every signer to be a key this store's authority ever trusted.
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
        /// TEST ONLY (hidden): also trust these TEST roots when re-checking
        /// the kept YubiKey attestations (the virtual test card's).
        #[arg(long, value_name = "PEM", hide = true)]
        attestation_test_roots: Option<PathBuf>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make a printable transcript (HTML and PDF) with signature lines for witnesses.
    #[command(after_help = super::examples::CEREMONY_PRINT)]
    Print {
        /// The transcript (JSON Lines).
        log: PathBuf,
        /// The directory for transcript.html and transcript.pdf (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A title for the printout.
        #[arg(long, default_value = "Tailnet lock ceremony transcript")]
        title: String,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Walk a ceremony plan (TOML) step by step, resuming where it stopped.
    #[command(after_help = super::examples::CEREMONY_RUN)]
    Run {
        /// The plan file (see ceremony/*.toml).
        plan: PathBuf,
        /// The state file recording completed steps (default: PLAN.state.json).
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// Answers for the prompts (TOML: `step-id = "answer"`), to run without a
        /// terminal. A `run` step answered "yes" runs with `--yes` (its summary is
        /// still printed); use this for tests and rehearsals, not real ceremonies.
        #[arg(long, value_name = "FILE")]
        answers: Option<PathBuf>,
        /// Continue although a network interface other than loopback is up.
        #[arg(long)]
        allow_network: bool,
        /// Print one JSON object (the final state) instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: CeremonyCommand) -> anyhow::Result<()> {
    match cmd {
        CeremonyCommand::Verify {
            log,
            store,
            attestation_test_roots,
            json,
        } => verify(
            &log,
            store.as_deref(),
            attestation_test_roots.as_deref(),
            json,
        ),
        CeremonyCommand::Print {
            log,
            out,
            title,
            force,
            json,
        } => print(&log, &out, &title, force, json),
        CeremonyCommand::Run {
            plan,
            state,
            answers,
            allow_network,
            json,
        } => run_plan(&plan, state, answers.as_deref(), allow_network, json),
    }
}

fn verify(
    log: &Path,
    store: Option<&Path>,
    test_roots: Option<&Path>,
    json: bool,
) -> anyhow::Result<()> {
    let audit = match transcript_audit::audit(log, store, test_roots) {
        Ok(audit) => audit,
        Err(AuditError::Setup(e)) => return Err(e.into()),
        Err(e) if json => {
            let bad_record = match &e {
                AuditError::Record(r) => serde_json::to_value(r.record()).unwrap_or_default(),
                _ => serde_json::Value::Null,
            };
            let mut report = json!({ "ok": false, "error": e.to_string() });
            if matches!(e, AuditError::Record(_)) {
                report["bad_record"] = bad_record;
            }
            super::print_json(&report);
            eoutln!("error: {e}");
            return Err(super::Exit(1).into());
        }
        Err(e) => return Err(e.into()),
    };
    if json {
        super::print_json(&json!({
            "ok": true,
            "records": audit.records,
            "legacy_v1_records": audit.legacy_v1_records,
            "last_record_sha256": audit.last_record_sha256,
            "signers_checked_against_store": audit.signers_checked_against_store,
            "attestations": audit.attestations,
        }));
        return Ok(());
    }
    outln!(
        "ok: {} record(s), hash chain and signatures verify{}",
        audit.records,
        if audit.signers_checked_against_store {
            ", every signer trusted by the store"
        } else {
            ""
        }
    );
    let legacy = audit.legacy_v1_records;
    if legacy > 0 {
        outln!(
            "note: {legacy} record(s) in the old version 1 format, whose token \
             signature is over a bare 32-byte digest (the same shape as an AUM or \
             node-key SigHash); they verify, and new records use version 2 \
             (a domain-prefixed 56-byte message)"
        );
    }
    for line in &audit.attestations {
        outln!("{line}");
    }
    outln!("SHA-256 of the last record: {}", audit.last_record_sha256);
    Ok(())
}

fn print(log: &Path, out: &Path, title: &str, force: bool, json: bool) -> anyhow::Result<()> {
    let printed = transcript_audit::print(&PrintRequest {
        log: log.to_path_buf(),
        out: out.to_path_buf(),
        title: title.to_string(),
        force,
    })?;
    for p in [&printed.html, &printed.pdf] {
        eoutln!("wrote {}", p.display());
    }
    if json {
        super::print_json(&json!({
            "records": printed.records,
            "html": printed.html.display().to_string(),
            "pdf": printed.pdf.display().to_string(),
            "last_record_sha256": printed.last_record_sha256,
        }));
    } else {
        outln!(
            "{} record(s) printed to {} and {}",
            printed.records,
            printed.html.display(),
            printed.pdf.display()
        );
    }
    Ok(())
}

/// Exit code when `LOCKSMITH_PLAN_STOP_AFTER` stops the runner (for tests
/// of resumption: as if the machine lost power right after that step).
pub const STOPPED_EXIT: u8 = 75;

fn run_plan(
    plan: &Path,
    state: Option<PathBuf>,
    answers: Option<&Path>,
    allow_network: bool,
    json: bool,
) -> anyhow::Result<()> {
    let request = PlanRequest {
        plan: plan.to_path_buf(),
        state,
        answers: answers.map(Path::to_path_buf),
        allow_network,
        airgap_root: crate::airgap::sysfs_root(),
        exe: std::env::current_exe().context("finding the locksmith executable")?,
        stop_after: std::env::var("LOCKSMITH_PLAN_STOP_AFTER")
            .ok()
            .and_then(|v| v.parse().ok()),
    };
    // Answers typed at a terminal go through its prompt mode (Ctrl-C ends
    // the prompt and the terminal is restored); piped answers are read a
    // line at a time.
    let outcome = if answers.is_none() && std::io::stdin().is_terminal() {
        plan_run::run(&request, &mut Tty::open())?
    } else {
        plan_run::run(&request, &mut StdinLines)?
    };
    match outcome {
        PlanOutcome::Stopped { .. } => Err(super::Exit(STOPPED_EXIT).into()),
        PlanOutcome::Complete {
            name,
            steps,
            done,
            state,
        } => {
            if json {
                super::print_json(&json!({
                    "plan": name,
                    "complete": true,
                    "done": done,
                    "state": state.display().to_string(),
                }));
            } else {
                outln!("ceremony plan complete: {name} ({steps} steps)");
            }
            Ok(())
        }
    }
}
