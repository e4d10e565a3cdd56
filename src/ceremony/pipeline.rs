//! The one pipeline every signing command runs through:
//!
//! 0. **recover**: an interrupted commit of an earlier run (its journal is
//!    still there) is undone first, so the store is as before that run;
//! 1. **preflight**: inputs read and validated, every output path checked,
//!    signers opened (the PIN prompts) and matched to trusted keys. No
//!    confirmation has been asked and nothing has been signed;
//! 2. **plan**: the exact bytes to sign, built by library code;
//! 3. **show**: one rendering of the plan; the same text goes into the
//!    transcript record as what was shown;
//! 4. **confirm**: a typed `yes`, or `--yes`;
//! 5. **sign**: on the token(s), every returned signature verified;
//! 6. **commit**: every output staged in one [`CommitUnit`] and written
//!    together (see [`super::commit`]).
//!
//! A failure at any stage leaves no output behind. Tests inject one after
//! each stage with [`Hooks`] (`LOCKSMITH_TEST_FAIL_AFTER=STAGE` for the
//! binary, or `rename:N` / `crash:N` / `staging:N` inside the commit).

use super::commit::{self, CommitError, CommitUnit, Committed, Fault};
use super::terminal::{confirmed, Terminal, TerminalError};
use std::path::PathBuf;

/// A stage of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Preflight,
    Plan,
    Show,
    Confirm,
    Sign,
    Commit,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Preflight,
        Stage::Plan,
        Stage::Show,
        Stage::Confirm,
        Stage::Sign,
        Stage::Commit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Preflight => "preflight",
            Stage::Plan => "plan",
            Stage::Show => "show",
            Stage::Confirm => "confirm",
            Stage::Sign => "sign",
            Stage::Commit => "commit",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The environment variable of the test hook.
pub const FAIL_AFTER_VAR: &str = "LOCKSMITH_TEST_FAIL_AFTER";

/// Injected failures (tests). Injecting a failure can only make a command
/// fail, never succeed, so the hook is safe to leave in release builds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hooks {
    /// Fail right after this stage completed.
    pub fail_after: Option<Stage>,
    /// A failure inside the commit.
    pub commit_fault: Option<Fault>,
}

impl Hooks {
    /// From `LOCKSMITH_TEST_FAIL_AFTER`: a stage name, or `staging:N`,
    /// `rename:N`, `crash:N` (see [`Fault`]). Unset or unknown: none.
    pub fn from_env() -> Self {
        std::env::var(FAIL_AFTER_VAR)
            .ok()
            .map(|v| Self::parse(&v))
            .unwrap_or_default()
    }

    pub fn parse(value: &str) -> Self {
        if let Some(stage) = Stage::ALL.iter().find(|s| s.name() == value) {
            return Hooks {
                fail_after: Some(*stage),
                commit_fault: None,
            };
        }
        let fault = value.split_once(':').and_then(|(kind, n)| {
            let n = n.parse().ok()?;
            match kind {
                "staging" => Some(Fault::ErrorAfterStaging(n)),
                "rename" => Some(Fault::ErrorAfterRename(n)),
                "crash" => Some(Fault::CrashAfterRename(n)),
                _ => None,
            }
        });
        Hooks {
            fail_after: None,
            commit_fault: fault,
        }
    }
}

/// What the show stage renders: the text, and the action the
/// confirmation names.
#[derive(Clone, Debug)]
pub struct Shown {
    pub text: String,
    pub action: String,
}

/// Why the pipeline stopped. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A stage failed; its message is the stage's own.
    #[error("{error:#}")]
    Step {
        stage: Stage,
        error: crate::ceremony::Error,
    },
    #[error("not confirmed: nothing was signed")]
    NotConfirmed,
    #[error("confirmation needed to {0}: review the summary above and run again with --yes (standard input is not a terminal)")]
    NeedsYes(String),
    #[error(transparent)]
    Terminal(#[from] TerminalError),
    #[error("nothing was written")]
    Commit(#[from] CommitError),
    #[error(
        "injected failure after the {0} stage (test hook {FAIL_AFTER_VAR}); nothing was written"
    )]
    Injected(Stage),
}

impl PipelineError {
    /// Whether the person stopped the command at a prompt (see
    /// [`crate::ceremony::Error::is_interruption`]).
    pub fn is_interruption(&self) -> bool {
        match self {
            PipelineError::Terminal(t) => t.is_interruption(),
            PipelineError::Step { error, .. } => error.is_interruption(),
            _ => false,
        }
    }

    /// The stage that failed, where known.
    pub fn stage(&self) -> Option<Stage> {
        match self {
            PipelineError::Step { stage, .. } | PipelineError::Injected(stage) => Some(*stage),
            PipelineError::NotConfirmed | PipelineError::NeedsYes(_) => Some(Stage::Confirm),
            PipelineError::Commit(_) => Some(Stage::Commit),
            PipelineError::Terminal(_) => None,
        }
    }
}

/// One signing command, as the pipeline drives it.
pub trait Ceremony {
    /// What the plan stage builds (the bytes to sign).
    type Plan;
    /// What the sign stage returns (verified signatures and signed artifacts).
    type Signed;

    /// Where this command's commit journal lives: a fixed path per store
    /// or per output, so the next run finds an interrupted commit.
    fn journal(&self) -> PathBuf;
    /// Whether the confirm stage asks for a typed `yes` (or `--yes`). Every
    /// command that changes an authority's state does; `revoke-keys
    /// --finish` signs nothing, and `token generate` (a new key on a token,
    /// which changes no authority) shows its plan and goes on. The confirm
    /// hook still runs.
    fn needs_confirmation(&self) -> bool {
        true
    }
    /// Reads and checks every input and every output path, opens the
    /// signers and matches them to trusted keys.
    fn preflight(&mut self, term: &mut dyn Terminal) -> crate::ceremony::error::Result<()>;
    /// Builds the exact bytes to sign.
    fn plan(&mut self) -> crate::ceremony::error::Result<Self::Plan>;
    /// Renders the plan (the text the transcript records as shown).
    fn show(&self, plan: &Self::Plan) -> Shown;
    /// Signs on the token(s) and verifies every returned signature.
    fn sign(&mut self, plan: Self::Plan) -> crate::ceremony::error::Result<Self::Signed>;
    /// Stages every output, the transcript record included.
    fn stage(
        &mut self,
        signed: &Self::Signed,
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> crate::ceremony::error::Result<()>;
}

/// How the pipeline runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `--yes`: confirmed without asking (the plan is still shown).
    pub yes: bool,
    pub hooks: Hooks,
}

/// What a completed run produced.
pub struct Completed<S> {
    pub signed: S,
    pub shown: Shown,
    pub committed: Committed,
}

/// Stage 0: undoes an interrupted commit of an earlier run whose journal
/// is still at `journal`, and says so on `term`.
pub fn recover(journal: &std::path::Path, term: &mut dyn Terminal) -> Result<(), CommitError> {
    if let Some(undone) = commit::recover(journal)? {
        term.say(&format!(
            "an earlier run was interrupted while writing its outputs; undid it ({} file(s) removed or restored, journal {}). Nothing of it remains; this run starts afresh.",
            undone.len(),
            journal.display()
        ));
    }
    Ok(())
}

/// Runs `ceremony` through every stage.
pub fn run<C: Ceremony>(
    ceremony: &mut C,
    term: &mut dyn Terminal,
    options: &Options,
) -> Result<Completed<C::Signed>, PipelineError> {
    let hooks = options.hooks;
    let after = |stage: Stage| -> Result<(), PipelineError> {
        if hooks.fail_after == Some(stage) {
            return Err(PipelineError::Injected(stage));
        }
        Ok(())
    };
    let step =
        |stage: Stage| move |error: crate::ceremony::Error| PipelineError::Step { stage, error };

    let journal = ceremony.journal();
    recover(&journal, term)?;
    ceremony.preflight(term).map_err(step(Stage::Preflight))?;
    after(Stage::Preflight)?;
    let plan = ceremony.plan().map_err(step(Stage::Plan))?;
    after(Stage::Plan)?;
    let shown = ceremony.show(&plan);
    term.say(&shown.text);
    after(Stage::Show)?;
    if !ceremony.needs_confirmation() {
        // Nothing is signed: nothing to confirm.
    } else if options.yes {
        term.say(&format!("--yes given: {} without asking", shown.action));
    } else if !term.interactive() {
        return Err(PipelineError::NeedsYes(shown.action.clone()));
    } else if !confirmed(term, &shown.action)? {
        return Err(PipelineError::NotConfirmed);
    }
    after(Stage::Confirm)?;
    let signed = ceremony.sign(plan).map_err(step(Stage::Sign))?;
    after(Stage::Sign)?;
    let mut unit = CommitUnit::new(journal);
    unit.inject(hooks.commit_fault);
    ceremony
        .stage(&signed, &shown, &mut unit)
        .map_err(step(Stage::Commit))?;
    let committed = unit.commit()?;
    after(Stage::Commit).inspect_err(|_| {
        // The hook after commit models a failure in what follows (printing):
        // the outputs stay, as they would.
    })?;
    Ok(Completed {
        signed,
        shown,
        committed,
    })
}

#[cfg(test)]
mod tests {
    use super::super::commit::{Existing, Parent};
    use super::super::terminal::{Answer, Scripted};
    use super::*;

    /// A ceremony that "signs" by hashing and writes two files.
    struct Toy {
        dir: PathBuf,
        preflighted: bool,
    }

    impl Ceremony for Toy {
        type Plan = Vec<u8>;
        type Signed = [u8; 32];
        fn journal(&self) -> PathBuf {
            self.dir.join("journal")
        }
        fn preflight(&mut self, _: &mut dyn Terminal) -> crate::ceremony::error::Result<()> {
            commit::check_target(&self.dir.join("out"), Existing::Refuse, Parent::MustExist)?;
            self.preflighted = true;
            Ok(())
        }
        fn plan(&mut self) -> crate::ceremony::error::Result<Vec<u8>> {
            Ok(b"to sign".to_vec())
        }
        fn show(&self, plan: &Vec<u8>) -> Shown {
            Shown {
                text: format!("about to sign {} bytes", plan.len()),
                action: "sign".into(),
            }
        }
        fn sign(&mut self, plan: Vec<u8>) -> crate::ceremony::error::Result<[u8; 32]> {
            use sha2::Digest;
            Ok(sha2::Sha256::digest(&plan).into())
        }
        fn stage(
            &mut self,
            s: &[u8; 32],
            shown: &Shown,
            unit: &mut CommitUnit,
        ) -> crate::ceremony::error::Result<()> {
            unit.add(
                self.dir.join("out"),
                s.to_vec(),
                Existing::Refuse,
                Parent::MustExist,
            )?;
            unit.add(
                self.dir.join("record"),
                shown.text.clone(),
                Existing::Replace,
                Parent::MustExist,
            )?;
            Ok(())
        }
    }

    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_failure_after_each_stage_writes_nothing_and_a_rerun_completes() {
        for stage in &Stage::ALL[..5] {
            let d = tempfile::tempdir().unwrap();
            let mut toy = Toy {
                dir: d.path().into(),
                preflighted: false,
            };
            let options = Options {
                yes: true,
                hooks: Hooks {
                    fail_after: Some(*stage),
                    commit_fault: None,
                },
            };
            let e = run(&mut toy, &mut Scripted::none(), &options)
                .err()
                .unwrap();
            assert_eq!(e.stage(), Some(*stage), "{e}");
            assert!(
                files(d.path()).is_empty(),
                "after {stage}: {:?}",
                files(d.path())
            );
            run(
                &mut toy,
                &mut Scripted::none(),
                &Options {
                    yes: true,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(files(d.path()), ["out", "record"]);
        }
    }

    #[test]
    fn a_crash_inside_the_commit_is_undone_by_the_next_run() {
        let d = tempfile::tempdir().unwrap();
        let mut toy = Toy {
            dir: d.path().into(),
            preflighted: false,
        };
        let crash = Options {
            yes: true,
            hooks: Hooks::parse("crash:1"),
        };
        assert!(run(&mut toy, &mut Scripted::none(), &crash).is_err());
        assert!(
            files(d.path()).contains(&"out".to_string()),
            "half written, as a kill leaves it"
        );
        let mut term = Scripted::none();
        run(
            &mut toy,
            &mut term,
            &Options {
                yes: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            term.transcript[0].contains("interrupted"),
            "{:?}",
            term.transcript
        );
        assert_eq!(files(d.path()), ["out", "record"]);
    }

    #[test]
    fn confirmation_is_a_typed_yes_and_ctrl_c_stops_before_signing() {
        let d = tempfile::tempdir().unwrap();
        let mut toy = Toy {
            dir: d.path().into(),
            preflighted: false,
        };
        let ask = Options::default();
        let e = run(
            &mut toy,
            &mut Scripted::new([Answer::Text("y".into())]),
            &ask,
        )
        .err()
        .unwrap();
        assert!(matches!(e, PipelineError::NotConfirmed), "{e}");
        let e = run(&mut toy, &mut Scripted::new([Answer::Interrupt]), &ask)
            .err()
            .unwrap();
        assert!(
            matches!(e, PipelineError::Terminal(TerminalError::Interrupted(_))),
            "{e}"
        );
        let e = run(&mut toy, &mut Scripted::none(), &ask).err().unwrap();
        assert!(matches!(e, PipelineError::NeedsYes(_)), "{e}");
        assert!(files(d.path()).is_empty());
        run(
            &mut toy,
            &mut Scripted::new([Answer::Text("yes".into())]),
            &ask,
        )
        .unwrap();
        assert_eq!(files(d.path()), ["out", "record"]);
        assert!(toy.preflighted);
        // An existing output is caught at preflight, before confirmation.
        let mut term = Scripted::new([Answer::Text("yes".into())]);
        let e = run(&mut toy, &mut term, &ask).err().unwrap();
        assert_eq!(e.stage(), Some(Stage::Preflight), "{e}");
        assert!(
            term.transcript.is_empty(),
            "nothing shown or asked: {:?}",
            term.transcript
        );
    }
}
