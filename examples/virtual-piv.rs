//! Runs the virtual YubiKey PIV test card (Ed25519, firmware 5.7-like) until
//! killed, connected to pcscd's vpcd driver, so other tools can be pointed
//! at it:
//!
//! ```text
//! sudo pcscd -f &                      # vpcd reader from /etc/reader.conf.d/vpcd
//! cargo run --example virtual-piv      # connects to 127.0.0.1:35963
//! ykman --reader "Virtual PCD" piv info
//! ```
//!
//! Options: `--addr HOST:PORT` (default 127.0.0.1:35963), `--serial N`,
//! `--version 5.7.1`, `--f9 p384|rsa2048|forged` (the device attestation
//! key: ECDSA P-384 by default, RSA 2048, or a forged self-signed one),
//! `--ca-out PATH` (writes the TEST root and intermediate, PEM, for
//! `locksmith … --attestation-test-roots PATH`).
//! TEST FIXTURE: keys live in memory and die with the process; the
//! attestation root and intermediate are generated at start-up and are not
//! Yubico's.

#[path = "../tests/support/virtual_piv.rs"]
mod virtual_piv;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use virtual_piv::{CardConfig, F9Kind, VirtualPiv, DEFAULT_VPCD_PORT};

fn main() -> std::process::ExitCode {
    let mut addr = format!("127.0.0.1:{DEFAULT_VPCD_PORT}");
    let mut config = CardConfig::default();
    let mut ca_out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        let bad = |what: &str| {
            eprintln!("virtual-piv: {what}; usage: virtual-piv [--addr HOST:PORT] [--serial N] [--version X.Y.Z] [--f9 p384|rsa2048|forged] [--ca-out PATH]");
            std::process::ExitCode::from(2)
        };
        match (arg.as_str(), value) {
            ("--addr", Some(v)) => addr = v,
            ("--serial", Some(v)) => match v.parse() {
                Ok(s) => config.serial = s,
                Err(_) => return bad("--serial needs a number"),
            },
            ("--version", Some(v)) => {
                let parts: Vec<u8> = v.split('.').filter_map(|p| p.parse().ok()).collect();
                match <[u8; 3]>::try_from(parts) {
                    Ok(ver) => config.version = ver,
                    Err(_) => return bad("--version needs X.Y.Z"),
                }
            }
            ("--f9", Some(v)) => {
                config.f9 = match v.as_str() {
                    "p384" => F9Kind::P384,
                    "rsa2048" => F9Kind::Rsa2048,
                    "forged" => F9Kind::ForgedSelfSigned,
                    _ => return bad("--f9 needs p384, rsa2048 or forged"),
                }
            }
            ("--ca-out", Some(v)) => ca_out = Some(v),
            _ => return bad(&format!("unknown or incomplete option {arg}")),
        }
    }
    let card = VirtualPiv::new(config.clone());
    if let Some(path) = ca_out {
        let pem = card.test_roots_pem();
        if let Err(e) = std::fs::write(&path, pem) {
            eprintln!("virtual-piv: cannot write {path}: {e}");
            return std::process::ExitCode::from(1);
        }
        eprintln!("virtual-piv: TEST root and intermediate (PEM) written to {path}");
    }
    eprintln!(
        "virtual-piv: TEST card serial {} firmware {}.{}.{}, PIN {} PUK {}, default AES-192 management key; \
         connecting to vpcd at {addr} (Ctrl-C to stop)",
        config.serial, config.version[0], config.version[1], config.version[2], config.pin, config.puk
    );
    let stop = Arc::new(AtomicBool::new(false));
    virtual_piv::serve_vpcd(Arc::new(Mutex::new(card)), &addr, stop);
    std::process::ExitCode::SUCCESS
}
