//! After `secrets generate`, no plaintext secret is left on disk: not in
//! the output directory, not in the temporary directory (TMPDIR pointed at
//! a fresh one), in hex upper or lower case or as raw bytes. Sheets hold
//! the secret only where asked (`--sheet-dir`). Existing files are never
//! overwritten without --force, and a refused batch writes nothing.

mod secrets_common;

use std::path::{Path, PathBuf};

use secrets_common::*;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every form of the secret a careless writer could leave behind.
fn forms(secret_hex: &str) -> Vec<Vec<u8>> {
    let raw = locksmith::tka::hex::decode(secret_hex).unwrap();
    vec![
        secret_hex.to_uppercase().into_bytes(),
        secret_hex.to_lowercase().into_bytes(),
        // The first line of the sheet, in groups.
        format!(
            "{} {}",
            &secret_hex[0..4].to_uppercase(),
            &secret_hex[4..8].to_uppercase()
        )
        .into_bytes(),
        raw,
    ]
}

fn assert_absent(dirs: &[&Path], secrets: &[String]) {
    for dir in dirs {
        for file in files_under(dir) {
            let bytes = std::fs::read(&file).unwrap();
            for s in secrets {
                for form in forms(s) {
                    assert!(
                        !contains(&bytes, &form),
                        "{} holds a plaintext secret",
                        file.display()
                    );
                }
            }
        }
    }
}

#[test]
fn no_plaintext_secret_left_on_disk() {
    if !have("age") || !have("age-keygen") {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let (id, recipient) = age_keygen(keys.path());
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    let out = work.path().join("out");
    let sheets = work.path().join("sheets");
    std::fs::create_dir(&tmp).unwrap();

    // Without sheets: age files only.
    let run = locksmith()
        .env("TMPDIR", &tmp)
        .args([
            "secrets",
            "generate",
            "--genesis",
            GENESIS,
            "--json",
            "-n",
            "3",
        ])
        .args(["--to", &recipient, "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let stdout = String::from_utf8(run.stdout.clone()).unwrap();
    let mut secrets = Vec::new();
    for f in strings(&report, "age_files") {
        secrets.extend(secrets_in(&age_decrypt(Path::new(&f), &id)));
    }
    assert_eq!(secrets.len(), 3);
    for s in &secrets {
        assert!(
            !stdout.contains(s.as_str()),
            "no secret on stdout without --reveal"
        );
    }
    assert_absent(&[&out, &tmp], &secrets);
    assert_eq!(files_under(&out).len(), 3, "only the age files");
    assert!(files_under(&tmp).is_empty(), "nothing left in TMPDIR");

    // With sheets: the secrets are in the sheet directory (asked for by
    // name) and nowhere else.
    let out2 = work.path().join("out2");
    let run = locksmith()
        .env("TMPDIR", &tmp)
        .args([
            "secrets",
            "generate",
            "--genesis",
            GENESIS,
            "--json",
            "-n",
            "2",
        ])
        .args(["--to", &recipient, "--out", out2.to_str().unwrap()])
        .args(["--sheet-dir", sheets.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success());
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let mut secrets2 = Vec::new();
    for f in strings(&report, "age_files") {
        secrets2.extend(secrets_in(&age_decrypt(Path::new(&f), &id)));
    }
    assert_absent(&[&out, &out2, &tmp], &secrets2);
    let sheet_files = files_under(&sheets);
    assert_eq!(sheet_files.len(), 6);
    let any_txt = sheet_files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "txt"))
        .unwrap();
    let text = std::fs::read_to_string(any_txt).unwrap();
    assert!(
        secrets2.iter().any(|s| text.contains(s.as_str())),
        "the sheet does hold its secret"
    );
    assert!(
        sheet_files.iter().all(|p| !p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".locksmith-")),
        "no temporary files left in the sheet directory"
    );
}

#[test]
fn refuses_to_overwrite_and_writes_nothing_then() {
    if !have("age-keygen") {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let (_, recipient) = age_keygen(keys.path());
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let sheets = work.path().join("sheets");
    let first = generate(&[
        "-n",
        "2",
        "--to",
        &recipient,
        "--out",
        out.to_str().unwrap(),
    ]);
    let files = strings(&first, "age_files");
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();

    let again = locksmith()
        .args(["secrets", "generate", "--genesis", GENESIS, "-n", "2"])
        .args(["--to", &recipient, "--out", out.to_str().unwrap()])
        .args(["--sheet-dir", sheets.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8(again.stderr).unwrap();
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(before, after, "existing files untouched");
    assert!(
        files_under(&sheets).is_empty(),
        "a refused batch writes no sheet"
    );

    let forced = generate(&[
        "-n",
        "2",
        "--to",
        &recipient,
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    let replaced: Vec<Vec<u8>> = strings(&forced, "age_files")
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    assert_ne!(before, replaced, "--force replaces");
    assert_eq!(files_under(&out).len(), 2);
}

#[test]
fn generate_without_destination_is_refused() {
    let out = locksmith()
        .args(["secrets", "generate", "--genesis", GENESIS, "-n", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("nowhere to put the secrets"));
    let bad = locksmith()
        .args([
            "secrets",
            "generate",
            "--genesis",
            "nothash",
            "-n",
            "1",
            "--reveal",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8(bad.stderr)
        .unwrap()
        .contains("is not an AUM hash"));
    let many = locksmith()
        .args([
            "secrets",
            "generate",
            "--genesis",
            GENESIS,
            "-n",
            "33",
            "--reveal",
        ])
        .output()
        .unwrap();
    assert_eq!(many.status.code(), Some(1));
    assert!(String::from_utf8(many.stderr).unwrap().contains("1 to 32"));
}

#[test]
fn a_failing_sheet_step_takes_the_age_files_back() {
    if !have("age-keygen") {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let (_, recipient) = age_keygen(keys.path());
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let not_a_dir = work.path().join("sheets");
    std::fs::write(&not_a_dir, b"a file where the sheet directory should be").unwrap();
    let run = locksmith()
        .args(["secrets", "generate", "--genesis", GENESIS, "-n", "2"])
        .args(["--to", &recipient, "--out", out.to_str().unwrap()])
        .args(["--sheet-dir", not_a_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8(run.stderr).unwrap();
    assert!(
        err.contains("sheets") && err.contains("creating the directory"),
        "{err}"
    );
    assert!(
        files_under(&out).is_empty(),
        "age files removed: {:?}",
        files_under(&out)
    );
}
