//! Starts pcscd with a vpcd reader and serves the virtual PIV card to it,
//! once per test process. Tests take `lock()` so they use the card one at a
//! time, and start from a fresh card.
//!
//! pcscd's socket (/run/pcscd/pcscd.comm) is fixed at build time, so only one
//! pcscd can run. If one is already running, the card is served to its
//! default vpcd port (35963) instead. Our pcscd is stopped by a watchdog when
//! the test process exits.
#![allow(dead_code)]

use super::virtual_piv::{serve_vpcd, CardConfig, VirtualPiv, DEFAULT_VPCD_PORT};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub const PCSCD: &str = "/usr/sbin/pcscd";
pub const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
const SOCKET: &str = "/run/pcscd/pcscd.comm";

pub struct PcscEnv {
    pub card: Arc<Mutex<VirtualPiv>>,
    pub serial: u32,
    /// The vpcd port our card is served on (a second card may use port + 1).
    pub port: u16,
    pub own_pcscd: Option<Mutex<Child>>,
    pub dir: tempfile::TempDir,
    lock: Mutex<()>,
}

fn free_port_pair() -> Option<u16> {
    for _ in 0..50 {
        let l = TcpListener::bind("127.0.0.1:0").ok()?;
        let port = l.local_addr().ok()?.port();
        drop(l);
        if port < 65535 && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Some(port);
        }
    }
    None
}

fn pcscd_running() -> bool {
    std::os::unix::net::UnixStream::connect(SOCKET).is_ok()
}

/// True while a pcscd started by an earlier test process is still shutting
/// down (its watchdog notices the test process is gone within a second).
fn previous_test_pcscd_alive() -> bool {
    let Ok(pid) = std::fs::read_to_string("/run/pcscd/pcscd.pid") else {
        return false;
    };
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid.trim())).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    cmdline.contains("--apdu") && cmdline.contains("reader.conf.d") && cmdline.contains("/.tmp")
}

/// A fresh card configuration with this run's serial.
pub fn fresh_config(serial: u32) -> CardConfig {
    CardConfig {
        serial,
        ..CardConfig::default()
    }
}

impl PcscEnv {
    /// Takes the card for one test and resets it to a fresh card with `config`.
    pub fn take(&self, config: CardConfig) -> MutexGuard<'_, ()> {
        let guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut card = self.card.lock().unwrap_or_else(|e| e.into_inner());
        *card = VirtualPiv::new(config);
        guard
    }

    pub fn spec(&self, slot: &str, pin_file: &std::path::Path) -> String {
        format!(
            "yubikey:serial={};slot={slot}?pin-source=file:{}",
            self.serial,
            pin_file.display()
        )
    }

    /// Serves a second card on the reader's second slot until `stop` is set.
    pub fn second_card(&self, serial: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        let card = Arc::new(Mutex::new(VirtualPiv::new(fresh_config(serial))));
        let addr = format!("127.0.0.1:{}", self.port + 1);
        std::thread::spawn(move || serve_vpcd(card, &addr, stop))
    }
}

pub fn env(test: &str) -> Option<&'static PcscEnv> {
    if !super::env::require(
        test,
        &[PCSCD, VPCD_DRIVER],
        "apt-get install pcscd vsmartcard-vpcd",
    ) {
        return None;
    }
    static ENV: OnceLock<PcscEnv> = OnceLock::new();
    Some(ENV.get_or_init(start))
}

fn start() -> PcscEnv {
    let dir = tempfile::tempdir().expect("temp dir");
    super::env::remove_after_exit(dir.path());
    let serial = 10_000_000 + (std::process::id() % 80_000_000);
    let deadline = Instant::now() + Duration::from_secs(5);
    while previous_test_pcscd_alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let (port, own_pcscd) = if pcscd_running() {
        eprintln!("note: using the running pcscd; serving the virtual card on vpcd port {DEFAULT_VPCD_PORT}");
        (DEFAULT_VPCD_PORT, None)
    } else {
        let port = free_port_pair().expect("free TCP ports for vpcd");
        let conf = dir.path().join("reader.conf.d");
        std::fs::create_dir_all(&conf).expect("conf dir");
        std::fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME   /dev/null:0x{port:04X}\nLIBPATH      {VPCD_DRIVER}\nCHANNELID    0x{port:04X}\n"
            ),
        )
        .expect("vpcd conf");
        let log = std::fs::File::create(dir.path().join("pcscd.log")).expect("log");
        let child = Command::new(PCSCD)
            .args(["--foreground", "--apdu", "--config"])
            .arg(&conf)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start pcscd");
        // Stop our pcscd when this test process ends, however it ends.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {} 2>/dev/null; do sleep 0.2; done; kill {} 2>/dev/null",
                std::process::id(),
                child.id()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pcscd_running() {
            assert!(
                Instant::now() < deadline,
                "pcscd did not start; see {}",
                dir.path().join("pcscd.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        (port, Some(Mutex::new(child)))
    };
    let card = Arc::new(Mutex::new(VirtualPiv::new(fresh_config(serial))));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let card = Arc::clone(&card);
        let addr = format!("127.0.0.1:{port}");
        std::thread::spawn(move || serve_vpcd(card, &addr, stop));
    }
    // Wait until PC/SC sees the card.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let seen = locksmith::signers::yubikey::list_cards()
            .map(|(cards, _)| {
                cards
                    .iter()
                    .any(|c| c.spec == format!("yubikey:serial={serial}"))
            })
            .unwrap_or(false);
        if seen {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the virtual card did not appear in PC/SC"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    PcscEnv {
        card,
        serial,
        port,
        own_pcscd,
        dir,
        lock: Mutex::new(()),
    }
}

pub fn log_path(env: &PcscEnv) -> PathBuf {
    env.dir.path().join("pcscd.log")
}
