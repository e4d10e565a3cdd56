//! `lock init --await-custodians`: the new authority stays held back (no
//! signing, no online command) until every custodian has verified their
//! disablement secret, and `lock release` checks the record.

use assert_cmd::Command;

#[path = "support/env.rs"]
mod env;

fn locksmith() -> Command {
    Command::cargo_bin("locksmith").expect("binary")
}

#[test]
fn genesis_is_held_until_every_custodian_verified() {
    if !env::require_program(
        "genesis_is_held_until_every_custodian_verified",
        "age-keygen",
        "apt-get install age",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("pw"), "test passphrase").expect("pw");
    let signer = format!(
        "file:{}?pin-source=file:{}",
        d.join("a.key").display(),
        d.join("pw").display()
    );
    locksmith()
        .args(["token", "generate", "--signer", &signer])
        .assert()
        .success();
    let id = d.join("id.txt");
    assert!(std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(&id)
        .output()
        .expect("age-keygen")
        .status
        .success());
    let recipient = String::from_utf8(
        std::process::Command::new("age-keygen")
            .arg("-y")
            .arg(&id)
            .output()
            .expect("age-keygen")
            .stdout,
    )
    .expect("utf8");
    let store = d.join("store");
    let s = store.to_str().expect("path");
    let out = locksmith()
        .args([
            "lock",
            "init",
            "--signer",
            &signer,
            "--gen-disablements",
            "2",
            "--secrets-to",
            recipient.trim(),
            "--secrets-out",
        ])
        .arg(d.join("sec"))
        .args(["--store", s, "--await-custodians", "--yes"])
        .output()
        .expect("init");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("HELD BACK") && !text.contains("tailscale lock init"),
        "{text}"
    );

    let nk = format!("nodekey:{}", "ab".repeat(32));
    let out = locksmith()
        .args([
            "lock", "sign", &nk, "--signer", &signer, "--store", s, "--yes",
        ])
        .output()
        .expect("sign");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("held back"));

    let record = store.join("verifications.json");
    let mut files: Vec<_> = std::fs::read_dir(d.join("sec"))
        .expect("sec")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    // One custodian verified: release refuses, naming the missing secret.
    locksmith()
        .args(["secrets", "decrypt"])
        .arg(&files[0])
        .arg("-i")
        .arg(&id)
        .args(["--store", s, "--custodian", "alice", "--record"])
        .arg(&record)
        .assert()
        .success();
    let out = locksmith()
        .args(["lock", "release", "--store", s])
        .output()
        .expect("release");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("#2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Both verified: released, and the online command appears.
    locksmith()
        .args(["secrets", "decrypt"])
        .arg(&files[1])
        .arg("-i")
        .arg(&id)
        .args(["--store", s, "--custodian", "bob", "--record"])
        .arg(&record)
        .assert()
        .success();
    let out = locksmith()
        .args(["lock", "release", "--store", s])
        .output()
        .expect("release");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No online node key given: no stock line is printed (it would fail
    // upstream), and the output says what to pass instead.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("tailscale lock init --gen"), "{stdout}");
    assert!(stdout.contains("--online-node-key"), "{stdout}");
    locksmith()
        .args([
            "lock", "sign", &nk, "--signer", &signer, "--store", s, "--yes",
        ])
        .assert()
        .success();
}
