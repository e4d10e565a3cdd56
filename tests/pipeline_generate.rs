//! `token generate` on the pipeline, against SoftHSM2 (one fresh token per
//! test): a failure injected after each stage, after the key was generated
//! and inside the commit, and a kill between generation and record; the
//! same command run again completes with the key the interrupted attempt
//! made (one key on the token, one record). A key with the label and no
//! pending marker gets the how-to-continue error before any PIN; with
//! `--transcript` the PIN is asked once (counted through a FIFO pin-source).
//! The software backend the same way (no device needed): a key file left
//! by an interrupted run is continued with through its marker (path and
//! public key); one without a marker is refused before the passphrase with
//! the `rm` command that frees the path. (YubiKey: tests/hw_yubikey.rs.)

#[path = "support/env.rs"]
mod env;
#[path = "support/softhsm.rs"]
mod softhsm;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const HOOK: &str = "LOCKSMITH_TEST_FAIL_AFTER";
/// Hooks that stop a run before the key exists.
const BEFORE_KEY: [&str; 4] = ["preflight", "plan", "show", "confirm"];
/// Hooks that stop a run after the key exists, before its record is written.
const AFTER_KEY: [&str; 6] = [
    "sign",
    "generated",
    "generated-crash",
    "staging:0",
    "rename:0",
    "crash:0",
];
const OTHER: [&str; 5] = [
    "commit",
    "pin-once",
    "no-marker",
    "other-marker",
    "allow-net",
];
const LABEL: &str = "tailnet-lock";

fn labels() -> Vec<String> {
    BEFORE_KEY
        .iter()
        .chain(&AFTER_KEY)
        .chain(&OTHER)
        .map(|h| token_of(h))
        .collect()
}

/// The token label for a test (one fresh token each).
fn token_of(hook: &str) -> String {
    format!("gen-{}", hook.replace(':', "-"))
}

/// One test at a time: SoftHSM2 processes generating on tokens of the
/// same directory at once fail now and then (CKR_FUNCTION_FAILED).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn hsm(test: &str) -> Option<&'static softhsm::SoftHsm> {
    let labels = labels();
    let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    softhsm::require(test, &refs, &[])
}

fn text(o: &Output) -> String {
    env::output_text(o)
}

/// A working directory with an air-gapped fake sysfs.
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().expect("tempdir");
        let lo = dir.path().join("sysfs-net/lo");
        std::fs::create_dir_all(&lo).expect("sysfs");
        std::fs::write(lo.join("flags"), "0x9\n").expect("flags");
        std::fs::write(lo.join("operstate"), "unknown\n").expect("operstate");
        Work { dir }
    }

    fn transcript(&self) -> PathBuf {
        self.dir.path().join("store/transcript.jsonl")
    }

    fn markers(&self) -> Vec<PathBuf> {
        markers_in(&self.dir.path().join("store"))
    }

    /// A software key file `name` in the work directory whose passphrase
    /// is the file `pw` there; its spec.
    fn key_spec(&self, name: &str) -> String {
        let pw = self.dir.path().join("pw");
        std::fs::write(&pw, "a passphrase for tests\n").expect("pw");
        format!(
            "file:{}?pin-source=file:{}",
            self.dir.path().join(name).display(),
            pw.display()
        )
    }
}

impl Work {
    /// A software key file `name` encrypted to an age identity in the work
    /// directory (no scrypt: fast); its spec.
    fn identity_key_spec(&self, name: &str) -> String {
        use age::secrecy::ExposeSecret;
        let id = self.dir.path().join("identity.txt");
        let identity = age::x25519::Identity::generate();
        std::fs::write(&id, format!("{}\n", identity.to_string().expose_secret())).expect("id");
        format!(
            "file:{}?identity={}",
            self.dir.path().join(name).display(),
            id.display()
        )
    }
}

/// The pending-key markers in `dir`.
fn markers_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".locksmith-pending-key-"))
        })
        .collect()
}

impl Work {
    /// `token generate --signer SPEC --transcript STORE/transcript.jsonl`
    /// in the work directory, with `extra` arguments.
    fn command(&self, spec: &str, extra: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_locksmith"));
        c.args(["token", "generate", "--signer", spec])
            .arg("--transcript")
            .arg(self.transcript())
            .args(extra)
            .current_dir(self.dir.path())
            .env("LOCKSMITH_SYSFS_NET", self.dir.path().join("sysfs-net"))
            .env_remove(HOOK)
            .env_remove(PLAN_REPORTED)
            .env_remove("LOCKSMITH_PIN")
            .env_remove("LOCKSMITH_ALLOW_NETWORK")
            .env_remove("LOCKSMITH_OPERATOR")
            .stdin(std::process::Stdio::null());
        c
    }

    fn generate(&self, hsm: &softhsm::SoftHsm, spec: &str, hook: Option<&str>) -> Output {
        let mut c = self.command(spec, &["--label", LABEL, "--operator", "Ada"]);
        c.env("SOFTHSM2_CONF", &hsm.conf);
        if let Some(h) = hook {
            c.env(HOOK, h);
        }
        c.output().expect("run locksmith")
    }

    fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.transcript())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("record"))
            .collect()
    }
}

/// The tlpubs of the keys labelled LABEL on `token`.
fn keys_on(hsm: &softhsm::SoftHsm, token: &str) -> Vec<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_locksmith"))
        .args(["token", "list", "--json", "--module", softhsm::MODULE])
        .env("SOFTHSM2_CONF", &hsm.conf)
        .env("PCSCLITE_CSOCK_NAME", "no-pcscd.sock")
        .output()
        .expect("token list");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter(|t| {
            t["description"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("\"{token}\"")))
        })
        .flat_map(|t| t["keys"].as_array().cloned().unwrap_or_default())
        .filter(|k| {
            k["description"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("\"{LABEL}\"")))
        })
        .map(|k| k["tlpub"].as_str().expect("tlpub").to_string())
        .collect()
}

/// The fixture, the test's token, a spec for it and a work directory.
fn fresh(test: &str, name: &str) -> Option<(&'static softhsm::SoftHsm, String, String, Work)> {
    let hsm = hsm(test)?;
    let token = token_of(name);
    let spec = hsm.uri(&token, "");
    Some((hsm, token, spec, Work::new()))
}

/// Runs `hook`, checks what it left, runs again without it and checks the
/// command completed with one key and one record.
fn interrupted_then_resumed(hook: &str, key_made: bool) {
    let Some(hsm) = hsm(&format!("interrupted_{hook}")) else {
        return;
    };
    let token = token_of(hook);
    let spec = hsm.uri(&token, "");
    let w = Work::new();
    let o = w.generate(hsm, &spec, Some(hook));
    assert!(!o.status.success(), "hook {hook}: {}", text(&o));
    if hook == "generated-crash" {
        assert_eq!(o.status.code(), Some(86), "{}", text(&o));
    }
    let keys = keys_on(hsm, &token);
    if key_made {
        assert_eq!(keys.len(), 1, "hook {hook}: {keys:?}");
        assert_eq!(w.markers().len(), 1, "hook {hook}: the marker stays");
    } else {
        assert!(keys.is_empty(), "hook {hook}: {keys:?}");
        assert!(w.markers().is_empty(), "hook {hook}: no marker");
    }
    if !hook.starts_with("crash") {
        assert!(w.records().is_empty(), "hook {hook}: nothing recorded");
    }

    let o = w.generate(hsm, &spec, None);
    assert!(o.status.success(), "rerun after {hook}: {}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.contains("continued with the key the interrupted attempt had generated"),
        key_made,
        "after {hook}: {err}"
    );
    let after = keys_on(hsm, &token);
    assert_eq!(after.len(), 1, "after {hook}: one key: {after:?}");
    if key_made {
        assert_eq!(after, keys, "after {hook}: the same key");
    }
    let records = w.records();
    assert_eq!(records.len(), 1, "after {hook}: one record");
    assert_eq!(records[0]["command"], "token generate");
    assert_eq!(records[0]["signers"][0]["tlpub"], after[0].as_str());
    let resumed_input = records[0]["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .any(|i| i["name"].as_str().is_some_and(|n| n.starts_with("RESUMED")));
    assert_eq!(resumed_input, key_made, "after {hook}: {}", records[0]);
    assert!(
        w.markers().is_empty(),
        "after {hook}: the marker is removed"
    );
    let v = Command::new(env!("CARGO_BIN_EXE_locksmith"))
        .args(["ceremony", "verify"])
        .arg(w.transcript())
        .output()
        .expect("verify");
    assert!(v.status.success(), "{}", text(&v));
}

#[test]
fn a_failure_before_the_key_exists_leaves_nothing_and_a_rerun_generates() {
    let _serial = serial();
    for hook in BEFORE_KEY {
        interrupted_then_resumed(hook, false);
    }
}

#[test]
fn a_failure_or_kill_after_the_key_exists_is_resumed_with_that_key() {
    let _serial = serial();
    for hook in AFTER_KEY {
        interrupted_then_resumed(hook, true);
    }
}

#[test]
fn a_failure_after_the_commit_is_not_recorded_twice() {
    let _serial = serial();
    let Some((hsm, token, spec, w)) = fresh("after_commit", "commit") else {
        return;
    };
    let o = w.generate(hsm, &spec, Some("commit"));
    assert!(!o.status.success(), "{}", text(&o));
    assert_eq!(w.records().len(), 1);
    assert_eq!(
        w.markers().len(),
        1,
        "stopped before the marker was removed"
    );
    let o = w.generate(hsm, &spec, None);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(w.records().len(), 1, "recorded once");
    assert_eq!(keys_on(hsm, &token).len(), 1);
    assert!(w.markers().is_empty());
}

/// A pin-source that counts its reads: a FIFO a thread feeds the PIN
/// through, once per open.
struct CountingPin {
    path: PathBuf,
    reads: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CountingPin {
    fn new(dir: &Path) -> CountingPin {
        let path = dir.join("pin-fifo");
        let st = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
        assert!(st.success());
        let reads = Arc::new(AtomicUsize::new(0));
        let (p, r) = (path.clone(), reads.clone());
        let thread = std::thread::spawn(move || loop {
            // Blocks until a reader opens the FIFO.
            let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&p) else {
                return;
            };
            if r.load(Ordering::SeqCst) == usize::MAX {
                return;
            }
            let _ = f.write_all(format!("{}\n", softhsm::USER_PIN).as_bytes());
            drop(f);
            r.fetch_add(1, Ordering::SeqCst);
            // The reader sees end of file once this end is closed; give it
            // time to close its end, so one open is one read.
            std::thread::sleep(std::time::Duration::from_millis(300));
        });
        CountingPin {
            path,
            reads,
            thread: Some(thread),
        }
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

impl Drop for CountingPin {
    fn drop(&mut self) {
        self.reads.store(usize::MAX, Ordering::SeqCst);
        // Unblock the writer's open with a reader of our own.
        let _ = std::fs::File::open(&self.path);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn counted_spec(token: &str, pin: &CountingPin) -> String {
    format!(
        "pkcs11:token={token}?module-path={}&pin-source=file:{}",
        softhsm::MODULE,
        pin.path.display()
    )
}

#[test]
fn with_a_transcript_the_pin_is_asked_once() {
    let _serial = serial();
    let Some(hsm) = hsm("pin_once") else {
        return;
    };
    let token = token_of("pin-once");
    let w = Work::new();
    let pin = CountingPin::new(w.dir.path());
    let o = w.generate(hsm, &counted_spec(&token, &pin), None);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(pin.reads(), 1, "one PIN read per token per command");
    assert_eq!(w.records().len(), 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("test signature"), "{err}");
}

#[test]
fn a_key_with_the_label_and_no_marker_gets_how_to_continue_before_any_pin() {
    let _serial = serial();
    let Some(hsm) = hsm("no_marker") else {
        return;
    };
    let token = token_of("no-marker");
    let spec = hsm.uri(&token, "");
    // A key made elsewhere (here: by a completed run in another directory).
    let elsewhere = Work::new();
    let o = elsewhere.generate(hsm, &spec, None);
    assert!(o.status.success(), "{}", text(&o));
    let id = keys_on(hsm, &token);
    assert_eq!(id.len(), 1);

    let w = Work::new();
    let pin = CountingPin::new(w.dir.path());
    let o = w.generate(hsm, &counted_spec(&token, &pin), None);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for needle in [
        "already holds a key labelled \"tailnet-lock\"",
        "no pending-key marker",
        "pkcs11-tool --module",
        "--delete-object --type privkey --id ",
        "--force",
        "Nothing was generated",
    ] {
        assert!(err.contains(needle), "{needle:?} missing: {err}");
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(pin.reads(), 0, "refused before any PIN");
    assert_eq!(keys_on(hsm, &token).len(), 1, "nothing generated");
    assert!(w.records().is_empty() && w.markers().is_empty());

    // The commands the error names delete it; then the command completes.
    if env::which("pkcs11-tool").is_some() {
        let lines: Vec<&str> = err
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("pkcs11-tool "))
            .collect();
        assert_eq!(lines.len(), 2, "{err}");
        for line in lines {
            let o = Command::new("sh")
                .arg("-c")
                .arg(format!("{line} --pin {}", softhsm::USER_PIN))
                .env("SOFTHSM2_CONF", &hsm.conf)
                .output()
                .expect("pkcs11-tool");
            assert!(o.status.success(), "{line}: {}", text(&o));
        }
        assert!(keys_on(hsm, &token).is_empty());
        let o = w.generate(hsm, &spec, None);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(keys_on(hsm, &token).len(), 1);
        assert_eq!(w.records().len(), 1);
    }
}

#[test]
fn a_marker_for_another_key_is_not_adopted() {
    let _serial = serial();
    let Some((hsm, token, spec, w)) = fresh("other_marker", "other-marker") else {
        return;
    };
    // An attempt stopped after generating: the marker and the key stay.
    let o = w.generate(hsm, &spec, Some("generated"));
    assert!(!o.status.success());
    let marker = w.markers().pop().expect("marker");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&marker).expect("read")).expect("json");
    m["id"] = serde_json::Value::String("00".repeat(16));
    std::fs::write(&marker, serde_json::to_vec(&m).expect("json")).expect("write");
    let o = w.generate(hsm, &spec, None);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("names another key") && err.contains("pkcs11-tool"),
        "{err}"
    );
    assert_eq!(keys_on(hsm, &token).len(), 1);
    assert!(w.records().is_empty());
}

#[test]
fn allow_network_is_noted_once_and_recorded() {
    let _serial = serial();
    let Some(hsm) = hsm("allow_network") else {
        return;
    };
    let token = token_of("allow-net");
    let w = Work::new();
    let eth = w.dir.path().join("sysfs-net/eth0");
    std::fs::create_dir_all(&eth).expect("sysfs");
    std::fs::write(eth.join("flags"), "0x1003\n").expect("flags");
    std::fs::write(eth.join("operstate"), "up\n").expect("operstate");
    let o = w
        .command(&hsm.uri(&token, ""), &["--label", LABEL, "--allow-network"])
        .env("SOFTHSM2_CONF", &hsm.conf)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("air gap NOT verified").count(), 1, "{err}");
    assert!(!err.contains("air gap verified"), "{err}");
    let records = w.records();
    assert!(
        records[0]["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .any(|i| i["name"].as_str().is_some_and(|n| n
                .starts_with("WARNING: not air-gapped (--allow-network)")
                && n.contains("eth0 (up)"))),
        "{}",
        records[0]
    );
}

/// The variable `ceremony run` sets for the commands it starts.
const PLAN_REPORTED: &str = "LOCKSMITH_AIRGAP_REPORTED";

#[test]
fn a_software_key_with_a_transcript_asks_its_passphrase_once() {
    let _serial = serial();
    let w = Work::new();
    let pin = CountingPin::new(w.dir.path());
    let spec = format!(
        "file:{}?pin-source=file:{}",
        w.dir.path().join("dev.key").display(),
        pin.path.display()
    );
    let o = w.command(&spec, &[]).output().expect("run");
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(pin.reads(), 1, "one passphrase read");
    assert_eq!(w.records().len(), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("test signature"));
}

/// `token generate` of a software key file with a transcript, `hook` set.
fn generate_file(w: &Work, spec: &str, hook: Option<&str>) -> Output {
    let mut c = w.command(spec, &["--operator", "Ada"]);
    if let Some(h) = hook {
        c.env(HOOK, h);
    }
    c.output().expect("run locksmith")
}

/// The tlpub of the key in a software key file (decrypted).
fn file_tlpub(spec: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_locksmith"))
        .args(["token", "show", "--json", "--signer", spec])
        .env_remove("LOCKSMITH_PIN")
        .output()
        .expect("token show");
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["tlpub"].as_str().expect("tlpub").to_string()
}

fn marker_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("marker")).expect("json")
}

#[test]
fn a_software_key_interrupted_after_its_file_was_written_is_resumed() {
    for hook in [
        "generated",
        "generated-crash",
        "sign",
        "staging:0",
        "crash:0",
    ] {
        let w = Work::new();
        let key = w.dir.path().join("dev.key");
        let spec = w.identity_key_spec("dev.key");
        let o = generate_file(&w, &spec, Some(hook));
        assert!(!o.status.success(), "hook {hook}: {}", text(&o));
        assert!(key.exists(), "hook {hook}: the key file stays");
        let markers = markers_in(w.dir.path());
        assert_eq!(
            markers.len(),
            1,
            "hook {hook}: the marker beside the key file"
        );
        let m = marker_json(&markers[0]);
        let tlpub = file_tlpub(&spec);
        assert_eq!(m["backend"], "file", "{m}");
        assert_eq!(m["path"], key.to_str().expect("utf-8"), "{m}");
        assert_eq!(m["public"], tlpub.as_str(), "hook {hook}: {m}");
        if !hook.starts_with("crash") {
            assert!(w.records().is_empty(), "hook {hook}: nothing recorded");
        }

        let o = generate_file(&w, &spec, None);
        assert!(o.status.success(), "rerun after {hook}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("Continuing an interrupted `token generate`")
                && err.contains("continued with the key the interrupted attempt had generated"),
            "after {hook}: {err}"
        );
        assert_eq!(file_tlpub(&spec), tlpub, "after {hook}: the same key");
        let records = w.records();
        assert_eq!(records.len(), 1, "after {hook}: one record");
        assert_eq!(records[0]["signers"][0]["tlpub"], tlpub.as_str());
        let resumed = records[0]["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .any(|i| i["name"].as_str().is_some_and(|n| n.starts_with("RESUMED")));
        // crash:0 stopped inside the commit: the record was already there
        // or not; either way it is there once and the marker is gone.
        if !hook.starts_with("crash") {
            assert!(resumed, "after {hook}: {}", records[0]);
        }
        assert!(
            markers_in(w.dir.path()).is_empty(),
            "after {hook}: the marker is removed"
        );
        let v = Command::new(env!("CARGO_BIN_EXE_locksmith"))
            .args(["ceremony", "verify"])
            .arg(w.transcript())
            .output()
            .expect("verify");
        assert!(v.status.success(), "{}", text(&v));
    }
}

#[test]
fn an_existing_key_file_without_a_marker_gets_how_to_continue_before_the_passphrase() {
    let w = Work::new();
    let key = w.dir.path().join("taken key.age");
    // A key file made by a completed run (its marker removed).
    let o = w
        .command(&w.key_spec("taken key.age"), &["--operator", "Ada"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", text(&o));
    let before = std::fs::read(&key).expect("key");
    std::fs::remove_file(w.transcript()).expect("rm transcript");

    let pin = CountingPin::new(w.dir.path());
    let spec = format!(
        "file:{}?pin-source=file:{}",
        key.display(),
        pin.path.display()
    );
    let o = generate_file(&w, &spec, None);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for needle in [
        "exists (no pending-key marker",
        "Nothing was generated",
        "rm -- '",
        "--force",
    ] {
        assert!(err.contains(needle), "{needle:?} missing: {err}");
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(pin.reads(), 0, "refused before the passphrase");
    assert_eq!(std::fs::read(&key).expect("key"), before, "untouched");
    assert!(w.records().is_empty() && markers_in(w.dir.path()).is_empty());

    // The command the error names removes it; then the command completes.
    let line = err
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("rm -- "))
        .expect("an rm line");
    let o = Command::new("sh").arg("-c").arg(line).output().expect("sh");
    assert!(o.status.success(), "{line}: {}", text(&o));
    assert!(!key.exists(), "{line}");
    let o = generate_file(&w, &w.key_spec("taken key.age"), None);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(w.records().len(), 1);
    assert!(markers_in(w.dir.path()).is_empty());
}

#[test]
fn a_software_marker_for_another_key_is_not_adopted() {
    let w = Work::new();
    let spec = w.identity_key_spec("dev.key");
    let o = generate_file(&w, &spec, Some("generated"));
    assert!(!o.status.success());
    let marker = markers_in(w.dir.path()).pop().expect("marker");
    let mut m = marker_json(&marker);
    m["public"] = serde_json::Value::String(format!("tlpub:{}", "00".repeat(32)));
    std::fs::write(&marker, serde_json::to_vec(&m).expect("json")).expect("write");
    let o = generate_file(&w, &spec, None);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("is not the one the pending-key marker") && err.contains("rm -- "),
        "{err}"
    );
    assert!(w.records().is_empty());
    // --force replaces it: a new key, recorded, the marker gone.
    let old = file_tlpub(&spec);
    let o = w
        .command(&spec, &["--operator", "Ada", "--force"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", text(&o));
    assert_ne!(file_tlpub(&spec), old);
    assert_eq!(w.records().len(), 1);
    assert!(markers_in(w.dir.path()).is_empty());
}
