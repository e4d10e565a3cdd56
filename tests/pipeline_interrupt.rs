//! Every signing command migrated onto the pipeline, interrupted after
//! each stage (the test hook LOCKSMITH_TEST_FAIL_AFTER) and inside its
//! commit: no partial outputs, the store unchanged, and the same command
//! run again completes.

use assert_cmd::Command;
use std::path::PathBuf;

#[path = "support/software_keys.rs"]
mod software_keys;

use software_keys::FAIL_AFTER as HOOK;
/// Failures that must leave nothing behind.
const BEFORE_COMMIT: [&str; 8] = [
    "preflight",
    "plan",
    "show",
    "confirm",
    "sign",
    "staging:0",
    "rename:0",
    "rename:2",
];

use software_keys::locksmith;

use software_keys::snapshot;

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    signer: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    std::fs::create_dir(root.join("keys")).expect("keys dir");
    std::fs::write(root.join("keys/pw"), "test passphrase").expect("pw");
    let signer = software_keys::key_file(&root.join("keys"), "a.key");
    std::fs::create_dir(root.join("work")).expect("work dir");
    Setup {
        _dir: dir,
        root,
        signer,
    }
}

fn init(s: &Setup) -> Command {
    let w = s.root.join("work");
    let mut c = locksmith();
    c.args([
        "lock",
        "init",
        "--signer",
        &s.signer,
        "--gen-disablements",
        "2",
    ])
    .arg("--secrets-sheet-dir")
    .arg(w.join("sheets"))
    .args(["--secrets-sheet-format", "text"])
    .arg("--store")
    .arg(w.join("store"))
    .arg("--out")
    .arg(w.join("genesis.aum"))
    .arg("--yes");
    c
}

#[test]
fn lock_init_interrupted_after_each_stage_leaves_nothing_and_reruns() {
    let s = setup();
    let work = s.root.join("work");
    for hook in BEFORE_COMMIT {
        let out = init(&s).env(HOOK, hook).output().expect("run");
        assert!(!out.status.success(), "{hook}: must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("injected failure") || err.contains("nothing was written"),
            "{hook}: {err}"
        );
        assert_eq!(snapshot(&work), vec![], "{hook}: nothing may remain: {err}");
    }
    let out = init(&s).output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["store/anchor", "genesis.aum", "store/transcript.jsonl"] {
        assert!(work.join(f).is_file(), "{f} written");
    }
    let sheets = std::fs::read_dir(work.join("sheets"))
        .expect("sheets")
        .count();
    assert_eq!(sheets, 2, "two text sheets");
    // The record of the completed run is the only one.
    let t = std::fs::read_to_string(work.join("store/transcript.jsonl")).expect("transcript");
    assert_eq!(t.lines().count(), 1, "{t}");
    locksmith()
        .args(["ceremony", "verify"])
        .arg(work.join("store/transcript.jsonl"))
        .assert()
        .success();
}

#[test]
fn lock_init_killed_between_renames_is_undone_and_reruns() {
    let s = setup();
    let work = s.root.join("work");
    let out = init(&s).env(HOOK, "crash:3").output().expect("run");
    assert!(!out.status.success());
    assert!(
        !snapshot(&work).is_empty(),
        "a kill leaves a half-written commit"
    );
    let out = init(&s).output().expect("rerun");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("interrupted while writing its outputs"),
        "{err}"
    );
    assert!(work.join("store/anchor").is_file());
    let leftovers: Vec<_> = snapshot(&work)
        .into_iter()
        .filter(|(p, _)| p.to_string_lossy().contains(".locksmith-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn lock_init_to_an_existing_out_fails_before_any_pin() {
    let s = setup();
    let work = s.root.join("work");
    std::fs::write(work.join("genesis.aum"), b"keep").expect("existing");
    // The PIN source is gone: a PIN read would fail with another message.
    let signer = s.signer.replace("keys/pw", "keys/no-such-pin");
    let out = init(&Setup {
        _dir: tempfile::tempdir().expect("t"),
        root: s.root.clone(),
        signer,
    })
    .output()
    .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("genesis.aum already exists"), "{err}");
    assert!(!err.contains("PIN"), "no PIN was asked for: {err}");
    let left: Vec<_> = snapshot(&work).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        left,
        vec![work.join("genesis.aum")],
        "store, sheets untouched"
    );
    assert_eq!(
        std::fs::read(work.join("genesis.aum")).expect("read"),
        b"keep"
    );
}

fn sign(s: &Setup) -> Command {
    let w = s.root.join("work");
    let mut c = locksmith();
    c.args(["lock", "sign", &format!("nodekey:{}", "11".repeat(32))])
        .args(["--signer", &s.signer])
        .arg("--store")
        .arg(w.join("store"))
        .arg("--out")
        .arg(w.join("node.nks"))
        .arg("--yes");
    c
}

#[test]
fn lock_sign_interrupted_after_each_stage_leaves_the_store_and_reruns() {
    let s = setup();
    let work = s.root.join("work");
    let out = init(&s).output().expect("init");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = snapshot(&work);
    // Two outputs (the signature and the transcript): renames 0 and 1.
    let hooks = BEFORE_COMMIT
        .iter()
        .map(|h| if *h == "rename:2" { "rename:1" } else { h });
    for hook in hooks.chain(["crash:0", "crash:1"]) {
        let out = sign(&s).env(HOOK, hook).output().expect("run");
        assert!(!out.status.success(), "{hook}: must fail");
        if hook.starts_with("crash") {
            // The next run undoes what the kill left.
            continue;
        }
        assert_eq!(
            snapshot(&work),
            before,
            "{hook}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = sign(&s).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(work.join("node.nks").is_file());
    let t = std::fs::read_to_string(work.join("store/transcript.jsonl")).expect("transcript");
    assert_eq!(t.lines().count(), 2, "init and one sign recorded: {t}");
}

#[test]
fn lock_sign_credential_to_out_does_not_print_the_private_key() {
    let s = setup();
    let work = s.root.join("work");
    assert!(init(&s).output().expect("init").status.success());
    let out = locksmith()
        .args(["lock", "sign", "--credential", "--signer", &s.signer])
        .arg("--store")
        .arg(work.join("store"))
        .arg("--out")
        .arg(work.join("cred"))
        .arg("--yes")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let secret = std::fs::read_to_string(work.join("cred")).expect("cred file");
    assert!(secret.starts_with("--TL"), "{secret}");
    assert!(!printed.contains(secret.trim()), "{printed}");
}
