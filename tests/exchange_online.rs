//! The online helper against a stand-in `tailscale` executable first on
//! PATH (a shell script printing the sample JSON; tailscaled cannot run
//! here without a control server). Exports, responses, refusal of unknown
//! and expired responses, and running the stock commands.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use locksmith::exchange::{parse_artifact, ArtifactKind, Envelope, NodeExport, Nonce};

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/samples")
}

struct World {
    dir: tempfile::TempDir,
}

impl World {
    /// A temp dir with `bin/tailscale` (the stand-in) and `calls.log`.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("bin");
        // The stand-in parses arguments as upstream's CLI does (see the script).
        let script = include_str!("support/tailscale-standin.sh")
            .replace("@LOG@", &dir.path().join("calls.log").display().to_string())
            .replace("@SAMPLES@", &samples().display().to_string());
        let path = bin.join("tailscale");
        std::fs::write(&path, script).expect("script");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn state(&self) -> PathBuf {
        self.path("state")
    }

    fn locksmith(&self, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::cargo_bin("locksmith")
            .expect("binary")
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env_remove("LOCKSMITH_ONLINE_STATE")
            .args(args)
            .output()
            .expect("run locksmith")
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.path("calls.log")).unwrap_or_default()
    }

    /// Runs `online export` through the stand-in; returns the request nonce.
    fn export(&self, extra: &[&str]) -> Nonce {
        let state = self.state();
        let mut args = vec![
            "online",
            "export",
            "--out",
            "export.lks",
            "--state",
            state.to_str().expect("utf8"),
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = self.locksmith(&args);
        assert!(
            out.status.success(),
            "export failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        Nonce::from_hex(json["request"].as_str().expect("request")).expect("nonce")
    }

    fn write_response(&self, name: &str, env: &Envelope) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, env.to_bytes()).expect("write response");
        p
    }

    /// Exports, then writes the sample wrapped auth key as the response to
    /// it; returns the key and the response's path.
    fn auth_key_response(&self) -> (String, PathBuf) {
        let nonce = self.export(&[]);
        let key = std::fs::read_to_string(samples().join("authkey.txt")).expect("sample");
        let resp = self.write_response(
            "key.lks",
            &Envelope::new_response(
                ArtifactKind::WrappedAuthKey,
                key.trim().as_bytes().to_vec(),
                nonce,
            ),
        );
        (key, resp)
    }

    /// A software signing key (test only) in the world's directory.
    fn software_key(&self) -> String {
        std::fs::write(self.path("pw"), "test passphrase").expect("pw");
        let spec = format!(
            "file:{}?pin-source=file:{}",
            self.path("t.key").display(),
            self.path("pw").display()
        );
        assert!(self
            .locksmith(&["token", "generate", "--signer", &spec, "--label", "t"])
            .status
            .success());
        spec
    }

    /// `lock init` with `spec` into `store`, plus `extra`; its JSON.
    fn init_json(&self, spec: &str, store: &str, extra: &[&str]) -> serde_json::Value {
        let mut args = vec![
            "lock",
            "init",
            "--signer",
            spec,
            "--gen-disablements",
            "1",
            "--reveal-secrets",
            "--yes",
            "--json",
            "--store",
            store,
        ];
        args.extend(extra);
        let out = self.locksmith(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    }

    fn submit(&self, response: &Path, run: bool) -> Output {
        self.submit_with(response, run, &[])
    }

    fn submit_with(&self, response: &Path, run: bool, extra: &[&str]) -> Output {
        let state = self.state();
        let mut args = vec![
            "online",
            "submit",
            response.to_str().expect("utf8"),
            "--state",
            state.to_str().expect("utf8"),
        ];
        if run {
            args.push("--run");
        }
        args.extend_from_slice(extra);
        self.locksmith(&args)
    }
}

fn recovery_cbor() -> Vec<u8> {
    let hex = std::fs::read_to_string(samples().join("recovery-2sig.cli.txt")).expect("sample");
    parse_artifact(hex.as_bytes(), "cli")
        .expect("parse")
        .payload
}

#[test]
fn export_carries_status_and_log_verbatim() {
    let w = World::new();
    let nonce = w.export(&[]);
    let bytes = std::fs::read(w.path("export.lks")).expect("export written");
    let env = Envelope::from_bytes(&bytes, "export").expect("envelope");
    assert_eq!(env.kind, ArtifactKind::NodeExport);
    let req = env.request.expect("a request");
    assert_eq!(req.nonce, nonce);
    assert!(req.expires > req.created);
    let export = NodeExport::from_bytes(&env.payload, "export").expect("payload");
    assert_eq!(
        export.status_json,
        std::fs::read(samples().join("lock-status.json")).expect("sample")
    );
    assert_eq!(
        export.log_json,
        std::fs::read(samples().join("lock-log.json")).expect("sample")
    );
    // The request is recorded.
    let out = w.locksmith(&[
        "online",
        "requests",
        "--state",
        w.state().to_str().expect("utf8"),
        "--json",
    ]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list[0]["nonce"], nonce.to_hex());
    // Refuses to overwrite the export.
    let again = w.locksmith(&[
        "online",
        "export",
        "--out",
        "export.lks",
        "--state",
        w.state().to_str().expect("utf8"),
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[test]
fn export_from_files_and_as_qr() {
    let w = World::new();
    let state = w.state();
    let (s, l) = (
        samples().join("lock-status.json"),
        samples().join("lock-log.json"),
    );
    let out = w.locksmith(&[
        "online",
        "export",
        "--status",
        s.to_str().expect("utf8"),
        "--log",
        l.to_str().expect("utf8"),
        "--qr",
        "png",
        "--out",
        "qr",
        "--state",
        state.to_str().expect("utf8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        w.path("qr").is_dir(),
        "a 12 KB export is a directory of numbered frames"
    );
    let out = w.locksmith(&[
        "exchange",
        "decode",
        "--qr-in",
        "qr",
        "--envelope",
        "--out",
        "back.lks",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = Envelope::from_bytes(&std::fs::read(w.path("back.lks")).expect("read"), "back")
        .expect("envelope");
    let export = NodeExport::from_bytes(&env.payload, "export").expect("payload");
    assert_eq!(export.log_json, std::fs::read(&l).expect("sample"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("parts"),
        "progress shown"
    );
    // Bad JSON from a file is refused with the reason.
    let out = w.locksmith(&[
        "online",
        "export",
        "--status",
        l.to_str().expect("utf8"),
        "--log",
        l.to_str().expect("utf8"),
        "--out",
        "x.lks",
        "--state",
        state.to_str().expect("utf8"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Enabled"));
    assert!(!w.path("x.lks").exists());
}

#[test]
fn recovery_response_prints_then_runs_revoke_keys_finish() {
    let w = World::new();
    let nonce = w.export(&[]);
    let resp = w.write_response(
        "resp.lks",
        &Envelope::new_response(ArtifactKind::RecoveryAum, recovery_cbor(), nonce),
    );
    let out = w.submit(&resp, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli_blob =
        std::fs::read_to_string(samples().join("recovery-2sig.cli.txt")).expect("sample");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("tailscale lock revoke-keys --finish {}", cli_blob.trim())
    );
    assert_eq!(w.calls(), "", "nothing runs without --run");
    let out = w.submit(&resp, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(w.calls().trim(), format!("revoke-keys {}", cli_blob.trim()));
    // Applied once: a replay is refused.
    let out = w.submit(&resp, true);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not make or has already applied"));
}

#[test]
fn response_made_with_the_cli_from_a_qr_export() {
    // The offline side answers with `exchange encode --answers EXPORT`.
    let w = World::new();
    let nonce = w.export(&[]);
    let blob = samples().join("recovery-2sig.cli.txt");
    let out = w.locksmith(&[
        "exchange",
        "encode",
        blob.to_str().expect("utf8"),
        "--answers",
        "export.lks",
        "--qr",
        "png",
        "--density",
        "high",
        "--out",
        "answer",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = w.state();
    let out = w.locksmith(&[
        "online",
        "submit",
        "--qr-in",
        "answer.png",
        "--state",
        state.to_str().expect("utf8"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["request"], nonce.to_hex());
    assert!(json["commands"][0]
        .as_str()
        .expect("command")
        .starts_with("tailscale lock revoke-keys --finish A4"));
}

#[test]
fn unknown_expired_and_non_responses_are_refused() {
    let w = World::new();
    let nonce = w.export(&[]);
    // Unknown request.
    let stranger = w.write_response(
        "stranger.lks",
        &Envelope::new_response(ArtifactKind::RecoveryAum, recovery_cbor(), Nonce::random()),
    );
    let out = w.submit(&stranger, true);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not make"));
    // Not a response at all (the raw upstream blob).
    let out = w.submit(&samples().join("recovery-2sig.cli.txt"), false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("names no request"));
    // Expired: move the recorded expiry into the past.
    let record = w.state().join(format!("request-{}.json", nonce.to_hex()));
    let mut rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).expect("record")).expect("json");
    rec["expires"] = serde_json::json!(rec["created"].as_u64().expect("created") - 1);
    std::fs::write(&record, serde_json::to_vec(&rec).expect("json")).expect("write");
    let resp = w.write_response(
        "resp.lks",
        &Envelope::new_response(ArtifactKind::RecoveryAum, recovery_cbor(), nonce),
    );
    let out = w.submit(&resp, true);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expired"));
    assert_eq!(w.calls(), "", "nothing ran");
}

#[test]
fn auth_key_response_runs_tailscale_up_without_the_key_in_argv() {
    let w = World::new();
    let (key, resp) = w.auth_key_response();
    let out = w.submit(&resp, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.starts_with("tailscale up --auth-key=file:"));
    assert!(!printed.contains("tskey-"), "the key is never printed");
    assert_eq!(w.calls().trim(), format!("up {}", key.trim()));
    let leftover: Vec<_> = std::fs::read_dir(w.state())
        .expect("state")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("authkey"))
        .collect();
    assert!(leftover.is_empty(), "the key file is removed after running");
}

#[test]
fn auth_key_response_without_run_writes_nothing_secret() {
    let w = World::new();
    let (key, resp) = w.auth_key_response();
    let before = std::fs::read(&resp).expect("response");
    let out = w.submit(&resp, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tailscale up --auth-key=file:"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing secret was written"));
    assert_eq!(w.calls(), "", "nothing ran");
    // No file anywhere under the work directory holds the key, except the
    // response itself (unchanged).
    let secret = key
        .trim()
        .split("--TL")
        .next()
        .expect("key")
        .as_bytes()
        .to_vec();
    let mut stack = vec![w.dir.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path != resp {
                let data = std::fs::read(&path).unwrap_or_default();
                assert!(
                    !data.windows(secret.len()).any(|win| win == secret),
                    "{} holds the auth key",
                    path.display()
                );
            }
        }
    }
    assert_eq!(std::fs::read(&resp).expect("response"), before);
}

#[test]
fn init_response_is_checked_argument_by_argument() {
    let w = World::new();
    let nonce = w.export(&[]);
    let pubkey = std::fs::read_to_string(samples().join("keys/A.pub")).expect("sample");
    let good = format!(
        "tailscale lock init --gen-disablements 2 --confirm {}",
        pubkey.trim()
    );
    let resp = w.write_response(
        "init.lks",
        &Envelope::new_response(ArtifactKind::InitCommand, good.into_bytes(), nonce),
    );
    let out = w.submit(&resp, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        w.calls().trim(),
        format!("lock init --gen-disablements 2 --confirm {}", pubkey.trim())
    );
    let nonce = w.export(&["--force"]);
    let evil = format!("--gen-disablements 2 {} ; rm -rf /", pubkey.trim());
    let resp = w.write_response(
        "evil.lks",
        &Envelope::new_response(ArtifactKind::InitCommand, evil.into_bytes(), nonce),
    );
    let out = w.submit(&resp, true);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unexpected `tailscale lock init` argument")
    );
}

/// Runs the stand-in `tailscale` directly with `args`.
fn standin(w: &World, args: &[&str]) -> Output {
    std::process::Command::new(w.path("bin").join("tailscale"))
        .args(args)
        .output()
        .expect("run the stand-in")
}

#[test]
fn the_stock_init_line_locksmith_prints_parses_as_upstream_parses_it() {
    let w = World::new();
    let spec = w.software_key();
    let node = std::fs::read_to_string(samples().join("keys/A.pub")).expect("sample");
    // Without the node's key there is no line to print.
    let v = w.init_json(&spec, &w.path("store").display().to_string(), &[]);
    assert!(v["stock_init_command"].is_null(), "{v}");
    assert!(v["stock_init_refused"]
        .as_str()
        .unwrap_or("")
        .contains("--online-node-key"));
    // With it, the line works as printed.
    let status = samples().join("lock-status.json").display().to_string();
    let v = w.init_json(
        &spec,
        &w.path("store2").display().to_string(),
        &["--online-node-key", node.trim()],
    );
    let line = v["stock_init_command"].as_str().expect("line").to_string();
    assert!(line.contains(node.trim()), "{line}");
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[..3], &["tailscale", "lock", "init"]);
    let dry = standin(&w, &words[1..]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(String::from_utf8_lossy(&dry.stdout).contains("--confirm"));
    let mut confirmed = vec!["lock", "init", "--confirm"];
    confirmed.extend(&words[3..]);
    let run = standin(&w, &confirmed);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The old line, without the node's key, is refused as upstream refuses it.
    let without: Vec<&str> = confirmed
        .iter()
        .copied()
        .filter(|a| *a != node.trim())
        .collect();
    let refused = standin(&w, &without);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("must be one of the trusted keys"));
    // An enabled status export cannot name the node for an init.
    let out = w.locksmith(&[
        "lock",
        "init",
        "--signer",
        &spec,
        "--gen-disablements",
        "1",
        "--reveal-secrets",
        "--yes",
        "--store",
        &w.path("store3").display().to_string(),
        "--online-export",
        &status,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already enabled"));
}

#[test]
fn the_standin_refuses_what_upstreams_flag_parsing_refuses() {
    let w = World::new();
    let key = std::fs::read_to_string(samples().join("keys/A.pub")).expect("sample");
    let key = key.trim();
    let d = format!("disablement:{}", "ab".repeat(32));
    for (args, expect) in [
        (
            vec!["lock", "init", key, "--confirm"],
            "doesn't have expected type prefix",
        ),
        (
            vec!["lock", "init", "--bogus", key],
            "flag provided but not defined",
        ),
        (vec!["lock", "init", "tlpub:abcd"], "wrong size"),
        (
            vec!["lock", "revoke-keys", &d],
            "doesn't have expected type prefix",
        ),
        (vec!["lock", "revoke-keys"], "missing argument"),
        (
            vec!["lock", "revoke-keys", "--finish", "XYZ"],
            "parsing hex",
        ),
        (vec!["lock", "status", "--json=2"], "unrecognised version"),
        (vec!["lock", "status", "extra"], "unexpected argument"),
        (vec!["up", "--auth-key"], "flag needs an argument"),
        (
            vec!["up", "--force-reauth", "true"],
            "too many non-flag arguments",
        ),
    ] {
        let out = standin(&w, &args);
        assert!(!out.status.success(), "{args:?} must be refused");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    for args in [
        vec![
            "lock",
            "init",
            "--gen-disablements=0",
            &format!("{key}?2"),
            &d,
        ],
        vec!["lock", "status", "--json"],
        vec!["lock", "log", "--json=1", "--limit", "5"],
        vec!["lock", "revoke-keys", "--cosign", "A4AB"],
    ] {
        let out = standin(&w, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn an_export_before_init_carries_the_node_key_for_the_stock_init_line() {
    let w = World::new();
    let node = "tlpub:50f3d75e0d8dab9b1c3280a76092bb07e8c32119f4fd0e31196acf6ea0b1be67";
    // A node without tailnet lock: status says so, `lock log` fails as upstream's does.
    let script = format!(
        "#!/bin/sh\ncase \"$*\" in\n  \"lock status --json=1\") echo '{{\"SchemaVersion\":\"1\",\"Enabled\":false,\"PublicKey\":\"{node}\"}}' ;;\n  *) echo 'Tailnet Lock is not enabled' >&2; exit 1 ;;\nesac\n"
    );
    std::fs::write(w.path("bin").join("tailscale"), script).expect("script");
    w.export(&[]);
    let spec = w.software_key();
    let export = w.path("export.lks").display().to_string();
    let store = w.path("store").display().to_string();
    let v = w.init_json(&spec, &store, &["--online-export", &export]);
    assert_eq!(v["online_node_key"], node);
    assert!(v["stock_init_command"]
        .as_str()
        .expect("line")
        .contains(node));
}

#[test]
fn force_reauth_re_authenticates_a_node_with_its_wrapped_key() {
    let w = World::new();
    let (key, resp) = w.auth_key_response();
    let out = w.submit_with(&resp, true, &["--force-reauth"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with("tailscale up --force-reauth --auth-key=file:"));
    assert_eq!(
        w.calls().trim(),
        format!("up --force-reauth {}", key.trim())
    );
    // Not for other responses.
    let nonce = w.export(&["--force"]);
    let resp = w.write_response(
        "rec.lks",
        &Envelope::new_response(ArtifactKind::RecoveryAum, recovery_cbor(), nonce),
    );
    let out = w.submit_with(&resp, false, &["--force-reauth"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--force-reauth applies to a wrapped auth key"));
}
