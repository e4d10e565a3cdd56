//! age files made by `locksmith secrets generate`, opened by the
//! independent `age` command (Debian package) and by `secrets decrypt`.

mod secrets_common;

use std::path::PathBuf;
use std::process::Command;

use secrets_common::*;

#[test]
fn x25519_files_decrypt_with_stock_age_and_match_the_values() {
    if !have("age") || !have("age-keygen") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (id, recipient) = age_keygen(dir.path());
    let out = dir.path().join("out");
    let report = generate(&[
        "-n",
        "3",
        "--to",
        &recipient,
        "--out",
        out.to_str().unwrap(),
        "--state-id1",
        "12345",
    ]);
    let values = strings(&report, "values");
    let files = strings(&report, "age_files");
    assert_eq!(values.len(), 3);
    assert_eq!(files.len(), 3);
    for (i, file) in files.iter().enumerate() {
        assert!(file.contains(&format!("-{:02}of03.age", i + 1)), "{file}");
        let raw = std::fs::read(file).unwrap();
        // The cleartext label stanza names authority and index.
        let header = String::from_utf8_lossy(&raw[..raw.len().min(400)]).into_owned();
        assert!(
            header.contains(&format!(
                "-> locksmith-label {GENESIS} 0000000000003039:0000000000000000"
            )) && header.contains(&format!("secret-{}-of-3", i + 1)),
            "{header}"
        );
        let plain = age_decrypt(&PathBuf::from(file), &id);
        assert!(plain.contains(&format!("# locksmith disablement secret {} of 3", i + 1)));
        let secrets = secrets_in(&plain);
        assert_eq!(secrets.len(), 1);
        assert_eq!(secrets[0].len(), 64);
        assert_eq!(
            secrets[0],
            secrets[0].to_uppercase(),
            "upstream prints uppercase"
        );
        assert_eq!(value_of(&secrets[0]), values[i]);
    }
}

#[test]
fn armored_single_file_holds_every_secret() {
    if !have("age") || !have("age-keygen") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (id, recipient) = age_keygen(dir.path());
    let out = dir.path().join("out");
    let report = generate(&[
        "-n",
        "4",
        "--to",
        &recipient,
        "--out",
        out.to_str().unwrap(),
        "--single-file",
        "--armor",
    ]);
    let values = strings(&report, "values");
    let files = strings(&report, "age_files");
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let plain = age_decrypt(&PathBuf::from(&files[0]), &id);
    let secrets = secrets_in(&plain);
    assert_eq!(secrets.len(), 4);
    let derived: Vec<String> = secrets.iter().map(|s| value_of(s)).collect();
    assert_eq!(derived, values);
}

#[test]
fn ssh_ed25519_and_rsa_recipients_decrypt_with_stock_age() {
    if !have("age") || !have("ssh-keygen") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut keys = Vec::new();
    for (kind, bits) in [("ed25519", None), ("rsa", Some("3072"))] {
        let key = dir.path().join(format!("id_{kind}"));
        let mut cmd = Command::new("ssh-keygen");
        cmd.args(["-q", "-t", kind, "-N", "", "-f"]).arg(&key);
        if let Some(b) = bits {
            cmd.args(["-b", b]);
        }
        assert!(cmd.status().unwrap().success());
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        keys.push((key, public.trim().to_owned()));
    }
    let out = dir.path().join("out");
    let report = generate(&[
        "-n",
        "2",
        "--to",
        &keys[0].1,
        "--to",
        &keys[1].1,
        "--out",
        out.to_str().unwrap(),
    ]);
    let values = strings(&report, "values");
    for (key, _) in &keys {
        for (i, file) in strings(&report, "age_files").iter().enumerate() {
            let plain = age_decrypt(&PathBuf::from(file), key);
            assert_eq!(value_of(&secrets_in(&plain)[0]), values[i]);
        }
    }
    // And locksmith's own decrypt, with the SSH key as identity.
    let file = &strings(&report, "age_files")[1];
    let out = locksmith()
        .args(["secrets", "decrypt", file, "-i"])
        .arg(&keys[0].0)
        .args(["--value", &values[0], "--value", &values[1], "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["result"], "matches");
    assert_eq!(json[0]["index"], 2);
    assert_eq!(json[0]["value"], values[1].as_str());
}

#[test]
fn passphrase_files_decrypt_with_stock_age() {
    // Stock age reads passphrases only from a terminal; `script` (util-linux)
    // gives it a pseudo-terminal fed from our stdin.
    if !have("age") || !have("script") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let pass = "correct horse battery staple 42";
    let gen = locksmith()
        .args([
            "secrets",
            "generate",
            "--genesis",
            GENESIS,
            "--json",
            "-n",
            "1",
        ])
        .args(["--passphrase", "--out", out.to_str().unwrap()])
        .write_stdin(format!("{pass}\n"))
        .output()
        .unwrap();
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&gen.stdout).unwrap();
    let file = strings(&report, "age_files").remove(0);
    let value = strings(&report, "values").remove(0);
    let plain_path = dir.path().join("plain.txt");
    let status = Command::new("script")
        .args(["-qec"])
        .arg(format!("age -d -o {} {}", plain_path.display(), file))
        .arg("/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(format!("{pass}\n").as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert!(status.success(), "age -d with the passphrase failed");
    let plain = std::fs::read_to_string(&plain_path).unwrap();
    assert_eq!(value_of(&secrets_in(&plain)[0]), value);

    // locksmith's decrypt reads the passphrase from stdin when it is not a terminal.
    let ok = locksmith()
        .args(["secrets", "decrypt", &file, "--value", &value])
        .write_stdin(format!("{pass}\n"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let stdout = String::from_utf8(ok.stdout).unwrap();
    assert!(stdout.contains("matches disablement value #1"), "{stdout}");
    assert!(
        !stdout.contains("disablement-secret:"),
        "no --reveal, no secret"
    );

    let bad = locksmith()
        .args(["secrets", "decrypt", &file, "--value", &value])
        .write_stdin("wrong passphrase\n")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8(bad.stderr).unwrap();
    assert!(stderr.contains("wrong passphrase"), "{stderr}");
}

#[test]
fn decrypt_reveals_only_when_asked_and_reports_no_match() {
    if !have("age-keygen") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (id, recipient) = age_keygen(dir.path());
    let out = dir.path().join("out");
    let report = generate(&[
        "-n",
        "2",
        "--to",
        &recipient,
        "--out",
        out.to_str().unwrap(),
    ]);
    let files = strings(&report, "age_files");
    let values = strings(&report, "values");

    let quiet = locksmith()
        .args(["secrets", "decrypt", &files[0], "-i"])
        .arg(&id)
        .args(["--value", &values[0]])
        .output()
        .unwrap();
    assert!(quiet.status.success());
    let text = String::from_utf8(quiet.stdout).unwrap();
    assert!(text.contains("secret 1: OK"), "{text}");
    assert!(!text.contains("disablement-secret:"));

    let shown = locksmith()
        .args(["secrets", "decrypt", &files[0], "-i"])
        .arg(&id)
        .args(["--reveal"])
        .output()
        .unwrap();
    assert!(shown.status.success());
    let text = String::from_utf8(shown.stdout).unwrap();
    let secret = text
        .lines()
        .find_map(|l| l.split("disablement-secret:").nth(1))
        .expect("revealed secret");
    assert_eq!(value_of(secret.trim()), values[0]);
    assert!(text.contains("checked against the value recorded in the file"));

    // File 1 checked against value 2 only: no match, exit code 3.
    let none = locksmith()
        .args(["secrets", "decrypt", &files[0], "-i"])
        .arg(&id)
        .args(["--value", &values[1]])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(3));
    assert!(String::from_utf8(none.stdout).unwrap().contains("NO MATCH"));
}

#[test]
fn bad_recipients_and_missing_plugins_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let bad = locksmith()
        .args(["secrets", "generate", "--genesis", GENESIS, "-n", "1"])
        .args(["--to", "age1notarecipient", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(err.contains("is not an age recipient"), "{err}");
    assert!(!out.exists(), "nothing written on bad input");

    // A well-formed plugin recipient whose plugin is not installed.
    let plugin = "age1yubikey1qgqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0jqxwspvz";
    let missing = locksmith()
        .args(["secrets", "generate", "--genesis", GENESIS, "-n", "1"])
        .args(["--to", plugin, "--out", out.to_str().unwrap()])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let err = String::from_utf8(missing.stderr).unwrap();
    assert!(err.contains("age-plugin-yubikey"), "{err}");
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "no partial output: {leftovers:?}");
}

/// A test-only age plugin (`age-plugin-fakeplug`) speaking the real
/// recipient-v1 and identity-v1 protocols. It "wraps" the file key by writing it in the
/// clear: enough to prove that locksmith drives plugins (as it would
/// age-plugin-yubikey) and that their stanza lands in the file.
const FAKE_PLUGIN: &str = r#"#!/bin/sh
read_body() { while IFS= read -r b; do [ ${#b} -lt 64 ] && break; done; }
key=""
if [ "$1" = "--age-plugin=identity-v1" ]; then
  while IFS= read -r line; do
    case "$line" in
      "-> add-identity"*) echo "$line" >> "$0.log"; read_body ;;
      "-> recipient-stanza 0 fakeplug "*) IFS= read -r key ;;
      "-> done"*) read_body; break ;;
      *) read_body ;;
    esac
  done
  printf -- '-> file-key 0\n%s\n' "$key"
  IFS= read -r ok; read_body
  printf -- '-> done\n\n'
  exit 0
fi
while IFS= read -r line; do
  case "$line" in
    "-> add-recipient"*) echo "$line" >> "$0.log"; read_body ;;
    "-> wrap-file-key"*) IFS= read -r key ;;
    "-> done"*) read_body; break ;;
    *) read_body ;;
  esac
done
printf -- '-> recipient-stanza 0 fakeplug locksmith-test\n%s\n' "$key"
IFS= read -r ok; read_body
printf -- '-> done\n\n'
"#;

/// A valid plugin recipient for the fake plugin (bech32, HRP `age1fakeplug`).
const FAKE_RECIPIENT: &str = "age1fakeplug1d3hkx6mnd45hg6pqw3jhxapqwpk82emfdc38gcyp";
/// Its identity (as age-plugin-yubikey's `AGE-PLUGIN-YUBIKEY-1…` lines).
const FAKE_IDENTITY: &str = "AGE-PLUGIN-FAKEPLUG-1D3HKX6MND45HG6PQW3JHXAPQD9JX2MN5D968JT2FC6C";

/// Opens stanzas the fake plugin made.
struct ClearKey;

impl age::Identity for ClearKey {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
        if stanza.tag != "fakeplug" {
            return None;
        }
        let key: [u8; 16] = stanza.body.as_slice().try_into().ok()?;
        Some(Ok(age_core::format::FileKey::new(Box::new(key))))
    }
}

#[test]
fn plugin_recipients_and_identities_go_through_the_age_plugin_protocol() {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let plugin = bin.join("age-plugin-fakeplug");
    std::fs::write(&plugin, FAKE_PLUGIN).unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = dir.path().join("out");
    let run = locksmith()
        .env("PATH", &path)
        .args([
            "secrets",
            "generate",
            "--genesis",
            GENESIS,
            "--json",
            "-n",
            "2",
        ])
        .args(["--to", FAKE_RECIPIENT, "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let values = strings(&report, "values");
    let log = std::fs::read_to_string(plugin.with_extension("log")).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| *l == format!("-> add-recipient {FAKE_RECIPIENT}"))
            .count(),
        2,
        "the plugin got the recipient once per file: {log}"
    );
    for (i, file) in strings(&report, "age_files").iter().enumerate() {
        let bytes = std::fs::read(file).unwrap();
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(400)]).into_owned();
        assert!(head.contains("-> fakeplug locksmith-test"), "{head}");
        assert!(head.contains("-> locksmith-label "), "{head}");
        let decryptor = age::Decryptor::new(&bytes[..]).unwrap();
        let mut plain = String::new();
        decryptor
            .decrypt(std::iter::once(&ClearKey as &dyn age::Identity))
            .unwrap()
            .read_to_string(&mut plain)
            .unwrap();
        assert_eq!(value_of(&secrets_in(&plain)[0]), values[i]);
    }

    // `secrets decrypt` with the plugin identity (identity-v1 protocol).
    let identity = dir.path().join("plugin-identity.txt");
    std::fs::write(
        &identity,
        format!("# test plugin identity\n{FAKE_IDENTITY}\n"),
    )
    .unwrap();
    let file = &strings(&report, "age_files")[1];
    let run = locksmith()
        .env("PATH", &path)
        .args(["secrets", "decrypt", file, "-i"])
        .arg(&identity)
        .args(["--value", &values[0], "--value", &values[1]])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(stdout.contains("matches disablement value #2"), "{stdout}");
    let log = std::fs::read_to_string(plugin.with_extension("log")).unwrap();
    assert!(
        log.contains(&format!("-> add-identity {FAKE_IDENTITY}")),
        "{log}"
    );
}
