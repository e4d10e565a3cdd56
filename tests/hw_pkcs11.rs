//! PKCS#11 backend against a real SoftHSM2 token (fresh token directory per
//! run), with OpenSC's pkcs11-tool as an independent client.

#[path = "support/env.rs"]
mod env;
#[path = "support/softhsm.rs"]
mod softhsm;

use ed25519_dalek::Verifier;
use locksmith::signers::{self, open_signer, GenerateOptions, OpenOptions, TriesLeft};
use locksmith::tka::signer::{sign_verified, KeyCustody};
use softhsm::{SoftHsm, MODULE, USER_PIN};
use std::process::Command;

const TOKENS: &[&str] = &[
    "gen", "wrongpin", "locked", "extract", "two-a", "two-b", "cli", "ambig", "always",
];

fn setup(test: &str) -> Option<&'static SoftHsm> {
    softhsm::require(test, TOKENS, &["locked"])
}

fn generate(hsm: &SoftHsm, token: &str, label: &str, extractable: bool) -> signers::KeyInfo {
    let options = GenerateOptions {
        label: Some(label.to_string()),
        allow_extractable: extractable,
        ..Default::default()
    };
    signers::generate_key(&hsm.uri(token, ""), &options).expect("generate on SoftHSM2")
}

fn pub_from_tlpub(tlpub: &str) -> [u8; 32] {
    let hex = tlpub.strip_prefix("tlpub:").expect("tlpub prefix");
    let bytes = data_encoding::HEXLOWER.decode(hex.as_bytes()).expect("hex");
    bytes.try_into().expect("32 bytes")
}

#[test]
fn generate_list_sign_verify() {
    let Some(hsm) = setup("generate_list_sign_verify") else {
        return;
    };
    let key = generate(hsm, "gen", "tl-key-1", false);
    let public = pub_from_tlpub(&key.tlpub);
    assert!(
        key.details.contains(&("sensitive".into(), "true".into())),
        "{:?}",
        key.details
    );
    assert!(
        key.details
            .contains(&("extractable".into(), "false".into())),
        "{:?}",
        key.details
    );

    // Listed without a PIN, by its public half.
    let tokens = signers::pkcs11::list_tokens(MODULE.as_ref()).expect("list");
    let gen = tokens
        .iter()
        .find(|t| t.description.contains("\"gen\""))
        .expect("token gen listed");
    assert!(
        gen.keys.iter().any(|k| k.tlpub == key.tlpub),
        "key not listed: {gen:?}"
    );

    // The listed spec opens the key (after adding the PIN source).
    let mut signer =
        open_signer(&hsm.uri("gen", ";object=tl-key-1"), &OpenOptions::default()).expect("open");
    assert_eq!(signer.public_key(), public);
    assert_eq!(signer.custody(), KeyCustody::Hardware);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&public).expect("valid key");
    for i in 0..5u8 {
        let digest = [i; 32];
        let sig = sign_verified(signer.as_mut(), &digest).expect("sign");
        // Independent check: pure Ed25519 over the 32-byte digest itself.
        vk.verify(&digest, &ed25519_dalek::Signature::from_bytes(&sig))
            .expect("verifies");
    }
}

#[test]
fn wrong_pin_is_reported_with_tries_and_not_retried() {
    let Some(hsm) = setup("wrong_pin") else {
        return;
    };
    generate(hsm, "wrongpin", "k", false);
    let spec = format!(
        "pkcs11:token=wrongpin;object=k?module-path={MODULE}&pin-source=file:{}",
        hsm.wrong_pin_file.display()
    );
    let err = open_signer(&spec, &OpenOptions::default()).expect_err("wrong PIN must fail");
    match &err {
        // SoftHSM2 sets CKF_USER_PIN_COUNT_LOW after a failed login.
        signers::Error::WrongPin { tries_left, .. } => assert_eq!(*tries_left, TriesLeft::Low),
        other => panic!("expected WrongPin, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("wrong PIN") && msg.contains("does not retry"),
        "{msg}"
    );
    assert!(
        !msg.contains("999999"),
        "PIN leaked into the message: {msg}"
    );
    // The right PIN still works afterwards.
    open_signer(&hsm.uri("wrongpin", ";object=k"), &OpenOptions::default()).expect("right PIN");
}

#[test]
fn locked_token_is_refused_without_sending_the_pin() {
    let Some(hsm) = setup("locked_token") else {
        return;
    };
    // SoftHSM2 2.6 never locks a user PIN by itself (it only raises
    // CKF_USER_PIN_COUNT_LOW), so the fixture marked this token locked in its
    // object store before the module was loaded, exactly as a token reports a
    // blocked PIN: CKF_USER_PIN_LOCKED in its token flags.
    let err = open_signer(&hsm.uri("locked", ";object=k"), &OpenOptions::default())
        .expect_err("locked token must be refused");
    assert!(matches!(err, signers::Error::PinLocked { .. }), "{err:?}");
    assert!(err.to_string().contains("blocked"), "{err}");
}

#[test]
fn extractable_key_is_refused_unless_allowed() {
    let Some(hsm) = setup("extractable") else {
        return;
    };
    generate(hsm, "extract", "leaky", true);
    let spec = hsm.uri("extract", ";object=leaky");
    let err = open_signer(&spec, &OpenOptions::default()).expect_err("refused");
    assert!(matches!(err, signers::Error::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("--allow-extractable"), "{err}");
    let mut s = open_signer(
        &spec,
        &OpenOptions {
            allow_extractable: true,
            ..Default::default()
        },
    )
    .expect("allowed");
    sign_verified(s.as_mut(), &[1; 32]).expect("sign");
}

#[test]
fn two_keys_on_two_tokens() {
    let Some(hsm) = setup("two_tokens") else {
        return;
    };
    let a = generate(hsm, "two-a", "tl", false);
    let b = generate(hsm, "two-b", "tl", false);
    assert_ne!(a.tlpub, b.tlpub);
    let mut sa = open_signer(&hsm.uri("two-a", ";object=tl"), &OpenOptions::default()).expect("a");
    let mut sb = open_signer(&hsm.uri("two-b", ";object=tl"), &OpenOptions::default()).expect("b");
    assert_eq!(sa.public_key(), pub_from_tlpub(&a.tlpub));
    assert_eq!(sb.public_key(), pub_from_tlpub(&b.tlpub));
    let digest = [0x42; 32];
    let sig_a = sign_verified(sa.as_mut(), &digest).expect("sign a");
    let sig_b = sign_verified(sb.as_mut(), &digest).expect("sign b");
    assert_ne!(sig_a, sig_b);
    // Selecting by serial works as well as by label.
    let tokens = signers::pkcs11::list_tokens(MODULE.as_ref()).expect("list");
    let desc = &tokens
        .iter()
        .find(|t| t.description.contains("\"two-a\""))
        .expect("two-a")
        .description;
    let serial = desc
        .split("(serial ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .expect("serial");
    let by_serial = format!(
        "pkcs11:serial={serial};object=tl?module-path={MODULE}&pin-source=file:{}",
        hsm.pin_file.display()
    );
    let s = open_signer(&by_serial, &OpenOptions::default()).expect("open by serial");
    assert_eq!(s.public_key(), pub_from_tlpub(&a.tlpub));
}

#[test]
fn ambiguous_and_missing_keys_are_errors_not_guesses() {
    let Some(hsm) = setup("ambiguous") else {
        return;
    };
    generate(hsm, "ambig", "one", false);
    generate(hsm, "ambig", "two", false);
    let err = open_signer(&hsm.uri("ambig", ""), &OpenOptions::default()).expect_err("ambiguous");
    assert!(matches!(err, signers::Error::Ambiguous(_)), "{err:?}");
    let err = open_signer(&hsm.uri("ambig", ";object=three"), &OpenOptions::default())
        .expect_err("missing");
    assert!(matches!(err, signers::Error::NotFound(_)), "{err:?}");
    let err =
        open_signer(&hsm.uri("no-such-token", ""), &OpenOptions::default()).expect_err("no token");
    assert!(err.to_string().contains("tokens present"), "{err}");
    // Same label again is refused without --force.
    let err = signers::generate_key(
        &hsm.uri("ambig", ""),
        &GenerateOptions {
            label: Some("one".into()),
            ..Default::default()
        },
    )
    .expect_err("duplicate label");
    assert!(err.to_string().contains("--force"), "{err}");
}

#[test]
fn cli_token_commands_end_to_end() {
    let Some(hsm) = setup("cli") else { return };
    let bin = env!("CARGO_BIN_EXE_locksmith");
    let spec = hsm.uri("cli", "");
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .env("SOFTHSM2_CONF", &hsm.conf)
            .env_remove("LOCKSMITH_PIN")
            .output()
            .expect("run locksmith")
    };
    let out = run(&["token", "generate", "--signer", &spec, "--label", "cli-key"]);
    assert!(
        out.status.success(),
        "generate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tlpub = stdout
        .lines()
        .next()
        .expect("tlpub line")
        .trim()
        .to_string();
    assert!(
        tlpub.starts_with("tlpub:") && tlpub.len() == 6 + 64,
        "{stdout}"
    );

    let out = run(&["token", "list", "--json", "--module", MODULE]);
    assert!(out.status.success());
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let listed = inv["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .flat_map(|t| t["keys"].as_array().cloned().unwrap_or_default())
        .any(|k| k["tlpub"] == tlpub.as_str());
    assert!(listed, "{inv}");

    let key_spec = hsm.uri("cli", ";object=cli-key");
    let out = run(&["token", "show", "--signer", &key_spec, "--json"]);
    assert!(
        out.status.success(),
        "show: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["tlpub"], tlpub.as_str());
    assert_eq!(shown["custody"], "hardware-backed");

    let out = run(&["token", "test", "--signer", &key_spec, "--json"]);
    assert!(
        out.status.success(),
        "test: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tested: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(tested["ok"], true);
    assert_eq!(tested["tlpub"], tlpub.as_str());

    // Bad input: a clear error and a non-zero exit, no panic.
    let out = run(&[
        "token",
        "test",
        "--signer",
        "pkcs11:token=cli?pin-value=123456",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pin-value") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn batch_signing_verifies_every_signature() {
    let Some(hsm) = setup("batch") else { return };
    let key = generate(hsm, "gen", "tl-batch", false);
    let mut signer =
        open_signer(&hsm.uri("gen", ";object=tl-batch"), &OpenOptions::default()).expect("open");
    let digests: Vec<[u8; 32]> = (0..50u8).map(|i| [i; 32]).collect();
    let sigs =
        locksmith::tka::signer::sign_verified_batch(signer.as_mut(), &digests).expect("batch");
    assert_eq!(sigs.len(), 50);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pub_from_tlpub(&key.tlpub)).expect("key");
    for (d, s) in digests.iter().zip(&sigs) {
        vk.verify(d, &ed25519_dalek::Signature::from_bytes(s))
            .expect("verifies");
    }
}

#[test]
fn always_authenticate_key_gets_a_context_specific_login() {
    use cryptoki::mechanism::Mechanism;
    use cryptoki::object::Attribute;
    use cryptoki::session::UserType;
    let Some(hsm) = setup("always_authenticate") else {
        return;
    };
    // Make a key with CKA_ALWAYS_AUTHENTICATE (as ykcs11 shows slot 9c) directly with cryptoki.
    let ctx = signers::pkcs11::context(MODULE.as_ref()).expect("context");
    let slot = ctx
        .get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .map(|i| i.label().trim() == "always")
                .unwrap_or(false)
        })
        .expect("token");
    let session = ctx.open_rw_session(slot).expect("session");
    session
        .login(
            UserType::User,
            Some(&cryptoki::types::AuthPin::from(USER_PIN.to_string())),
        )
        .or_else(|e| match e {
            cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _) => {
                Ok(())
            }
            e => Err(e),
        })
        .expect("login");
    let id = vec![0xaa, 0x01];
    let public = [
        Attribute::Token(true),
        Attribute::Verify(true),
        Attribute::EcParams(signers::pkcs11::EC_PARAMS_ED25519_OID.to_vec()),
        Attribute::Label(b"always".to_vec()),
        Attribute::Id(id.clone()),
    ];
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::AlwaysAuthenticate(true),
        Attribute::Label(b"always".to_vec()),
        Attribute::Id(id),
    ];
    let (_, key) = session
        .generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public, &private)
        .expect("generate");
    // SoftHSM2 enforces it: a plain C_SignInit + C_Sign is refused.
    let mech = Mechanism::Eddsa(cryptoki::mechanism::eddsa::EddsaParams::new(
        cryptoki::mechanism::eddsa::EddsaSignatureScheme::Pure,
    ));
    let plain = session.sign(&mech, key, &[1; 32]);
    assert!(
        matches!(
            plain,
            Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::UserNotLoggedIn,
                _
            ))
        ),
        "{plain:?}"
    );
    drop(session);

    // locksmith sees the attribute, keeps the PIN for the batch and logs in
    // per signature (C_SignInit, C_Login(CKU_CONTEXT_SPECIFIC), C_SignUpdate,
    // C_SignFinal). SoftHSM2 has no multi-part EdDSA, so the documented
    // outcome here is a clear error pointing at a PIN-once key, not a guess.
    let mut signer = open_signer(
        &hsm.uri("always", ";object=always"),
        &OpenOptions::default(),
    )
    .expect("open");
    let shown = signers::show_key(
        &hsm.uri("always", ";object=always"),
        &OpenOptions::default(),
    )
    .expect("show");
    assert!(
        shown
            .details
            .contains(&("always_authenticate".into(), "true".into())),
        "{:?}",
        shown.details
    );
    let err =
        sign_verified(signer.as_mut(), &[2; 32]).expect_err("no multi-part EdDSA on SoftHSM2");
    let msg = err.to_string();
    assert!(
        msg.contains("CKA_ALWAYS_AUTHENTICATE") && msg.contains("\"once\""),
        "{msg}"
    );
}
