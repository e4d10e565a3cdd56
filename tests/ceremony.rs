//! Ceremony transcripts, plans and the air-gap guard, end to end through
//! the `locksmith` binary on fresh SoftHSM2 tokens.

#[path = "support/env.rs"]
mod env;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

fn locksmith() -> Command {
    Command::new(env!("CARGO_BIN_EXE_locksmith"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn softhsm_present(test: &str) -> bool {
    env::require(
        test,
        &[MODULE, "/usr/bin/softhsm2-util"],
        "apt-get install softhsm2",
    )
}

fn text(o: &Output) -> String {
    env::output_text(o)
}

/// A fake sysfs with only loopback up, so the air-gap guard passes here.
fn air_gapped_sysfs(dir: &Path) -> PathBuf {
    let root = dir.join("sysfs-net");
    std::fs::create_dir_all(root.join("lo")).unwrap();
    std::fs::write(root.join("lo/flags"), "0x9\n").unwrap();
    std::fs::write(root.join("lo/operstate"), "unknown\n").unwrap();
    std::fs::create_dir_all(root.join("eth0")).unwrap();
    std::fs::write(root.join("eth0/flags"), "0x1002\n").unwrap();
    std::fs::write(root.join("eth0/operstate"), "down\n").unwrap();
    root
}

fn verify(log: &Path, store: Option<&Path>) -> Output {
    let mut c = locksmith();
    c.args(["ceremony", "verify", "--json"]).arg(log);
    if let Some(s) = store {
        c.arg("--store").arg(s);
    }
    c.output().unwrap()
}

#[test]
fn demo_ceremony_transcript_verifies_and_one_changed_byte_is_named() {
    if !softhsm_present("demo_ceremony_transcript")
        || !env::require(
            "demo_ceremony_transcript",
            &["/usr/bin/age-keygen"],
            "apt-get install age",
        )
    {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(repo().join("ceremony/demo.sh"))
        .arg(work.path())
        .env("LOCKSMITH_NO_SETUP", "1")
        .env("LOCKSMITH_BIN", env!("CARGO_BIN_EXE_locksmith"))
        .env("LOCKSMITH_OPERATOR", "Ada Operator")
        .output()
        .unwrap();
    assert!(out.status.success(), "demo failed: {}", text(&out));
    let store = work.path().join("store");
    let log = store.join("transcript.jsonl");
    let o = verify(&log, Some(&store));
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // init, sign, sign --credential, add, update, revoke-keys, 2 cosigns, remove.
    assert_eq!(v["records"], 9, "{v}");
    let bytes = std::fs::read(&log).unwrap();
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let first: serde_json::Value = serde_json::from_slice(lines[0]).unwrap();
    assert_eq!(first["command"], "lock init");
    assert_eq!(first["operator"], "Ada Operator");
    assert_eq!(first["signers"].as_array().unwrap().len(), 2);
    assert!(first["shown"]
        .as_str()
        .unwrap()
        .contains("About to sign a NEW tailnet lock authority"));
    assert!(!String::from_utf8_lossy(&bytes).contains("disablement-secret:"));

    // Change one byte inside record 4 (a hex digit of its signed digest).
    let start: usize = lines[..3].iter().map(|l| l.len() + 1).sum();
    let at = start
        + lines[3]
            .windows(10)
            .position(|w| w == b"\"signed\":[")
            .unwrap()
        + 11;
    let mut bad = bytes.clone();
    bad[at] = if bad[at] == b'0' { b'1' } else { b'0' };
    let tampered = work.path().join("tampered.jsonl");
    std::fs::write(&tampered, &bad).unwrap();
    let o = verify(&tampered, None);
    assert!(!o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bad_record"], 4, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("does not verify"),
        "{v}"
    );

    // Removing a record breaks the chain at the record after it.
    let mut dropped = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if i != 1 {
            dropped.extend_from_slice(l);
            dropped.push(b'\n');
        }
    }
    std::fs::write(&tampered, &dropped).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&verify(&tampered, None).stdout).unwrap();
    assert_eq!(v["bad_record"], 2, "{v}");

    // The printout: HTML and a PDF that poppler reads.
    let print = work.path().join("print");
    let o = locksmith()
        .args(["ceremony", "print"])
        .arg(&log)
        .arg("--out")
        .arg(&print)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let html = std::fs::read_to_string(print.join("transcript.html")).unwrap();
    assert!(html.contains("Record 9") && html.contains("Ada Operator"));
    if let Some(pdftotext) = env::which("pdftotext") {
        let o = Command::new(pdftotext)
            .arg(print.join("transcript.pdf"))
            .arg("-")
            .output()
            .unwrap();
        let t = String::from_utf8_lossy(&o.stdout);
        assert!(t.contains("Record 1") && t.contains("lock init"), "{t}");
        assert!(
            t.contains("Signatures of the operator and witnesses"),
            "{t}"
        );
    }
}

struct PlanRun {
    dir: tempfile::TempDir,
    sysfs: PathBuf,
    recipient: String,
}

impl PlanRun {
    fn new() -> PlanRun {
        let dir = tempfile::tempdir().unwrap();
        let sysfs = air_gapped_sysfs(dir.path());
        for t in ["token-a", "token-b"] {
            let o = Command::new("sh")
                .arg(repo().join("hsm-config/softhsm2/new-token.sh"))
                .arg(dir.path().join("hsm"))
                .args([t, "123456"])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", text(&o));
        }
        std::fs::write(dir.path().join("pin"), "123456").unwrap();
        std::fs::write(
            dir.path().join("answers.toml"),
            "bags-checked = \"yes\"\noperator = \"Ada Operator\"\nwitnesses = \"Wes Witness, Vic Witness\"\n\
             init = \"yes\"\nbags-sealed = \"yes\"\n",
        )
        .unwrap();
        let recipient = age::x25519::Identity::generate().to_public().to_string();
        PlanRun {
            dir,
            sysfs,
            recipient,
        }
    }

    fn run(&self, stop_after: Option<usize>) -> Output {
        self.run_with(stop_after, &[])
    }

    fn run_with(&self, stop_after: Option<usize>, extra: &[&str]) -> Output {
        let mut c = locksmith();
        c.args(["ceremony", "run"])
            .args(extra)
            .arg(repo().join("ceremony/init-softhsm.toml"))
            .arg("--state")
            .arg(self.dir.path().join("state.json"))
            .arg("--answers")
            .arg(self.dir.path().join("answers.toml"))
            .env("CEREMONY_DIR", self.dir.path())
            .env("CEREMONY_RECIPIENT", &self.recipient)
            .env("SOFTHSM2_CONF", self.dir.path().join("hsm/softhsm2.conf"))
            .env("LOCKSMITH_SYSFS_NET", &self.sysfs)
            .env_remove("LOCKSMITH_ALLOW_NETWORK")
            .env_remove("LOCKSMITH_OPERATOR")
            .stdin(std::process::Stdio::null());
        if let Some(n) = stop_after {
            c.env("LOCKSMITH_PLAN_STOP_AFTER", n.to_string());
        }
        c.output().unwrap()
    }

    fn done(&self) -> Vec<String> {
        let s: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.dir.path().join("state.json")).unwrap())
                .unwrap();
        s["done"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect()
    }
}

#[test]
fn plan_runs_from_answers_stops_after_a_step_and_resumes_where_it_stopped() {
    if !softhsm_present("plan_runs_from_answers") {
        return;
    }
    let p = PlanRun::new();
    // Stop right after step 7 (lock init), as if the power went out.
    let o = p.run(Some(7));
    assert_eq!(o.status.code(), Some(75), "{}", text(&o));
    // Only the run step the answers file answers "yes" gets --yes, and says so.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("step 7 (init) confirmed by the answers file"),
        "{err}"
    );
    assert_eq!(
        err.matches("confirmed by the answers file").count(),
        1,
        "{err}"
    );
    assert_eq!(
        p.done(),
        [
            "airgap",
            "bags-checked",
            "operator",
            "witnesses",
            "generate-a",
            "generate-b",
            "init"
        ]
    );
    assert!(p.dir.path().join("store/anchor").is_file());
    assert!(!p.dir.path().join("printout").exists());

    // Resume: init is not run again (it would refuse the existing store),
    // the remaining steps run, and the ceremony completes.
    let o = p.run(None);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("resuming: 7 step(s) already done"), "{err}");

    assert!(
        !err.contains("$ locksmith lock init"),
        "init ran again: {err}"
    );
    assert!(err.contains("$ locksmith ceremony verify"), "{err}");
    assert_eq!(p.done().len(), 10);
    assert!(p.dir.path().join("printout/transcript.pdf").is_file());
    let log = p.dir.path().join("store/transcript.jsonl");
    let o = verify(&log, Some(&p.dir.path().join("store")));
    assert!(o.status.success(), "{}", text(&o));
    let all = std::fs::read_to_string(&log).unwrap();
    let recs: Vec<serde_json::Value> = all
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let commands: Vec<&str> = recs
        .iter()
        .map(|r| r["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["token generate", "token generate", "lock init"]);
    for rec in &recs {
        assert_eq!(rec["operator"], "Ada Operator");
        assert_eq!(
            rec["witnesses"],
            serde_json::json!(["Wes Witness", "Vic Witness"])
        );
    }

    // With --chain instead of a store, --transcript keeps the record.
    let signer = format!(
        "pkcs11:token=token-a;object=tailnet-lock?module-path={MODULE}&pin-source=file:{}",
        p.dir.path().join("pin").display()
    );
    let sign = |extra: &[&str]| {
        locksmith()
            .args([
                "lock",
                "sign",
                &format!("nodekey:{}", "ab".repeat(32)),
                "--yes",
            ])
            .arg("--chain")
            .arg(p.dir.path().join("genesis.aum"))
            .arg("--unpinned")
            .args(["--signer", &signer, "--allow-network"])
            .args(extra)
            .env("SOFTHSM2_CONF", p.dir.path().join("hsm/softhsm2.conf"))
            .output()
            .unwrap()
    };
    let o = sign(&[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no ceremony transcript kept"));
    let side = p.dir.path().join("side/transcript.jsonl");
    let o = sign(&["--transcript", side.to_str().unwrap(), "--witness", "Wes"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = verify(&side, Some(&p.dir.path().join("store")));
    assert!(o.status.success(), "{}", text(&o));
    let rec: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&side).unwrap().trim()).unwrap();
    assert_eq!(rec["command"], "lock sign");
    assert_eq!(rec["signed"].as_array().unwrap().len(), 1);
    assert_eq!(rec["outputs"].as_array().unwrap().len(), 1);

    // A third run has nothing left to do.
    let o = p.run(None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("resuming: 10 step(s) already done"));
}

#[test]
fn plan_stops_when_not_air_gapped_and_a_failed_step_is_not_marked_done() {
    if !softhsm_present("plan_stops_when_not_air_gapped") {
        return;
    }
    let p = PlanRun::new();
    std::fs::write(p.sysfs.join("eth0/flags"), "0x1003\n").unwrap();
    let o = p.run(None);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not air-gapped") && err.contains("eth0"),
        "{err}"
    );
    assert!(!p.dir.path().join("state.json").exists());

    // Air-gapped again, but the answers lack the init approval: the plan
    // stops at init without marking it done (stdin is not a terminal, so
    // lock init refuses to sign without --yes).
    std::fs::write(p.sysfs.join("eth0/flags"), "0x1002\n").unwrap();
    std::fs::write(
        p.dir.path().join("answers.toml"),
        "bags-checked = \"yes\"\noperator = \"Ada\"\nwitnesses = \"Wes\"\n",
    )
    .unwrap();
    let o = p.run(None);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("stopped at step 7 (init)"), "{err}");
    assert_eq!(p.done().len(), 6);
    assert!(!p.dir.path().join("store/anchor").exists());
}

#[test]
fn allow_network_turns_the_refusal_into_one_recorded_warning() {
    if !softhsm_present("allow_network_recorded") {
        return;
    }
    let p = PlanRun::new();
    std::fs::write(p.sysfs.join("eth0/flags"), "0x1003\n").unwrap();
    std::fs::write(p.sysfs.join("eth0/operstate"), "up\n").unwrap();
    let o = p.run_with(None, &["--allow-network"]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    // It checked and says what it found, once per plan, never "verified".
    assert_eq!(
        err.matches("air gap NOT verified").count(),
        1,
        "once per plan: {err}"
    );
    assert!(err.contains("eth0 (up)"), "{err}");
    assert!(!err.contains("air gap verified"), "{err}");
    assert!(
        !err.contains("WARNING: this machine is not air-gapped"),
        "the commands the plan starts do not print it again: {err}"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.dir.path().join("state.json")).unwrap()).unwrap();
    assert!(
        state["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("eth0")),
        "{state}"
    );
    // Every record of the plan's commands carries the finding.
    let log = p.dir.path().join("store/transcript.jsonl");
    let all = std::fs::read_to_string(&log).unwrap();
    let recs: Vec<serde_json::Value> = all
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 3);
    for rec in &recs {
        let found = rec["inputs"].as_array().unwrap().iter().any(|i| {
            i["name"].as_str().is_some_and(|n| {
                n.starts_with("WARNING: not air-gapped (--allow-network)") && n.contains("eth0")
            })
        });
        assert!(found, "{rec}");
    }
    // The printout the witnesses sign shows it too.
    let html = std::fs::read_to_string(p.dir.path().join("printout/transcript.html")).unwrap();
    assert_eq!(
        html.matches("WARNING: not air-gapped (--allow-network)")
            .count(),
        3,
        "one per record"
    );
}

#[test]
fn a_plan_cannot_confirm_a_signing_step_ahead_of_time() {
    let plan = "name = \"x\"\n[[step]]\nid = \"a\"\nairgap = true\n[[step]]\nid = \"init\"\nrun = [\"lock\", \"init\", \"--yes\"]\n";
    let e = locksmith::ceremony_plan::Plan::parse("p.toml", plan).unwrap_err();
    let e = e.to_string();
    assert!(e.contains("--yes") && e.contains("init = \"yes\""), "{e}");
}

#[test]
fn every_sample_plan_parses_and_names_only_known_commands() {
    let mut count = 0;
    for entry in std::fs::read_dir(repo().join("ceremony")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let plan = locksmith::ceremony_plan::Plan::parse(&path.display().to_string(), &source)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            plan.steps.iter().any(|s| s.airgap),
            "{}: no air-gap step",
            path.display()
        );
        for step in &plan.steps {
            if let Some(run) = &step.run {
                // Each command line parses as far as clap is concerned:
                // `--help` after the subcommand words exits 0.
                let words: Vec<&String> = run
                    .iter()
                    .take_while(|a| !a.starts_with('-') && !a.contains("${"))
                    .collect();
                let o = locksmith().args(&words).arg("--help").output().unwrap();
                assert!(
                    o.status.success(),
                    "{}: step {}: {}",
                    path.display(),
                    step.id,
                    text(&o)
                );
                let help = String::from_utf8_lossy(&o.stdout);
                for flag in run.iter().filter(|a| a.starts_with("--")) {
                    let name = flag.split('=').next().unwrap();
                    assert!(
                        help.contains(name),
                        "{}: step {}: {name} is not an option of `locksmith {}`",
                        path.display(),
                        step.id,
                        words
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                }
            }
        }
        count += 1;
    }
    assert!(count >= 5, "only {count} plans");
}

#[test]
fn plan_killed_while_waiting_at_a_prompt_resumes_at_that_step() {
    if !softhsm_present("plan_killed_while_waiting") {
        return;
    }
    let p = PlanRun::new();
    let mut child = locksmith()
        .args(["ceremony", "run"])
        .arg(repo().join("ceremony/init-softhsm.toml"))
        .arg("--state")
        .arg(p.dir.path().join("state.json"))
        .env("CEREMONY_DIR", p.dir.path())
        .env("LOCKSMITH_SYSFS_NET", &p.sysfs)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Step 1 (air gap) completes, then the runner waits for the operator at
    // step 2's checklist prompt: kill it there.
    let state = p.dir.path().join("state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "step 1 never completed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(p.done(), ["airgap"]);

    let o = p.run(None);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("resuming: 1 step(s) already done"), "{err}");
    assert!(err.contains("step 2/10"), "{err}");
    assert!(!err.contains("step 1/10"), "{err}");
    assert_eq!(p.done().len(), 10);
}
