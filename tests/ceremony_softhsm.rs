//! The whole offline ceremony end to end on SoftHSM2 tokens: the README's
//! demo (ceremony/demo.sh) run with this build's binary, then every
//! artifact it wrote checked with the core's verifier; and a signing
//! deeplink signed on a token.

#[path = "support/env.rs"]
mod env;

use locksmith::input::{identify, read_aum, Artifact, Input};
use locksmith::store::Store;
use locksmith::tka::deeplink::{self, DeeplinkParams};
use locksmith::tka::keyforms::{parse_lock_key, parse_node_key, tlpub_text};
use locksmith::tka::nks;
use locksmith::tka::signer::SoftwareSigner;
use locksmith::tka::wrapped_authkey;
use std::path::{Path, PathBuf};
use std::process::Command;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

fn run_demo(work: &Path) -> bool {
    if !env::require(
        "ceremony_softhsm",
        &[MODULE, "/usr/bin/softhsm2-util", "/usr/bin/age-keygen"],
        "apt-get install softhsm2 age",
    ) {
        return false;
    }
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("ceremony/demo.sh"))
        .arg(work)
        .env("LOCKSMITH_BIN", env!("CARGO_BIN_EXE_locksmith"))
        .env("LOCKSMITH_NO_SETUP", "1")
        .output()
        .expect("run ceremony/demo.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // What a person follows: each step announced, hardware custody shown.
    for step in [
        "lock init",
        "lock sign",
        "lock add",
        "revoke-keys",
        "lock remove",
        "lock log",
    ] {
        assert!(
            stdout.contains(step),
            "the demo output names the step {step}"
        );
    }
    assert!(
        stderr.contains("[hardware-backed]"),
        "the signing summaries say the keys are on a token"
    );
    true
}

fn read(work: &Path, name: &str) -> String {
    std::fs::read_to_string(work.join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .trim()
        .to_string()
}

#[test]
fn demo_ceremony_artifacts_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("demo");
    if !run_demo(&work) {
        return;
    }
    let store = Store::open(&work.join("store"), false).expect("store");
    let authority = store.load().expect("the store re-verifies from its anchor");

    // The genesis file is the pinned anchor, signed by both tokens.
    let genesis = read_aum(&work.join("genesis.aum").display().to_string()).expect("genesis");
    assert_eq!(genesis.hash(), authority.oldest_ancestor());
    assert_eq!(genesis.signatures().len(), 2);

    // Final state: D revoked, C removed; A and B remain.
    let compromised = parse_lock_key(&read(&work, "compromised.txt")).expect("D");
    assert!(
        !authority.key_trusted(&compromised),
        "the revoked key is gone"
    );
    assert_eq!(
        authority.keys().len(),
        2,
        "A and B remain: {:?}",
        authority
            .keys()
            .iter()
            .map(|k| tlpub_text(k.public.as_deref().unwrap_or(&[])))
            .collect::<Vec<_>>()
    );

    // The recovery AUM is on the active chain and won with three signatures.
    let recovery = read_aum(&work.join("recovery.aum").display().to_string()).expect("recovery");
    assert_eq!(recovery.signatures().len(), 3);
    assert!(authority
        .active_chain()
        .iter()
        .any(|(h, _)| *h == recovery.hash()));

    // Every update AUM file is a verified member of the store's tree.
    for sub in ["add", "update", "remove"] {
        for entry in std::fs::read_dir(work.join(sub)).expect("dir") {
            let path = entry.expect("entry").path();
            let aum = read_aum(&path.display().to_string()).expect("aum");
            assert!(
                authority.tree().get(&aum.hash()).is_some(),
                "{} is in the store",
                path.display()
            );
            assert!(aum.signatures().len() >= 1);
        }
    }
    let removed = std::fs::read_dir(work.join("remove")).expect("dir").count();
    assert_eq!(removed, 1);

    // The node-key signature authorizes its node key under the final state.
    let node_key = parse_node_key(&read(&work, "nodekey.txt")).expect("node key");
    let input = Input::read(&work.join("node.nks").display().to_string()).expect("nks");
    let Ok((_, Artifact::Nks(sig))) = identify(&input) else {
        panic!("node.nks is not an NKS")
    };
    assert!(
        sig.wrapping_pubkey.is_some(),
        "the rotation key is recorded"
    );
    nks::node_key_authorized(authority.state(), &node_key, &sig.serialize()).expect("authorized");

    // The credential lets a new node sign itself in.
    let suffix = read(&work, "credential.txt");
    let wrapped =
        wrapped_authkey::decode(&format!("tskey-auth-demo{suffix}")).expect("a valid --TL suffix");
    assert_eq!(wrapped.credential.kind, nks::SigKind::CREDENTIAL);
    let seed: [u8; 32] = wrapped.private[..32].try_into().expect("seed");
    let mut key = SoftwareSigner::from_seed(&seed, "node");
    let joining = [0x77; 32];
    let rotation =
        nks::sign_rotation(&mut key, wrapped.credential.clone(), &joining).expect("sign");
    nks::node_key_authorized(authority.state(), &joining, &rotation.serialize())
        .expect("the credential authorizes a joining node");

    // The custodian's age files decrypt with the independent `age` and match the chain.
    let values: Vec<String> = authority
        .state()
        .disablement_values()
        .map(locksmith::tka::hex::lower)
        .collect();
    let mut decrypted = 0;
    for entry in std::fs::read_dir(work.join("secrets")).expect("secrets dir") {
        let path = entry.expect("entry").path();
        let out = Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(work.join("custodian.agekey"))
            .arg(&path)
            .output()
            .expect("age");
        assert!(
            out.status.success(),
            "age -d {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let secret_hex = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("disablement-secret:"))
            .expect("a disablement-secret line");
        let secret = locksmith::tka::hex::decode(secret_hex).expect("hex");
        let value =
            locksmith::tka::hex::lower(&locksmith::tka::disablement::disablement_kdf(&secret));
        assert!(
            values.contains(&value),
            "{} holds a secret of this authority",
            path.display()
        );
        decrypted += 1;
    }
    assert_eq!(decrypted, 3);
    // Nothing but the sheets (asked for by name) holds a plaintext secret.
    for entry in walk(&work) {
        if entry.starts_with(work.join("sheets")) {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("disablement-secret:"),
            "{} holds a plaintext secret",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_signing_deeplink_is_signed_on_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("demo");
    if !run_demo(&work) {
        return;
    }
    let store_dir = work.join("store");
    let authority = Store::open(&store_dir, false)
        .expect("store")
        .load()
        .expect("load");
    let node_key = [0x42u8; 32];
    let rotation = [0x43u8; 32];
    let params = DeeplinkParams {
        node_key: locksmith::tka::keyforms::node_key_text(&node_key),
        tlpub: tlpub_text(&rotation),
        device_name: "laptop".into(),
        os_name: "linux".into(),
        login_name: "alice@example.com".into(),
    };
    let url = deeplink::make(authority.state().state_id1, &params).expect("url");
    let conf = work.join("hsm/softhsm2.conf");
    let spec = format!(
        "pkcs11:token=token-a;object=tailnet-lock?module-path={MODULE}&pin-source=file:{}",
        work.join("pin").display()
    );
    let out_path = dir.path().join("deeplink.nks");
    // The key chosen with flags instead of a URI.
    let pin_source = format!("file:{}", work.join("pin").display());
    let out = Command::new(env!("CARGO_BIN_EXE_locksmith"))
        .args([
            "lock",
            "sign",
            &url,
            "--pkcs11-token",
            "token-a",
            "--key-label",
            "tailnet-lock",
            "--pkcs11-module",
            MODULE,
        ])
        .args(["--pin-source", &pin_source, "--store"])
        .arg(&store_dir)
        .arg("--out")
        .arg(&out_path)
        .arg("--yes")
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("laptop") && stderr.contains("alice@example.com"),
        "the link's fields are shown: {stderr}"
    );
    let input = Input::read(&out_path.display().to_string()).expect("read");
    let Ok((_, Artifact::Nks(sig))) = identify(&input) else {
        panic!("not an NKS")
    };
    assert_eq!(sig.wrapping_pubkey.as_deref(), Some(&rotation[..]));
    nks::node_key_authorized(authority.state(), &node_key, &sig.serialize()).expect("authorized");

    // A link for another tailnet is refused, and nothing is written.
    let foreign = deeplink::make(authority.state().state_id1 ^ 1, &params).expect("url");
    let refused = dir.path().join("refused.nks");
    let out = Command::new(env!("CARGO_BIN_EXE_locksmith"))
        .args(["lock", "sign", &foreign, "--signer", &spec, "--store"])
        .arg(&store_dir)
        .arg("--out")
        .arg(&refused)
        .arg("--yes")
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("hmac authentication failed"));
    assert!(!refused.exists());
}
