//! The exchange formats reach every reader: QR images with the global
//! `--qr-in`, and `locksmith online export` envelopes as chain inputs.

use assert_cmd::Command;
use std::path::PathBuf;

fn samples(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/upstream/samples")
        .join(rel)
        .display()
        .to_string()
}

fn locksmith() -> Command {
    Command::cargo_bin("locksmith").expect("binary")
}

#[test]
fn inspect_reads_a_recovery_blob_from_qr_frames() {
    let dir = tempfile::tempdir().expect("tempdir");
    let frames = dir.path().join("rec");
    locksmith()
        .args([
            "exchange",
            "encode",
            &samples("recovery-2sig.aum"),
            "--qr",
            "png",
            "--out",
        ])
        .arg(&frames)
        .assert()
        .success();
    let out = locksmith()
        .args(["--qr-in", "inspect", "--json"])
        .arg(&frames)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v["hash"],
        "32R7SXGIFUHPE53PMGNPYXNKSED74VUAIXOIGBQWAKAYQNUZHVLQ"
    );
    assert_eq!(v["encoding"], "locksmith exchange envelope");
}

#[test]
fn an_online_export_is_a_chain_and_a_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let export = dir.path().join("export.lks");
    locksmith()
        .args([
            "online",
            "export",
            "--status",
            &samples("lock-status.json"),
            "--log",
            &samples("lock-log.json"),
            "--out",
        ])
        .arg(&export)
        .arg("--state")
        .arg(dir.path().join("state"))
        .assert()
        .success();
    let out = locksmith()
        .args(["lock", "status", "--json", "--chain"])
        .arg(&export)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v["head"],
        "PJG322C5PKVOBXAYXCQF4YHXYST2JA37NFWPQSLRNSGPSVHPDS5Q"
    );
    // Imported into a store pinned to the sample's genesis.
    let store = dir.path().join("store");
    locksmith()
        .args(["lock", "import", "--init", "--store"])
        .arg(&store)
        .arg(samples("chain/0000-checkpoint.aum"))
        .assert()
        .success();
    let out = locksmith()
        .args(["lock", "import", "--json", "--store"])
        .arg(&store)
        .arg(&export)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["added"], 5);
    assert_eq!(
        v["head"],
        "PJG322C5PKVOBXAYXCQF4YHXYST2JA37NFWPQSLRNSGPSVHPDS5Q"
    );
}

#[test]
fn finish_writes_the_raw_blob_and_an_envelope() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = dir.path().join("recovery.aum");
    let env = dir.path().join("recovery.lks");
    locksmith()
        .args([
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--finish",
            &samples("recovery-2sig.aum"),
            "--chain",
            &samples("chain"),
            "--unpinned",
            "--out",
        ])
        .arg(&raw)
        .arg("--envelope-out")
        .arg(&env)
        .assert()
        .success();
    let raw_bytes = std::fs::read(&raw).expect("raw");
    let env_bytes = std::fs::read(&env).expect("envelope");
    assert!(locksmith::exchange::is_envelope(&env_bytes));
    let unwrapped = locksmith::exchange::Envelope::from_bytes(&env_bytes, "t").expect("envelope");
    assert_eq!(unwrapped.payload, raw_bytes);
    assert_eq!(
        unwrapped.kind,
        locksmith::exchange::ArtifactKind::RecoveryAum
    );
}
