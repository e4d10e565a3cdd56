//! OpenSC's pkcs11-tool as an independent client of locksmith's SoftHSM2
//! keys. In a test binary of its own: SoftHSM2 reads its token store once
//! per process, and pkcs11-tool writing to a token while this process's
//! module is loaded can hide that token from it, so here pkcs11-tool runs
//! before this process first loads the module.

#[path = "support/env.rs"]
mod env;
#[path = "support/softhsm.rs"]
mod softhsm;

use locksmith::signers::{self, open_signer, GenerateOptions, OpenOptions};
use locksmith::tka::signer::sign_verified;
use softhsm::{MODULE, USER_PIN};
use std::process::Command;

fn setup(test: &str) -> Option<&'static softhsm::SoftHsm> {
    softhsm::require(test, &["p11tool"], &[])
}

fn generate(
    hsm: &softhsm::SoftHsm,
    token: &str,
    label: &str,
    extractable: bool,
) -> signers::KeyInfo {
    let options = GenerateOptions {
        label: Some(label.to_string()),
        allow_extractable: extractable,
        ..Default::default()
    };
    signers::generate_key(&hsm.uri(token, ""), &options).expect("generate on SoftHSM2")
}

#[test]
fn pkcs11_tool_confirms_private_key_is_sensitive_and_not_extractable() {
    let Some(hsm) = setup("pkcs11_tool_confirms") else {
        return;
    };
    if !env::require(
        "pkcs11_tool_confirms",
        &["/usr/bin/pkcs11-tool"],
        "apt-get install opensc",
    ) {
        return;
    }
    generate(hsm, "p11tool", "tl-checked", false);
    let out = Command::new("pkcs11-tool")
        .args([
            "--module",
            MODULE,
            "--token-label",
            "p11tool",
            "--login",
            "--pin",
            USER_PIN,
        ])
        .args(["--list-objects", "--type", "privkey"])
        .env("SOFTHSM2_CONF", &hsm.conf)
        .output()
        .expect("run pkcs11-tool");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pkcs11-tool failed: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let access = text
        .lines()
        .find(|l| l.trim_start().starts_with("Access:"))
        .unwrap_or_else(|| panic!("no Access line in {text}"));
    assert!(access.contains("sensitive"), "{access}");
    assert!(access.contains("never extractable"), "{access}");
    assert!(
        !access
            .replace("never extractable", "")
            .contains("extractable"),
        "{access}"
    );
    assert!(
        text.contains("EC_EDWARDS") || text.contains("EDDSA"),
        "{text}"
    );

    // pkcs11-tool's own Ed25519 key pair (its EC_PARAMS encoding) is readable too.
    let out = Command::new("pkcs11-tool")
        .args([
            "--module",
            MODULE,
            "--token-label",
            "p11tool",
            "--login",
            "--pin",
            USER_PIN,
        ])
        .args([
            "--keypairgen",
            "--key-type",
            "EC:edwards25519",
            "--label",
            "by-p11tool",
            "--id",
            "a1b2",
        ])
        .args(["--usage-sign", "--sensitive"])
        .env("SOFTHSM2_CONF", &hsm.conf)
        .output()
        .expect("run pkcs11-tool");
    assert!(
        out.status.success(),
        "keypairgen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two encodings of CKA_EC_PARAMS now live on this token: locksmith's RFC 8410
    // OID and pkcs11-tool's PrintableString "edwards25519". SoftHSM2's file
    // store is shared with this process, which keeps writing objects for
    // other tests: another process can catch an object half-written, so read
    // until the listing is whole (seen once in many runs).
    let mut text = String::new();
    for _ in 0..10 {
        let out = Command::new("pkcs11-tool")
            .args([
                "--module",
                MODULE,
                "--token-label",
                "p11tool",
                "--list-objects",
                "--type",
                "pubkey",
            ])
            .env("SOFTHSM2_CONF", &hsm.conf)
            .output()
            .expect("run pkcs11-tool");
        text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("EC_PARAMS:  06032b6570")
            && text.contains("EC_PARAMS:  130c656477617264733235353139")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(text.contains("EC_PARAMS:  06032b6570"), "{text}");
    assert!(
        text.contains("EC_PARAMS:  130c656477617264733235353139"),
        "{text}"
    );
    let mut s = open_signer(
        &hsm.uri("p11tool", ";object=by-p11tool"),
        &OpenOptions {
            allow_extractable: true,
            ..Default::default()
        },
    )
    .expect("open pkcs11-tool's key");
    sign_verified(s.as_mut(), &[9; 32]).expect("sign with pkcs11-tool's key");
}
