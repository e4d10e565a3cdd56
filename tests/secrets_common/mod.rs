//! Helpers shared by the tests/secrets_*.rs end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as Cmd;

#[path = "../support/env.rs"]
mod env;

/// A syntactically valid genesis AUM hash text.
pub const GENESIS: &str = "L7VFPZB6Y4CN5BXTRUOWMA3EUNWEN54CFYEE5XPCZW3XSDD3FAUQ";

/// The locksmith binary under test.
pub fn locksmith() -> Cmd {
    Cmd::cargo_bin("locksmith").expect("locksmith binary built")
}

/// Whether `tool` is on PATH. Missing tools skip the test loudly, except
/// under CI=true where they fail it (.ci/install.sh installs them).
pub fn have(tool: &str) -> bool {
    env::require_program(
        &format!("a test that runs {tool}"),
        tool,
        "apt-get install age poppler-utils openssh-client",
    )
}

/// Makes an X25519 identity with the independent `age-keygen`; returns
/// the identity file and its recipient.
pub fn age_keygen(dir: &Path) -> (PathBuf, String) {
    let id = dir.join("identity.txt");
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&id)
        .output()
        .expect("age-keygen runs");
    assert!(out.status.success(), "age-keygen failed: {out:?}");
    let text = std::fs::read_to_string(&id).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("public key comment")
        .to_owned();
    (id, recipient)
}

/// Decrypts `file` with the independent `age` command and an identity file.
pub fn age_decrypt(file: &Path, identity: &Path) -> String {
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity)
        .arg(file)
        .output()
        .expect("age runs");
    assert!(
        out.status.success(),
        "age -d failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The `disablement-secret:` hex of each secret in a decrypted payload.
pub fn secrets_in(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("disablement-secret:"))
        .map(str::to_owned)
        .collect()
}

/// `disablement:<hex>` of a secret given in hex, via the core KDF.
pub fn value_of(secret_hex: &str) -> String {
    let bytes = locksmith::tka::hex::decode(secret_hex).expect("hex secret");
    locksmith::tka::disablement::value_text(&locksmith::tka::disablement::disablement_kdf(&bytes))
}

/// Runs `secrets generate` with `args`; returns the JSON report.
pub fn generate(args: &[&str]) -> serde_json::Value {
    let out = locksmith()
        .args(["secrets", "generate", "--genesis", GENESIS, "--json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "generate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// The string items of a JSON array field.
pub fn strings(v: &serde_json::Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} is an array"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The four `N:  XXXX XXXX XXXX XXXX   K` lines of a plain-text sheet.
pub fn typed_lines(sheet_text: &str) -> Vec<String> {
    sheet_text
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            t.len() > 3 && t.as_bytes()[0].is_ascii_digit() && t.as_bytes()[1] == b':'
        })
        .take(4)
        .map(|l| l.trim().to_owned())
        .collect()
}
