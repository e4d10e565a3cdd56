//! Secret hygiene end to end: a whole software-key and disablement-secret
//! workflow through the `locksmith` binary, with every log knob turned up
//! (there is no logging framework; RUST_LOG and RUST_BACKTRACE are set in
//! case one appears), and a scan of everything it printed and every file it
//! wrote for each secret in raw, hex (both cases) and base64 (standard and
//! URL alphabets, padded or not) form.
//!
//! Secrets scanned for: the disablement secrets made by `secrets generate`
//! (to an age recipient and to a passphrase) and by `lock init` (a genesis
//! signed with a software key, then a node key signed with `lock sign`), the private seeds of the
//! software key files made by `token generate` (passphrase from
//! LOCKSMITH_PIN, from a pin-source file, and an age identity), and every
//! passphrase used (right and wrong), a pre-auth key (refused in argv, then
//! read with --auth-key from a file and from stdin) and the private keys of
//! the credentials made with it, and a disablement secret given literally to
//! `lock disablement-kdf`. The secrets and seeds are learned by
//! decrypting the written age files with the `age` crate, not from
//! locksmith's output.

use age::secrecy::SecretString;
use assert_cmd::Command;
use data_encoding::{BASE64, BASE64URL, BASE64URL_NOPAD, BASE64_NOPAD, HEXLOWER, HEXUPPER};
use std::io::Read;
use std::path::{Path, PathBuf};

struct Run {
    what: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

struct Workflow {
    dir: PathBuf,
    runs: Vec<Run>,
}

impl Workflow {
    /// Runs locksmith in the work directory; `pin` goes in LOCKSMITH_PIN.
    fn run(&mut self, args: &[&str], pin: Option<&str>, stdin: &str, expect_ok: bool) -> String {
        let mut cmd = Command::cargo_bin("locksmith").unwrap();
        cmd.current_dir(&self.dir)
            .env("HOME", self.dir.join("home"))
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "full")
            .env("LOCKSMITH_LOG", "debug")
            .env_remove("LOCKSMITH_PIN")
            .args(args)
            .write_stdin(stdin.to_string())
            .timeout(std::time::Duration::from_secs(120));
        if let Some(p) = pin {
            cmd.env("LOCKSMITH_PIN", p);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.success(),
            expect_ok,
            "{args:?}: exit {:?}\nstdout: {stdout}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        self.runs.push(Run {
            what: format!("{args:?}"),
            stdout: out.stdout,
            stderr: out.stderr,
        });
        stdout
    }
}

/// Decrypts a passphrase-encrypted (scrypt) age file with the age crate.
fn age_decrypt(path: &Path, passphrase: &str) -> String {
    let data = std::fs::read(path).unwrap();
    let dec = age::Decryptor::new_buffered(&data[..]).unwrap();
    let id = age::scrypt::Identity::new(SecretString::from(passphrase.to_string()));
    let mut reader = dec
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .unwrap();
    let mut plain = String::new();
    reader.read_to_string(&mut plain).unwrap();
    plain
}

/// Decrypts an age file encrypted to an X25519 identity.
fn age_decrypt_id(path: &Path, identity: &age::x25519::Identity) -> String {
    let data = std::fs::read(path).unwrap();
    let dec = age::Decryptor::new_buffered(&data[..]).unwrap();
    let mut reader = dec
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .unwrap();
    let mut plain = String::new();
    reader.read_to_string(&mut plain).unwrap();
    plain
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    HEXLOWER.encode(&b)
}

/// Every form of `secret` the scan looks for.
fn forms(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("raw".to_string(), secret.to_vec()),
        ("hex".to_string(), HEXLOWER.encode(secret).into_bytes()),
        ("HEX".to_string(), HEXUPPER.encode(secret).into_bytes()),
    ];
    for (name, enc) in [
        ("base64", &BASE64),
        ("base64 unpadded", &BASE64_NOPAD),
        ("base64url", &BASE64URL),
        ("base64url unpadded", &BASE64URL_NOPAD),
    ] {
        out.push((name.to_string(), enc.encode(secret).into_bytes()));
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn no_secret_reaches_output_or_files() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = Workflow {
        dir: tmp.path().to_path_buf(),
        runs: Vec::new(),
    };
    std::fs::create_dir(w.dir.join("home")).unwrap();
    let key_pass = format!("key-pass-{}", random_hex(12));
    let wrong_pass = format!("wrong-pass-{}", random_hex(12));
    let file_pass = format!("file-pass-{}", random_hex(12));
    let secrets_pass = format!("secrets-pass-{}", random_hex(12));
    // The pin-source file is the user's input: it holds a passphrase by
    // design and is left out of the file scan.
    let pin_file = tmp.path().join("pin.txt");
    std::fs::write(&pin_file, format!("{file_pass}\n")).unwrap();

    // Software key files: one with LOCKSMITH_PIN, one with pin-source=file.
    // (Each passphrase use costs an scrypt run of about a second, so the
    // workflow uses each path once.)
    let key1 = "file:dev1.key";
    let key2 = format!("file:dev2.key?pin-source=file:{}", pin_file.display());
    let tlpub = w.run(
        &["token", "generate", "--signer", key1, "--json"],
        Some(&key_pass),
        "",
        true,
    );
    assert!(tlpub.contains("tlpub:"), "{tlpub}");
    w.run(
        &["token", "test", "--signer", key1, "--json"],
        Some(&key_pass),
        "",
        true,
    );
    w.run(
        &["token", "test", "--signer", key1],
        Some(&wrong_pass),
        "",
        false,
    );
    w.run(&["token", "generate", "--signer", &key2], None, "", true);
    // A third key file encrypted to an age identity (no passphrase).
    let identity = age::x25519::Identity::generate();
    let id_file = tmp.path().join("identity.txt");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(
            &id_file,
            format!("{}\n", identity.to_string().expose_secret()),
        )
        .unwrap();
    }
    let key3 = format!("file:dev3.key?identity={}", id_file.display());
    w.run(&["token", "generate", "--signer", &key3], None, "", true);
    w.run(&["token", "show", "--signer", &key3], None, "", true);
    w.run(&["token", "test", "--signer", &key3], None, "", true);

    // Disablement secrets: three to the age identity, one to a passphrase
    // given on stdin.
    let genesis = "PJG322C5PKVOBXAYXCQF4YHXYST2JA37NFWPQSLRNSGPSVHPDS5Q";
    let recipient = identity.to_public().to_string();
    w.run(
        &[
            "secrets",
            "generate",
            "-n",
            "3",
            "--to",
            &recipient,
            "--out",
            "age",
            "--genesis",
            genesis,
        ],
        None,
        "",
        true,
    );
    w.run(
        &[
            "secrets",
            "generate",
            "-n",
            "1",
            "--passphrase",
            "--out",
            "age-pass",
            "--genesis",
            genesis,
        ],
        None,
        &format!("{secrets_pass}\n"),
        true,
    );

    // A ceremony with the software key: the genesis signed with dev1.key,
    // two disablement secrets to the age identity, the store pinned; then
    // a node key signed against that store.
    w.run(
        &[
            "lock",
            "init",
            "--signer",
            key1,
            "--gen-disablements",
            "2",
            "--secrets-to",
            &recipient,
            "--secrets-out",
            "init-age",
            "--store",
            "store",
            "--out",
            "genesis.aum",
            "-y",
        ],
        Some(&key_pass),
        "",
        true,
    );
    let node_key = format!("nodekey:{}", "42".repeat(32));
    w.run(
        &[
            "lock", "sign", &node_key, "--signer", key1, "--store", "store", "--out", "node.nks",
            "-y",
        ],
        Some(&key_pass),
        "",
        true,
    );
    w.run(
        &[
            "lock",
            "verify-signature",
            "--store",
            "store",
            &node_key,
            "node.nks",
        ],
        None,
        "",
        true,
    );

    // Pre-auth credentials: a pre-auth key in argv is refused (and not
    // echoed); from a file with --json, and from standard input. Their
    // stdout holds the wrapped key by design (it is the product), so only
    // their stderr is scanned; the --out file and the key file are the
    // user's, everything else (the transcript above all) is scanned.
    let auth_key = format!("tskey-auth-k{}CNTRL-{}", random_hex(5), random_hex(16));
    let auth_file = tmp.path().join("authkey.txt");
    std::fs::write(&auth_file, format!("{auth_key}\n")).unwrap();
    w.run(
        &[
            "lock", "sign", &auth_key, "--signer", key1, "--store", "store", "-y",
        ],
        None,
        "",
        false,
    );
    let refusal = String::from_utf8_lossy(&w.runs.last().unwrap().stderr).into_owned();
    assert!(refusal.contains("--auth-key"), "{refusal}");
    let auth_source = format!("file:{}", auth_file.display());
    let cred_json = w.run(
        &[
            "lock",
            "sign",
            "--credential",
            "--auth-key",
            &auth_source,
            "--signer",
            key1,
            "--store",
            "store",
            "--out",
            "cred.txt",
            "--json",
            "-y",
        ],
        Some(&key_pass),
        "",
        true,
    );
    w.runs.last_mut().unwrap().stdout.clear();
    let cred: serde_json::Value = serde_json::from_str(&cred_json).expect("credential JSON");
    // With --out the private credential goes to the file only, never to
    // standard output (not even in --json).
    assert!(
        cred["auth_key"].is_null() && cred["suffix"].is_null(),
        "{cred}"
    );
    let wrapped_json = std::fs::read_to_string(w.dir.join("cred.txt")).unwrap();
    assert!(
        wrapped_json.starts_with(&format!("{auth_key}--TL")),
        "{wrapped_json}"
    );
    let wrapped_stdin = w.run(
        &[
            "lock",
            "sign",
            "--auth-key",
            "-",
            "--signer",
            key1,
            "--store",
            "store",
            "-y",
        ],
        Some(&key_pass),
        &format!("{auth_key}\n"),
        true,
    );
    w.runs.last_mut().unwrap().stdout.clear();
    let wrapped_stdin = wrapped_stdin
        .lines()
        .find(|l| l.starts_with("tskey-"))
        .expect("the wrapped key is printed")
        .to_string();
    // Bulk credentials (--auth-keys LIST --out DIR): nothing secret on
    // stdout either (it is scanned), only in the files of DIR.
    let bulk_keys: Vec<String> = (0..2)
        .map(|_| format!("tskey-auth-k{}CNTRL-{}", random_hex(5), random_hex(16)))
        .collect();
    let bulk_list = tmp.path().join("authkeys.txt");
    std::fs::write(&bulk_list, bulk_keys.join("\n")).unwrap();
    w.run(
        &[
            "lock",
            "sign",
            "--auth-keys",
            &format!("file:{}", bulk_list.display()),
            "--signer",
            key1,
            "--store",
            "store",
            "--out",
            "bulk",
            "--json",
            "-y",
        ],
        Some(&key_pass),
        "",
        true,
    );
    let mut bulk_files = Vec::new();
    all_files(&w.dir.join("bulk"), &mut bulk_files);
    bulk_files.sort();
    assert_eq!(bulk_files.len(), 2, "{bulk_files:?}");
    let bulk_wrapped: Vec<String> = bulk_files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let mut credential_privates: Vec<Vec<u8>> = Vec::new();
    for wrapped in [&wrapped_json, &wrapped_stdin]
        .into_iter()
        .chain(bulk_wrapped.iter())
    {
        let w = locksmith::tka::wrapped_authkey::decode(wrapped.trim()).expect("a wrapped key");
        assert!(
            w.auth_key.as_str() == auth_key || bulk_keys.iter().any(|k| k == w.auth_key.as_str())
        );
        credential_privates.push(w.private.to_vec());
    }

    // Learn the secrets and seeds independently, from the files.
    let mut age_files = Vec::new();
    all_files(&w.dir.join("age"), &mut age_files);
    age_files.sort();
    assert_eq!(age_files.len(), 3, "{age_files:?}");
    let mut pass_files = Vec::new();
    all_files(&w.dir.join("age-pass"), &mut pass_files);
    assert_eq!(pass_files.len(), 1, "{pass_files:?}");
    let mut plains: Vec<String> = age_files
        .iter()
        .map(|f| age_decrypt_id(f, &identity))
        .collect();
    let mut init_files = Vec::new();
    all_files(&w.dir.join("init-age"), &mut init_files);
    assert_eq!(init_files.len(), 2, "{init_files:?}");
    plains.extend(init_files.iter().map(|f| age_decrypt_id(f, &identity)));
    plains.push(age_decrypt(&pass_files[0], &secrets_pass));
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    for plain in &plains {
        for line in plain.lines() {
            if let Some(hex) = line.trim().strip_prefix("disablement-secret:") {
                secrets.push(HEXUPPER.decode(hex.as_bytes()).unwrap());
            }
            if let Some(v) = line.trim().strip_prefix("# value: ") {
                values.push(v.to_string());
            }
        }
    }
    assert_eq!(secrets.len(), 6, "secrets found in the age files");
    assert_eq!(values.len(), 6);
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for (file, plain) in [
        ("dev1.key", age_decrypt(&w.dir.join("dev1.key"), &key_pass)),
        ("dev2.key", age_decrypt(&w.dir.join("dev2.key"), &file_pass)),
        (
            "dev3.key",
            age_decrypt_id(&w.dir.join("dev3.key"), &identity),
        ),
    ] {
        let seed_hex = plain
            .lines()
            .nth(1)
            .unwrap_or_else(|| panic!("{file}: no seed line"))
            .trim();
        seeds.push(HEXLOWER.decode(seed_hex.as_bytes()).unwrap());
        // The scanner sees the seed where it is in plaintext.
        assert!(forms(seeds.last().unwrap())
            .iter()
            .any(|(_, f)| contains(plain.as_bytes(), f)));
    }

    // Use the secrets: custody checks, typed verification, KDF.
    let value_args: Vec<&str> = values
        .iter()
        .flat_map(|v| ["--value", v.as_str()])
        .collect();
    let id_arg = id_file.to_str().unwrap();
    let mut decrypt_args = vec![
        "secrets",
        "decrypt",
        age_files[0].to_str().unwrap(),
        "-i",
        id_arg,
        "--json",
    ];
    decrypt_args.extend(&value_args);
    let decrypted = w.run(&decrypt_args, None, "", true);
    assert!(decrypted.contains("\"matches\""), "{decrypted}");
    let mut decrypt_pass = vec!["secrets", "decrypt", pass_files[0].to_str().unwrap()];
    decrypt_pass.extend(&value_args);
    w.run(&decrypt_pass, None, &format!("{secrets_pass}\n"), true);
    let mut verify_args = vec!["secrets", "verify"];
    verify_args.extend(&value_args);
    for s in &secrets {
        let text = format!("disablement-secret:{}", HEXUPPER.encode(s));
        w.run(&verify_args, None, &format!("{text}\n"), true);
    }
    let secret_text = format!("disablement-secret:{}", HEXUPPER.encode(&secrets[0]));
    let kdf = w.run(
        &["lock", "disablement-kdf", "-"],
        None,
        &format!("{secret_text}\n"),
        true,
    );
    assert_eq!(kdf.trim(), values[0]);
    let kdf = w.run(
        &["lock", "disablement-kdf", "--json", "-"],
        None,
        &HEXLOWER.encode(&secrets[1]),
        true,
    );
    assert!(
        kdf.contains(values[1].trim_start_matches("disablement:")),
        "{kdf}"
    );
    // A literal secret (upstream's shape): accepted with a warning, never echoed.
    let literal = format!("disablement-secret:{}", HEXUPPER.encode(&secrets[2]));
    let kdf = w.run(&["lock", "disablement-kdf", &literal], None, "", true);
    assert_eq!(kdf.trim(), values[2]);
    let warning = String::from_utf8_lossy(&w.runs.last().unwrap().stderr).into_owned();
    assert!(
        warning.contains("WARNING: the disablement secret was given on the command line"),
        "{warning}"
    );

    // The scan.
    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        for (form, bytes) in forms(s) {
            needles.push((format!("disablement secret {} ({form})", i + 1), bytes));
        }
    }
    for (i, s) in seeds.iter().enumerate() {
        for (form, bytes) in forms(s) {
            needles.push((format!("software key seed {} ({form})", i + 1), bytes));
        }
    }
    for k in std::iter::once(&auth_key).chain(&bulk_keys) {
        for (form, bytes) in forms(k.as_bytes()) {
            needles.push((format!("pre-auth key ({form})"), bytes));
        }
    }
    for (i, p) in credential_privates.iter().enumerate() {
        for (form, bytes) in forms(p) {
            needles.push((format!("credential private key {} ({form})", i + 1), bytes));
        }
    }
    for (name, p) in [
        ("key passphrase", &key_pass),
        ("wrong passphrase", &wrong_pass),
        ("pin-source file passphrase", &file_pass),
        ("secrets passphrase", &secrets_pass),
    ] {
        for (form, bytes) in forms(p.as_bytes()) {
            needles.push((format!("{name} ({form})"), bytes));
        }
    }

    let mut leaks = Vec::new();
    for run in &w.runs {
        for (stream, data) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for (name, needle) in &needles {
                if contains(data, needle) {
                    leaks.push(format!("{name} in {stream} of {}", run.what));
                }
            }
        }
    }
    let mut files = Vec::new();
    all_files(&w.dir, &mut files);
    // The pin-source file and the age identity are the user's inputs.
    files.retain(|f| {
        f != &pin_file
            && f != &id_file
            && f != &auth_file
            && f != &w.dir.join("cred.txt")
            && f != &bulk_list
            && !bulk_files.contains(f)
    });
    assert!(files.len() >= 5, "{files:?}");
    for f in &files {
        let data = std::fs::read(f).unwrap();
        for (name, needle) in &needles {
            if contains(&data, needle) {
                leaks.push(format!("{name} in file {}", f.display()));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

/// `lock init --reveal-secrets --json` prints the secrets it was asked to
/// show (rendered outside serde_json's Value, so they can be zeroized) as
/// valid JSON, and each one derives a disablement value of the new authority.
#[test]
fn reveal_secrets_json_is_valid_and_matches_the_disablement_values() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = Workflow {
        dir: tmp.path().to_path_buf(),
        runs: Vec::new(),
    };
    std::fs::create_dir(w.dir.join("home")).unwrap();
    let pass = format!("reveal-pass-{}", random_hex(8));
    w.run(
        &["token", "generate", "--signer", "file:k.key"],
        Some(&pass),
        "",
        true,
    );
    let out = w.run(
        &[
            "lock",
            "init",
            "--signer",
            "file:k.key",
            "--gen-disablements",
            "2",
            "--reveal-secrets",
            "--store",
            "store",
            "--json",
            "-y",
        ],
        Some(&pass),
        "",
        true,
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    let secrets = v["secrets"].as_array().expect("secrets");
    assert_eq!(secrets.len(), 2, "{v}");
    let values = v["genesis"].to_string();
    for s in secrets {
        let hex = s.as_str().expect("hex");
        let kdf = w.run(
            &["lock", "disablement-kdf", "-"],
            None,
            &format!("{hex}\n"),
            true,
        );
        let value = kdf.trim().trim_start_matches("disablement:");
        assert!(values.contains(value), "{value} not in {values}");
    }
}
