//! Keys imported onto a PKCS#11 token (not generated there) against a real
//! SoftHSM2 token: refused for signing unless --allow-imported-key, and
//! never labelled hardware-backed, in the library and through the binary.
//!
//! The key is imported with C_CreateObject, what `pkcs11-tool
//! --write-object --type privkey` does; Debian bookworm's pkcs11-tool
//! (OpenSC 0.23) cannot read an Ed25519 key file ("Unsupported key type:
//! 0x43F"), so the test makes the call itself. SoftHSM2 marks such an
//! object CKA_LOCAL, CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE false.

#[path = "support/env.rs"]
mod env;
#[path = "support/softhsm.rs"]
mod softhsm;

use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use locksmith::signers::{self, open_signer, GenerateOptions, OpenOptions};
use locksmith::tka::signer::{sign_verified, KeyCustody};
use softhsm::{MODULE, USER_PIN};

const TOKEN: &str = "imported";

fn setup(test: &str) -> Option<&'static softhsm::SoftHsm> {
    softhsm::require(test, &[TOKEN], &[])
}

/// Imports an Ed25519 key pair made in software onto the token; returns its public key.
fn import(label: &str, seed: [u8; 32]) -> [u8; 32] {
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let ctx = signers::pkcs11::context(MODULE.as_ref()).expect("module");
    let slot = ctx
        .get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .is_ok_and(|i| i.label().trim() == TOKEN)
        })
        .expect("token");
    let session = ctx.open_rw_session(slot).expect("session");
    session
        .login(UserType::User, Some(&AuthPin::from(USER_PIN.to_string())))
        .expect("login");
    let id = label.as_bytes().to_vec();
    let params = signers::pkcs11::EC_PARAMS_ED25519_OID.to_vec();
    session
        .create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
            Attribute::EcParams(params.clone()),
            Attribute::Value(seed.to_vec()),
        ])
        .expect("import the private key");
    let mut point = vec![0x04, 0x20];
    point.extend_from_slice(&public);
    session
        .create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id),
            Attribute::EcParams(params),
            Attribute::EcPoint(point),
        ])
        .expect("import the public key");
    public
}

#[test]
fn an_imported_key_is_refused_unless_allowed_and_never_hardware_backed() {
    let Some(hsm) = setup("imported_key") else {
        return;
    };
    let public = import("from-outside", [0x42; 32]);
    let spec = hsm.uri(TOKEN, ";object=from-outside");

    // Refused by default, with the reason and the flag that allows it.
    let err = open_signer(&spec, &OpenOptions::default()).expect_err("refused");
    assert!(matches!(err, signers::Error::Refused(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("imported, not generated on the token"),
        "{text}"
    );
    assert!(text.contains("CKA_LOCAL is false"), "{text}");
    assert!(text.contains("--allow-imported-key"), "{text}");

    // --allow-extractable does not stand in for it.
    let err = open_signer(
        &spec,
        &OpenOptions {
            allow_extractable: true,
            ..Default::default()
        },
    )
    .expect_err("still refused");
    assert!(err.to_string().contains("--allow-imported-key"), "{err}");

    // Allowed: it signs, and is labelled IMPORTED, never hardware-backed.
    let mut s = open_signer(
        &spec,
        &OpenOptions {
            allow_imported: true,
            ..Default::default()
        },
    )
    .expect("allowed");
    assert_eq!(s.public_key(), public);
    assert_eq!(s.custody(), KeyCustody::Imported);
    assert!(!s.custody().label().contains("hardware-backed"));
    sign_verified(s.as_mut(), &[7; 32]).expect("sign");

    // `token show` and `token list` say so too.
    let shown = signers::show_key(&spec, &OpenOptions::default()).expect("show");
    assert_eq!(shown.custody, KeyCustody::Imported.label());
    assert!(
        shown
            .details
            .iter()
            .any(|(k, v)| k == "origin" && v.starts_with("IMPORTED")),
        "{:?}",
        shown.details
    );
    let tokens = signers::pkcs11::list_tokens(MODULE.as_ref()).expect("list");
    let listed = tokens
        .iter()
        .flat_map(|t| &t.keys)
        .find(|k| k.description.contains("from-outside"))
        .expect("listed");
    assert_eq!(listed.custody, KeyCustody::Imported.label());

    // A key generated on the same token stays hardware-backed.
    let generated = signers::generate_key(
        &hsm.uri(TOKEN, ""),
        &GenerateOptions {
            label: Some("made-here".into()),
            ..Default::default()
        },
    )
    .expect("generate");
    assert_eq!(generated.custody, KeyCustody::Hardware.label());
    let s = open_signer(
        &hsm.uri(TOKEN, ";object=made-here"),
        &OpenOptions::default(),
    )
    .expect("a generated key opens without flags");
    assert_eq!(s.custody(), KeyCustody::Hardware);

    // Through the binary: `token test` refuses, then with the flag signs
    // and never prints "hardware-backed".
    let run = |extra: &[&str]| {
        let mut cmd = assert_cmd::Command::cargo_bin("locksmith").expect("binary");
        cmd.env("SOFTHSM2_CONF", &hsm.conf)
            .env_remove("LOCKSMITH_PIN")
            .args(["token", "test", "--signer", &spec])
            .args(extra)
            .timeout(std::time::Duration::from_secs(60));
        cmd.output().expect("run locksmith")
    };
    let refused = run(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("--allow-imported-key"), "{stderr}");
    let allowed = run(&["--allow-imported-key", "--json"]);
    let stdout = String::from_utf8_lossy(&allowed.stdout);
    let stderr = String::from_utf8_lossy(&allowed.stderr);
    assert!(allowed.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("IMPORTED KEY"), "{stdout}");
    assert!(
        !stdout.contains("hardware-backed") && !stderr.contains("hardware-backed"),
        "{stdout}{stderr}"
    );
}
