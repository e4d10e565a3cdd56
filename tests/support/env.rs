//! Test helpers: whether to run tests that need system packages.
#![allow(dead_code)]

use std::path::Path;

/// True under CI (`CI=true`): missing packages are failures, not skips.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
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
    let msg = format!(
        "{test}: missing {} (install: {install})",
        missing.join(", ")
    );
    if in_ci() {
        panic!("CI=true and {msg}");
    }
    eprintln!("\n*** SKIPPED {msg} ***\n");
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
