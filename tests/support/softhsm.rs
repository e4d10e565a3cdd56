//! A SoftHSM2 fixture: one temporary token directory per test process, with
//! one fresh token per test (SoftHSM2 is initialized once per process, so
//! every token a test binary needs is created before the first C_Initialize).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const USER_PIN: &str = "123456";
pub const SO_PIN: &str = "12345678";

pub struct SoftHsm {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    pub pin_file: PathBuf,
    pub wrong_pin_file: PathBuf,
}

impl SoftHsm {
    /// A spec for `token` with the right PIN file.
    pub fn uri(&self, token: &str, extra_path: &str) -> String {
        format!(
            "pkcs11:token={token}{extra_path}?module-path={MODULE}&pin-source=file:{}",
            self.pin_file.display()
        )
    }

    /// The token's directory (for tests that edit its object store).
    pub fn token_dir(&self, label: &str) -> Option<PathBuf> {
        for entry in std::fs::read_dir(self.dir.path().join("tokens")).ok()? {
            let path = entry.ok()?.path();
            let object = std::fs::read(path.join("token.object")).ok()?;
            let padded = format!("{label:<32}");
            if object.windows(32).any(|w| w == padded.as_bytes()) {
                return Some(path);
            }
        }
        None
    }
}

/// Sets CKF_USER_PIN_LOCKED in a SoftHSM2 token's flags (attribute
/// CKA_OS_TOKENFLAGS, 0x8000534B, in token.object). SoftHSM2 never locks a
/// user PIN by itself; this makes the token report a blocked PIN. Must run
/// before the module is loaded in this process.
pub fn mark_user_pin_locked(token_dir: &Path) {
    let path = token_dir.join("token.object");
    let mut bytes = std::fs::read(&path).expect("token.object");
    let tag = [0, 0, 0, 0, 0x80, 0, 0x53, 0x4b, 0, 0, 0, 0, 0, 0, 0, 2];
    let at = bytes
        .windows(16)
        .position(|w| w == tag)
        .expect("token flags attribute")
        + 16;
    let mut flags = u64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    flags |= 0x0004_0000; // CKF_USER_PIN_LOCKED
    bytes[at..at + 8].copy_from_slice(&flags.to_be_bytes());
    std::fs::write(&path, bytes).expect("write token.object");
}

/// Creates the token directory with the given token labels (and marks the
/// `locked` ones as PIN-locked), once per process, and points SOFTHSM2_CONF at it.
/// [`softhsm`] when SoftHSM2 is installed; otherwise `None` after a loud
/// skip (a failure under CI, see `env::skip`).
pub fn require(test: &str, labels: &[&str], locked: &[&str]) -> Option<&'static SoftHsm> {
    if !super::env::require(
        test,
        &[MODULE, "/usr/bin/softhsm2-util"],
        "apt-get install softhsm2",
    ) {
        return None;
    }
    Some(softhsm(labels, locked))
}

pub fn softhsm(labels: &[&str], locked: &[&str]) -> &'static SoftHsm {
    static FIXTURE: OnceLock<SoftHsm> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        super::env::remove_after_exit(dir.path());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("hsm-config/softhsm2/new-token.sh");
        let mut conf = PathBuf::new();
        for label in labels {
            let out = Command::new("sh")
                .arg(&script)
                .arg(dir.path())
                .arg(label)
                .arg(USER_PIN)
                .arg(SO_PIN)
                .output()
                .expect("run new-token.sh");
            assert!(
                out.status.success(),
                "new-token.sh failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            conf = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
        let pin_file = dir.path().join("pin");
        std::fs::write(&pin_file, format!("{USER_PIN}\n")).expect("pin file");
        let wrong_pin_file = dir.path().join("wrong-pin");
        std::fs::write(&wrong_pin_file, "999999\n").expect("pin file");
        let hsm = SoftHsm {
            dir,
            conf,
            pin_file,
            wrong_pin_file,
        };
        for label in locked {
            mark_user_pin_locked(&hsm.token_dir(label).expect("locked token dir"));
        }
        std::env::set_var("SOFTHSM2_CONF", &hsm.conf);
        hsm
    })
}
