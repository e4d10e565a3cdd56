//! Bad inputs to the signing commands: each gives a clear error, a
//! non-zero exit, no panic, and writes no output file.

use std::path::PathBuf;

#[path = "support/software_keys.rs"]
mod software_keys;
use software_keys::{init_store, key_file, locksmith};

struct Fixture {
    dir: tempfile::TempDir,
    a: String,
    b: String,
    outsider: String,
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn store(&self) -> String {
        self.path("store").display().to_string()
    }
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pw"), "test passphrase").expect("pw");
    let a = key_file(dir.path(), "a.key");
    let b = key_file(dir.path(), "b.key");
    let outsider = key_file(dir.path(), "outsider.key");
    let f = Fixture {
        dir,
        a,
        b,
        outsider,
    };
    init_store(&f.store(), &[&f.a, &f.b]);
    f
}

/// Runs a failing command in a fresh working directory and checks the error.
fn fails(f: &Fixture, args: &[&str], stdin: Option<&str>, expect: &str) {
    let cwd = tempfile::tempdir().expect("cwd");
    let mut cmd = locksmith();
    cmd.current_dir(cwd.path())
        .args(args)
        .arg("--store")
        .arg(f.store());
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(
        stderr.contains(expect),
        "{args:?}: expected {expect:?} in:\n{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(cwd.path()).expect("cwd").collect();
    assert!(left.is_empty(), "{args:?} wrote files: {left:?}");
}

#[test]
fn signing_commands_reject_bad_inputs_clearly() {
    let f = fixture();
    let a = f.a.as_str();
    // Wrong hex in a node key.
    fails(
        &f,
        &[
            "lock",
            "sign",
            "nodekey:zz",
            "--signer",
            a,
            "--yes",
            "--out",
            "x.nks",
        ],
        None,
        "64 hex digits",
    );
    // A key that is not trusted by the authority signs.
    let nk = format!("nodekey:{}", "ab".repeat(32));
    fails(
        &f,
        &[
            "lock",
            "sign",
            &nk,
            "--signer",
            &f.outsider,
            "--yes",
            "--out",
            "x.nks",
        ],
        None,
        "not trusted by this authority",
    );
    fails(
        &f,
        &[
            "lock",
            "add",
            &format!("tlpub:{}", "cd".repeat(32)),
            "--signer",
            &f.outsider,
            "--yes",
            "--out",
            "d",
        ],
        None,
        "not trusted",
    );
    // Removing or updating a key the authority does not have.
    fails(
        &f,
        &[
            "lock",
            "remove",
            "--accept-lockout",
            "unknown",
            &format!("tlpub:{}", "cd".repeat(32)),
            "--signer",
            a,
            "--yes",
            "--out",
            "d",
        ],
        None,
        "failed reading key",
    );
    fails(
        &f,
        &[
            "lock",
            "update",
            &format!("tlpub:{}", "cd".repeat(32)),
            "--votes",
            "2",
            "--signer",
            a,
            "--yes",
        ],
        None,
        "failed reading key",
    );
    // Votes out of range.
    fails(
        &f,
        &[
            "lock",
            "add",
            &format!("tlpub:{}=5000", "cd".repeat(32)),
            "--signer",
            a,
            "--yes",
        ],
        None,
        "excessive key weight",
    );
    // Truncated CBOR as a recovery blob.
    fails(
        &f,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--cosign",
            "A401050258",
            "--signer",
            a,
            "--yes",
            "--out",
            "r.aum",
        ],
        None,
        "truncated",
    );
    // A blob from another authority (the shared sample's recovery AUM).
    let foreign = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/upstream/samples/recovery-2sig.cli.txt");
    fails(
        &f,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--cosign",
            &foreign.display().to_string(),
            "--signer",
            a,
            "--yes",
            "--out",
            "r.aum",
        ],
        None,
        "which this machine's authority does not know",
    );
    fails(
        &f,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--finish",
            &foreign.display().to_string(),
            "--out",
            "r.aum",
        ],
        None,
        "which this machine's authority does not know",
    );
    // No confirmation without a terminal.
    fails(
        &f,
        &["lock", "sign", &nk, "--signer", a, "--out", "x.nks"],
        Some(""),
        "run again with --yes",
    );
}

#[test]
fn recovery_refuses_a_duplicate_cosignature_and_an_insufficient_tally() {
    let f = fixture();
    // Add C (trusted, 2 votes) signed by A; then revoke C, started by B alone.
    let c = key_file(f.dir.path(), "c.key");
    let c_pub = String::from_utf8(
        locksmith()
            .args(["token", "show", "--signer", &c, "--json"])
            .output()
            .expect("show")
            .stdout,
    )
    .expect("utf8");
    let c_pub: serde_json::Value = serde_json::from_str(&c_pub).expect("json");
    let c_tlpub = c_pub["tlpub"].as_str().expect("tlpub").to_string();
    locksmith()
        .args([
            "lock",
            "add",
            &format!("{c_tlpub}=2"),
            "--signer",
            &f.a,
            "--signer",
            &f.b,
            "--yes",
            "--store",
            &f.store(),
        ])
        .assert()
        .success();
    let out = locksmith()
        .args([
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            &c_tlpub,
            "--signer",
            &f.b,
            "--yes",
            "--json",
            "--store",
            &f.store(),
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let blob = v["blob"].as_str().expect("blob").to_string();
    assert_eq!(
        v["enough"],
        serde_json::json!(false),
        "B's 1 vote cannot beat the add-key signed by A and B (2 votes)"
    );
    // B again: refused.
    fails(
        &f,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--cosign",
            &blob,
            "--signer",
            &f.b,
            "--yes",
            "--out",
            "r.aum",
        ],
        None,
        "already signed",
    );
    // Finishing now: refused, with the votes still needed.
    fails(
        &f,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--finish",
            &blob,
            "--out",
            "r.aum",
        ],
        None,
        "more vote(s) needed",
    );
    // A tampered signature is caught.
    let mut tampered = blob.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == '0' { '1' } else { '0' });
    fails(
        &f,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--cosign",
            &tampered,
            "--signer",
            &f.a,
            "--yes",
        ],
        None,
        "does not verify",
    );
    // A then C's co-signers push it over: A (1) + B (1) = 2 ties the add-key's 2, so C's own vote is not
    // counted (C is revoked); with A the tally reaches 2 and wins only by tie-break or not at all.
    let out = locksmith()
        .args([
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--cosign",
            &blob,
            "--signer",
            &f.a,
            "--yes",
            "--json",
            "--store",
            &f.store(),
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["weight"], serde_json::json!(2));
    assert_eq!(v["max_sibling_weight"], serde_json::json!(2));
}

#[test]
fn a_missing_store_is_a_clear_error() {
    let cwd = tempfile::tempdir().expect("cwd");
    let out = locksmith()
        .current_dir(cwd.path())
        .args([
            "lock",
            "sign",
            &format!("nodekey:{}", "ab".repeat(32)),
            "--signer",
            "file:/nonexistent.key",
            "--store",
            "/nonexistent-store",
            "--yes",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no authority store at /nonexistent-store"),
        "{stderr}"
    );
}
