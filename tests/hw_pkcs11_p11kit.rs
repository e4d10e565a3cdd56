//! With no module named anywhere, locksmith uses p11-kit's proxy module,
//! which loads every module registered with p11-kit (SoftHSM2 registers
//! itself in /usr/share/p11-kit/modules/softhsm2.module): `locksmith token
//! list` lists a fresh SoftHSM2 token with no flags, and `--module` still
//! overrides.

#[path = "support/env.rs"]
mod env;

use locksmith::signers::spec;
use std::process::Command;

const SOFTHSM_REGISTRATION: &str = "/usr/share/p11-kit/modules/softhsm2.module";

#[test]
fn token_list_uses_p11_kit_when_no_module_is_given() {
    if !env::require(
        "token_list_uses_p11_kit",
        &["/usr/bin/softhsm2-util", SOFTHSM_REGISTRATION],
        "apt-get install softhsm2 p11-kit p11-kit-modules",
    ) {
        return;
    }
    let Some(proxy) = spec::p11_kit_proxy() else {
        env::skip(
            "token_list_uses_p11_kit",
            "p11-kit-proxy.so is missing (install: apt-get install p11-kit-modules)",
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hsm-config/softhsm2/new-token.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg(dir.path())
        .arg("via-p11-kit")
        .args(["123456", "12345678"])
        .output()
        .expect("new-token.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conf = String::from_utf8_lossy(&out.stdout).trim().to_string();

    let list = |extra: &[&str], succeeds: bool| {
        let mut cmd = assert_cmd::Command::cargo_bin("locksmith").expect("binary");
        cmd.env("SOFTHSM2_CONF", &conf)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .env("LOCKSMITH_DEFAULTS", dir.path().join("no-defaults"))
            .env_remove("LOCKSMITH_PKCS11_MODULE")
            .args(["token", "list", "--json"])
            .args(extra)
            .timeout(std::time::Duration::from_secs(60));
        let out = cmd.output().expect("run locksmith");
        assert_eq!(
            out.status.success(),
            succeeds,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        v
    };

    // No flag, no environment, no defaults file: p11-kit's proxy.
    let v = list(&[], true);
    let token = v["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| {
            t["description"]
                .as_str()
                .is_some_and(|d| d.contains("\"via-p11-kit\""))
        })
        .unwrap_or_else(|| panic!("the SoftHSM2 token is listed with no flags: {v:#}"));
    let spec_text = token["spec"].as_str().expect("spec");
    assert!(
        spec_text.contains(&format!("module-path={}", proxy.display())),
        "{spec_text}"
    );

    // --module still overrides: a module that does not exist is reported
    // (and fails the command, since it was asked for by name), and the
    // proxy's tokens are not listed.
    let v = list(&["--module", "/nonexistent/module.so"], false);
    assert!(
        v["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .all(|t| t["kind"] != "pkcs11"),
        "{v:#}"
    );
    assert!(
        v["problems"].to_string().contains("/nonexistent/module.so"),
        "{v:#}"
    );
}
