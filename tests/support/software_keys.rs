//! The CLI with software keys, as the end-to-end tests of the signing
//! commands drive it: the binary, key files, and a store made by `lock
//! init`. Software keys only (NOT HARDWARE-BACKED): no device needed.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::Path;

/// The pipeline's failure-injection hook (src/ceremony/pipeline.rs).
pub const FAIL_AFTER: &str = "LOCKSMITH_TEST_FAIL_AFTER";

/// The locksmith binary, with no store and no failure hook taken from the
/// environment (a test sets the hook on the one run it means to fail).
pub fn locksmith() -> Command {
    let mut c = Command::cargo_bin("locksmith").expect("binary");
    c.env_remove("LOCKSMITH_STORE");
    c.env_remove(FAIL_AFTER);
    c
}

/// Generates a software key file `dir/name` whose passphrase is the file
/// `dir/pw` (written by the caller); returns its signer spec.
pub fn key_file(dir: &Path, name: &str) -> String {
    let spec = format!(
        "file:{}?pin-source=file:{}",
        dir.join(name).display(),
        dir.join("pw").display()
    );
    locksmith()
        .args(["token", "generate", "--signer", &spec, "--label", name])
        .assert()
        .success();
    spec
}

/// `lock init` of a store signed by `signers` (one vote each) with one
/// disablement secret, shown on standard output and not kept.
pub fn init_store(store: &str, signers: &[&str]) {
    let mut args = vec!["lock", "init"];
    for s in signers {
        args.extend(["--signer", s]);
    }
    args.extend([
        "--gen-disablements",
        "1",
        "--reveal-secrets",
        "--yes",
        "--store",
        store,
    ]);
    let out = locksmith().args(&args).output().expect("run lock init");
    assert!(
        out.status.success(),
        "lock init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file under `dir` with a hash of its bytes, sorted. Advisory lock
/// files (`lock`, `*.lock`) and the store's verified cache (written by any
/// command that loads the store, src/store/verified_cache.rs) are not
/// outputs and are left out.
pub fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, u64)> {
    use std::hash::{Hash, Hasher};
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.expect("entry").path();
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if p.is_dir() {
                out.push((p.clone(), 0));
                todo.push(p);
            } else if name != "lock" && !name.ends_with(".lock") && name != "verified-cache" {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).unwrap_or_default().hash(&mut h);
                out.push((p, h.finish()));
            }
        }
    }
    out.sort();
    out
}
