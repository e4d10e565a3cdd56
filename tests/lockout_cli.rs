//! The lockout gate through the real CLI: `lock import` keeps a status
//! export; `lock remove` and `lock revoke-keys` show the nodes that lose
//! access and refuse unless `--accept-lockout` states their number, and
//! say the effect is unknown when the export is not at the head.

#[path = "support/tailnet.rs"]
mod tailnet;

use assert_cmd::Command;
use locksmith::tka::keyforms::node_key_text;
use locksmith::tka::NodeKeySignature;
use std::path::Path;

fn locksmith() -> Command {
    let mut c = Command::cargo_bin("locksmith").expect("binary");
    c.env_remove("LOCKSMITH_STORE");
    c
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = locksmith().args(args).output().expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn key_file(dir: &Path, name: &str) -> (String, String) {
    let spec = format!(
        "file:{}?pin-source=file:{}",
        dir.join(name).display(),
        dir.join("pw").display()
    );
    let (ok, _, err) = run(&["token", "generate", "--signer", &spec, "--label", name]);
    assert!(ok, "{err}");
    let out = locksmith()
        .args(["token", "show", "--signer", &spec, "--json"])
        .output()
        .expect("show");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    (spec, v["tlpub"].as_str().expect("tlpub").to_string())
}

fn sign(spec: &str, store: &str, node_key: &[u8; 32]) -> NodeKeySignature {
    let nk = node_key_text(node_key);
    let (ok, out, err) = run(&[
        "lock", "sign", &nk, "--signer", spec, "--store", store, "--yes", "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let hex = v["signatures"][0]["nks_hex"].as_str().expect("nks");
    NodeKeySignature::decode(&locksmith::tka::hex::decode(hex).expect("hex")).expect("nks")
}

fn head(store: &str) -> String {
    let (ok, out, err) = run(&["lock", "status", "--store", store, "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    v["head"].as_str().expect("head").to_string()
}

fn status_json(head: &str, nodes: &[(&str, [u8; 32], &NodeKeySignature)]) -> String {
    let peers: Vec<serde_json::Value> = nodes
        .iter()
        .map(|(name, nk, sig)| {
            serde_json::json!({
                "ID": format!("n{name}"),
                "DNSName": format!("{name}.ts.net."),
                "TailscaleIPs": [],
                "NodeKey": node_key_text(nk),
                "NodeKeySignature": tailnet::status_signature(sig),
            })
        })
        .collect();
    serde_json::json!({"SchemaVersion": "1", "Enabled": true, "Head": head, "TrustedKeys": [], "VisiblePeers": peers, "FilteredPeers": []}).to_string()
}

/// A `locksmith online export` envelope of the store's chain (as
/// `tailscale lock log --json=1` prints it) and `status`.
fn online_export(store: &str, status: &[u8]) -> Vec<u8> {
    let mut messages = Vec::new();
    for entry in std::fs::read_dir(Path::new(store).join("aums")).expect("aums") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("aum");
        let aum = locksmith::tka::Aum::decode(&bytes).expect("decode");
        messages.push(serde_json::json!({"Hash": aum.hash().to_string(), "Raw": data_encoding::BASE64URL.encode(&bytes)}));
    }
    let log = serde_json::json!({"SchemaVersion": "1", "Messages": messages}).to_string();
    let payload = locksmith::exchange::NodeExport {
        status_json: status.to_vec(),
        log_json: log.into_bytes(),
        exported_at: locksmith::exchange::unix_now(),
    }
    .to_bytes();
    locksmith::exchange::Envelope::new_request(
        locksmith::exchange::ArtifactKind::NodeExport,
        payload,
        std::time::Duration::from_secs(3600),
    )
    .to_bytes()
}

#[test]
fn remove_and_revoke_show_and_gate_the_nodes_that_lose_access() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pw"), "test passphrase").expect("pw");
    let (a, _a_tl) = key_file(dir.path(), "a.key");
    let (b, b_tl) = key_file(dir.path(), "b.key");
    let (c, c_tl) = key_file(dir.path(), "c.key");
    let store = dir.path().join("store").display().to_string();
    let (ok, _, err) = run(&[
        "lock",
        "init",
        "--signer",
        &a,
        "--signer",
        &b,
        "--key",
        &c_tl,
        "--gen-disablements",
        "1",
        "--reveal-secrets",
        "--yes",
        "--store",
        &store,
    ]);
    assert!(ok, "{err}");
    let s1 = sign(&b, &store, &[1; 32]);
    let s2 = sign(&b, &store, &[2; 32]);
    let s3 = sign(&a, &store, &[3; 32]);

    // No export yet: the effect is unknown and the remove is refused.
    let remove_b = [
        "lock", "remove", &b_tl, "--signer", &a, "--store", &store, "--yes",
    ];
    let (ok, _, err) = run(&remove_b);
    assert!(!ok);
    assert!(
        err.contains("UNKNOWN") && err.contains("--accept-lockout unknown"),
        "{err}"
    );
    assert!(
        !err.contains("software key"),
        "refused before the token was opened:\n{err}"
    );

    let status = dir.path().join("status.json");
    let h = head(&store);
    std::fs::write(
        &status,
        status_json(
            &h,
            &[
                ("web", [1; 32], &s1),
                ("db", [2; 32], &s2),
                ("ci", [3; 32], &s3),
            ],
        ),
    )
    .expect("write");
    // As `locksmith online export` carries it: the log and the status in
    // one envelope; import keeps the status.
    let export = dir.path().join("export.lks");
    std::fs::write(
        &export,
        online_export(&store, &std::fs::read(&status).expect("read")),
    )
    .expect("write");
    let export_s = export.display().to_string();
    let (ok, out, err) = run(&["lock", "import", &export_s, "--store", &store]);
    assert!(ok, "{err}");
    assert!(out.contains("3 node(s) listed, 3 verify"), "{out}");
    assert!(out.contains("(the current head)"), "{out}");
    let status_s = status.display().to_string();
    let (ok, out, err) = run(&["lock", "import", &status_s, "--store", &store]);
    assert!(ok, "{err}");
    assert!(out.contains("3 node(s) listed, 3 verify"), "{out}");

    let (ok, _, err) = run(&remove_b);
    assert!(!ok);
    assert!(err.contains("2 node(s) LOSE ACCESS"), "{err}");
    assert!(
        err.contains("web.ts.net") && err.contains("db.ts.net"),
        "{err}"
    );
    assert!(err.contains("--accept-lockout 2"), "{err}");
    let mut wrong = remove_b.to_vec();
    wrong.extend(["--accept-lockout", "1"]);
    let (ok, _, err) = run(&wrong);
    assert!(!ok && err.contains("does not match"), "{err}");

    // Revoke-keys start is gated the same way.
    let (ok, _, err) = run(&[
        "lock",
        "revoke-keys",
        &b_tl,
        "--signer",
        &a,
        "--store",
        &store,
        "--yes",
    ]);
    assert!(!ok && err.contains("2 node(s) LOSE ACCESS"), "{err}");

    // Removing C (signed nobody) needs no flag.
    let (ok, _, err) = run(&[
        "lock", "remove", &c_tl, "--signer", &a, "--store", &store, "--yes",
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("0 nodes lose access"), "{err}");

    // Now the export is older than the head: unknown again.
    let (ok, _, err) = run(&remove_b);
    assert!(
        !ok && err.contains("not at the head this change builds on"),
        "{err}"
    );
    let _ = c;
}
