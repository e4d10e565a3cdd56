//! `lock add|remove|update` on the pipeline: interrupted after each stage
//! (LOCKSMITH_TEST_FAIL_AFTER) and inside the commit that writes the
//! store's new AUM file, the `--out` file and the transcript record, the
//! store and the outputs are as before; the same command run again
//! completes and advances the store by exactly its AUM.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

#[path = "support/software_keys.rs"]
mod software_keys;

use software_keys::FAIL_AFTER as HOOK;
const NEW_KEY: &str = "tlpub:0000000000000000000000000000000000000000000000000000000000000007";

use software_keys::locksmith;

use software_keys::snapshot;

fn head(store: &Path) -> String {
    let out = locksmith()
        .args(["lock", "status", "--json", "--store"])
        .arg(store)
        .output()
        .expect("status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["head"].as_str().expect("head").to_string()
}

struct Setup {
    _dir: tempfile::TempDir,
    work: PathBuf,
    signer: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    std::fs::create_dir(root.join("keys")).expect("keys dir");
    std::fs::write(root.join("keys/pw"), "test passphrase").expect("pw");
    let signer = software_keys::key_file(&root.join("keys"), "a.key");
    let work = root.join("work");
    std::fs::create_dir(&work).expect("work dir");
    let store = work.join("store");
    software_keys::init_store(&store.display().to_string(), &[&signer]);
    Setup {
        _dir: dir,
        work,
        signer,
    }
}

fn change(s: &Setup, args: &[&str], out: &str) -> Command {
    let mut c = locksmith();
    c.arg("lock")
        .args(args)
        .args(["--signer", &s.signer])
        .arg("--store")
        .arg(s.work.join("store"))
        .arg("--out")
        .arg(s.work.join(out))
        .arg("--yes");
    c
}

/// Runs `args` with every failure hook, then for real; returns its stderr.
fn interrupted_then_completed(s: &Setup, args: &[&str], out: &str) -> String {
    let store = s.work.join("store");
    let before = snapshot(&s.work);
    let head_before = head(&store);
    // Three outputs: the store's AUM file, the --out file, the record.
    for hook in [
        "preflight",
        "plan",
        "show",
        "confirm",
        "sign",
        "staging:0",
        "staging:2",
        "rename:0",
        "rename:1",
        "rename:2",
    ] {
        let o = change(s, args, out).env(HOOK, hook).output().expect("run");
        assert!(!o.status.success(), "{args:?} {hook}: must fail");
        assert_eq!(
            snapshot(&s.work),
            before,
            "{args:?} {hook}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(head(&store), head_before, "{args:?} {hook}");
    }
    // A kill between renames leaves a half-written set; the next run
    // undoes it before anything else.
    let o = change(s, args, out)
        .env(HOOK, "crash:1")
        .output()
        .expect("run");
    assert!(!o.status.success(), "{args:?} crash:1: must fail");
    let o = change(s, args, out).output().expect("run");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{args:?}: {err}");
    assert!(
        err.contains("interrupted"),
        "{args:?}: the undo is reported: {err}"
    );
    assert_ne!(head(&store), head_before, "{args:?}: the store advanced");
    let dir = s.work.join(out);
    let files: Vec<_> = std::fs::read_dir(&dir).expect("out dir").collect();
    assert_eq!(
        files.len(),
        1,
        "{args:?}: one AUM file in {}",
        dir.display()
    );
    err
}

#[test]
fn add_update_remove_interrupted_at_each_stage_leave_the_store_and_rerun() {
    let s = setup();
    let err = interrupted_then_completed(&s, &["add", &format!("{NEW_KEY}=2")], "added");
    assert!(err.contains("sighash:"), "the sighash is shown: {err}");
    assert!(err.contains("pre-signature hash"), "{err}");
    interrupted_then_completed(&s, &["update", NEW_KEY, "--votes", "3"], "updated");
    interrupted_then_completed(
        &s,
        &["remove", NEW_KEY, "--accept-lockout", "unknown"],
        "removed",
    );
    let t = std::fs::read_to_string(s.work.join("store/transcript.jsonl")).expect("transcript");
    assert_eq!(
        t.lines().count(),
        4,
        "init, add, update, remove recorded once each: {t}"
    );
}

#[test]
fn an_existing_out_file_is_refused_before_the_signer_is_opened() {
    let s = setup();
    let out = s.work.join("out");
    std::fs::create_dir(&out).expect("out dir");
    std::fs::write(out.join("0000-add-key.aum"), b"keep me").expect("existing");
    let before = snapshot(&s.work);
    // A signer that cannot be opened: preflight must stop at the output first.
    let o = locksmith()
        .args([
            "lock",
            "add",
            NEW_KEY,
            "--signer",
            "file:/nonexistent/key?pin-source=env:NOPE",
        ])
        .arg("--store")
        .arg(s.work.join("store"))
        .arg("--out")
        .arg(&out)
        .arg("--yes")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("0000-add-key.aum"), "names the file: {err}");
    assert!(
        !err.contains("/nonexistent/key"),
        "the signer was not reached: {err}"
    );
    assert_eq!(snapshot(&s.work), before);
}

#[test]
fn respond_to_with_a_change_of_several_aums_is_refused_before_signing() {
    let s = setup();
    let o = change(
        &s,
        &[
            "add",
            NEW_KEY,
            "tlpub:0000000000000000000000000000000000000000000000000000000000000008",
        ],
        "out",
    )
    .arg("--respond-to")
    .arg(s.work.join("no-such-request.lks"))
    .output()
    .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    // Two keys in one add may make one AUM or two; whichever refusal comes
    // first, nothing was signed or written.
    assert!(
        err.contains("nothing was signed") || err.contains("no-such-request"),
        "{err}"
    );
    assert!(!s.work.join("out").exists());
}
