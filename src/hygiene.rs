//! Process hardening at start-up: no core dumps, not ptrace-attachable by
//! other processes of the same user, and memory locked where the OS allows,
//! so that PINs, passphrases, disablement secrets and software key seeds
//! are not written to a core file or to swap.
//!
//! Everything here is best effort: a step the OS refuses is reported in
//! the returned [`HardeningReport`], never fatal. All calls go through the
//! safe wrappers of `rustix` (no `unsafe` in this crate).
//!
//! Call [`harden_process`] first thing in `main`, before any secret exists.

use std::fmt;

/// What one hardening step achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The step took effect.
    Done,
    /// The step was not attempted, and why.
    Skipped(String),
    /// The OS refused the step, and what it said.
    Failed(String),
}

impl Step {
    /// True when the step took effect.
    pub fn is_done(&self) -> bool {
        matches!(self, Step::Done)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Done => f.write_str("done"),
            Step::Skipped(why) => write!(f, "skipped: {why}"),
            Step::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// The outcome of [`harden_process`], step by step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardeningReport {
    /// `RLIMIT_CORE` set to 0 (soft and hard): no core file is written.
    pub core_limit_zero: Step,
    /// `prctl(PR_SET_DUMPABLE, 0)`: no core dump, and `/proc/PID/mem` and
    /// ptrace are closed to other processes of the same user.
    pub not_dumpable: Step,
    /// `mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)`: memory never
    /// goes to swap.
    pub memory_locked: Step,
}

impl HardeningReport {
    /// One line per step that did not take effect, for a `--verbose` note
    /// or a warning before a ceremony; empty when all took effect.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, step, advice) in [
            (
                "core dumps not disabled (RLIMIT_CORE)",
                &self.core_limit_zero,
                "run `ulimit -c 0` before locksmith",
            ),
            (
                "process still dumpable (PR_SET_DUMPABLE)",
                &self.not_dumpable,
                "disable core dumps system-wide (sysctl kernel.core_pattern=|/bin/false)",
            ),
            (
                "memory not locked (mlockall)",
                &self.memory_locked,
                "run as root, raise the limit (`ulimit -l unlimited`), or disable swap on the ceremony machine",
            ),
        ] {
            if !step.is_done() {
                out.push(format!("{name}: {step}; {advice}"));
            }
        }
        out
    }
}

/// Disables core dumps, makes the process non-dumpable and locks its
/// memory where the OS allows. Never fails; see the report for what took
/// effect. Call it once, at the start of `main`.
pub fn harden_process() -> HardeningReport {
    let report = HardeningReport {
        core_limit_zero: disable_core_limit(),
        not_dumpable: set_not_dumpable(),
        memory_locked: lock_memory(),
    };
    let _ = REPORT.set(report.clone());
    report
}

/// The report of the [`harden_process`] call of this process, if any.
static REPORT: std::sync::OnceLock<HardeningReport> = std::sync::OnceLock::new();
/// Set once the warnings were printed, so a batch of PIN prompts shows them once.
static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The lines [`before_secret_input`] prints: `None` when hardening was
/// never attempted in this process (library use) or every step took effect.
pub fn secret_input_warning(report: &HardeningReport) -> Option<String> {
    let warnings = report.warnings();
    if warnings.is_empty() {
        return None;
    }
    let mut text = String::from(
        "WARNING: process hardening is incomplete, so the secret you are about to enter could \
         reach a core dump or swap:\n",
    );
    for w in warnings {
        text.push_str(&format!("  - {w}\n"));
    }
    Some(text)
}

/// Call right before a PIN, passphrase or secret is asked for or read:
/// prints (once per process, on standard error) which hardening steps did
/// not take effect, so the operator knows before typing the first PIN.
pub fn before_secret_input() {
    let Some(report) = REPORT.get() else {
        return;
    };
    if WARNED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    if let Some(text) = secret_input_warning(report) {
        eprint!("{text}");
    }
}

#[cfg(unix)]
fn disable_core_limit() -> Step {
    use rustix::process::{setrlimit, Resource, Rlimit};
    let zero = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    match setrlimit(Resource::Core, zero) {
        Ok(()) => Step::Done,
        Err(e) => Step::Failed(format!("setrlimit(RLIMIT_CORE, 0): {e}")),
    }
}

#[cfg(not(unix))]
fn disable_core_limit() -> Step {
    Step::Skipped("not a Unix system".into())
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_not_dumpable() -> Step {
    use rustix::process::{set_dumpable_behavior, DumpableBehavior};
    match set_dumpable_behavior(DumpableBehavior::NotDumpable) {
        Ok(()) => Step::Done,
        Err(e) => Step::Failed(format!("prctl(PR_SET_DUMPABLE, 0): {e}")),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn set_not_dumpable() -> Step {
    Step::Skipped("PR_SET_DUMPABLE exists on Linux only".into())
}

/// Locks memory only when the lock cannot later make allocations fail:
/// with `MCL_FUTURE`, every new mapping counts against `RLIMIT_MEMLOCK`,
/// and an ordinary user's limit (often 8 MiB) is smaller than an Argon2 or
/// image-decoding buffer. So: only as root (`CAP_IPC_LOCK` ignores the
/// limit) or when the limit is unlimited. `MCL_ONFAULT` locks pages as
/// they are touched instead of faulting in every reserved mapping.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn lock_memory() -> Step {
    use rustix::mm::{mlockall, MlockAllFlags};
    use rustix::process::{geteuid, getrlimit, Resource};
    let limit = getrlimit(Resource::Memlock).current;
    if !geteuid().is_root() && limit.is_some() {
        return Step::Skipped(format!(
            "RLIMIT_MEMLOCK is {} bytes and locking all memory could make later allocations fail",
            limit.unwrap_or(0)
        ));
    }
    match mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT) {
        Ok(()) => Step::Done,
        Err(e) => Step::Failed(format!("mlockall: {e}")),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn lock_memory() -> Step {
    Step::Skipped("memory locking is implemented for Linux only".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_name_each_step_not_done() {
        let report = HardeningReport {
            core_limit_zero: Step::Done,
            not_dumpable: Step::Failed("EPERM".into()),
            memory_locked: Step::Skipped("limit".into()),
        };
        let w = report.warnings();
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("PR_SET_DUMPABLE") && w[0].contains("EPERM"));
        assert!(w[1].contains("mlockall") && w[1].contains("ulimit -l"));
        let text = secret_input_warning(&report).expect("a warning");
        assert!(
            text.starts_with("WARNING: process hardening is incomplete"),
            "{text}"
        );
        assert!(
            text.contains("PR_SET_DUMPABLE") && text.contains("mlockall"),
            "{text}"
        );
        let all_done = HardeningReport {
            core_limit_zero: Step::Done,
            not_dumpable: Step::Done,
            memory_locked: Step::Done,
        };
        assert_eq!(secret_input_warning(&all_done), None);
    }
}
