//! Artifacts through files: every sample, in every raw form upstream uses
//! and in the envelope, through `locksmith exchange encode|decode`; bad
//! input gets a clear error and leaves no output; hostile bytes never panic.

use std::path::PathBuf;

use assert_cmd::Command;
use locksmith::exchange::{parse_artifact, to_raw, ArtifactKind, Envelope, InputForm, RawForm};

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/samples")
}

fn sample_files() -> Vec<String> {
    let mut names: Vec<String> = [
        "recovery-1sig.aum",
        "recovery-2sig.aum",
        "recovery-1sig.cli.txt",
        "recovery-2sig.cli.txt",
        "lock-log.json",
        "lock-status.json",
        "authkey.txt",
        "deeplink.txt",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for dir in ["chain", "chain-raw", "nks"] {
        let mut files: Vec<String> = std::fs::read_dir(samples().join(dir))
            .expect("samples (shared/ beside the repo)")
            .map(|e| format!("{dir}/{}", e.expect("entry").file_name().to_string_lossy()))
            .collect();
        files.sort();
        names.extend(files);
    }
    names
}

fn locksmith(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("locksmith")
        .expect("binary")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run")
}

#[test]
fn kinds_are_recognised_from_raw_forms() {
    let expect = [
        (
            "recovery-2sig.cli.txt",
            ArtifactKind::RecoveryAum,
            InputForm::Raw(RawForm::HexUpper),
        ),
        (
            "recovery-2sig.aum",
            ArtifactKind::Aum,
            InputForm::Raw(RawForm::HexLower),
        ),
        (
            "chain-raw/0001-add-key.bin",
            ArtifactKind::Aum,
            InputForm::Raw(RawForm::Binary),
        ),
        (
            "chain/0000-checkpoint.aum",
            ArtifactKind::Aum,
            InputForm::Raw(RawForm::HexLower),
        ),
        (
            "nks/rotation.nks",
            ArtifactKind::Nks,
            InputForm::Raw(RawForm::HexLower),
        ),
        (
            "nks/credential.nks",
            ArtifactKind::Nks,
            InputForm::Raw(RawForm::HexLower),
        ),
        ("lock-log.json", ArtifactKind::ChainExport, InputForm::Json),
        (
            "lock-status.json",
            ArtifactKind::StatusExport,
            InputForm::Json,
        ),
        (
            "authkey.txt",
            ArtifactKind::WrappedAuthKey,
            InputForm::Raw(RawForm::Text),
        ),
        (
            "deeplink.txt",
            ArtifactKind::SigningDeeplink,
            InputForm::Raw(RawForm::Text),
        ),
    ];
    for (name, kind, form) in expect {
        let art = parse_artifact(&std::fs::read(samples().join(name)).expect("sample"), name)
            .expect(name);
        assert_eq!((art.kind, art.form), (kind, form), "{name}");
    }
    // The hex and binary chain files are the same AUMs.
    let hex = parse_artifact(
        &std::fs::read(samples().join("chain/0001-add-key.aum")).expect("s"),
        "h",
    )
    .expect("h");
    let bin = std::fs::read(samples().join("chain-raw/0001-add-key.bin")).expect("s");
    assert_eq!(hex.payload, bin);
}

#[test]
fn every_raw_form_of_every_binary_artifact_reads_back() {
    for name in sample_files() {
        let art = parse_artifact(
            &std::fs::read(samples().join(&name)).expect("sample"),
            &name,
        )
        .expect("parse");
        if art.kind.is_text() {
            continue;
        }
        for form in RawForm::ALL {
            if form == RawForm::Text {
                continue;
            }
            let encoded = to_raw(art.kind, &art.payload, Some(form));
            let back = parse_artifact(&encoded, &name)
                .unwrap_or_else(|e| panic!("{name} as {form:?}: {e}"));
            assert_eq!(back.payload, art.payload, "{name} as {form:?}");
        }
        // And the envelope.
        let env = Envelope::new(art.kind, art.payload.clone());
        let back = parse_artifact(&env.to_bytes(), &name).expect("envelope");
        assert_eq!(
            (back.kind, back.payload, back.form),
            (art.kind, art.payload.clone(), InputForm::Envelope)
        );
    }
}

#[test]
fn lock_log_raw_fields_are_url_base64_with_padding() {
    // Each `Raw` in `tailscale lock log --json=1` reads as an AUM.
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(samples().join("lock-log.json")).expect("s"))
            .expect("json");
    let msgs = log["Messages"].as_array().expect("messages");
    assert!(!msgs.is_empty());
    for m in msgs {
        let raw = m["Raw"].as_str().expect("Raw");
        let art = parse_artifact(raw.as_bytes(), "Raw").expect("raw AUM");
        assert_eq!(art.form, InputForm::Raw(RawForm::Base64Url));
        assert_eq!(art.kind, ArtifactKind::Aum);
    }
}

#[test]
fn cli_encode_decode_round_trips_every_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, name) in sample_files().iter().enumerate() {
        let src = samples().join(name);
        let env_path = format!("a{i}.lks");
        let out = locksmith(
            dir.path(),
            &[
                "exchange",
                "encode",
                src.to_str().expect("utf8"),
                "--out",
                &env_path,
            ],
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let raw_path = format!("a{i}.raw");
        let out = locksmith(
            dir.path(),
            &[
                "exchange", "decode", &env_path, "--out", &raw_path, "--json",
            ],
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let original = parse_artifact(&std::fs::read(&src).expect("s"), name).expect("parse");
        let written = std::fs::read(dir.path().join(&raw_path)).expect("written");
        // Written in the kind's upstream raw form; reads back to the same bytes.
        assert_eq!(
            written,
            to_raw(original.kind, &original.payload, None),
            "{name}"
        );
        let back = parse_artifact(&written, name).expect("reparse");
        assert_eq!(back.payload, original.payload, "{name}");
    }
    // The recovery blob comes out exactly as the upstream CLI passes it.
    let out = locksmith(
        dir.path(),
        &[
            "exchange",
            "decode",
            samples().join("recovery-2sig.aum").to_str().expect("utf8"),
            "--kind",
            "recovery-aum",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout,
        std::fs::read(samples().join("recovery-2sig.cli.txt")).expect("s")
    );
    // Inline input and the UR text form.
    let out = locksmith(
        dir.path(),
        &[
            "exchange",
            "encode",
            samples().join("deeplink.txt").to_str().expect("utf8"),
        ],
    );
    let ur = String::from_utf8(out.stdout).expect("utf8");
    assert!(ur.starts_with("UR:LOCKSMITH/"));
    let out = locksmith(dir.path(), &["exchange", "decode", ur.trim()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        std::fs::read_to_string(samples().join("deeplink.txt"))
            .expect("s")
            .trim()
    );
}

#[test]
fn terminal_qr_of_a_500_byte_recovery_blob_fits_80_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blob: Vec<u8> = {
        // A real recovery AUM trimmed of its state's extra keys would be
        // ~500 bytes; use the sample's first 500 bytes as a CBOR byte string.
        let full = parse_artifact(
            &std::fs::read(samples().join("recovery-2sig.cli.txt")).expect("s"),
            "s",
        )
        .expect("p")
        .payload;
        let mut v = vec![0x59, 0x01, 0xf1];
        v.extend_from_slice(&full[..497]);
        v
    };
    assert_eq!(blob.len(), 500);
    std::fs::write(
        dir.path().join("blob.hex"),
        data_encoding::HEXUPPER.encode(&blob),
    )
    .expect("write");
    let out = locksmith(
        dir.path(),
        &[
            "exchange",
            "encode",
            "blob.hex",
            "--kind",
            "recovery-aum",
            "--qr",
            "terminal",
            "--cols",
            "80",
            "--colors",
            "dark-on-light",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    let (qr, json) = text.split_at(text.find("{\n").expect("json after the code"));
    let widest = qr.lines().map(|l| l.chars().count()).max().expect("lines");
    assert!(widest <= 80, "{widest} columns");
    let meta: serde_json::Value = serde_json::from_str(json).expect("json");
    assert_eq!(meta["written"]["codes"], 1, "one code, not a sequence");
    assert_eq!(meta["written"]["ecc"], "L");
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("junk.txt"), "this is not an artifact\n").expect("write");
    let out = locksmith(
        dir.path(),
        &["exchange", "decode", "junk.txt", "--out", "out.bin"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("junk.txt") && err.contains("unrecognised input form"),
        "{err}"
    );
    assert!(!dir.path().join("out.bin").exists());
    // Missing file.
    let out = locksmith(dir.path(), &["exchange", "decode", "missing.png"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.png: no such file"));
    // Damaged envelope.
    let mut env = Envelope::new(ArtifactKind::Aum, vec![0xa1, 1, 2]).to_bytes();
    let n = env.len();
    env[n - 6] ^= 0xff;
    std::fs::write(dir.path().join("bad.lks"), &env).expect("write");
    let out = locksmith(dir.path(), &["exchange", "decode", "bad.lks"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"));
    // No overwrite without --force; with --force the file is replaced.
    std::fs::write(dir.path().join("keep.txt"), "precious").expect("write");
    let src = samples().join("deeplink.txt");
    let out = locksmith(
        dir.path(),
        &[
            "exchange",
            "decode",
            src.to_str().expect("utf8"),
            "--out",
            "keep.txt",
        ],
    );
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.txt")).expect("read"),
        "precious"
    );
    let out = locksmith(
        dir.path(),
        &[
            "exchange",
            "decode",
            src.to_str().expect("utf8"),
            "--out",
            "keep.txt",
            "--force",
        ],
    );
    assert!(out.status.success());
    assert!(std::fs::read_to_string(dir.path().join("keep.txt"))
        .expect("read")
        .starts_with("tailscale://"));
    // Wrong kind.
    let out = locksmith(
        dir.path(),
        &[
            "exchange",
            "decode",
            src.to_str().expect("utf8"),
            "--kind",
            "nks",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("expected a nks artifact but found a signing-deeplink"));
}

#[test]
fn hostile_bytes_never_panic() {
    // Deterministic pseudo-random inputs plus mutations of real envelopes
    // and UR parts: every call returns, Ok or Err.
    let mut x: u64 = 0x243F6A8885A308D3;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let seeds: Vec<Vec<u8>> = vec![
        Envelope::new_request(
            ArtifactKind::NodeExport,
            vec![1, 2, 3],
            std::time::Duration::from_secs(9),
        )
        .to_bytes(),
        std::fs::read(samples().join("chain-raw/0000-checkpoint.bin")).expect("s"),
        locksmith::exchange::multipart::encode_parts(&[7u8; 500], 100, 8)
            .expect("parts")
            .concat()
            .into_bytes(),
        b"UR:LOCKSMITH/3-5/LPAXAHCFADCY".to_vec(),
    ];
    for seed in &seeds {
        for _ in 0..400 {
            let mut m = seed.clone();
            let edits = 1 + next() % 4;
            for _ in 0..edits {
                if m.is_empty() {
                    break;
                }
                let i = (next() as usize) % m.len();
                match next() % 3 {
                    0 => m[i] = next() as u8,
                    1 => m.truncate(i),
                    _ => m.insert(i, next() as u8),
                }
            }
            let _ = parse_artifact(&m, "fuzz");
            let _ = Envelope::from_bytes(&m, "fuzz");
            if let Ok(t) = std::str::from_utf8(&m) {
                let mut r = locksmith::exchange::Reassembler::new();
                let _ = r.push(t, "fuzz");
                let _ = r.finish("fuzz");
            }
        }
    }
    for _ in 0..2000 {
        let len = (next() % 64) as usize;
        let v: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let _ = parse_artifact(&v, "fuzz");
    }
}
