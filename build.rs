//! Build information for `locksmith --version`: git commit (when built
//! from a git checkout with `git` on PATH), target, profile and enabled
//! features, passed to the crate as `LOCKSMITH_BUILD_*` environment
//! variables (read with `env!` in src/build_info.rs).
//!
//! Shell completions and man pages are not made here: the binary writes
//! them from its own clap definition (`locksmith completions SHELL`,
//! `locksmith man DIR`), so they cannot drift from it.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(c) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
            if dirty {
                format!("{c}-dirty")
            } else {
                c
            }
        }
        None => {
            // A path that never exists: Cargo re-runs a build script whose
            // rerun-if-changed path is missing, so a target directory first
            // built without git (an archive, git not on PATH) does not keep
            // "unknown" once it builds a checkout.
            if let Ok(out) = std::env::var("OUT_DIR") {
                println!("cargo:rerun-if-changed={out}/no-git-commit-yet");
            }
            "unknown (not built from a git checkout)".to_string()
        }
    };
    // Rebuild when HEAD moves. A worktree's `.git` is a file; ask git where
    // its HEAD and refs live.
    if let Some(head) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &reference]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(index) = git(&["rev-parse", "--git-path", "index"]) {
        println!("cargo:rerun-if-changed={index}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let mut features: Vec<String> = std::env::vars()
        .filter_map(|(k, _)| {
            k.strip_prefix("CARGO_FEATURE_")
                .map(|f| f.to_lowercase().replace('_', "-"))
        })
        .collect();
    features.sort();
    let features = if features.is_empty() {
        "none".to_string()
    } else {
        features.join(",")
    };

    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());

    println!("cargo:rustc-env=LOCKSMITH_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=LOCKSMITH_BUILD_TARGET={target}");
    println!("cargo:rustc-env=LOCKSMITH_BUILD_PROFILE={profile}");
    println!("cargo:rustc-env=LOCKSMITH_BUILD_FEATURES={features}");
    println!("cargo:rustc-env=LOCKSMITH_BUILD_RUSTC={rustc_version}");
}
