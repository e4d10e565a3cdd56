//! `lock revoke-keys` start, cosign and finish on the pipeline: each
//! interrupted after every stage (LOCKSMITH_TEST_FAIL_AFTER) and inside
//! its commit leaves no partial output and the store unchanged, and the
//! same command run again completes; an existing output is refused before
//! the signer is opened; the first step prints its status (votes
//! collected / needed), not a false "problem:" line, and the blob once.
//! Software keys only (NOT HARDWARE-BACKED).

use std::path::PathBuf;

#[path = "support/software_keys.rs"]
mod software_keys;
use software_keys::{init_store, key_file};

use software_keys::FAIL_AFTER as HOOK;
/// Failures that must leave nothing behind (each step writes two files:
/// the recovery AUM and the transcript, or for finish the store's AUM).
const BEFORE_COMMIT: [&str; 8] = [
    "preflight",
    "plan",
    "show",
    "confirm",
    "sign",
    "staging:0",
    "rename:0",
    "rename:1",
];

use software_keys::locksmith;

use software_keys::snapshot;

struct Room {
    _dir: tempfile::TempDir,
    root: PathBuf,
    a: String,
    b: String,
    c_tlpub: String,
}

impl Room {
    fn store(&self) -> String {
        self.root.join("store").display().to_string()
    }
    fn work(&self, name: &str) -> String {
        self.root.join("work").join(name).display().to_string()
    }
    fn transcript_lines(&self) -> usize {
        std::fs::read_to_string(self.root.join("store/transcript.jsonl"))
            .unwrap_or_default()
            .lines()
            .count()
    }
}

/// A store whose genesis trusts A, B and C (one vote each).
fn room() -> Room {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    std::fs::create_dir(root.join("keys")).expect("keys");
    std::fs::create_dir(root.join("work")).expect("work");
    std::fs::write(root.join("keys/pw"), "test passphrase").expect("pw");
    let a = key_file(&root.join("keys"), "a.key");
    let b = key_file(&root.join("keys"), "b.key");
    let c = key_file(&root.join("keys"), "c.key");
    let store = root.join("store").display().to_string();
    init_store(&store, &[&a, &b, &c]);
    let out = locksmith()
        .args(["token", "show", "--signer", &c, "--json"])
        .output()
        .expect("show");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let c_tlpub = v["tlpub"].as_str().expect("tlpub").to_string();
    Room {
        _dir: dir,
        root,
        a,
        b,
        c_tlpub,
    }
}

fn start(r: &Room, out: &str) -> Vec<String> {
    [
        "lock",
        "revoke-keys",
        "--accept-lockout",
        "unknown",
        &r.c_tlpub,
        "--signer",
        &r.a,
        "--store",
        &r.store(),
        "--out",
        out,
        "--yes",
    ]
    .map(String::from)
    .to_vec()
}

/// `revoke-keys --cosign BLOB` signed by B, or `--finish BLOB` (no signer).
fn with_blob(r: &Room, step: &str, blob: &str, out: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "lock",
        "revoke-keys",
        "--accept-lockout",
        "unknown",
        step,
        blob,
    ]
    .map(String::from)
    .to_vec();
    if step == "--cosign" {
        args.extend(["--signer".to_string(), r.b.clone(), "--yes".to_string()]);
    }
    args.extend([
        "--store".to_string(),
        r.store(),
        "--out".to_string(),
        out.to_string(),
    ]);
    args
}

fn cosign(r: &Room, blob: &str, out: &str) -> Vec<String> {
    with_blob(r, "--cosign", blob, out)
}

fn finish(r: &Room, blob: &str, out: &str) -> Vec<String> {
    with_blob(r, "--finish", blob, out)
}

/// Runs `args` under every hook: each run fails and leaves everything as
/// it was; a kill inside the commit is undone by the next run, which then
/// completes. Returns the completed run's (stdout, stderr).
fn interrupt_each_stage_then_complete(r: &Room, args: &[String]) -> (String, String) {
    let before = snapshot(&r.root);
    for hook in BEFORE_COMMIT {
        let out = locksmith()
            .args(args)
            .env(HOOK, hook)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{hook}: must fail");
        assert!(
            err.contains("injected failure") || err.contains("nothing was written"),
            "{hook}: {err}"
        );
        assert!(out.stdout.is_empty(), "{hook}: printed a result");
        assert_eq!(
            snapshot(&r.root),
            before,
            "{hook}: something remained: {err}"
        );
    }
    for hook in ["crash:0", "crash:1"] {
        let out = locksmith()
            .args(args)
            .env(HOOK, hook)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{hook}: must fail");
    }
    let out = locksmith().args(args).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("interrupted while writing its outputs"),
        "{err}"
    );
    let leftovers: Vec<_> = snapshot(&r.root)
        .into_iter()
        .filter(|(p, _)| p.to_string_lossy().contains(".locksmith-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

fn blob_of(path: &str) -> String {
    locksmith::tka::hex::upper(&std::fs::read(path).expect("recovery AUM"))
}

#[test]
fn start_cosign_and_finish_interrupted_at_every_stage_leave_nothing_and_rerun() {
    let r = room();
    let records = r.transcript_lines();

    // Start.
    let (stdout, stderr) = interrupt_each_stage_then_complete(&r, &start(&r, &r.work("start.aum")));
    assert_eq!(
        r.transcript_lines(),
        records + 1,
        "one record for the start"
    );
    let blob = blob_of(&r.work("start.aum"));
    // The status line, never a false problem.
    assert!(
        stderr.contains("status:     not signed yet; 1 vote(s) needed"),
        "{stderr}"
    );
    assert!(
        stdout.contains("status:     1 vote(s) collected from 1 signer(s): enough"),
        "{stdout}"
    );
    assert!(
        !stderr.contains("problem:") && !stdout.contains("problem:"),
        "{stderr}{stdout}"
    );
    // The blob once, in its stock command line; the final hash after signing.
    assert_eq!(stdout.matches(&blob).count(), 1, "{stdout}");
    assert!(!stderr.contains(&blob), "{stderr}");
    assert!(
        stdout.contains(&format!("tailscale lock revoke-keys --finish {blob}")),
        "{stdout}"
    );
    let aum = locksmith::tka::Aum::decode(&std::fs::read(r.work("start.aum")).expect("read"))
        .expect("aum");
    assert!(
        stdout.contains(&format!(
            "Final recovery AUM hash (with the signatures so far): {}",
            aum.hash()
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "pre-signature hash (SigHash, what the token signs; compare it with the other signers'): {}",
            locksmith::tka::hex::lower(&aum.sig_hash())
        )),
        "{stderr}"
    );

    // Cosign.
    let (stdout, _) = interrupt_each_stage_then_complete(
        &r,
        &cosign(&r, &r.work("start.aum"), &r.work("cosign.aum")),
    );
    assert_eq!(r.transcript_lines(), records + 2);
    assert!(
        stdout.contains("2 vote(s) collected from 2 signer(s)"),
        "{stdout}"
    );
    let cosigned = blob_of(&r.work("cosign.aum"));
    assert_eq!(stdout.matches(&cosigned).count(), 1, "{stdout}");

    // Finish: the store takes the recovery with the --out file, together.
    let aums = std::fs::read_dir(r.root.join("store/aums"))
        .expect("aums")
        .count();
    let (stdout, _) = interrupt_each_stage_then_complete(
        &r,
        &finish(&r, &r.work("cosign.aum"), &r.work("final.aum")),
    );
    assert_eq!(
        std::fs::read_dir(r.root.join("store/aums"))
            .expect("aums")
            .count(),
        aums + 1,
        "the store follows the recovery"
    );
    assert_eq!(stdout.matches(&cosigned).count(), 1, "{stdout}");
    assert_eq!(
        r.transcript_lines(),
        records + 2,
        "finish signs nothing, records nothing"
    );
    let out = locksmith()
        .args(["lock", "status", "--json", "--store", &r.store()])
        .output()
        .expect("status");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&r.c_tlpub),
        "C is no longer trusted"
    );
}

#[test]
fn an_existing_output_is_refused_before_the_signer_is_opened() {
    let r = room();
    let taken = r.work("taken.aum");
    std::fs::write(&taken, b"keep").expect("write");
    let before = snapshot(&r.root);
    for args in [start(&r, &taken), cosign(&r, &taken, &taken)] {
        let out = locksmith().args(&args).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains("already exists"), "{err}");
        assert!(
            !err.contains("is a software key") && !err.contains("PIN"),
            "the signer was opened: {err}"
        );
        assert_eq!(snapshot(&r.root), before);
    }
    assert_eq!(std::fs::read(&taken).expect("read"), b"keep");
}
