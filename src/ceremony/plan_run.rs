//! Walking a ceremony plan (`ceremony run`): the steps of a
//! [`Plan`](crate::ceremony_plan::Plan) in order, each marked done in the
//! plan state only after it succeeded, so the same command resumes at the
//! first step not done.
//!
//! A `run` step starts the locksmith executable as a child process: the
//! command runs its own pipeline (preflight, plan, show, confirm, sign,
//! commit) and is confirmed at its own prompt by the people present. Only
//! an answers file saying `step = "yes"` (a rehearsal) adds `--yes`.
//!
//! The air-gap check runs for every `airgap` step and before every `run`
//! step; `--allow-network` turns a refusal into a warning, said once per
//! plan and kept in the plan state (and, through the environment, in each
//! command's transcript record).

use crate::airgap;
use crate::ceremony::error::{bail, Context};
use crate::ceremony::record::AIRGAP_REPORTED_ENV;
use crate::ceremony::terminal::{Terminal, TerminalError, INTERRUPTED_EXIT};
use crate::ceremony_plan::{expand, plan_hash, Action, Plan, PlanState};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `ceremony run` was asked to do.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// The state file; `None` for `PLAN.state.json`.
    pub state: Option<PathBuf>,
    /// An answers file (`step-id = "answer"`) instead of the terminal.
    pub answers: Option<PathBuf>,
    /// Continue, with a recorded warning, on a machine that is not air-gapped.
    pub allow_network: bool,
    /// The network interfaces to check for the air gap:
    /// [`airgap::sysfs_root`] (`/sys/class/net`).
    pub airgap_root: PathBuf,
    /// The locksmith executable the `run` steps start.
    pub exe: PathBuf,
    /// Stop (as if the power went) right after this step number, 1-based
    /// (`LOCKSMITH_PLAN_STOP_AFTER`, for tests of resumption).
    pub stop_after: Option<usize>,
}

/// How a run ended without an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanOutcome {
    /// Every step is done.
    Complete {
        name: String,
        steps: usize,
        done: Vec<String>,
        state: PathBuf,
    },
    /// Stopped on purpose after step `after` (`stop_after`).
    Stopped { after: usize },
}

/// The default state file beside the plan: `PLAN.state.json`.
pub fn default_state_path(plan: &Path) -> PathBuf {
    let mut n = plan.as_os_str().to_os_string();
    n.push(".state.json");
    PathBuf::from(n)
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
    fn load(path: Option<&Path>) -> crate::ceremony::error::Result<Answers> {
        let Some(p) = path else {
            return Ok(Answers::Terminal);
        };
        let t = std::fs::read_to_string(p)
            .with_context(|| format!("reading the answers {}", p.display()))?;
        let table: BTreeMap<String, String> = toml::from_str(&t).with_context(|| {
            format!(
                "answers {}: expected lines like `step-id = \"answer\"`",
                p.display()
            )
        })?;
        Ok(Answers::File {
            path: p.to_path_buf(),
            table,
        })
    }

    fn get(
        &self,
        step: &str,
        prompt: &str,
        term: &mut dyn Terminal,
    ) -> crate::ceremony::error::Result<String> {
        match self {
            Answers::File { path, table } => table.get(step).cloned().with_context(|| {
                format!(
                    "no answer for step {step:?} in {}; add `{step} = \"…\"` and run again to resume here",
                    path.display()
                )
            }),
            Answers::Terminal => match term.line(&format!("{prompt} ")) {
                Ok(line) => Ok(line.trim().to_string()),
                Err(TerminalError::EndOfInput(_)) => bail!(
                    "standard input closed at step {step:?}; run again to resume here (or give --answers FILE)"
                ),
                Err(e) => Err(crate::ceremony::Error::from(e).context(format!(
                    "reading the answer at step {step:?}; run again to resume here"
                ))),
            },
        }
    }

    /// Whether the answers file confirms `step` for a rehearsal.
    fn rehearsal_yes(&self, step: &str) -> Option<&Path> {
        match self {
            Answers::File { path, table } if table.get(step).map(String::as_str) == Some("yes") => {
                Some(path)
            }
            _ => None,
        }
    }
}

/// Runs the plan from its first step not done; says what happens on `term`.
pub fn run(
    request: &PlanRequest,
    term: &mut dyn Terminal,
) -> crate::ceremony::error::Result<PlanOutcome> {
    let text = crate::input::Input::read_path(&request.plan)
        .context("the plan")?
        .bytes;
    let shown = request.plan.display().to_string();
    let plan = Plan::parse(
        &shown,
        std::str::from_utf8(&text).with_context(|| format!("plan {shown} is not UTF-8"))?,
    )?;
    let state_path = request
        .state
        .clone()
        .unwrap_or_else(|| default_state_path(&request.plan));
    let mut state = PlanState::load(&state_path, &plan_hash(&text))?;
    let answers = Answers::load(request.answers.as_deref())?;

    term.say(&format!(
        "ceremony plan: {} ({} steps, state in {})",
        plan.name,
        plan.steps.len(),
        state_path.display()
    ));
    if !state.done.is_empty() {
        term.say(&format!(
            "resuming: {} step(s) already done",
            state.done.len()
        ));
    }
    let total = plan.steps.len();
    for (i, step) in plan.steps.iter().enumerate() {
        if state.is_done(&step.id) {
            continue;
        }
        let n = i + 1;
        term.say(&format!("\n== step {n}/{total}: {} ==", step.title()));
        let action = step
            .action()
            .map_err(|e| crate::ceremony::error::refusal!("step {:?} {e}", step.id))?;
        match action {
            Action::Airgap => check_airgap(n, &step.id, request, &mut state.warnings, true, term)?,
            Action::Confirm(item) => {
                let a = answers.get(
                    &step.id,
                    &format!("[ ] {item}\n    Type 'yes' when done:"),
                    term,
                )?;
                if a != "yes" {
                    bail!("step {n} ({}) not confirmed (answer {a:?}); nothing more was done. Run again to resume here", step.id);
                }
            }
            Action::Ask(question) => {
                let a = answers.get(&step.id, &format!("{question}:"), term)?;
                if a.is_empty() {
                    bail!(
                        "step {n} ({}): an answer is needed; run again to resume here",
                        step.id
                    );
                }
                state.answers.insert(step.id.clone(), a);
            }
            Action::Run(args) => {
                check_airgap(n, &step.id, request, &mut state.warnings, false, term)?;
                let mut vars = plan.vars.clone();
                vars.extend(state.answers.clone());
                let env = |name: &str| std::env::var(name).ok();
                let mut argv: Vec<String> = args
                    .iter()
                    .map(|a| expand(&step.id, a, &vars, &env))
                    .collect::<Result<_, _>>()?;
                if step.record {
                    argv.extend(record_arguments(&vars));
                }
                // A step that signs is confirmed at the command's own
                // prompt by the people in the room; only an answers file
                // saying `step = "yes"` (a rehearsal) runs it with --yes.
                if let Some(path) = answers.rehearsal_yes(&step.id) {
                    term.say(&format!(
                        "step {n} ({}) confirmed by the answers file {} (`{} = \"yes\"`), not at the terminal: the command shows its plan and runs with --yes",
                        step.id,
                        path.display(),
                        step.id
                    ));
                    argv.push("--yes".into());
                }
                term.say(&format!("$ locksmith {}", argv.join(" ")));
                let mut cmd = std::process::Command::new(&request.exe);
                cmd.args(&argv);
                if request.allow_network {
                    cmd.env("LOCKSMITH_ALLOW_NETWORK", "true");
                    cmd.env(AIRGAP_REPORTED_ENV, "1");
                }
                let status = cmd
                    .status()
                    .with_context(|| format!("starting {}", request.exe.display()))?;
                if status.code() == Some(i32::from(INTERRUPTED_EXIT)) {
                    return Err(crate::ceremony::Error::from(TerminalError::StepInterrupted(
                        format!("`locksmith {}`", command_words(&argv)),
                    ))
                    .context(format!(
                        "stopped at step {n} ({}); the step is not marked done. \
                         Run the plan again to resume at this step",
                        step.id
                    )));
                }
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
        term.say(&format!("step {n}/{total} done ({})", step.id));
        if request.stop_after == Some(n) {
            term.say(&format!("LOCKSMITH_PLAN_STOP_AFTER={n}: stopping here"));
            return Ok(PlanOutcome::Stopped { after: n });
        }
    }
    Ok(PlanOutcome::Complete {
        name: plan.name,
        steps: total,
        done: state.done,
        state: state_path,
    })
}

/// The command words of a step's arguments (`lock init`, `token
/// generate`): those before the first option, at most three.
fn command_words(argv: &[String]) -> String {
    argv.iter()
        .take_while(|a| !a.starts_with('-'))
        .take(3)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `--operator` and `--witness` arguments from the plan's (or the
/// answers') `operator` and comma-separated `witnesses`.
fn record_arguments(vars: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(op) = vars.get("operator") {
        out.push(format!("--operator={op}"));
    }
    for w in vars
        .get("witnesses")
        .map(|w| w.split(','))
        .into_iter()
        .flatten()
    {
        if !w.trim().is_empty() {
            out.push(format!("--witness={}", w.trim()));
        }
    }
    out
}

/// A plan's air-gap check: it always checks and reports what it found;
/// with `allow_network` a machine that is not air-gapped is a warning,
/// said once per plan and recorded in the plan state, else a refusal.
fn check_airgap(
    n: usize,
    step_id: &str,
    request: &PlanRequest,
    warnings: &mut Vec<String>,
    announce: bool,
    term: &mut dyn Terminal,
) -> crate::ceremony::error::Result<()> {
    let Some(problem) = airgap::problem_in(&request.airgap_root) else {
        if announce {
            term.say(&format!(
                "air gap verified: no network interface other than loopback is up (checked {})",
                airgap::checked_in(&request.airgap_root)
            ));
        }
        return Ok(());
    };
    if !request.allow_network {
        bail!(
            "stopped at step {n} ({step_id}): this machine is not air-gapped: {problem}. \
             Take them down (ip link set DEV down), then run the plan again to resume; --allow-network overrides"
        );
    }
    let warning = format!("air gap NOT verified: {problem}; continuing because of --allow-network");
    if !warnings.contains(&warning) {
        term.say(&format!(
            "WARNING: {warning} (recorded in the plan state and in each command's transcript record)"
        ));
        warnings.push(warning);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceremony::terminal::{Answer, Scripted};

    fn request(dir: &Path, plan: &str, answers: Option<&str>) -> PlanRequest {
        let path = dir.join("plan.toml");
        std::fs::write(&path, plan).unwrap();
        let answers = answers.map(|a| {
            let p = dir.join("answers.toml");
            std::fs::write(&p, a).unwrap();
            p
        });
        // A fake /sys/class/net with loopback only: an air gap.
        let net = dir.join("net/lo");
        std::fs::create_dir_all(&net).unwrap();
        std::fs::write(net.join("flags"), "0x9\n").unwrap();
        std::fs::write(net.join("operstate"), "unknown\n").unwrap();
        PlanRequest {
            plan: path,
            state: None,
            answers,
            allow_network: false,
            airgap_root: dir.join("net"),
            // A `run` step in these tests starts `true`/`false`, not locksmith.
            exe: PathBuf::from("true"),
            stop_after: None,
        }
    }

    const PLAN: &str = r#"
name = "unit plan"
[[step]]
id = "bags"
confirm = "the tamper-evident bags are sealed"
[[step]]
id = "operator"
ask = "Operator name"
[[step]]
id = "sign"
run = ["lock", "status"]
"#;

    #[test]
    fn a_plan_answered_from_the_terminal_runs_to_the_end_and_records_each_step() {
        let dir = tempfile::tempdir().unwrap();
        let req = request(dir.path(), PLAN, None);
        let mut term = Scripted::new([Answer::Text("yes".into()), Answer::Text("Ada".into())]);
        let outcome = run(&req, &mut term).unwrap();
        let PlanOutcome::Complete { done, steps, .. } = outcome else {
            panic!("not complete: {outcome:?}")
        };
        assert_eq!(steps, 3);
        assert_eq!(done, ["bags", "operator", "sign"]);
        let state = std::fs::read_to_string(default_state_path(&req.plan)).unwrap();
        assert!(state.contains("\"Ada\""), "{state}");
    }

    #[test]
    fn an_unconfirmed_step_stops_the_run_and_the_same_run_resumes_there() {
        let dir = tempfile::tempdir().unwrap();
        let req = request(dir.path(), PLAN, None);
        let mut term = Scripted::new([Answer::Text("no".into())]);
        let err = run(&req, &mut term).unwrap_err().to_string();
        assert!(err.contains("step 1 (bags) not confirmed"), "{err}");
        assert!(!default_state_path(&req.plan).exists());

        let mut term = Scripted::new([Answer::Text("yes".into())]);
        let err = format!("{:#}", run(&req, &mut term).unwrap_err());
        assert!(err.contains("step \"operator\""), "{err}");
        let mut term = Scripted::new([Answer::Text("Ada".into())]);
        assert!(matches!(
            run(&req, &mut term).unwrap(),
            PlanOutcome::Complete { .. }
        ));
    }

    #[test]
    fn a_failed_command_is_not_marked_done_and_stop_after_stops_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let mut req = request(
            dir.path(),
            PLAN,
            Some("bags = \"yes\"\noperator = \"Ada\"\nsign = \"yes\"\n"),
        );
        req.exe = PathBuf::from("false");
        let err = run(&req, &mut Scripted::none()).unwrap_err().to_string();
        assert!(err.contains("stopped at step 3 (sign)"), "{err}");
        assert!(err.contains("locksmith lock status --yes"), "{err}");
        let state = std::fs::read_to_string(default_state_path(&req.plan)).unwrap();
        assert!(!state.contains("\"sign\""), "{state}");

        req.exe = PathBuf::from("true");
        req.stop_after = Some(3);
        assert_eq!(
            run(&req, &mut Scripted::none()).unwrap(),
            PlanOutcome::Stopped { after: 3 }
        );
    }

    #[test]
    fn a_command_interrupted_at_its_prompt_is_reported_as_an_interruption() {
        let dir = tempfile::tempdir().unwrap();
        let mut req = request(
            dir.path(),
            PLAN,
            Some("bags = \"yes\"\noperator = \"Ada\"\nsign = \"yes\"\n"),
        );
        // A stand-in for locksmith that exits as an interrupted command does.
        let exe = dir.path().join("interrupted.sh");
        std::fs::write(&exe, format!("#!/bin/sh\nexit {INTERRUPTED_EXIT}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        req.exe = exe;
        let err = run(&req, &mut Scripted::none()).unwrap_err();
        assert!(err.is_interruption(), "{err:#}");
        let text = format!("{err:#}");
        assert!(
            text.contains("stopped at step 3 (sign)")
                && text.contains("`locksmith lock status` was interrupted at one of its prompts")
                && text.contains("Run the plan again to resume at this step"),
            "{text}"
        );
        let state = std::fs::read_to_string(default_state_path(&req.plan)).unwrap();
        assert!(!state.contains("\"sign\""), "{state}");
        // A plain failure is not an interruption.
        req.exe = PathBuf::from("false");
        let err = run(&req, &mut Scripted::none()).unwrap_err();
        assert!(!err.is_interruption(), "{err:#}");
    }

    #[test]
    fn a_missing_answer_names_the_step_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let req = request(dir.path(), PLAN, Some("bags = \"yes\"\n"));
        let err = run(&req, &mut Scripted::none()).unwrap_err().to_string();
        assert!(err.contains("no answer for step \"operator\""), "{err}");
        assert!(err.contains("answers.toml"), "{err}");
    }

    #[test]
    fn an_interface_up_stops_the_plan_unless_allowed_and_then_warns_once() {
        let dir = tempfile::tempdir().unwrap();
        let plan = "name = \"p\"\n[[step]]\nid = \"gap\"\nairgap = true\n[[step]]\nid = \"again\"\nairgap = true\n";
        let mut req = request(dir.path(), plan, None);
        let eth = dir.path().join("net/eth0");
        std::fs::create_dir_all(&eth).unwrap();
        std::fs::write(eth.join("flags"), "0x1003\n").unwrap();
        std::fs::write(eth.join("operstate"), "up\n").unwrap();
        let err = run(&req, &mut Scripted::none()).unwrap_err().to_string();
        assert!(
            err.contains("not air-gapped: network interface(s) up: eth0"),
            "{err}"
        );

        req.allow_network = true;
        let mut term = Scripted::none();
        assert!(matches!(
            run(&req, &mut term).unwrap(),
            PlanOutcome::Complete { .. }
        ));
        let warnings = term
            .transcript
            .iter()
            .filter(|l| l.starts_with("WARNING: air gap NOT verified"))
            .count();
        assert_eq!(warnings, 1, "{:?}", term.transcript);
        let state = std::fs::read_to_string(default_state_path(&req.plan)).unwrap();
        assert!(state.contains("air gap NOT verified"), "{state}");
    }

    #[test]
    fn an_air_gapped_machine_is_reported_with_what_was_checked() {
        let dir = tempfile::tempdir().unwrap();
        let req = request(
            dir.path(),
            "name = \"p\"\n[[step]]\nid = \"gap\"\nairgap = true\n",
            None,
        );
        let mut term = Scripted::none();
        run(&req, &mut term).unwrap();
        assert!(
            term.transcript
                .iter()
                .any(|l| l.starts_with("air gap verified") && l.contains("lo (unknown)")),
            "{:?}",
            term.transcript
        );
    }

    #[test]
    fn operator_and_witnesses_become_record_arguments() {
        let vars: BTreeMap<String, String> = [
            ("operator".to_string(), "Ada".to_string()),
            ("witnesses".to_string(), "Bo, ,Cy".to_string()),
        ]
        .into();
        assert_eq!(
            record_arguments(&vars),
            ["--operator=Ada", "--witness=Bo", "--witness=Cy"]
        );
    }
}
