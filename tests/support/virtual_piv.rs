//! A virtual YubiKey PIV card (firmware 5.7-like, Ed25519 only) for tests.
//!
//! TEST FIXTURE ONLY. It keeps private keys in memory, and exists so that
//! the `yubikey` crate, pcscd and independent clients (ykman) can be
//! exercised without hardware. Its attestation has a real card's shape,
//! under a throwaway TEST PKI generated with the card (never a Yubico CA):
//! slot attestation (Yubico's extensions: firmware, serial, PIN and touch
//! policy, form factor) ← f9 device key (ECDSA P-384; RSA 2048 or a forged
//! self-signed f9 with [`F9Kind`]) ← TEST intermediate ← TEST root.
//! locksmith trusts the TEST root only when `--attestation-test-roots`
//! names it ([`VirtualPiv::test_roots_pem`]).
//!
//! It speaks the vsmartcard vpcd protocol: the card connects to pcscd's
//! vpcd driver over TCP (default 127.0.0.1:35963); every message is a 2-byte
//! big-endian length and a payload; payloads of length 1 are control
//! messages (0 power off, 1 power on, 2 reset, 4 ATR request), longer ones
//! are command APDUs answered with a response APDU.
//!
//! Implemented (what the yubikey crate and `ykman piv` use): SELECT (PIV;
//! other applets answer 6A82), GET VERSION, GET SERIAL, GET METADATA, VERIFY
//! with a retry counter, CHANGE REFERENCE / RESET RETRY (PIN, PUK), GENERAL
//! AUTHENTICATE (Ed25519 signing; management-key mutual authentication with
//! 3DES or AES-128/192/256), GENERATE ASYMMETRIC (Ed25519, PIN and touch
//! policies), GET DATA / PUT DATA, SET MANAGEMENT KEY, ATTEST (F9), GET
//! RESPONSE chaining (61xx), command chaining (CLA 0x10) and extended APDUs.
#![allow(dead_code)]

use ed25519_dalek::Signer as _;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use locksmith::signers::x509;

/// The default port of pcscd's vpcd driver (CHANNELID 0x8C7B).
pub const DEFAULT_VPCD_PORT: u16 = 35963;
pub const DEFAULT_PIN: &str = "123456";
pub const DEFAULT_PUK: &str = "12345678";
pub const DEFAULT_MGMT_KEY: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];
pub const ALG_ED25519: u8 = 0xE0;
pub const ALG_3DES: u8 = 0x03;
pub const ALG_AES128: u8 = 0x08;
pub const ALG_AES192: u8 = 0x0A;
pub const ALG_AES256: u8 = 0x0C;
const PIV_AID: &[u8] = &[0xA0, 0x00, 0x00, 0x03, 0x08];

/// How the card is set up.
#[derive(Clone, Debug)]
pub struct CardConfig {
    pub serial: u32,
    pub version: [u8; 3],
    pub pin: String,
    pub puk: String,
    pub pin_retries: u8,
    pub mgmt_alg: u8,
    pub mgmt_key: Vec<u8>,
    /// The device attestation key (slot f9).
    pub f9: F9Kind,
}

impl Default for CardConfig {
    fn default() -> Self {
        CardConfig {
            serial: 31_415_926,
            version: [5, 7, 1],
            pin: DEFAULT_PIN.into(),
            puk: DEFAULT_PUK.into(),
            pin_retries: 3,
            mgmt_alg: ALG_AES192,
            mgmt_key: DEFAULT_MGMT_KEY.to_vec(),
            f9: F9Kind::default(),
        }
    }
}

struct SlotKey {
    key: ed25519_dalek::SigningKey,
    pin_policy: u8,
    touch_policy: u8,
    generated: bool,
}

/// The kind of device attestation key (slot f9) the card has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum F9Kind {
    /// ECDSA P-384, certified by the TEST intermediate (like recent YubiKeys).
    #[default]
    P384,
    /// RSA 2048, certified by the TEST intermediate (like older YubiKeys).
    Rsa2048,
    /// A forged f9: ECDSA P-384, self-signed, chaining to nothing.
    ForgedSelfSigned,
}

/// The card's device attestation key (slot f9).
pub enum F9Key {
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<rsa::pkcs1v15::SigningKey<sha2_v11::Sha256>>),
}

/// The card's TEST PKI, shaped like Yubico's: a TEST root, a TEST
/// intermediate, and the f9 device key and certificate it issued.
pub struct TestCa {
    pub root_cert: Vec<u8>,
    pub intermediate_cert: Vec<u8>,
    pub f9_key: F9Key,
    pub f9_cert: Vec<u8>,
}

pub const TEST_ROOT_CN: &str = "locksmith TEST Attestation Root - NOT YUBICO";
pub const TEST_INTERMEDIATE_CN: &str = "locksmith TEST PIV Attestation - NOT YUBICO";
pub const F9_CN: &str = "Virtual YubiKey PIV Attestation (TEST)";

/// rand_core 0.6's OsRng as the RNG the `rsa` crate takes (rand_core 0.10).
struct OsRng10;

impl rand_core_v10::TryRng for OsRng10 {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(rand_core::RngCore::next_u32(&mut rand_core::OsRng))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(rand_core::RngCore::next_u64(&mut rand_core::OsRng))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, dst);
        Ok(())
    }
}

impl rand_core_v10::TryCryptoRng for OsRng10 {}

fn p384_key() -> p384::ecdsa::SigningKey {
    loop {
        let mut bytes = [0u8; 48];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        if let Ok(k) = p384::ecdsa::SigningKey::from_slice(&bytes) {
            return k;
        }
    }
}

fn spki_of(
    key: &impl x509_cert::spki::EncodePublicKey,
) -> x509_cert::spki::SubjectPublicKeyInfoOwned {
    let der = key.to_public_key_der().expect("encode a public key");
    <x509_cert::spki::SubjectPublicKeyInfoOwned as der::Decode>::from_der(der.as_bytes())
        .expect("decode a public key")
}

fn request(
    serial: Vec<u8>,
    issuer: &str,
    subject: &str,
    subject_public_key: x509_cert::spki::SubjectPublicKeyInfoOwned,
    extensions: Vec<x509::Extension>,
) -> x509::CertificateRequest {
    x509::CertificateRequest {
        serial,
        issuer_cn: issuer.into(),
        subject_cn: subject.into(),
        not_before_unix: unix_now(),
        subject_public_key,
        extensions,
    }
}

/// Signs `req` with a P-384 key (ECDSA with SHA-384).
fn sign_p384(req: &x509::CertificateRequest, key: &p384::ecdsa::SigningKey) -> Vec<u8> {
    x509::build_certificate::<_, p384::ecdsa::DerSignature>(req, key).expect("P-384 certificate")
}

impl F9Key {
    fn spki(&self) -> x509_cert::spki::SubjectPublicKeyInfoOwned {
        match self {
            F9Key::P384(k) => spki_of(k.verifying_key()),
            F9Key::Rsa(k) => spki_of(&signature::Keypair::verifying_key(k.as_ref())),
        }
    }

    /// Signs `req` (a slot attestation) with the f9 key.
    pub fn sign(&self, req: &x509::CertificateRequest) -> Result<Vec<u8>, String> {
        match self {
            F9Key::P384(k) => x509::build_certificate::<_, p384::ecdsa::DerSignature>(req, k),
            F9Key::Rsa(k) => {
                x509::build_certificate::<_, rsa::pkcs1v15::Signature>(req, k.as_ref())
            }
        }
    }
}

impl TestCa {
    fn new(serial: u32, kind: F9Kind) -> Self {
        let root_key = p384_key();
        let intermediate_key = p384_key();
        let root_cert = sign_p384(
            &request(
                vec![1],
                TEST_ROOT_CN,
                TEST_ROOT_CN,
                spki_of(root_key.verifying_key()),
                vec![x509::Extension::ca()],
            ),
            &root_key,
        );
        let intermediate_cert = sign_p384(
            &request(
                vec![2],
                TEST_ROOT_CN,
                TEST_INTERMEDIATE_CN,
                spki_of(intermediate_key.verifying_key()),
                vec![x509::Extension::ca()],
            ),
            &root_key,
        );
        let f9_key = match kind {
            F9Kind::Rsa2048 => F9Key::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(
                rsa::RsaPrivateKey::new(&mut OsRng10, 2048).expect("RSA 2048 key"),
            ))),
            F9Kind::P384 | F9Kind::ForgedSelfSigned => F9Key::P384(p384_key()),
        };
        let issuer = if kind == F9Kind::ForgedSelfSigned {
            F9_CN
        } else {
            TEST_INTERMEDIATE_CN
        };
        let f9_req = request(
            serial.to_be_bytes().to_vec(),
            issuer,
            F9_CN,
            f9_key.spki(),
            vec![x509::Extension::ca()],
        );
        let f9_cert = match (&f9_key, kind) {
            (F9Key::P384(k), F9Kind::ForgedSelfSigned) => sign_p384(&f9_req, k),
            _ => sign_p384(&f9_req, &intermediate_key),
        };
        TestCa {
            root_cert,
            intermediate_cert,
            f9_key,
            f9_cert,
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Applet {
    None,
    Piv,
}

/// The card.
pub struct VirtualPiv {
    pub config: CardConfig,
    pub ca: TestCa,
    /// When false, operations that need a touch fail as if nobody touched
    /// the key before the timeout (SW 6985).
    pub touch_given: bool,
    /// Count of APDUs processed (for tests).
    pub apdu_count: u64,
    /// Log of VERIFY attempts with data (for tests: "never retried").
    pub verify_attempts: u32,
    pin_tries_left: u8,
    puk_tries_left: u8,
    pin_verified: bool,
    pin_fresh: bool,
    mgmt_authenticated: bool,
    mgmt_witness: Option<Vec<u8>>,
    keys: HashMap<u8, SlotKey>,
    objects: HashMap<u32, Vec<u8>>,
    pending: Vec<u8>,
    chain: Vec<u8>,
    applet: Applet,
    pin_default: bool,
    puk_default: bool,
}

/// The PIV object id holding a slot's certificate.
pub fn cert_object(slot: u8) -> Option<u32> {
    Some(match slot {
        0x9a => 0x5fc105,
        0x9c => 0x5fc10a,
        0x9d => 0x5fc10b,
        0x9e => 0x5fc101,
        0xf9 => 0x5fff01,
        0x82..=0x95 => 0x5fc10d + u32::from(slot - 0x82),
        _ => return None,
    })
}

const KEY_SLOTS: &[u8] = &[
    0x9a, 0x9c, 0x9d, 0x9e, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d,
    0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
];

fn sw(code: u16) -> Vec<u8> {
    code.to_be_bytes().to_vec()
}

fn ok(mut data: Vec<u8>) -> Vec<u8> {
    data.extend_from_slice(&[0x90, 0x00]);
    data
}

/// BER-TLV: one (tag, value) and the rest. Tags of one or two bytes.
fn parse_tlv(input: &[u8]) -> Option<(u32, &[u8], &[u8])> {
    let (&first, mut rest) = input.split_first()?;
    let mut tag = u32::from(first);
    if first & 0x1f == 0x1f {
        let (&second, r) = rest.split_first()?;
        tag = (tag << 8) | u32::from(second);
        rest = r;
    }
    let (&len0, r) = rest.split_first()?;
    rest = r;
    let len = match len0 {
        0..=0x7f => usize::from(len0),
        0x81 => {
            let (&l, r) = rest.split_first()?;
            rest = r;
            usize::from(l)
        }
        0x82 => {
            let l = rest.get(..2)?;
            rest = &rest[2..];
            usize::from(l[0]) << 8 | usize::from(l[1])
        }
        _ => return None,
    };
    let value = rest.get(..len)?;
    Some((tag, value, &rest[len..]))
}

fn parse_all(mut input: &[u8]) -> Option<Vec<(u32, &[u8])>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (t, v, rest) = parse_tlv(input)?;
        out.push((t, v));
        input = rest;
    }
    Some(out)
}

fn tlv(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = if tag > 0xff {
        vec![(tag >> 8) as u8, tag as u8]
    } else {
        vec![tag as u8]
    };
    let n = value.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(value);
    out
}

/// A parsed command APDU.
struct Command {
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: Vec<u8>,
    extended: bool,
}

fn parse_apdu(apdu: &[u8]) -> Option<Command> {
    if apdu.len() < 4 {
        return None;
    }
    let (cla, ins, p1, p2) = (apdu[0], apdu[1], apdu[2], apdu[3]);
    let body = &apdu[4..];
    let (data, extended) = match body.len() {
        0 | 1 => (Vec::new(), false),
        _ if body[0] != 0 => {
            let lc = usize::from(body[0]);
            (body.get(1..1 + lc)?.to_vec(), false)
        }
        3 => (Vec::new(), true), // extended Le only
        _ => {
            let lc = usize::from(body[1]) << 8 | usize::from(body[2]);
            (body.get(3..3 + lc)?.to_vec(), true)
        }
    };
    Some(Command {
        cla,
        ins,
        p1,
        p2,
        data,
        extended,
    })
}

fn block_size(alg: u8) -> usize {
    if alg == ALG_3DES {
        8
    } else {
        16
    }
}

fn mgmt_cipher(alg: u8, key: &[u8], block: &mut [u8], encrypt: bool) -> bool {
    use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
    macro_rules! run {
        ($c:ty) => {{
            let Ok(c) = <$c>::new_from_slice(key) else {
                return false;
            };
            let Ok(b) = block.try_into() else {
                return false;
            };
            if encrypt {
                c.encrypt_block(b)
            } else {
                c.decrypt_block(b)
            }
            true
        }};
    }
    match alg {
        ALG_3DES => run!(des::TdesEde3),
        ALG_AES128 => run!(aes::Aes128),
        ALG_AES192 => run!(aes::Aes192),
        ALG_AES256 => run!(aes::Aes256),
        _ => false,
    }
}

fn pad_pin(pin: &str) -> Vec<u8> {
    let mut v = pin.as_bytes().to_vec();
    v.resize(8, 0xff);
    v
}

impl VirtualPiv {
    pub fn new(config: CardConfig) -> Self {
        let ca = TestCa::new(config.serial, config.f9);
        let mut card = VirtualPiv {
            ca,
            touch_given: true,
            apdu_count: 0,
            verify_attempts: 0,
            pin_tries_left: config.pin_retries,
            puk_tries_left: 3,
            pin_verified: false,
            pin_fresh: false,
            mgmt_authenticated: false,
            mgmt_witness: None,
            keys: HashMap::new(),
            objects: HashMap::new(),
            pending: Vec::new(),
            chain: Vec::new(),
            applet: Applet::None,
            pin_default: config.pin == DEFAULT_PIN,
            puk_default: config.puk == DEFAULT_PUK,
            config,
        };
        let f9 = card.ca.f9_cert.clone();
        card.objects.insert(0x5fff01, cert_object_value(&f9));
        card
    }

    /// The TEST root certificate (DER) that roots this card's attestations.
    pub fn test_ca_certificate(&self) -> Vec<u8> {
        self.ca.root_cert.clone()
    }

    /// The TEST root and intermediate, PEM: what `--attestation-test-roots` takes.
    pub fn test_roots_pem(&self) -> String {
        let mut pem = x509::pem(&self.ca.root_cert);
        pem.push_str(&x509::pem(&self.ca.intermediate_cert));
        pem
    }

    /// ATR with T=1, 12 historical bytes and TCK. Its second byte keeps
    /// ykman from treating the reader as a USB YubiKey (it has no USB PID).
    pub fn atr() -> Vec<u8> {
        let mut atr = vec![0x3b, 0x8c, 0x80, 0x01];
        atr.extend_from_slice(b"VirtualYKPIV");
        let tck = atr[1..].iter().fold(0u8, |a, b| a ^ b);
        atr.push(tck);
        atr
    }

    /// Power cycle or reset: the security state is cleared.
    pub fn reset(&mut self) {
        self.pin_verified = false;
        self.pin_fresh = false;
        self.mgmt_authenticated = false;
        self.mgmt_witness = None;
        self.pending.clear();
        self.chain.clear();
        self.applet = Applet::None;
    }

    pub fn pin_tries_left(&self) -> u8 {
        self.pin_tries_left
    }

    /// Handles one command APDU and returns the response APDU.
    pub fn process_apdu(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.apdu_count += 1;
        let Some(cmd) = parse_apdu(apdu) else {
            return sw(0x6700);
        };
        if cmd.ins == 0xC0 {
            return self.get_response();
        }
        if cmd.cla & 0x10 != 0 {
            self.chain.extend_from_slice(&cmd.data);
            return sw(0x9000);
        }
        let mut data = std::mem::take(&mut self.chain);
        data.extend_from_slice(&cmd.data);
        let cmd = Command { data, ..cmd };
        let extended = cmd.extended;
        let response = self.dispatch(&cmd);
        self.respond(response, extended)
    }

    fn respond(&mut self, response: Vec<u8>, extended: bool) -> Vec<u8> {
        // `response` ends with SW1 SW2.
        if response.len() <= 258 || extended {
            self.pending.clear();
            return response;
        }
        let (body, status) = response.split_at(response.len() - 2);
        if status != [0x90, 0x00] {
            return status.to_vec();
        }
        self.pending = body.to_vec();
        self.get_response()
    }

    fn get_response(&mut self) -> Vec<u8> {
        if self.pending.is_empty() {
            return sw(0x6985);
        }
        let n = self.pending.len().min(256);
        let mut out: Vec<u8> = self.pending.drain(..n).collect();
        let left = self.pending.len();
        if left == 0 {
            out.extend_from_slice(&[0x90, 0x00]);
        } else {
            out.extend_from_slice(&[0x61, if left > 255 { 0 } else { left as u8 }]);
        }
        out
    }

    fn dispatch(&mut self, cmd: &Command) -> Vec<u8> {
        if cmd.ins == 0xA4 {
            return self.select(cmd);
        }
        if self.applet != Applet::Piv {
            return sw(0x6D00);
        }
        match cmd.ins {
            0xFD => ok(self.config.version.to_vec()),
            0xF8 => ok(self.config.serial.to_be_bytes().to_vec()),
            0xF7 => self.get_metadata(cmd.p2),
            0x20 => self.verify(cmd),
            0x24 => self.change_reference(cmd),
            0x2C => self.reset_retry(cmd),
            0x87 => self.general_authenticate(cmd),
            0x47 => self.generate(cmd),
            0xCB => self.get_data(cmd),
            0xDB => self.put_data(cmd),
            0xFF => self.set_mgmt_key(cmd),
            0xF6 => self.move_key(cmd),
            0xF9 => self.attest(cmd.p1),
            _ => sw(0x6D00),
        }
    }

    fn select(&mut self, cmd: &Command) -> Vec<u8> {
        if cmd.p1 == 0x04 && cmd.data.starts_with(PIV_AID) {
            // Like a YubiKey: selecting PIV clears the security status.
            self.applet = Applet::Piv;
            self.pin_verified = false;
            self.pin_fresh = false;
            self.mgmt_authenticated = false;
            self.mgmt_witness = None;
            // Application property template: AID (PIX) and coexistent tag allocation authority.
            let mut inner = tlv(0x4f, &[0x00, 0x00, 0x10, 0x00, 0x01, 0x00]);
            inner.extend(tlv(0x79, &tlv(0x4f, PIV_AID)));
            return ok(tlv(0x61, &inner));
        }
        sw(0x6A82)
    }

    fn get_metadata(&self, slot: u8) -> Vec<u8> {
        let mut out = Vec::new();
        match slot {
            0x80 | 0x81 => {
                let (default, total, left) = if slot == 0x80 {
                    (
                        self.pin_default,
                        self.config.pin_retries,
                        self.pin_tries_left,
                    )
                } else {
                    (self.puk_default, 3, self.puk_tries_left)
                };
                out.extend(tlv(0x01, &[0xff]));
                out.extend(tlv(0x05, &[u8::from(default)]));
                out.extend(tlv(0x06, &[total, left]));
            }
            0x9b => {
                out.extend(tlv(0x01, &[self.config.mgmt_alg]));
                out.extend(tlv(0x02, &[0x00, 0x01]));
                out.extend(tlv(
                    0x05,
                    &[u8::from(self.config.mgmt_key == DEFAULT_MGMT_KEY)],
                ));
            }
            s if KEY_SLOTS.contains(&s) => {
                let Some(k) = self.keys.get(&s) else {
                    return sw(0x6A88);
                };
                out.extend(tlv(0x01, &[ALG_ED25519]));
                out.extend(tlv(0x02, &[k.pin_policy, k.touch_policy]));
                out.extend(tlv(0x03, &[if k.generated { 1 } else { 2 }]));
                out.extend(tlv(0x04, &tlv(0x86, &k.key.verifying_key().to_bytes())));
            }
            _ => return sw(0x6A88),
        }
        ok(out)
    }

    fn verify(&mut self, cmd: &Command) -> Vec<u8> {
        if cmd.p2 != 0x80 {
            return sw(0x6A88);
        }
        if cmd.p1 == 0xFF {
            self.pin_verified = false;
            self.pin_fresh = false;
            return sw(0x9000);
        }
        if cmd.data.is_empty() {
            if self.pin_verified {
                return sw(0x9000);
            }
            if self.pin_tries_left == 0 {
                return sw(0x6983);
            }
            return sw(0x63C0 | u16::from(self.pin_tries_left));
        }
        self.verify_attempts += 1;
        if self.pin_tries_left == 0 {
            return sw(0x6983);
        }
        if cmd.data.len() != 8 {
            return sw(0x6A80);
        }
        if cmd.data == pad_pin(&self.config.pin) {
            self.pin_tries_left = self.config.pin_retries;
            self.pin_verified = true;
            self.pin_fresh = true;
            sw(0x9000)
        } else {
            self.pin_tries_left -= 1;
            self.pin_verified = false;
            self.pin_fresh = false;
            if self.pin_tries_left == 0 {
                sw(0x6983)
            } else {
                sw(0x63C0 | u16::from(self.pin_tries_left))
            }
        }
    }

    fn change_reference(&mut self, cmd: &Command) -> Vec<u8> {
        if cmd.data.len() != 16 {
            return sw(0x6A80);
        }
        let (old, new) = cmd.data.split_at(8);
        let new_text: String = new
            .iter()
            .take_while(|b| **b != 0xff)
            .map(|b| *b as char)
            .collect();
        match cmd.p2 {
            0x80 => {
                if self.pin_tries_left == 0 {
                    return sw(0x6983);
                }
                if old != pad_pin(&self.config.pin).as_slice() {
                    self.pin_tries_left -= 1;
                    return sw(0x63C0 | u16::from(self.pin_tries_left));
                }
                self.config.pin = new_text;
                self.pin_default = false;
                self.pin_tries_left = self.config.pin_retries;
                sw(0x9000)
            }
            0x81 => {
                if self.puk_tries_left == 0 {
                    return sw(0x6983);
                }
                if old != pad_pin(&self.config.puk).as_slice() {
                    self.puk_tries_left -= 1;
                    return sw(0x63C0 | u16::from(self.puk_tries_left));
                }
                self.config.puk = new_text;
                self.puk_default = false;
                self.puk_tries_left = 3;
                sw(0x9000)
            }
            _ => sw(0x6A88),
        }
    }

    fn reset_retry(&mut self, cmd: &Command) -> Vec<u8> {
        if cmd.data.len() != 16 || cmd.p2 != 0x80 {
            return sw(0x6A80);
        }
        let (puk, new) = cmd.data.split_at(8);
        if self.puk_tries_left == 0 {
            return sw(0x6983);
        }
        if puk != pad_pin(&self.config.puk).as_slice() {
            self.puk_tries_left -= 1;
            return sw(0x63C0 | u16::from(self.puk_tries_left));
        }
        self.config.pin = new
            .iter()
            .take_while(|b| **b != 0xff)
            .map(|b| *b as char)
            .collect();
        self.pin_tries_left = self.config.pin_retries;
        sw(0x9000)
    }

    fn general_authenticate(&mut self, cmd: &Command) -> Vec<u8> {
        let Some((0x7c, inner, _)) = parse_tlv(&cmd.data) else {
            return sw(0x6A80);
        };
        let Some(items) = parse_all(inner) else {
            return sw(0x6A80);
        };
        if cmd.p2 == 0x9b {
            return self.mgmt_authenticate(cmd.p1, &items);
        }
        let Some(key) = self.keys.get(&cmd.p2) else {
            return sw(0x6A80);
        };
        if cmd.p1 != ALG_ED25519 {
            return sw(0x6A80);
        }
        let Some(message) = items.iter().find(|(t, _)| *t == 0x81).map(|(_, v)| *v) else {
            return sw(0x6A80);
        };
        let pin_ok = match key.pin_policy {
            1 => true,
            3 => self.pin_fresh,
            _ => self.pin_verified,
        };
        if !pin_ok {
            return sw(0x6982);
        }
        if key.touch_policy != 1 && !self.touch_given {
            return sw(0x6985);
        }
        let sig = key.key.sign(message).to_bytes();
        if key.pin_policy == 3 {
            self.pin_fresh = false;
        }
        ok(tlv(0x7c, &tlv(0x82, &sig)))
    }

    fn mgmt_authenticate(&mut self, alg: u8, items: &[(u32, &[u8])]) -> Vec<u8> {
        if alg != self.config.mgmt_alg {
            return sw(0x6A80);
        }
        let n = block_size(alg);
        let witness = items.iter().find(|(t, _)| *t == 0x80).map(|(_, v)| *v);
        let challenge = items.iter().find(|(t, _)| *t == 0x81).map(|(_, v)| *v);
        match (witness, challenge) {
            (Some([]), None) => {
                let mut plain = vec![0u8; n];
                rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut plain);
                let mut enc = plain.clone();
                if !mgmt_cipher(alg, &self.config.mgmt_key, &mut enc, true) {
                    return sw(0x6A80);
                }
                self.mgmt_witness = Some(plain);
                self.mgmt_authenticated = false;
                ok(tlv(0x7c, &tlv(0x80, &enc)))
            }
            (Some(w), Some(c)) => {
                let expected = self.mgmt_witness.take();
                if expected.as_deref() != Some(w) || c.len() != n {
                    self.mgmt_authenticated = false;
                    return sw(0x6982);
                }
                let mut enc = c.to_vec();
                if !mgmt_cipher(alg, &self.config.mgmt_key, &mut enc, true) {
                    return sw(0x6A80);
                }
                self.mgmt_authenticated = true;
                ok(tlv(0x7c, &tlv(0x82, &enc)))
            }
            _ => sw(0x6A80),
        }
    }

    fn generate(&mut self, cmd: &Command) -> Vec<u8> {
        if !self.mgmt_authenticated {
            return sw(0x6982);
        }
        if !KEY_SLOTS.contains(&cmd.p2) {
            return sw(0x6B00);
        }
        let Some((0xac, inner, _)) = parse_tlv(&cmd.data) else {
            return sw(0x6A80);
        };
        let Some(items) = parse_all(inner) else {
            return sw(0x6A80);
        };
        let alg = items
            .iter()
            .find(|(t, _)| *t == 0x80)
            .and_then(|(_, v)| v.first().copied());
        if alg != Some(ALG_ED25519) {
            // This fixture only offers Ed25519; a real 5.7 card offers more.
            return sw(0x6A80);
        }
        let default_pin = match cmd.p2 {
            0x9c => 3,
            0x9e => 1,
            _ => 2,
        };
        let pin_policy = match items
            .iter()
            .find(|(t, _)| *t == 0xaa)
            .and_then(|(_, v)| v.first().copied())
        {
            None | Some(0) => default_pin,
            Some(p @ 1..=3) => p,
            Some(_) => return sw(0x6A80),
        };
        let touch_policy = match items
            .iter()
            .find(|(t, _)| *t == 0xab)
            .and_then(|(_, v)| v.first().copied())
        {
            None | Some(0) => 1,
            Some(t @ 1..=3) => t,
            Some(_) => return sw(0x6A80),
        };
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let public = key.verifying_key().to_bytes();
        self.keys.insert(
            cmd.p2,
            SlotKey {
                key,
                pin_policy,
                touch_policy,
                generated: true,
            },
        );
        ok(tlv(0x7f49, &tlv(0x86, &public)))
    }

    fn object_id(data: &[u8]) -> Option<u32> {
        let (tag, value, _) = parse_tlv(data)?;
        if tag != 0x5c || value.is_empty() || value.len() > 3 {
            return None;
        }
        Some(value.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)))
    }

    fn get_data(&mut self, cmd: &Command) -> Vec<u8> {
        let Some(id) = Self::object_id(&cmd.data) else {
            return sw(0x6A80);
        };
        if id == 0x7e {
            // Discovery object: PIV AID and PIN usage policy (PIV PIN only).
            let mut inner = tlv(
                0x4f,
                &[
                    0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
                ],
            );
            inner.extend(tlv(0x5f2f, &[0x40, 0x00]));
            return ok(tlv(0x7e, &inner));
        }
        if id == 0x5fc109 && !self.pin_verified {
            return sw(0x6982);
        }
        match self.objects.get(&id) {
            Some(v) => ok(tlv(0x53, v)),
            None => sw(0x6A82),
        }
    }

    /// MOVE KEY (firmware 5.7): P1 the destination slot, 0xFF to delete
    /// the key in slot P2 (`ykman piv keys delete`).
    fn move_key(&mut self, cmd: &Command) -> Vec<u8> {
        if !self.mgmt_authenticated {
            return sw(0x6982);
        }
        if !KEY_SLOTS.contains(&cmd.p2) || (cmd.p1 != 0xff && !KEY_SLOTS.contains(&cmd.p1)) {
            return sw(0x6B00);
        }
        let Some(key) = self.keys.remove(&cmd.p2) else {
            return sw(0x6A88);
        };
        if cmd.p1 != 0xff {
            self.keys.insert(cmd.p1, key);
        }
        sw(0x9000)
    }

    fn put_data(&mut self, cmd: &Command) -> Vec<u8> {
        if !self.mgmt_authenticated {
            return sw(0x6982);
        }
        let Some((0x5c, id_bytes, rest)) = parse_tlv(&cmd.data) else {
            return sw(0x6A80);
        };
        let id = id_bytes.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b));
        let Some((0x53, value, _)) = parse_tlv(rest) else {
            return sw(0x6A80);
        };
        if value.is_empty() {
            self.objects.remove(&id);
        } else {
            self.objects.insert(id, value.to_vec());
        }
        sw(0x9000)
    }

    fn set_mgmt_key(&mut self, cmd: &Command) -> Vec<u8> {
        if !self.mgmt_authenticated {
            return sw(0x6982);
        }
        if cmd.p1 != 0xff || cmd.data.len() < 3 || cmd.data[1] != 0x9b {
            return sw(0x6A80);
        }
        let alg = cmd.data[0];
        let len = usize::from(cmd.data[2]);
        let expected = match alg {
            ALG_3DES => 24,
            ALG_AES128 => 16,
            ALG_AES192 => 24,
            ALG_AES256 => 32,
            _ => return sw(0x6A80),
        };
        if len != expected || cmd.data.len() != 3 + len {
            return sw(0x6A80);
        }
        self.config.mgmt_alg = alg;
        self.config.mgmt_key = cmd.data[3..].to_vec();
        sw(0x9000)
    }

    fn attest(&mut self, slot: u8) -> Vec<u8> {
        let Some(key) = self.keys.get(&slot) else {
            return sw(0x6A88);
        };
        if !key.generated {
            return sw(0x6A80);
        }
        let public = key.key.verifying_key().to_bytes();
        let serial_der = {
            let b = self.config.serial.to_be_bytes();
            let mut v: Vec<u8> = b.iter().copied().skip_while(|x| *x == 0).collect();
            if v.first().is_none_or(|x| x & 0x80 != 0) {
                v.insert(0, 0);
            }
            tlv(0x02, &v)
        };
        let mut serial = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
        let req = x509::CertificateRequest {
            serial: serial.to_vec(),
            issuer_cn: F9_CN.into(),
            subject_cn: format!("YubiKey PIV Attestation {slot:02x}"),
            not_before_unix: unix_now(),
            subject_public_key: x509::ed25519_spki(&public).unwrap_or_else(|_| unreachable!()),
            extensions: vec![
                x509::Extension {
                    oid: x509::OID_YUBICO_FIRMWARE,
                    critical: false,
                    value: self.config.version.to_vec(),
                },
                x509::Extension {
                    oid: x509::OID_YUBICO_SERIAL,
                    critical: false,
                    value: serial_der,
                },
                x509::Extension {
                    oid: x509::OID_YUBICO_POLICY,
                    critical: false,
                    value: vec![key.pin_policy, key.touch_policy],
                },
                x509::Extension {
                    oid: x509::OID_YUBICO_FORM_FACTOR,
                    critical: false,
                    value: vec![0x01],
                },
            ],
        };
        match self.ca.f9_key.sign(&req) {
            Ok(der) => ok(der),
            Err(_) => sw(0x6F00),
        }
    }
}

/// The value PIV stores for a certificate object: 70 cert, 71 info, FE LRC.
pub fn cert_object_value(der: &[u8]) -> Vec<u8> {
    let mut v = tlv(0x70, der);
    v.extend(tlv(0x71, &[0x00]));
    v.extend(tlv(0xfe, &[]));
    v
}

/// Serves `card` to vpcd at `addr` until `stop` is set: connects (retrying
/// while vpcd is not listening), answers messages, reconnects on EOF.
pub fn serve_vpcd(card: Arc<Mutex<VirtualPiv>>, addr: &str, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut stream) = TcpStream::connect(addr) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        let _ = stream.set_nodelay(true);
        if let Err(e) = serve_connection(&card, &mut stream, &stop) {
            if !stop.load(Ordering::SeqCst) {
                eprintln!("virtual-piv: connection to vpcd ended: {e}");
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn read_exact_or_stop(
    stream: &mut TcpStream,
    buf: &mut [u8],
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        if stop.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("stopped"));
        }
        match stream.read(&mut buf[got..]) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "vpcd closed",
                ))
            }
            Ok(n) => got += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn serve_connection(
    card: &Mutex<VirtualPiv>,
    stream: &mut TcpStream,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    loop {
        let mut len = [0u8; 2];
        read_exact_or_stop(stream, &mut len, stop)?;
        let n = usize::from(u16::from_be_bytes(len));
        let mut msg = vec![0u8; n];
        read_exact_or_stop(stream, &mut msg, stop)?;
        let mut card = card
            .lock()
            .map_err(|_| std::io::Error::other("card lock poisoned"))?;
        let reply = if n == 1 {
            match msg[0] {
                0..=2 => {
                    card.reset();
                    None
                }
                4 => Some(VirtualPiv::atr()),
                _ => None,
            }
        } else {
            Some(card.process_apdu(&msg))
        };
        drop(card);
        if let Some(reply) = reply {
            let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&reply);
            stream.write_all(&framed)?;
        }
    }
}
