//! The air-gap round trip with requests and responses: the online helper
//! exports (a request with a nonce), the offline machine answers with a
//! signed recovery AUM, the online helper accepts only that answer and
//! prints the stock command; a second answer to the same request, or an
//! answer to an unknown request, is refused.

use assert_cmd::Command;
use std::path::Path;

fn locksmith() -> Command {
    Command::cargo_bin("locksmith").expect("binary")
}

fn key(dir: &Path, name: &str) -> String {
    let spec = format!(
        "file:{}?pin-source=file:{}",
        dir.join(name).display(),
        dir.join("pw").display()
    );
    locksmith()
        .args(["token", "generate", "--signer", &spec])
        .assert()
        .success();
    spec
}

#[test]
fn a_recovery_answers_the_online_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("pw"), "test passphrase").expect("pw");
    let a = key(d, "a.key");
    let store = d.join("store");
    let s = store.to_str().expect("path");
    locksmith()
        .args([
            "lock",
            "init",
            "--signer",
            &a,
            "--gen-disablements",
            "1",
            "--reveal-secrets",
            "--store",
            s,
            "--yes",
        ])
        .assert()
        .success();
    let other = format!("tlpub:{}", "ef".repeat(32));
    locksmith()
        .args(["lock", "add", &other, "--signer", &a, "--store", s, "--yes"])
        .assert()
        .success();
    // The online side exports its status and log as a request with a nonce
    // (the sample files stand in for what `tailscale` prints).
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/samples");
    let state = d.join("online-state");
    let export = d.join("export.lks");
    locksmith()
        .args(["online", "export", "--status"])
        .arg(samples.join("lock-status.json"))
        .arg("--log")
        .arg(samples.join("lock-log.json"))
        .arg("--out")
        .arg(&export)
        .arg("--state")
        .arg(&state)
        .assert()
        .success();
    let response = d.join("recovery.lks");
    locksmith()
        .args([
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            &other,
            "--signer",
            &a,
            "--store",
            s,
            "--yes",
            "--respond-to",
        ])
        .arg(&export)
        .arg("--out")
        .arg(&response)
        .assert()
        .success();
    // The response reads as the recovery AUM everywhere.
    let out = locksmith()
        .args(["inspect", "--json"])
        .arg(&response)
        .output()
        .expect("inspect");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["kind"], "checkpoint");
    // The online helper prints the stock command for it.
    let out = locksmith()
        .args(["online", "submit"])
        .arg(&response)
        .arg("--state")
        .arg(&state)
        .output()
        .expect("submit");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("tailscale lock revoke-keys --finish"),
        "{text}"
    );
    // Answering an unknown request is refused.
    let other_state = d.join("other-state");
    let out = locksmith()
        .args(["online", "submit"])
        .arg(&response)
        .arg("--state")
        .arg(&other_state)
        .output()
        .expect("submit");
    assert!(!out.status.success());
}
