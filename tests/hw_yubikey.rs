//! YubiKey PIV backend over real PC/SC: pcscd + vsmartcard-vpcd + this
//! repo's virtual PIV card (tests/support/virtual_piv.rs). ykman (PyPI
//! yubikey-manager) is the independent client proving the card's fidelity.
//!
//! Real hardware: see `real_yubikey_*` below (ignored; LOCKSMITH_TEST_YUBIKEY=1).

#[path = "support/env.rs"]
mod env;
#[path = "support/pcscd.rs"]
mod pcscd;
#[path = "support/virtual_piv.rs"]
mod virtual_piv;

use locksmith::signers::{
    self, open_signer, GenerateOptions, OpenOptions, PinPolicyArg, SignersError, TouchPolicyArg,
    TriesLeft,
};
use locksmith::tka::signer::{sign_verified, KeyCustody};
use pcscd::{fresh_config, PcscEnv};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use virtual_piv::{CardConfig, ALG_3DES, ALG_AES256, DEFAULT_PIN};

fn pin_file(env: &PcscEnv, name: &str, pin: &str) -> PathBuf {
    let path = env.dir.path().join(name);
    std::fs::write(&path, format!("{pin}\n")).expect("pin file");
    path
}

fn detail<'a>(k: &'a signers::KeyInfo, name: &str) -> &'a str {
    k.details
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn pub_from_tlpub(tlpub: &str) -> [u8; 32] {
    let hex = tlpub.strip_prefix("tlpub:").expect("tlpub");
    data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

fn ykman() -> Option<PathBuf> {
    let found = env::which("ykman");
    if found.is_none() {
        let msg = "ykman not found (install: pip install yubikey-manager)";
        assert!(!env::in_ci(), "CI=true and {msg}");
        eprintln!("\n*** SKIPPED ykman fidelity test: {msg} ***\n");
    }
    found
}

fn run_ykman(ykman: &PathBuf, args: &[&str]) -> (bool, String) {
    let out = Command::new(ykman)
        .args(["--reader", "Virtual PCD 00 00"])
        .args(args)
        .output()
        .expect("run ykman");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn pem_body(path: &std::path::Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("pem");
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    data_encoding::BASE64
        .decode(b64.as_bytes())
        .expect("base64")
}

#[test]
fn ykman_sees_a_yubikey_5_7_and_generates_ed25519() {
    let Some(env) = pcscd::env("ykman_fidelity") else {
        return;
    };
    let Some(ykman) = ykman() else { return };
    let _card = env.take(fresh_config(env.serial));
    // If a second reader slot had a card, --reader would be ambiguous; only ours exists.
    let (ok, info) = run_ykman(&ykman, &["piv", "info"]);
    assert!(ok, "ykman piv info failed: {info}");
    assert!(info.contains("PIV version:              5.7.1"), "{info}");
    assert!(info.contains("PIN tries remaining:      3/3"), "{info}");
    assert!(info.contains("Management key algorithm: AES192"), "{info}");

    let out = env.dir.path().join("ykman-9a.pem");
    let (ok, text) = run_ykman(
        &ykman,
        &[
            "piv",
            "keys",
            "generate",
            "-a",
            "ED25519",
            "-m",
            "010203040506070801020304050607080102030405060708",
            "--pin-policy",
            "ONCE",
            "--touch-policy",
            "NEVER",
            "9a",
        ]
        .into_iter()
        .chain([out.to_str().expect("utf-8 path")])
        .collect::<Vec<_>>(),
    );
    assert!(ok, "ykman piv keys generate failed: {text}");
    let spki = pem_body(&out);
    let ykman_public: [u8; 32] = spki[spki.len() - 32..].try_into().expect("32 bytes");

    // locksmith reads the same key from the card's metadata, attestation included.
    let pin = pin_file(env, "pin-ykman", DEFAULT_PIN);
    let shown = signers::show_key(&env.spec("9a", &pin), &OpenOptions::default()).expect("show 9a");
    assert_eq!(pub_from_tlpub(&shown.tlpub), ykman_public);
    assert_eq!(detail(&shown, "pin_policy"), "once");
    // The fixture's f9 key is still Ed25519 under a test CA that is not a
    // bundled root: the attestation must NOT verify (the test root is never
    // accepted by default). TODO: P-384/RSA f9 + test roots (see report).
    assert!(
        detail(&shown, "attestation").starts_with("NOT verified"),
        "{:?}",
        shown.details
    );

    let (ok, text) = run_ykman(&ykman, &["piv", "keys", "info", "9a"]);
    assert!(
        ok && text.contains("ED25519") && text.contains("GENERATED"),
        "{text}"
    );

    // ...and a key locksmith generates is seen by ykman, with its certificate.
    let gen = signers::generate_key(
        &env.spec("9d", &pin),
        &GenerateOptions {
            label: Some("tl-9d".into()),
            ..Default::default()
        },
    )
    .expect("locksmith generate 9d");
    let (ok, info) = run_ykman(&ykman, &["piv", "info"]);
    assert!(ok, "{info}");
    assert!(
        info.contains("Slot 9D (KEY_MANAGEMENT):") && info.contains("tl-9d"),
        "{info}"
    );
    let (ok, text) = run_ykman(&ykman, &["piv", "keys", "info", "9d"]);
    assert!(ok && text.contains("ED25519"), "{text}");
    let cert_out = env.dir.path().join("9d-cert.pem");
    let (ok, text) = run_ykman(
        &ykman,
        &[
            "piv",
            "certificates",
            "export",
            "9d",
            cert_out.to_str().expect("path"),
        ],
    );
    assert!(ok, "{text}");
    let cert = locksmith::signers::x509::parse_certificate(&pem_body(&cert_out)).expect("cert");
    assert_eq!(cert.ed25519_public_key(), Some(pub_from_tlpub(&gen.tlpub)));
    // The self-signed certificate's signature, made on the card, verifies.
    assert!(cert.signed_by_ed25519(&pub_from_tlpub(&gen.tlpub)));

    // The attestation chain verifies with openssl against the card's TEST CA.
    if let Some(openssl) = env::which("openssl") {
        let ca = env.dir.path().join("test-ca.pem");
        let ca_der = env.card.lock().expect("card").test_ca_certificate();
        std::fs::write(&ca, locksmith::signers::x509::pem(&ca_der)).expect("ca");
        let att = env.dir.path().join("att-9a.pem");
        let f9 = env.dir.path().join("f9.pem");
        assert!(
            run_ykman(
                &ykman,
                &["piv", "keys", "attest", "9a", att.to_str().expect("p")]
            )
            .0
        );
        assert!(
            run_ykman(
                &ykman,
                &[
                    "piv",
                    "certificates",
                    "export",
                    "f9",
                    f9.to_str().expect("p")
                ]
            )
            .0
        );
        let out = Command::new(openssl)
            .args(["verify", "-CAfile"])
            .arg(&ca)
            .arg("-untrusted")
            .arg(&f9)
            .arg(&att)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn generate_sign_show_with_attestation() {
    let Some(env) = pcscd::env("generate_sign_show") else {
        return;
    };
    let _card = env.take(fresh_config(env.serial));
    let pin = pin_file(env, "pin-gen", DEFAULT_PIN);
    let spec = env.spec("9c", &pin);
    let key = signers::generate_key(
        &spec,
        &GenerateOptions {
            label: Some("tl-9c".into()),
            ..Default::default()
        },
    )
    .expect("generate 9c");
    assert_eq!(key.custody, "hardware-backed");
    // Slot 9c's default PIN policy is "always".
    assert_eq!(detail(&key, "pin_policy"), "always");
    // The fixture's f9 key is still Ed25519 under a test CA that is not a
    // bundled root: the attestation must NOT verify (the test root is never
    // accepted by default). TODO: P-384/RSA f9 + test roots (see report).
    assert!(
        detail(&key, "attestation").starts_with("NOT verified"),
        "{:?}",
        key.details
    );
    assert!(
        detail(&key, "certificate").contains("written"),
        "{:?}",
        key.details
    );
    let pem = key
        .attestation_pem
        .as_deref()
        .expect("attestation kept with the record");
    assert!(pem.contains("BEGIN CERTIFICATE"));

    let public = pub_from_tlpub(&key.tlpub);
    let before = env.card.lock().expect("card").verify_attempts;
    let mut signer = open_signer(&spec, &OpenOptions::default()).expect("open");
    assert_eq!(signer.public_key(), public);
    assert_eq!(signer.custody(), KeyCustody::Hardware);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&public).expect("key");
    for i in 0..3u8 {
        let digest = [i ^ 0x5a; 32];
        let sig = sign_verified(signer.as_mut(), &digest).expect("sign");
        vk.verify_strict(&digest, &ed25519_dalek::Signature::from_bytes(&sig))
            .expect("verifies");
    }
    // PIN policy "always": one PIN entry, re-sent to the card before each signature.
    let after = env.card.lock().expect("card").verify_attempts;
    assert_eq!(
        after - before,
        4,
        "one VERIFY at open and one per signature"
    );
    drop(signer);

    let shown = signers::show_key(&env.spec("9c", &pin), &OpenOptions::default()).expect("show");
    assert_eq!(shown.tlpub, key.tlpub);
    assert_eq!(detail(&shown, "certificate_subject"), "CN=tl-9c");
    assert_eq!(detail(&shown, "origin"), "generated on the card");

    // The slot is taken: refused without --force, replaced with it.
    let err = signers::generate_key(&spec, &GenerateOptions::default()).expect_err("occupied");
    assert!(err.to_string().contains("--force"), "{err}");
    let again = signers::generate_key(
        &spec,
        &GenerateOptions {
            force: true,
            ..Default::default()
        },
    )
    .expect("force");
    assert_ne!(again.tlpub, key.tlpub);
}

#[test]
fn wrong_pin_counts_down_and_blocked_pin_is_refused() {
    let Some(env) = pcscd::env("wrong_pin") else {
        return;
    };
    let _card = env.take(fresh_config(env.serial));
    let good = pin_file(env, "pin-good", DEFAULT_PIN);
    let bad = pin_file(env, "pin-bad", "654321");
    signers::generate_key(
        &env.spec("9a", &good),
        &GenerateOptions {
            pin_policy: PinPolicyArg::Once,
            ..Default::default()
        },
    )
    .expect("generate");
    let attempts = || env.card.lock().expect("card").verify_attempts;
    for expected_left in [2u32, 1] {
        let before = attempts();
        let err =
            open_signer(&env.spec("9a", &bad), &OpenOptions::default()).expect_err("wrong PIN");
        match &err {
            SignersError::WrongPin { tries_left, .. } => {
                assert_eq!(*tries_left, TriesLeft::Exactly(expected_left))
            }
            other => panic!("expected WrongPin, got {other:?}"),
        }
        assert!(
            err.to_string().contains(&format!("{expected_left} tr")),
            "{err}"
        );
        assert!(!err.to_string().contains("654321"), "PIN leaked: {err}");
        assert_eq!(
            attempts() - before,
            1,
            "a wrong PIN is sent once, never retried"
        );
    }
    let err = open_signer(&env.spec("9a", &bad), &OpenOptions::default()).expect_err("blocks");
    assert!(matches!(err, SignersError::PinLocked { .. }), "{err:?}");
    // Blocked: refused before any PIN is sent, even the right one.
    let before = attempts();
    let err = open_signer(&env.spec("9a", &good), &OpenOptions::default()).expect_err("blocked");
    assert!(matches!(err, SignersError::PinLocked { .. }), "{err:?}");
    assert!(err.to_string().contains("PUK"), "{err}");
    assert_eq!(attempts(), before, "no PIN sent to a blocked card");
}

#[test]
fn custom_management_keys_aes_and_3des() {
    let Some(env) = pcscd::env("mgmt_keys") else {
        return;
    };
    let pin = pin_file(env, "pin-mgmt", DEFAULT_PIN);
    let aes_key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let tdes_key = "0f0e0d0c0b0a090807060504030201000f0e0d0c0b0a0908";
    for (alg, hex, name) in [
        (ALG_AES256, aes_key, "aes256"),
        (ALG_3DES, tdes_key, "3des"),
    ] {
        let bytes = data_encoding::HEXLOWER.decode(hex.as_bytes()).expect("hex");
        let _card = env.take(CardConfig {
            mgmt_alg: alg,
            mgmt_key: bytes,
            ..fresh_config(env.serial)
        });
        let err = signers::generate_key(&env.spec("9e", &pin), &GenerateOptions::default())
            .expect_err("default key must fail");
        assert!(err.to_string().contains("mgmt-key-source"), "{err}");
        let key_file = pin_file(env, &format!("mgmt-{name}"), hex);
        let spec = format!(
            "{}&mgmt-key-source=file:{}",
            env.spec("9e", &pin),
            key_file.display()
        );
        let key = signers::generate_key(&spec, &GenerateOptions::default()).expect("custom key");
        assert_eq!(detail(&key, "pin_policy"), "never", "9e default PIN policy");
        // Explicit algorithm works too.
        let spec = format!("{spec}&mgmt-key-alg={name}");
        signers::generate_key(
            &spec,
            &GenerateOptions {
                force: true,
                ..Default::default()
            },
        )
        .expect("explicit alg");
    }
}

#[test]
fn old_firmware_is_refused() {
    let Some(env) = pcscd::env("old_firmware") else {
        return;
    };
    let _card = env.take(CardConfig {
        version: [5, 4, 3],
        ..fresh_config(env.serial)
    });
    let pin = pin_file(env, "pin-old", DEFAULT_PIN);
    let err = signers::generate_key(&env.spec("9a", &pin), &GenerateOptions::default())
        .expect_err("too old");
    assert!(err.to_string().contains("5.7"), "{err}");
    let err = open_signer(&env.spec("9a", &pin), &OpenOptions::default()).expect_err("too old");
    assert!(err.to_string().contains("too old"), "{err}");
}

#[test]
fn touch_not_given_is_reported() {
    let Some(env) = pcscd::env("touch") else {
        return;
    };
    let _card = env.take(fresh_config(env.serial));
    let pin = pin_file(env, "pin-touch", DEFAULT_PIN);
    let spec = env.spec("82", &pin);
    let key = signers::generate_key(
        &spec,
        &GenerateOptions {
            touch_policy: TouchPolicyArg::Always,
            pin_policy: PinPolicyArg::Once,
            ..Default::default()
        },
    )
    .expect("generate");
    assert_eq!(detail(&key, "touch_policy"), "always");
    env.card.lock().expect("card").touch_given = false;
    let mut signer = open_signer(&spec, &OpenOptions::default()).expect("open");
    let err = sign_verified(signer.as_mut(), &[3; 32]).expect_err("no touch");
    assert!(err.to_string().contains("touch not given"), "{err}");
    env.card.lock().expect("card").touch_given = true;
    sign_verified(signer.as_mut(), &[3; 32]).expect("touched");
}

#[test]
fn several_cards_need_a_serial() {
    let Some(env) = pcscd::env("several_cards") else {
        return;
    };
    if env.own_pcscd.is_none() {
        eprintln!(
            "*** SKIPPED several_cards_need_a_serial: uses a second vpcd slot of our own pcscd ***"
        );
        return;
    }
    let _card = env.take(fresh_config(env.serial));
    // The reader's second slot is empty: the listing says so and still lists our card.
    let (cards, notes) = signers::yubikey::list_cards().expect("list");
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("Virtual PCD 00 01") && n.contains("no card")),
        "{notes:?}"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let second = env.second_card(env.serial + 1, Arc::clone(&stop));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (cards, _) = signers::yubikey::list_cards().expect("list");
        if cards.len() >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "second card did not appear"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let err = open_signer("yubikey:slot=9a", &OpenOptions::default()).expect_err("ambiguous");
    assert!(matches!(err, SignersError::Ambiguous(_)), "{err:?}");
    assert!(err.to_string().contains(&env.serial.to_string()), "{err}");
    let err = open_signer("yubikey:serial=1;slot=9a", &OpenOptions::default()).expect_err("absent");
    assert!(matches!(err, SignersError::NotFound(_)), "{err:?}");
    stop.store(true, Ordering::SeqCst);
    second.join().expect("second card thread");
}

#[test]
fn cli_with_the_virtual_card_and_without_pcscd() {
    let Some(env) = pcscd::env("cli_yubikey") else {
        return;
    };
    let _card = env.take(fresh_config(env.serial));
    let pin = pin_file(env, "pin-cli", DEFAULT_PIN);
    let bin = env!("CARGO_BIN_EXE_locksmith");
    let spec = env.spec("9a", &pin);
    let att = env.dir.path().join("cli-attestation.pem");
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .env_remove("LOCKSMITH_PIN")
            .output()
            .expect("run")
    };
    let out = run(&[
        "token",
        "generate",
        "--signer",
        &spec,
        "--pin-policy",
        "once",
        "--attestation-out",
        att.to_str().expect("p"),
    ]);
    assert!(
        out.status.success(),
        "generate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tlpub = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    assert!(tlpub.starts_with("tlpub:"), "{tlpub}");
    assert!(std::fs::read_to_string(&att)
        .expect("attestation file")
        .contains("BEGIN CERTIFICATE"));

    let out = run(&["token", "list", "--json"]);
    assert!(out.status.success());
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(inv.to_string().contains(&tlpub), "{inv}");

    let out = run(&["token", "show", "--signer", &spec, "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["tlpub"], tlpub.as_str());
    assert!(
        shown.to_string().contains(
            "NOT verified: the slot f9 certificate: keys of type 1.3.101.112 cannot sign"
        ),
        "{shown}"
    );

    let out = run(&["token", "test", "--signer", &spec]);
    assert!(
        out.status.success(),
        "test: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("signature verifies"));

    // pcscd unreachable: the error says so and what to do.
    let out = Command::new(bin)
        .args(["token", "show", "--signer", "yubikey:slot=9a"])
        .env("PCSCLITE_CSOCK_NAME", env.dir.path().join("no-such-socket"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pcscd is not running") && err.contains("apt-get install pcscd"),
        "{err}"
    );
}

/// Real YubiKey 5.7+: `LOCKSMITH_TEST_YUBIKEY=1 LOCKSMITH_YUBIKEY_SERIAL=N
/// cargo test --test hw_yubikey -- --ignored`. Generates into retired slot 95
/// (destroying what is there) with the default management key; the PIN comes
/// from LOCKSMITH_PIN or the prompt.
#[test]
#[ignore = "needs a real YubiKey 5.7+ (LOCKSMITH_TEST_YUBIKEY=1)"]
fn real_yubikey_generate_and_sign() {
    if std::env::var("LOCKSMITH_TEST_YUBIKEY").as_deref() != Ok("1") {
        eprintln!("set LOCKSMITH_TEST_YUBIKEY=1 to run against a real YubiKey");
        return;
    }
    let serial = std::env::var("LOCKSMITH_YUBIKEY_SERIAL")
        .map(|s| format!("serial={s};"))
        .unwrap_or_default();
    let spec = format!("yubikey:{serial}slot=95");
    let key = signers::generate_key(
        &spec,
        &GenerateOptions {
            label: Some("locksmith test".into()),
            force: true,
            pin_policy: PinPolicyArg::Once,
            ..Default::default()
        },
    )
    .expect("generate on the YubiKey");
    eprintln!("attestation: {}", detail(&key, "attestation"));
    let mut s = open_signer(&spec, &OpenOptions::default()).expect("open");
    sign_verified(s.as_mut(), &[7; 32]).expect("sign");
}

/// The ceremony commands end to end with the key on the virtual YubiKey:
/// init, sign a node key, add and remove a key, a recovery started on the
/// card; every artifact verified by the core.
#[test]
fn lock_ceremony_on_the_virtual_yubikey() {
    let Some(env) = pcscd::env("lock_ceremony_yubikey") else {
        return;
    };
    let _card = env.take(fresh_config(env.serial));
    let pin = pin_file(env, "pin-ceremony", DEFAULT_PIN);
    let bin = env!("CARGO_BIN_EXE_locksmith");
    let spec = env.spec("9a", &pin);
    let work = tempfile::tempdir().expect("tempdir");
    let store = work.path().join("store");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .env_remove("LOCKSMITH_PIN")
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let out = run(&[
        "token",
        "generate",
        "--signer",
        &spec,
        "--pin-policy",
        "once",
    ]);
    let tlpub = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let store_s = store.to_str().expect("path");
    let out = run(&[
        "lock",
        "init",
        "--signer",
        &spec,
        "--gen-disablements",
        "1",
        "--reveal-secrets",
        "--store",
        store_s,
        "--yes",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("genesis AUM"));
    let node_key = [0x11u8; 32];
    let nks_path = work.path().join("n.nks");
    run(&[
        "lock",
        "sign",
        &locksmith::tka::keyforms::node_key_text(&node_key),
        "--signer",
        &spec,
        "--store",
        store_s,
        "--out",
        nks_path.to_str().expect("p"),
        "--yes",
    ]);
    let other = locksmith::tka::keyforms::tlpub_text(&[0x22u8; 32]);
    run(&[
        "lock", "add", &other, "--signer", &spec, "--store", store_s, "--yes",
    ]);
    let out = run(&[
        "lock",
        "revoke-keys",
        "--accept-lockout",
        "unknown",
        &other,
        "--signer",
        &spec,
        "--store",
        store_s,
        "--yes",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["signers"][0]["custody"], "hardware-backed");
    run(&[
        "lock",
        "remove",
        "--accept-lockout",
        "unknown",
        &other,
        "--signer",
        &spec,
        "--store",
        store_s,
        "--yes",
    ]);

    let authority = locksmith::store::Store::open(&store, false)
        .expect("open")
        .load()
        .expect("verifies");
    assert_eq!(authority.keys().len(), 1);
    assert_eq!(
        locksmith::tka::keyforms::tlpub_text(authority.keys()[0].public.as_deref().unwrap_or(&[])),
        tlpub
    );
    let bytes = std::fs::read(&nks_path).expect("nks");
    locksmith::tka::nks::node_key_authorized(authority.state(), &node_key, &bytes)
        .expect("authorized");
    let recovery = locksmith::input::read_aum(v["blob"].as_str().expect("blob")).expect("blob");
    assert_eq!(
        recovery.signatures()[0].key_id(),
        &pub_from_tlpub(&tlpub)[..]
    );
}
