//! Ceremony plans: a declarative TOML file listing the steps of a ceremony
//! (checklist confirmations, questions, air-gap checks and locksmith
//! commands), and the state file that records which steps are done so an
//! interrupted ceremony resumes where it stopped.
//!
//! ```toml
//! name = "Tailnet lock init"
//! [vars]
//! store = "/media/ceremony/authority"
//! [[step]]
//! id = "airgap"
//! airgap = true
//! [[step]]
//! id = "bags"
//! confirm = "The token bag serial numbers match the custody log"
//! [[step]]
//! id = "operator"
//! ask = "Operator's name"
//! [[step]]
//! id = "init"
//! run = ["lock", "init", "--store", "${store}", "--signer", "${signer}"]
//! record = true
//! ```
//!
//! A step is exactly one of `airgap`, `confirm`, `ask` or `run`. `ask`
//! stores the answer in the variable named by the step's `id`. `run` args
//! may use `${var}` (plan `[vars]` or an earlier answer) and `${env:NAME}`.
//! `record = true` appends `--operator ${operator}` and one `--witness` per
//! comma-separated name in `${witnesses}`. A `run` step may not contain
//! `--yes`: a command that signs shows its plan and is confirmed by the
//! people in the room at its own prompt; only `ceremony run --answers FILE`
//! with `step-id = "yes"` runs it with `--yes` (rehearsals and tests).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// Why a plan or state file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("plan {path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("state file {path} was written for another version of the plan (plan SHA-256 {expected}, now {actual}); finish the ceremony with the original plan, or start over with a new --state file")]
    PlanChanged {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("step {step}: {reason}")]
    Step { step: String, reason: String },
}

/// A parsed plan.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// One step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Check the air gap (stop when an interface is up).
    #[serde(default)]
    pub airgap: bool,
    /// A checklist item the operator must confirm with `yes`.
    #[serde(default)]
    pub confirm: Option<String>,
    /// A question whose answer becomes the variable `id`.
    #[serde(default)]
    pub ask: Option<String>,
    /// A locksmith command line (without the program name).
    #[serde(default)]
    pub run: Option<Vec<String>>,
    /// Append `--operator`/`--witness` from the answers.
    #[serde(default)]
    pub record: bool,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    Airgap,
    Confirm(&'a str),
    Ask(&'a str),
    Run(&'a [String]),
}

impl Step {
    /// The step's single action.
    pub fn action(&self) -> Result<Action<'_>, String> {
        let mut actions = Vec::new();
        if self.airgap {
            actions.push(Action::Airgap);
        }
        if let Some(c) = &self.confirm {
            actions.push(Action::Confirm(c));
        }
        if let Some(a) = &self.ask {
            actions.push(Action::Ask(a));
        }
        if let Some(r) = &self.run {
            actions.push(Action::Run(r));
        }
        match actions.len() {
            1 => Ok(actions.remove(0)),
            0 => Err("has no action: give one of airgap = true, confirm, ask or run".into()),
            _ => Err(
                "has more than one action: give exactly one of airgap, confirm, ask or run".into(),
            ),
        }
    }

    /// A title for prompts.
    pub fn title(&self) -> String {
        self.title.clone().unwrap_or_else(|| self.id.clone())
    }
}

impl Plan {
    /// Parses and checks a plan.
    pub fn parse(name: &str, text: &str) -> Result<Plan, PlanError> {
        let invalid = |reason: String| PlanError::Invalid {
            path: name.to_string(),
            reason,
        };
        crate::limits::check_text(
            text.as_bytes(),
            "the plan",
            crate::limits::Syntax::Toml,
            crate::limits::MAX_PLAN_BYTES,
            crate::limits::MAX_PLAN_DEPTH,
        )
        .map_err(invalid)?;
        let plan: Plan = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if plan.steps.is_empty() {
            return Err(invalid("no [[step]] entries".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in plan.steps.iter().enumerate() {
            if s.id.is_empty()
                || !s
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(invalid(format!(
                    "step {}: id {:?} must be letters, digits, '-' or '_'",
                    i + 1,
                    s.id
                )));
            }
            if !seen.insert(s.id.clone()) {
                return Err(invalid(format!("step id {:?} is used twice", s.id)));
            }
            s.action()
                .map_err(|e| invalid(format!("step {:?} {e}", s.id)))?;
            if let Some(flag) = s
                .run
                .iter()
                .flatten()
                .find(|a| *a == "--yes" || *a == "-y" || a.starts_with("--yes="))
            {
                return Err(invalid(format!(
                    "step {:?}: {flag} in a run step would sign without the people in the room \
                     confirming; remove it (the command shows its plan and asks for a typed \
                     `yes`; a rehearsal answers `{} = \"yes\"` in --answers FILE)",
                    s.id, s.id
                )));
            }
            if s.record && s.run.is_none() {
                return Err(invalid(format!("step {:?}: record = true needs run", s.id)));
            }
        }
        Ok(plan)
    }
}

/// The SHA-256 of the plan's bytes, binding a state file to its plan.
pub fn plan_hash(text: &[u8]) -> String {
    crate::tka::hex::lower(&Sha256::digest(text))
}

/// Progress through a plan, saved after every completed step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanState {
    pub plan_sha256: String,
    pub done: Vec<String>,
    pub answers: BTreeMap<String, String>,
    /// Findings the run went past (the air gap with --allow-network).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl PlanState {
    /// Loads the state for `plan_sha256` from `path`, or a fresh one if the file does not exist.
    pub fn load(path: &Path, plan_sha256: &str) -> Result<PlanState, PlanError> {
        let shown = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(PlanState {
                    plan_sha256: plan_sha256.to_string(),
                    ..Default::default()
                })
            }
            Err(e) => {
                return Err(PlanError::Io {
                    path: shown,
                    reason: e.to_string(),
                })
            }
        };
        crate::limits::check_text(
            &bytes,
            "the state file",
            crate::limits::Syntax::Json,
            crate::limits::MAX_PLAN_STATE_BYTES,
            crate::limits::MAX_JSON_DEPTH,
        )
        .map_err(|reason| PlanError::Io {
            path: shown.clone(),
            reason,
        })?;
        let state: PlanState = serde_json::from_slice(&bytes).map_err(|e| PlanError::Io {
            path: shown.clone(),
            reason: format!("not a ceremony state file: {e}"),
        })?;
        if state.plan_sha256 != plan_sha256 {
            return Err(PlanError::PlanChanged {
                path: shown,
                expected: state.plan_sha256,
                actual: plan_sha256.to_string(),
            });
        }
        Ok(state)
    }

    /// Writes the state atomically (temporary file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<(), PlanError> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        crate::output::write_atomic(path, &bytes, true).map_err(|e| PlanError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    pub fn is_done(&self, id: &str) -> bool {
        self.done.iter().any(|d| d == id)
    }
}

/// Expands `${var}` and `${env:NAME}` in `arg`.
pub fn expand(
    step: &str,
    arg: &str,
    vars: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, PlanError> {
    let err = |reason: String| PlanError::Step {
        step: step.to_string(),
        reason,
    };
    let mut out = String::new();
    let mut rest = arg;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| err(format!("unclosed ${{ in argument {arg:?}")))?;
        let name = &after[..end];
        let value = match name.strip_prefix("env:") {
            Some(e) => env(e).ok_or_else(|| {
                err(format!("environment variable {e} is not set (used in {arg:?})"))
            })?,
            None => vars.get(name).cloned().ok_or_else(|| {
                err(format!(
                    "variable {name:?} is not defined in [vars] nor answered by an earlier ask step (used in {arg:?})"
                ))
            })?,
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_vars_and_env_and_names_what_is_missing() {
        let mut vars = BTreeMap::new();
        vars.insert("store".to_string(), "/s".to_string());
        let env = |n: &str| (n == "HOME").then(|| "/root".to_string());
        assert_eq!(
            expand("x", "a${store}b${env:HOME}", &vars, &env).unwrap(),
            "a/sb/root"
        );
        let e = expand("x", "${nope}", &vars, &env).unwrap_err().to_string();
        assert!(e.contains("\"nope\"") && e.contains("step x"), "{e}");
        assert!(expand("x", "${env:NOPE}", &vars, &env).is_err());
        assert!(expand("x", "${open", &vars, &env).is_err());
    }

    #[test]
    fn rejects_steps_with_no_or_two_actions_and_duplicate_ids() {
        let two = "name='p'\n[[step]]\nid='a'\nairgap=true\nconfirm='x'\n";
        assert!(Plan::parse("p", two)
            .unwrap_err()
            .to_string()
            .contains("more than one"));
        let none = "name='p'\n[[step]]\nid='a'\n";
        assert!(Plan::parse("p", none)
            .unwrap_err()
            .to_string()
            .contains("no action"));
        let dup = "name='p'\n[[step]]\nid='a'\nairgap=true\n[[step]]\nid='a'\nask='q'\n";
        assert!(Plan::parse("p", dup)
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }

    #[test]
    fn state_is_bound_to_its_plan() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("state.json");
        let mut s = PlanState::load(&p, "aa").unwrap();
        s.done.push("one".into());
        s.save(&p).unwrap();
        assert!(PlanState::load(&p, "aa").unwrap().is_done("one"));
        assert!(matches!(
            PlanState::load(&p, "bb"),
            Err(PlanError::PlanChanged { .. })
        ));
    }
}
