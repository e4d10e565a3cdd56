//! The interactive path on a real terminal, driven through tmux: the PIN
//! prompt (no echo), the typed "yes", and Ctrl-C at each prompt. After
//! every run the terminal's mode (`stty -a`) is what it was before, and an
//! interrupted run left no output.

#[path = "support/env.rs"]
mod env;
#[path = "support/softhsm.rs"]
mod softhsm;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, shell_script: &Path) -> Option<Tmux> {
        let socket = format!("locksmith-test-{}-{name}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "200",
                "-y",
                "50",
            ])
            .arg(format!("sh {}", shell_script.display()))
            .status()
            .ok()?
            .success();
        ok.then_some(Tmux { socket })
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-S", "-100"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {text:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn tmux_available() -> bool {
    let ok = Command::new("tmux").arg("-V").output().is_ok();
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true and tmux is missing (apt-get install tmux)"
        );
        eprintln!("*** SKIPPED: tmux missing ***");
    }
    ok
}

struct Run {
    dir: tempfile::TempDir,
    tmux: Tmux,
}

impl Run {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn finished(&self) -> i32 {
        self.tmux.wait_for("LOCKSMITH-DONE");
        let rc = std::fs::read_to_string(self.path("rc")).expect("rc");
        rc.trim().parse().expect("exit code")
    }

    fn terminal_restored(&self) {
        let before = std::fs::read_to_string(self.path("stty-before")).expect("before");
        let after = std::fs::read_to_string(self.path("stty-after")).expect("after");
        assert_eq!(before, after, "the terminal mode changed");
        let words: Vec<&str> = after.split_whitespace().collect();
        for mode in ["echo", "isig", "icanon"] {
            assert!(
                words.contains(&mode),
                "{mode} is off after the run: {after}"
            );
        }
    }
}

/// `lock init` of a new authority with a software key whose passphrase is
/// typed at the prompt.
fn start(name: &str) -> Option<Run> {
    if !tmux_available() {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let bin = env!("CARGO_BIN_EXE_locksmith");
    std::fs::write(d.join("pw"), "tty passphrase").expect("pw");
    let gen = Command::new(bin)
        .args(["token", "generate", "--signer"])
        .arg(format!(
            "file:{}?pin-source=file:{}",
            d.join("a.key").display(),
            d.join("pw").display()
        ))
        .env_remove("LOCKSMITH_PIN")
        .output()
        .expect("generate");
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    let script = format!(
        "cd {d}\nunset LOCKSMITH_PIN LOCKSMITH_STORE LOCKSMITH_TEST_FAIL_AFTER\nstty -a > stty-before\n\
         {bin} lock init --signer file:{d}/a.key --gen-disablements 0 --disablement disablement:{v} --store {d}/store --out {d}/genesis.aum --allow-network\n\
         echo $? > rc\nstty -a > stty-after\necho LOCKSMITH-DONE\nsleep 600\n",
        d = d.display(),
        v = "ab".repeat(32),
    );
    std::fs::write(d.join("run.sh"), script).expect("script");
    let tmux = Tmux::start(name, &d.join("run.sh"))?;
    Some(Run { dir, tmux })
}

#[test]
fn pin_and_yes_typed_at_the_terminal_complete_the_ceremony() {
    let Some(run) = start("ok") else { return };
    run.tmux.wait_for("Passphrase for software key file");
    run.tmux.keys(&["tty passphrase", "Enter"]);
    let screen = run.tmux.wait_for("Type 'yes'");
    assert!(
        !screen.contains("tty passphrase"),
        "the PIN was echoed:\n{screen}"
    );
    run.tmux.keys(&["yes", "Enter"]);
    assert_eq!(run.finished(), 0, "{}", run.tmux.screen());
    assert!(run.path("store/anchor").is_file());
    assert!(run.path("genesis.aum").is_file());
    run.terminal_restored();
}

#[test]
fn ctrl_c_at_the_pin_prompt_restores_the_terminal_and_writes_nothing() {
    let Some(run) = start("pin") else { return };
    run.tmux.wait_for("Passphrase for software key file");
    run.tmux.keys(&["12", "C-c"]);
    assert_eq!(
        run.finished(),
        130,
        "interrupted: the shell's status for SIGINT"
    );
    assert!(
        run.tmux.screen().contains("interrupted"),
        "{}",
        run.tmux.screen()
    );
    assert!(!run.path("store").exists() && !run.path("genesis.aum").exists());
    run.terminal_restored();
}

#[test]
fn ctrl_c_at_the_confirmation_restores_the_terminal_and_writes_nothing() {
    let Some(run) = start("yes") else { return };
    run.tmux.wait_for("Passphrase for software key file");
    run.tmux.keys(&["tty passphrase", "Enter"]);
    run.tmux.wait_for("Type 'yes'");
    run.tmux.keys(&["ye", "C-c"]);
    assert_eq!(
        run.finished(),
        130,
        "interrupted: the shell's status for SIGINT"
    );
    assert!(
        run.tmux.screen().contains("nothing was signed"),
        "{}",
        run.tmux.screen()
    );
    assert!(!run.path("store").exists() && !run.path("genesis.aum").exists());
    run.terminal_restored();
}

use softhsm::MODULE as SOFTHSM_MODULE;

/// `ceremony run` of a plan whose step runs `token generate` on a fresh
/// SoftHSM2 token, the PIN typed at the prompt of the command the plan
/// started.
fn start_plan(name: &str) -> Option<Run> {
    if !tmux_available() {
        return None;
    }
    let hsm = softhsm::require(name, &["tty-token"], &[])?;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let lo = d.join("sysfs-net/lo");
    std::fs::create_dir_all(&lo).expect("sysfs");
    std::fs::write(lo.join("flags"), "0x9\n").expect("flags");
    std::fs::write(lo.join("operstate"), "unknown\n").expect("operstate");
    std::fs::write(
        d.join("plan.toml"),
        format!(
            "name = \"tty plan\"\n[[step]]\nid = \"airgap\"\nairgap = true\n[[step]]\nid = \"generate\"\n\
             run = [\"token\", \"generate\", \"--signer\", \"pkcs11:token=tty-token?module-path={SOFTHSM_MODULE}\", \
             \"--label\", \"tailnet-lock\", \"--transcript\", \"{}/store/transcript.jsonl\"]\n",
            d.display()
        ),
    )
    .expect("plan");
    let bin = env!("CARGO_BIN_EXE_locksmith");
    let script = format!(
        "cd {d}\nunset LOCKSMITH_PIN LOCKSMITH_STORE LOCKSMITH_TEST_FAIL_AFTER LOCKSMITH_ALLOW_NETWORK\n\
         export SOFTHSM2_CONF={conf} LOCKSMITH_SYSFS_NET={d}/sysfs-net\nstty -a > stty-before\n\
         {bin} ceremony run {d}/plan.toml --state {d}/state.json\n\
         echo $? > rc\nstty -a > stty-after\necho LOCKSMITH-DONE\nsleep 600\n",
        d = d.display(),
        conf = hsm.conf.display(),
    );
    std::fs::write(d.join("run.sh"), script).expect("script");
    let tmux = Tmux::start(name, &d.join("run.sh"))?;
    Some(Run { dir, tmux })
}

#[test]
fn ctrl_c_at_the_pin_prompt_inside_ceremony_run_restores_the_terminal() {
    let Some(run) = start_plan("plan-pin") else {
        return;
    };
    let screen = run.tmux.wait_for("PIN for");
    assert!(screen.contains("air gap verified"), "{screen}");
    run.tmux.keys(&["12", "C-c"]);
    assert_eq!(run.finished(), 130, "{}", run.tmux.screen());
    let screen = run.tmux.screen();
    assert!(
        screen.contains("interrupted")
            && screen.contains("stopped at step 2 (generate)")
            && screen.contains("`locksmith token generate` was interrupted at one of its prompts"),
        "{screen}"
    );
    run.terminal_restored();
    // Nothing was generated or recorded, and the step is not done.
    assert!(!run.path("store/transcript.jsonl").exists());
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.path("state.json")).expect("state"))
            .expect("json");
    assert_eq!(state["done"], serde_json::json!(["airgap"]));
    let list = Command::new(env!("CARGO_BIN_EXE_locksmith"))
        .args(["token", "list", "--json", "--module", SOFTHSM_MODULE])
        .env("SOFTHSM2_CONF", &softhsm::softhsm(&[], &[]).conf)
        .env("PCSCLITE_CSOCK_NAME", "no-pcscd.sock")
        .output()
        .expect("token list");
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert!(
        v["tokens"][0]["keys"]
            .as_array()
            .is_some_and(|k| k.is_empty()),
        "{v}"
    );
}
