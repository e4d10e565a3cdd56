//! Software keys in age-encrypted files (development and tests only):
//! passphrase and recipient encryption, labels, and interop with the Debian
//! `age` tool as an independent implementation.

#[path = "support/env.rs"]
mod env;

use locksmith::signers::{self, open_signer, GenerateOptions, OpenOptions};
use locksmith::tka::signer::{sign_verified, KeyCustody};
use std::process::Command;

#[test]
fn passphrase_key_file_signs_and_is_labelled_software() {
    let dir = tempfile::tempdir().expect("dir");
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "correct horse battery staple\n").expect("pass");
    let path = dir.path().join("key.age");
    let spec = format!("file:{}?pin-source=file:{}", path.display(), pass.display());
    let key = signers::generate_key(&spec, &GenerateOptions::default()).expect("generate");
    assert_eq!(key.custody, "SOFTWARE KEY, NOT HARDWARE-BACKED");
    assert!(std::fs::read(&path)
        .expect("file")
        .starts_with(b"age-encryption.org/v1"));

    let mut s = open_signer(&spec, &OpenOptions::default()).expect("open");
    assert_eq!(s.custody(), KeyCustody::Software);
    assert!(
        s.describe().contains("NOT HARDWARE-BACKED"),
        "{}",
        s.describe()
    );
    assert_eq!(signers::tlpub(&s.public_key()), key.tlpub);
    sign_verified(s.as_mut(), &[1; 32]).expect("sign");

    // Refuses to overwrite; a wrong passphrase is a clear error.
    let err = signers::generate_key(&spec, &GenerateOptions::default()).expect_err("exists");
    assert!(err.to_string().contains("--force"), "{err}");
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "nope").expect("wrong");
    let err = open_signer(
        &format!(
            "file:{}?pin-source=file:{}",
            path.display(),
            wrong.display()
        ),
        &OpenOptions::default(),
    )
    .expect_err("wrong passphrase");
    assert!(err.to_string().contains("wrong passphrase"), "{err}");

    // The CLI labels every output made with it.
    let out = Command::new(env!("CARGO_BIN_EXE_locksmith"))
        .args(["token", "test", "--signer", &spec])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("SOFTWARE KEY, NOT HARDWARE-BACKED"));
}

#[test]
fn recipient_key_file_decrypts_with_the_age_tool() {
    if !env::require(
        "age interop",
        &["/usr/bin/age", "/usr/bin/age-keygen"],
        "apt-get install age",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let id = dir.path().join("id.txt");
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&id)
        .output()
        .expect("age-keygen");
    assert!(out.status.success());
    let path = dir.path().join("key.age");
    let spec = format!("file:{}?identity={}", path.display(), id.display());
    let key = signers::generate_key(&spec, &GenerateOptions::default()).expect("generate");

    // An independent implementation decrypts it, and the seed inside is the key.
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&id)
        .arg(&path)
        .output()
        .expect("age -d");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines = plain.lines();
    assert_eq!(lines.next(), Some(signers::software::KEY_FILE_HEADER));
    let seed: [u8; 32] = data_encoding::HEXLOWER
        .decode(lines.next().expect("seed").as_bytes())
        .expect("hex")
        .try_into()
        .expect("32 bytes");
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    assert_eq!(signers::tlpub(&public), key.tlpub);

    let mut s = open_signer(&spec, &OpenOptions::default()).expect("open");
    sign_verified(s.as_mut(), &[2; 32]).expect("sign");
    // Without the identity the error says what to add.
    let err = open_signer(&format!("file:{}", path.display()), &OpenOptions::default())
        .expect_err("no identity");
    assert!(err.to_string().contains("identity="), "{err}");
}

/// A signer that returns a wrong signature for one digest: the batch must be
/// refused as a whole and the bad signature named.
struct Faulty {
    inner: locksmith::tka::signer::SoftwareSigner,
    bad_at: usize,
    count: usize,
}

impl locksmith::tka::signer::Signer for Faulty {
    fn public_key(&self) -> [u8; 32] {
        self.inner.public_key()
    }
    fn custody(&self) -> KeyCustody {
        KeyCustody::Software
    }
    fn describe(&self) -> String {
        "faulty test signer".into()
    }
    fn sign_digest(
        &mut self,
        digest: &[u8; 32],
    ) -> Result<[u8; 64], locksmith::tka::signer::SignerError> {
        let mut sig = self.inner.sign_digest(digest)?;
        if self.count == self.bad_at {
            sig[5] ^= 1;
        }
        self.count += 1;
        Ok(sig)
    }
}

#[test]
fn batch_signing_refuses_a_batch_with_one_bad_signature() {
    let digests: Vec<[u8; 32]> = (0..200u32)
        .map(|i| {
            let mut d = [0u8; 32];
            d[..4].copy_from_slice(&i.to_be_bytes());
            d
        })
        .collect();
    let inner = locksmith::tka::signer::SoftwareSigner::from_seed(&[9; 32], "t");
    let mut ok = Faulty {
        inner,
        bad_at: usize::MAX,
        count: 0,
    };
    let sigs = locksmith::tka::signer::sign_verified_batch(&mut ok, &digests).expect("good batch");
    assert_eq!(sigs.len(), 200);
    let inner = locksmith::tka::signer::SoftwareSigner::from_seed(&[9; 32], "t");
    let mut bad = Faulty {
        inner,
        bad_at: 130,
        count: 0,
    };
    let err =
        locksmith::tka::signer::sign_verified_batch(&mut bad, &digests).expect_err("bad batch");
    assert!(err.to_string().contains("signature 131 of 200"), "{err}");
}
