//! Test helpers: whether to run tests that need system packages.
#![allow(dead_code)]

use std::path::Path;

/// True under CI (`CI=true`): missing packages are failures, not skips.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// A test that cannot run here: outside CI it is skipped loudly (a
/// banner on standard error); under CI (`CI=true`) the test fails, since
/// `.ci/install.sh` installs everything the tiers need.
pub fn skip(test: &str, reason: &str) {
    if in_ci() {
        panic!("CI=true and {test} cannot run: {reason}");
    }
    eprintln!("\n*** SKIPPED {test}: {reason} ***\n");
}

/// Whether `program` runs here (found on PATH and `program --version`
/// starts); when it does not, [`skip`]s (a failure under CI).
pub fn require_program(test: &str, program: &str, install: &str) -> bool {
    let runs = std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !runs {
        skip(
            test,
            &format!("{program} is not installed (install: {install})"),
        );
    }
    runs
}

/// Checks that every path exists. Outside CI a missing one skips the test
/// loudly (returns false); under CI it fails the test.
pub fn require(test: &str, paths: &[&str], install: &str) -> bool {
    let missing: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    skip(
        test,
        &format!("missing {} (install: {install})", missing.join(", ")),
    );
    false
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Removes `dir` once this (test) process has exited: fixtures kept in
/// statics are never dropped. Set LOCKSMITH_TEST_KEEP=1 to keep it (logs).
pub fn remove_after_exit(dir: &Path) {
    if std::env::var_os("LOCKSMITH_TEST_KEEP").is_some() {
        eprintln!("keeping test directory {}", dir.display());
        return;
    }
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; rm -rf '{}'",
            std::process::id(),
            dir.display()
        ))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// A command's exit status, standard output and standard error, for
/// assertion messages.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
