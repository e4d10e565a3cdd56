//! `locksmith ceremony …`: verify and print a ceremony transcript, and run
//! a ceremony plan step by step.

use crate::airgap;
use crate::ceremony_plan::{expand, plan_hash, Action, Plan, PlanState};
use crate::store::Store;
use crate::transcript;
use anyhow::{bail, Context};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
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

/// Every key any AUM of the store's authority trusted.
fn ever_trusted(dir: &Path) -> anyhow::Result<Vec<[u8; 32]>> {
    let store = Store::open(dir, false)?;
    let authority = store.load()?;
    let mut keys: Vec<[u8; 32]> = Vec::new();
    let mut add = |k: &crate::tka::Key| {
        if let Some(p) = k
            .public
            .as_deref()
            .and_then(|p| <[u8; 32]>::try_from(p).ok())
        {
            if !keys.contains(&p) {
                keys.push(p);
            }
        }
    };
    for (_, aum) in authority.tree().iter() {
        if let Some(st) = &aum.state {
            st.keys().iter().for_each(&mut add);
        }
        if let Some(k) = &aum.key {
            add(k);
        }
    }
    Ok(keys)
}

fn verify(
    log: &Path,
    store: Option<&Path>,
    test_roots: Option<&Path>,
    json: bool,
) -> anyhow::Result<()> {
    let trusted = store.map(ever_trusted).transpose()?;
    let attestation_trust = crate::attestation_policy::load_trust(test_roots)?;
    match transcript::verify(log, trusted.as_deref()) {
        Ok(records) => {
            // The kept YubiKey attestations, re-checked against the bundled roots.
            let attestations =
                match crate::attestation_policy::recheck_records(&records, &attestation_trust) {
                    Ok(lines) => lines,
                    Err(e) if json => {
                        super::print_json(&json!({ "ok": false, "error": e.to_string() }));
                        eoutln!("error: {e}");
                        return Err(super::Exit(1).into());
                    }
                    Err(e) => return Err(e.into()),
                };
            let last = last_hash(log)?;
            let legacy = records
                .iter()
                .filter(|r| r.body.version == transcript::LEGACY_VERSION)
                .count();
            if json {
                super::print_json(&json!({
                    "ok": true,
                    "records": records.len(),
                    "legacy_v1_records": legacy,
                    "last_record_sha256": last,
                    "signers_checked_against_store": store.is_some(),
                    "attestations": attestations,
                }));
            } else {
                outln!(
                    "ok: {} record(s), hash chain and signatures verify{}",
                    records.len(),
                    if store.is_some() {
                        ", every signer trusted by the store"
                    } else {
                        ""
                    }
                );
                if legacy > 0 {
                    outln!(
                        "note: {legacy} record(s) in the old version 1 format, whose token \
                         signature is over a bare 32-byte digest (the same shape as an AUM or \
                         node-key SigHash); they verify, and new records use version 2 \
                         (a domain-prefixed 56-byte message)"
                    );
                }
                for line in &attestations {
                    outln!("{line}");
                }
                outln!("SHA-256 of the last record: {last}");
            }
            Ok(())
        }
        Err(e) => {
            if json {
                super::print_json(&json!({
                    "ok": false,
                    "bad_record": e.record(),
                    "error": e.to_string(),
                }));
                eoutln!("error: {e}");
                return Err(super::Exit(1).into());
            }
            Err(e.into())
        }
    }
}

/// The chain hash of the last line (what the next record will point to).
fn last_hash(log: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(log).with_context(|| format!("reading {}", log.display()))?;
    Ok(bytes
        .split(|b| *b == b'\n')
        .rfind(|l| !l.is_empty())
        .map(transcript::line_hash)
        .unwrap_or_default())
}

fn print(log: &Path, out: &Path, title: &str, force: bool, json: bool) -> anyhow::Result<()> {
    let records =
        transcript::verify(log, None).context("only a transcript that verifies can be printed")?;
    let last = last_hash(log)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let html = out.join("transcript.html");
    let pdf = out.join("transcript.pdf");
    for p in [&html, &pdf] {
        if p.exists() && !force {
            bail!(
                "{} already exists; refusing to overwrite it (pass --force to replace it)",
                p.display()
            );
        }
    }
    let html_text = crate::transcript_print::render_html(title, &records, &last);
    let pdf_bytes = crate::transcript_print::render_pdf(title, &records, &last);
    super::signing::write_output(&html, html_text.as_bytes(), force)?;
    super::signing::write_output(&pdf, &pdf_bytes, force)?;
    if json {
        super::print_json(&json!({
            "records": records.len(),
            "html": html.display().to_string(),
            "pdf": pdf.display().to_string(),
            "last_record_sha256": last,
        }));
    } else {
        outln!(
            "{} record(s) printed to {} and {}",
            records.len(),
            html.display(),
            pdf.display()
        );
    }
    Ok(())
}

/// Where prompts get their answers.
enum Answers {
    File {
        path: PathBuf,
        table: BTreeMap<String, String>,
    },
    Terminal,
}

impl Answers {
    fn get(&self, step: &str, prompt: &str) -> anyhow::Result<String> {
        match self {
            Answers::File { path, table } => table.get(step).cloned().with_context(|| {
                format!("no answer for step {step:?} in {}; add `{step} = \"…\"` and run again to resume here", path.display())
            }),
            Answers::Terminal => {
                eout!("{prompt} ");
                std::io::stderr().flush().ok();
                let mut line = String::new();
                let n = std::io::stdin().lock().read_line(&mut line).context("reading the answer")?;
                if n == 0 {
                    bail!("standard input closed at step {step:?}; run again to resume here (or give --answers FILE)");
                }
                Ok(line.trim().to_string())
            }
        }
    }
}

/// Exit code when `LOCKSMITH_PLAN_STOP_AFTER` stops the runner (for tests
/// of resumption: as if the machine lost power right after that step).
pub const STOPPED_EXIT: u8 = 75;

fn run_plan(
    plan_path: &Path,
    state_path: Option<PathBuf>,
    answers: Option<&Path>,
    allow_network: bool,
    json: bool,
) -> anyhow::Result<()> {
    let text = crate::input::Input::read_path(plan_path)
        .context("the plan")?
        .bytes;
    let shown = plan_path.display().to_string();
    let plan = Plan::parse(
        &shown,
        std::str::from_utf8(&text).with_context(|| format!("plan {shown} is not UTF-8"))?,
    )?;
    let state_path = state_path.unwrap_or_else(|| {
        let mut n = plan_path.as_os_str().to_os_string();
        n.push(".state.json");
        PathBuf::from(n)
    });
    let mut state = PlanState::load(&state_path, &plan_hash(&text))?;
    let answers = match answers {
        Some(p) => {
            let t = std::fs::read_to_string(p)
                .with_context(|| format!("reading the answers {}", p.display()))?;
            let table: BTreeMap<String, String> = toml::from_str(&t).with_context(|| {
                format!(
                    "answers {}: expected lines like `step-id = \"answer\"`",
                    p.display()
                )
            })?;
            Answers::File {
                path: p.to_path_buf(),
                table,
            }
        }
        None => Answers::Terminal,
    };
    let stop_after: Option<usize> = std::env::var("LOCKSMITH_PLAN_STOP_AFTER")
        .ok()
        .and_then(|v| v.parse().ok());
    let exe = std::env::current_exe().context("finding the locksmith executable")?;

    eoutln!(
        "ceremony plan: {} ({} steps, state in {})",
        plan.name,
        plan.steps.len(),
        state_path.display()
    );
    if !state.done.is_empty() {
        eoutln!("resuming: {} step(s) already done", state.done.len());
    }
    let total = plan.steps.len();
    for (i, step) in plan.steps.iter().enumerate() {
        if state.is_done(&step.id) {
            continue;
        }
        let n = i + 1;
        eoutln!("\n== step {n}/{total}: {} ==", step.title());
        let action = step
            .action()
            .map_err(|e| anyhow::anyhow!("step {:?} {e}", step.id))?;
        match action {
            Action::Airgap => check_airgap(n, &step.id, allow_network, &mut state.warnings, true)?,
            Action::Confirm(item) => {
                let a = answers.get(&step.id, &format!("[ ] {item}\n    Type 'yes' when done:"))?;
                if a != "yes" {
                    bail!("step {n} ({}) not confirmed (answer {a:?}); nothing more was done. Run again to resume here", step.id);
                }
            }
            Action::Ask(question) => {
                let a = answers.get(&step.id, &format!("{question}:"))?;
                if a.is_empty() {
                    bail!(
                        "step {n} ({}): an answer is needed; run again to resume here",
                        step.id
                    );
                }
                state.answers.insert(step.id.clone(), a);
            }
            Action::Run(args) => {
                check_airgap(n, &step.id, allow_network, &mut state.warnings, false)?;
                let mut vars = plan.vars.clone();
                vars.extend(state.answers.clone());
                let env = |name: &str| std::env::var(name).ok();
                let mut argv: Vec<String> = args
                    .iter()
                    .map(|a| expand(&step.id, a, &vars, &env))
                    .collect::<Result<_, _>>()?;
                if step.record {
                    if let Some(op) = vars.get("operator") {
                        argv.push(format!("--operator={op}"));
                    }
                    for w in vars
                        .get("witnesses")
                        .map(|w| w.split(','))
                        .into_iter()
                        .flatten()
                    {
                        if !w.trim().is_empty() {
                            argv.push(format!("--witness={}", w.trim()));
                        }
                    }
                }
                // A step that signs is confirmed at the command's own
                // prompt by the people in the room; only an answers file
                // saying `step = "yes"` (a rehearsal) runs it with --yes.
                if let Answers::File { table, path } = &answers {
                    if table.get(&step.id).map(String::as_str) == Some("yes") {
                        eoutln!(
                            "step {n} ({}) confirmed by the answers file {} (`{} = \"yes\"`), not at the terminal: the command shows its plan and runs with --yes",
                            step.id,
                            path.display(),
                            step.id
                        );
                        argv.push("--yes".into());
                    }
                }
                eoutln!("$ locksmith {}", argv.join(" "));
                let mut cmd = std::process::Command::new(&exe);
                cmd.args(&argv);
                if allow_network {
                    cmd.env("LOCKSMITH_ALLOW_NETWORK", "true");
                    cmd.env(super::record::AIRGAP_REPORTED_ENV, "1");
                }
                let status = cmd
                    .status()
                    .with_context(|| format!("starting {}", exe.display()))?;
                if !status.success() {
                    bail!(
                        "stopped at step {n} ({}): `locksmith {}` failed ({status}); the step is not marked done. \
                         Fix the cause shown above and run the plan again to resume at this step",
                        step.id,
                        argv.join(" ")
                    );
                }
            }
        }
        state.done.push(step.id.clone());
        state.save(&state_path)?;
        eoutln!("step {n}/{total} done ({})", step.id);
        if stop_after == Some(n) {
            eoutln!("LOCKSMITH_PLAN_STOP_AFTER={n}: stopping here");
            return Err(super::Exit(STOPPED_EXIT).into());
        }
    }
    if json {
        super::print_json(&json!({
            "plan": plan.name,
            "complete": true,
            "done": state.done,
            "state": state_path.display().to_string(),
        }));
    } else {
        outln!("ceremony plan complete: {} ({} steps)", plan.name, total);
    }
    Ok(())
}

/// A plan's air-gap check: it always checks and reports what it found;
/// with --allow-network a machine that is not air-gapped is a warning,
/// printed once per plan and recorded in the plan state, else a refusal.
fn check_airgap(
    n: usize,
    step_id: &str,
    allow_network: bool,
    warnings: &mut Vec<String>,
    announce: bool,
) -> anyhow::Result<()> {
    let Some(problem) = airgap::problem() else {
        if announce {
            eoutln!(
                "air gap verified: no network interface other than loopback is up (checked {})",
                airgap::checked()
            );
        }
        return Ok(());
    };
    if !allow_network {
        bail!(
            "stopped at step {n} ({step_id}): this machine is not air-gapped: {problem}. \
             Take them down (ip link set DEV down), then run the plan again to resume; --allow-network overrides"
        );
    }
    let warning = format!("air gap NOT verified: {problem}; continuing because of --allow-network");
    if !warnings.contains(&warning) {
        eoutln!("WARNING: {warning} (recorded in the plan state and in each command's transcript record)");
        warnings.push(warning);
    }
    Ok(())
}
