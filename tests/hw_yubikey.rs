//! YubiKey PIV backend over real PC/SC: pcscd + vsmartcard-vpcd + this
//! repo's virtual PIV card (tests/support/virtual_piv.rs). ykman (PyPI
//! yubikey-manager) is the independent client proving the card's fidelity.
//!
//! `token generate` interrupted after the key is on the card is continued
//! with it (pending-key marker); an occupied slot without a marker gets the
//! ykman commands that free it.
//!
//! Real hardware: see `real_yubikey_*` below (ignored; LOCKSMITH_TEST_YUBIKEY=1).

#[path = "support/env.rs"]
mod env;
#[path = "support/pcscd.rs"]
mod pcscd;
#[path = "support/virtual_piv.rs"]
mod virtual_piv;

use locksmith::signers::piv_attestation::TrustStore;
use locksmith::signers::{
    self, open_signer, GenerateOptions, OpenOptions, PinPolicyArg, TouchPolicyArg, TriesLeft,
};
use locksmith::tka::signer::{sign_verified, KeyCustody};
use pcscd::{fresh_config, PcscEnv};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use virtual_piv::{CardConfig, F9Kind, ALG_3DES, ALG_AES256, DEFAULT_PIN};

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
        env::skip(
            "ykman fidelity test",
            "ykman not found (install: pip install yubikey-manager)",
        );
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

/// Yubico's roots plus the current virtual card's TEST root and intermediate.
fn test_trust(env: &PcscEnv) -> TrustStore {
    let pem = env.card.lock().expect("card").test_roots_pem();
    TrustStore::yubico()
        .with_test_roots(&pem, "the virtual card's TEST PKI")
        .expect("test roots")
}

/// Writes the current virtual card's TEST root and intermediate (PEM).
fn test_roots_file(env: &PcscEnv, name: &str) -> PathBuf {
    let path = env.dir.path().join(name);
    std::fs::write(&path, env.card.lock().expect("card").test_roots_pem()).expect("roots");
    path
}

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
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
    // The card's f9 key (P-384) chains to a TEST root: never accepted by
    // default, verified (and labelled TEST) when the test root is named.
    assert!(
        detail(&shown, "attestation").starts_with("NOT verified")
            && detail(&shown, "attestation").contains("does not reach a trusted root"),
        "{:?}",
        shown.details
    );
    let (shown, att) = signers::show_key_attested(
        &env.spec("9a", &pin),
        &OpenOptions::default(),
        &test_trust(env),
    )
    .expect("show 9a with the test root");
    let att = att.expect("a YubiKey has an attestation");
    assert!(att.verdict.verified, "{}", att.verdict.summary);
    assert!(att.verdict.test_root);
    assert!(
        detail(&shown, "attestation").starts_with("verified")
            && detail(&shown, "attestation").contains("TEST root"),
        "{:?}",
        shown.details
    );
    let st = att.verdict.statement.expect("statement");
    assert_eq!(st.serial, Some(env.serial));
    assert_eq!(st.firmware.as_deref(), Some("5.7.1"));
    assert_eq!(st.pin_policy.as_deref(), Some("once"));
    assert_eq!(st.touch_policy.as_deref(), Some("never"));
    assert!(st.form_factor.is_some());
    // slot attestation, f9, TEST intermediate, TEST root
    assert_eq!(att.verdict.chain.len(), 4, "{:?}", att.verdict.chain);

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
        let intermediates = env.dir.path().join("untrusted.pem");
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
        // f9 and the TEST intermediate are the untrusted links.
        let mut untrusted = std::fs::read_to_string(&f9).expect("f9");
        untrusted.push_str(&locksmith::signers::x509::pem(
            &env.card.lock().expect("card").ca.intermediate_cert,
        ));
        std::fs::write(&intermediates, untrusted).expect("untrusted");
        let out = Command::new(openssl)
            .args(["verify", "-CAfile"])
            .arg(&ca)
            .arg("-untrusted")
            .arg(&intermediates)
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
            attestation_trust: test_trust(env),
            ..Default::default()
        },
    )
    .expect("generate 9c");
    assert_eq!(key.custody, "hardware-backed");
    // Slot 9c's default PIN policy is "always".
    assert_eq!(detail(&key, "pin_policy"), "always");
    // Verified through the P-384 f9 to the named TEST root, and labelled so.
    assert!(
        detail(&key, "attestation").starts_with("verified")
            && detail(&key, "attestation").contains("TEST root"),
        "{:?}",
        key.details
    );
    assert!(
        detail(&key, "attested").contains(&format!("serial {}", env.serial))
            && detail(&key, "attested").contains("PIN policy always"),
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

/// The same verification path with an RSA 2048 f9 key (older YubiKeys),
/// and a card that forges its f9 certificate (self-signed): refused even
/// with the TEST root named.
#[test]
fn rsa_f9_verifies_and_a_forged_f9_is_refused() {
    let Some(env) = pcscd::env("rsa_and_forged_f9") else {
        return;
    };
    for (kind, verifies) in [(F9Kind::Rsa2048, true), (F9Kind::ForgedSelfSigned, false)] {
        let _card = env.take(CardConfig {
            f9: kind,
            ..fresh_config(env.serial)
        });
        let pin = pin_file(env, "pin-f9", DEFAULT_PIN);
        let (key, att) = signers::generate_key_attested(
            &env.spec("9a", &pin),
            &GenerateOptions {
                attestation_trust: test_trust(env),
                pin_policy: PinPolicyArg::Always,
                touch_policy: TouchPolicyArg::Cached,
                ..Default::default()
            },
        )
        .expect("generate");
        let v = att.expect("attestation").verdict;
        assert_eq!(v.verified, verifies, "{kind:?}: {}", v.summary);
        if verifies {
            assert!(
                v.test_root && v.summary.contains("TEST root"),
                "{}",
                v.summary
            );
            let st = v.statement.expect("statement");
            assert_eq!(st.pin_policy.as_deref(), Some("always"));
            assert_eq!(st.touch_policy.as_deref(), Some("cached"));
        } else {
            assert!(
                v.summary.contains("does not reach a trusted root"),
                "{}",
                v.summary
            );
            assert!(
                detail(&key, "attestation").starts_with("NOT verified"),
                "{:?}",
                key.details
            );
        }
        // Yubico's roots alone never accept the TEST chain.
        let (_, att) = signers::show_key_attested(
            &env.spec("9a", &pin),
            &OpenOptions::default(),
            &TrustStore::yubico(),
        )
        .expect("show");
        assert!(!att.expect("attestation").verdict.verified);
    }
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
            signers::Error::WrongPin { tries_left, .. } => {
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
    assert!(matches!(err, signers::Error::PinLocked { .. }), "{err:?}");
    // Blocked: refused before any PIN is sent, even the right one.
    let before = attempts();
    let err = open_signer(&env.spec("9a", &good), &OpenOptions::default()).expect_err("blocked");
    assert!(matches!(err, signers::Error::PinLocked { .. }), "{err:?}");
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
    let _card = env.take(fresh_config(env.serial));
    // The reader's second slot is empty: the listing says so and still lists our card.
    // With a system pcscd (its vpcd reader on the default port) the second card
    // goes to that reader's second slot (port + 1) the same way; a system
    // reader without one cannot run this test, which under CI is a failure.
    let (cards, notes) = signers::yubikey::list_cards().expect("list");
    if env.own_pcscd.is_none() && !notes.iter().any(|n| n.contains("Virtual PCD 00 01")) {
        env::skip(
            "several_cards_need_a_serial",
            &format!("the running system pcscd has no second vpcd slot (Virtual PCD 00 01) for a second card; stop it (systemctl stop pcscd.socket pcscd) so the test starts its own: {notes:?}"),
        );
        return;
    }
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
    assert!(matches!(err, signers::Error::Ambiguous(_)), "{err:?}");
    assert!(err.to_string().contains(&env.serial.to_string()), "{err}");
    let err = open_signer("yubikey:serial=1;slot=9a", &OpenOptions::default()).expect_err("absent");
    assert!(matches!(err, signers::Error::NotFound(_)), "{err:?}");
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
    // Without the TEST root named, the virtual card's attestation does not
    // verify to a bundled root: the new key is refused.
    let out = run(&[
        "token",
        "generate",
        "--signer",
        &spec,
        "--pin-policy",
        "once",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted without a trusted root");
    assert!(
        err.contains("is refused")
            && err.contains("does not reach a trusted root")
            && err.contains("--allow-unverified-attestation"),
        "{err}"
    );
    // With the TEST root named: verified, labelled TEST, recorded with its chain.
    let roots = test_roots_file(env, "cli-test-roots.pem");
    let transcript = env.dir.path().join("cli-transcript.jsonl");
    let out = run(&[
        "token",
        "generate",
        "--signer",
        &spec,
        "--force",
        "--pin-policy",
        "once",
        "--attestation-test-roots",
        roots.to_str().expect("p"),
        "--attestation-out",
        att.to_str().expect("p"),
        "--transcript",
        transcript.to_str().expect("p"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "generate: {err}");
    assert!(err.contains("TEST roots are trusted"), "{err}");
    let tlpub = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    assert!(tlpub.starts_with("tlpub:"), "{tlpub}");
    assert!(std::fs::read_to_string(&att)
        .expect("attestation file")
        .contains("BEGIN CERTIFICATE"));
    let line = std::fs::read_to_string(&transcript).expect("transcript");
    let rec: serde_json::Value = serde_json::from_str(line.trim()).expect("record");
    let e = &rec["attestations"][0];
    assert_eq!(e["tlpub"], tlpub.as_str());
    assert_eq!(e["verified"], true);
    assert_eq!(e["test_root"], true);
    assert_eq!(e["required"], "pin>=once");
    assert!(e["overridden_by"].is_null());
    assert!(e["chain_pem"]
        .as_str()
        .is_some_and(|p| p.matches("BEGIN CERTIFICATE").count() == 2));
    // A witness re-checks the kept chain later.
    let out = run(&[
        "ceremony",
        "verify",
        transcript.to_str().expect("p"),
        "--attestation-test-roots",
        roots.to_str().expect("p"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("re-checked") && text.contains("TEST root"),
        "{text}"
    );
    let out = run(&["ceremony", "verify", transcript.to_str().expect("p")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("not re-checked"),
        "{text}"
    );
    // A flipped byte in the kept chain: verify fails.
    let flipped = env.dir.path().join("cli-transcript-flipped.jsonl");
    let pem = e["chain_pem"].as_str().expect("pem");
    let body_line = pem.lines().nth(5).expect("a base64 line");
    let mut changed = body_line.as_bytes().to_vec();
    changed[10] = if changed[10] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).expect("ascii");
    std::fs::write(&flipped, line.replacen(body_line, &changed, 1)).expect("write");
    let out = run(&["ceremony", "verify", flipped.to_str().expect("p")]);
    assert!(!out.status.success(), "a flipped byte verified");

    let out = run(&["token", "list", "--json"]);
    assert!(out.status.success());
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(inv.to_string().contains(&tlpub), "{inv}");

    let out = run(&["token", "show", "--signer", &spec, "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["tlpub"], tlpub.as_str());
    // `token show` trusts Yubico's roots only.
    assert!(
        shown.to_string().contains("NOT verified")
            && shown.to_string().contains("does not reach a trusted root"),
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
    let refused = |args: &[&str], why: &str| {
        let out = Command::new(bin)
            .args(args)
            .env_remove("LOCKSMITH_PIN")
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(err.contains(why), "{args:?}: {err}");
    };
    let roots = test_roots_file(env, "ceremony-test-roots.pem");
    let roots_s = roots.to_str().expect("path");
    let out = run(&[
        "token",
        "generate",
        "--signer",
        &spec,
        "--pin-policy",
        "once",
        "--attestation-test-roots",
        roots_s,
    ]);
    let tlpub = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let store_s = store.to_str().expect("path");
    let init = |extra: &[&str], store: &str| -> Vec<String> {
        let mut args: Vec<String> = [
            "lock",
            "init",
            "--signer",
            &spec,
            "--gen-disablements",
            "1",
            "--reveal-secrets",
            "--store",
            store,
            "--yes",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    // Refused before any PIN: no trusted root; a weaker policy than asked.
    refused(
        &as_refs(&init(&[], store_s)),
        "does not reach a trusted root",
    );
    refused(
        &as_refs(&init(
            &[
                "--attestation-test-roots",
                roots_s,
                "--pin-policy",
                "always",
            ],
            store_s,
        )),
        "the attested PIN policy is once, weaker than --pin-policy always",
    );
    refused(
        &as_refs(&init(
            &[
                "--attestation-test-roots",
                roots_s,
                "--touch-policy",
                "cached",
            ],
            store_s,
        )),
        "weaker than --touch-policy cached",
    );
    assert!(!store.exists(), "a refused init left a store");
    // Accepted with the TEST root named, at the policy the key has.
    let out = run(&as_refs(&init(
        &["--attestation-test-roots", roots_s, "--pin-policy", "once"],
        store_s,
    )));
    assert!(String::from_utf8_lossy(&out.stdout).contains("genesis AUM"));
    let log = store.join("transcript.jsonl");
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .expect("transcript")
            .lines()
            .next()
            .expect("a record"),
    )
    .expect("json");
    assert_eq!(first["command"], "lock init");
    assert_eq!(first["attestations"][0]["tlpub"], tlpub.as_str());
    assert_eq!(first["attestations"][0]["test_root"], true);
    assert_eq!(first["attestations"][0]["required"], "pin>=once");
    assert!(
        first["shown"]
            .as_str()
            .is_some_and(|s| s.contains("TEST ROOT") && s.contains("verified")),
        "{first}"
    );
    // The override, recorded.
    let store2 = work.path().join("store-override");
    run(&as_refs(&init(
        &["--allow-unverified-attestation"],
        store2.to_str().expect("path"),
    )));
    let log2 = store2.join("transcript.jsonl");
    let rec: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&log2)
            .expect("transcript")
            .lines()
            .next()
            .expect("a record"),
    )
    .expect("json");
    assert_eq!(
        rec["attestations"][0]["overridden_by"],
        "--allow-unverified-attestation"
    );
    assert_eq!(rec["attestations"][0]["verified"], false);
    let out = run(&["ceremony", "verify", log2.to_str().expect("p")]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("did NOT verify (accepted with --allow-unverified-attestation)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
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

/// `token generate` of slot `slot` through the CLI, recorded in
/// `dir/transcript.jsonl`, with the virtual card's TEST roots trusted and
/// the failure hook `hook` set; the marker goes beside the transcript.
fn cli_generate(
    env: &PcscEnv,
    dir: &std::path::Path,
    slot: &str,
    hook: Option<&str>,
    extra: &[&str],
) -> std::process::Output {
    let roots = test_roots_file(env, "resume-test-roots.pem");
    cli_generate_trusting(env, dir, slot, hook, extra, &roots)
}

/// [`cli_generate`] with `roots` as the attestation test roots.
fn cli_generate_trusting(
    env: &PcscEnv,
    dir: &std::path::Path,
    slot: &str,
    hook: Option<&str>,
    extra: &[&str],
    roots: &std::path::Path,
) -> std::process::Output {
    let pin = pin_file(env, "pin-resume", DEFAULT_PIN);
    let lo = dir.join("sysfs-net/lo");
    std::fs::create_dir_all(&lo).expect("sysfs");
    std::fs::write(lo.join("flags"), "0x9\n").expect("flags");
    std::fs::write(lo.join("operstate"), "unknown\n").expect("operstate");
    let mut c = Command::new(env!("CARGO_BIN_EXE_locksmith"));
    c.args(["token", "generate", "--signer", &env.spec(slot, &pin)])
        .args(["--pin-policy", "once", "--operator", "Ada"])
        .arg("--attestation-test-roots")
        .arg(roots)
        .arg("--transcript")
        .arg(dir.join("transcript.jsonl"))
        .args(extra)
        .current_dir(dir)
        .env("LOCKSMITH_SYSFS_NET", dir.join("sysfs-net"))
        .env_remove("LOCKSMITH_PIN")
        .env_remove("LOCKSMITH_TEST_FAIL_AFTER")
        .stdin(std::process::Stdio::null());
    if let Some(h) = hook {
        c.env("LOCKSMITH_TEST_FAIL_AFTER", h);
    }
    c.output().expect("run locksmith")
}

fn records(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("transcript.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect()
}

fn markers(dir: &std::path::Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".locksmith-pending-key-"))
        })
        .collect()
}

/// The key in `slot` (no PIN), None for an empty slot.
fn slot_key(env: &PcscEnv, slot: &str) -> Option<signers::KeyInfo> {
    let pin = pin_file(env, "pin-show", DEFAULT_PIN);
    signers::show_key(&env.spec(slot, &pin), &OpenOptions::default()).ok()
}

fn out_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn token_generate_interrupted_after_the_key_is_on_the_card_is_resumed() {
    let Some(env) = pcscd::env("yubikey_resume") else {
        return;
    };
    for hook in ["generated", "generated-crash", "sign", "staging:0"] {
        let _card = env.take(fresh_config(env.serial));
        let dir = tempfile::tempdir().expect("dir");
        let o = cli_generate(env, dir.path(), "9a", Some(hook), &[]);
        assert!(!o.status.success(), "hook {hook}: {}", out_text(&o));
        if hook == "generated-crash" {
            assert_eq!(o.status.code(), Some(86), "{}", out_text(&o));
        }
        // The key is on the card, the marker names it, nothing is recorded.
        let key = slot_key(env, "9a").expect("hook {hook}: the key stays in the slot");
        assert_eq!(detail(&key, "origin"), "generated on the card");
        let found = markers(dir.path());
        assert_eq!(found.len(), 1, "hook {hook}: one marker");
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&found[0]).expect("marker")).expect("json");
        assert_eq!(m["backend"], "yubikey", "{m}");
        assert_eq!(m["serial"], env.serial, "{m}");
        assert_eq!(m["slot"], "9a", "{m}");
        assert_eq!(m["public"], key.tlpub.as_str(), "hook {hook}: {m}");
        assert!(
            records(dir.path()).is_empty(),
            "hook {hook}: nothing recorded"
        );
        if hook.starts_with("generated") {
            // Stopped before the certificate was written.
            assert_eq!(detail(&key, "certificate_subject"), "", "{:?}", key.details);
        }

        if hook == "generated-crash" {
            // As if killed between generation and the marker's second
            // write: no public key in it. The slot's key, generated on
            // the card, is still the one continued with.
            let mut m = m.clone();
            m.as_object_mut().expect("object").remove("public");
            std::fs::write(&found[0], serde_json::to_vec(&m).expect("json")).expect("write");
        }

        // The same command continues with that key.
        let o = cli_generate(env, dir.path(), "9a", None, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "rerun after {hook}: {}", out_text(&o));
        assert!(
            err.contains("Continuing an interrupted `token generate`")
                && err.contains("continued with the key the interrupted attempt had generated")
                && err.contains("test signature"),
            "after {hook}: {err}"
        );
        let now = slot_key(env, "9a").expect("key");
        assert_eq!(now.tlpub, key.tlpub, "after {hook}: the same key");
        assert_eq!(
            detail(&now, "certificate_subject"),
            "CN=locksmith tailnet lock key",
            "after {hook}: the certificate is in the slot"
        );
        let recs = records(dir.path());
        assert_eq!(recs.len(), 1, "after {hook}: one record");
        assert_eq!(recs[0]["command"], "token generate");
        assert_eq!(recs[0]["signers"][0]["tlpub"], key.tlpub.as_str());
        assert_eq!(recs[0]["attestations"][0]["verified"], true, "{}", recs[0]);
        assert!(
            recs[0]["inputs"]
                .as_array()
                .expect("inputs")
                .iter()
                .any(|i| i["name"].as_str().is_some_and(|n| n.starts_with("RESUMED"))),
            "after {hook}: {}",
            recs[0]
        );
        assert!(
            markers(dir.path()).is_empty(),
            "after {hook}: marker removed"
        );
        let v = Command::new(env!("CARGO_BIN_EXE_locksmith"))
            .args(["ceremony", "verify"])
            .arg(dir.path().join("transcript.jsonl"))
            .output()
            .expect("verify");
        assert!(v.status.success(), "{}", out_text(&v));
    }
}

#[test]
fn token_generate_refuses_an_occupied_slot_without_a_marker_with_how_to_continue() {
    let Some(env) = pcscd::env("yubikey_occupied") else {
        return;
    };
    let _card = env.take(fresh_config(env.serial));
    let pin = pin_file(env, "pin-occupied", DEFAULT_PIN);
    let old = signers::generate_key(&env.spec("9a", &pin), &GenerateOptions::default())
        .expect("a key made elsewhere");
    let dir = tempfile::tempdir().expect("dir");
    let before = env.card.lock().expect("card").verify_attempts;
    let o = cli_generate(env, dir.path(), "9a", None, &[]);
    assert!(!o.status.success(), "{}", out_text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for needle in [
        format!(
            "slot 9a of YubiKey serial {} already holds a key",
            env.serial
        ),
        "no pending-key marker".into(),
        "Nothing was generated".into(),
        format!("ykman --device {} piv keys delete 9a", env.serial),
        format!("ykman --device {} piv certificates delete 9a", env.serial),
        "choose another slot".into(),
        "--force".into(),
    ] {
        assert!(err.contains(&needle), "{needle:?} missing: {err}");
    }
    assert_eq!(
        env.card.lock().expect("card").verify_attempts,
        before,
        "refused before any PIN"
    );
    assert_eq!(slot_key(env, "9a").expect("key").tlpub, old.tlpub);
    assert!(records(dir.path()).is_empty() && markers(dir.path()).is_empty());

    // The ykman lines the error names free the slot (on the virtual card
    // ykman finds the reader by name, not by serial: it looks for
    // YubiKeys on USB); then the command completes.
    if let Some(ykman) = ykman() {
        let lines: Vec<&str> = err
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("ykman --device "))
            .collect();
        assert_eq!(lines.len(), 2, "{err}");
        for line in lines {
            // ykman asks for the management key: Enter for the default.
            let mut child = Command::new(&ykman)
                .args(["--reader", "Virtual PCD 00 00"])
                .args(line.split_whitespace().skip(3))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("ykman");
            use std::io::Write as _;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"\n")
                .expect("enter");
            let o = child.wait_with_output().expect("ykman");
            assert!(o.status.success(), "{line}: {}", out_text(&o));
        }
        assert!(slot_key(env, "9a").is_none(), "ykman deleted the key");
        let o = cli_generate(env, dir.path(), "9a", None, &[]);
        assert!(o.status.success(), "{}", out_text(&o));
        assert_eq!(records(dir.path()).len(), 1);
        std::fs::remove_file(dir.path().join("transcript.jsonl")).expect("rm");
        // Put a key made elsewhere back for the rest of the test.
        let o = cli_generate(env, dir.path(), "9a", None, &["--force"]);
        assert!(o.status.success(), "{}", out_text(&o));
        std::fs::remove_file(dir.path().join("transcript.jsonl")).expect("rm");
    }
    let old = slot_key(env, "9a").expect("key");

    // The library's own generate says the same.
    let e = signers::generate_key(&env.spec("9a", &pin), &GenerateOptions::default())
        .expect_err("occupied");
    assert!(e.to_string().contains("piv keys delete 9a"), "{e}");

    // A marker naming another key is not adopted either.
    let o = cli_generate(env, dir.path(), "9d", Some("generated"), &[]);
    assert!(!o.status.success());
    let marker = markers(dir.path()).pop().expect("marker");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&marker).expect("read")).expect("json");
    m["public"] = serde_json::Value::String(old.tlpub.clone());
    std::fs::write(&marker, serde_json::to_vec(&m).expect("json")).expect("write");
    let o = cli_generate(env, dir.path(), "9d", None, &[]);
    assert!(!o.status.success(), "{}", out_text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("names another key") && err.contains("piv keys delete 9d"),
        "{err}"
    );
    assert!(records(dir.path()).is_empty());
    std::fs::remove_file(&marker).expect("rm marker");

    // A key whose attestation is refused (here: the card's TEST roots not
    // trusted, a Yubico root given instead) is a verdict, not an
    // interruption: no marker stays, and the next run treats the slot as
    // occupied by a key it did not make.
    let other_roots =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/yubico/yubico-piv-ca-1.pem");
    let o = cli_generate_trusting(env, dir.path(), "9e", None, &[], &other_roots);
    assert!(!o.status.success(), "{}", out_text(&o));
    let refused = slot_key(env, "9e")
        .unwrap_or_else(|| panic!("the refused key stays in 9e: {}", out_text(&o)));
    assert!(markers(dir.path()).is_empty(), "{}", out_text(&o));
    let o = cli_generate(env, dir.path(), "9e", None, &[]);
    assert!(!o.status.success(), "{}", out_text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no pending-key marker"),
        "{}",
        out_text(&o)
    );
    assert_eq!(slot_key(env, "9e").expect("key").tlpub, refused.tlpub);
    assert!(records(dir.path()).is_empty());

    // --force replaces the key in 9a: a new key, recorded.
    let o = cli_generate(env, dir.path(), "9a", None, &["--force"]);
    assert!(o.status.success(), "{}", out_text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("DESTROYING the key in it"),
        "{}",
        out_text(&o)
    );
    let new = slot_key(env, "9a").expect("key");
    assert_ne!(new.tlpub, old.tlpub);
    assert_eq!(records(dir.path()).len(), 1);
}
