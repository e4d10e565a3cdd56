//! YubiKey PIV attestation, verified the way Yubico documents it
//! (<https://developers.yubico.com/PIV/Introduction/PIV_attestation.html>,
//! <https://developers.yubico.com/PKI/>):
//!
//! ```text
//! slot attestation ("YubiKey PIV Attestation 9c", made by INS F9)
//!   signed by the card's device key, slot f9 ("Yubico PIV Attestation")
//!     firmware before 5.7.4: signed by "Yubico PIV Root CA Serial 263751"
//!     firmware 5.7.4 and later: signed by "Yubico PIV Attestation {A,B} 1"
//!       → "Yubico Attestation Intermediate {A,B} 1" → "Yubico Attestation Root 1"
//! ```
//!
//! Every link is a signature check (RSA PKCS#1 v1.5 or ECDSA P-256/P-384,
//! with SHA-256/384/512, through the `rsa`, `p256` and `p384` crates); every
//! issuer above the slot attestation must be a CA (basicConstraints). The
//! chain must end at a root bundled in `assets/yubico/` (pinned by SHA-256
//! in `assets/yubico/README.md` and in [`BUNDLED`]) or at a test root the
//! caller names explicitly ([`TrustStore::with_test_roots`]); nothing is
//! fetched. Validity periods are not checked: the offline machine's clock
//! is not trusted, and the statement is about how the key was made.
//!
//! What a verified attestation proves: the key in the slot was generated on
//! a genuine YubiKey (it never existed outside it), with the PIN and touch
//! policies stated. It does not prove who holds the card, or that the card
//! is the one the operator believes it is beyond the serial it states.

use der::{Decode, Encode};
use sha2_v11::{Digest, Sha256, Sha384, Sha512};
use signature::hazmat::PrehashVerifier;

/// A certificate bundled in `assets/yubico/`: file name, role, PEM, SHA-256 of the DER.
pub struct BundledCertificate {
    /// File name in `assets/yubico/`.
    pub file: &'static str,
    /// True for a trust anchor, false for an intermediate.
    pub root: bool,
    /// The PEM text.
    pub pem: &'static str,
    /// SHA-256 of the DER, lowercase hex (also in assets/yubico/README.md).
    pub sha256: &'static str,
}

macro_rules! bundled {
    ($file:literal, $root:expr, $sha:literal) => {
        BundledCertificate {
            file: $file,
            root: $root,
            pem: include_str!(concat!("../../assets/yubico/", $file)),
            sha256: $sha,
        }
    };
}

/// Yubico's public PIV attestation roots and intermediates.
pub const BUNDLED: &[BundledCertificate] = &[
    bundled!(
        "yubico-piv-ca-1.pem",
        true,
        "63ece914e54dd87915f34033c85af4c0696ba1512f8add66ced738331207b546"
    ),
    bundled!(
        "yubico-ca-1.pem",
        true,
        "62760c6a6ef91679f454c8902b80fd009825b3f25da90f1fbace2ec6586cd5a8"
    ),
    bundled!(
        "yubico-attestation-intermediate-a-1.pem",
        false,
        "4698a1d3389c3ec60016c216250f1d0439922832d65142327436376dc2942b55"
    ),
    bundled!(
        "yubico-attestation-intermediate-b-1.pem",
        false,
        "d4cc3f456fdaf4e7812a21aab1dfe9d8e27d24e2fd2d6f21c9940109f0daa754"
    ),
    bundled!(
        "yubico-piv-attestation-a-1.pem",
        false,
        "6de693f05376f5d8ca29069261e1c8626c75d503bd2edbfd75354cad1f722870"
    ),
    bundled!(
        "yubico-piv-attestation-b-1.pem",
        false,
        "2d55b7998f4e42569d6d8fa382b6dc77d1dacf07358b19701163892922b17052"
    ),
];

/// Yubico's PIV attestation extensions (1.3.6.1.4.1.41482.3.*).
pub const OID_FIRMWARE: &str = "1.3.6.1.4.1.41482.3.3";
/// Card serial number (DER INTEGER).
pub const OID_SERIAL: &str = "1.3.6.1.4.1.41482.3.7";
/// PIN policy and touch policy (two bytes).
pub const OID_POLICY: &str = "1.3.6.1.4.1.41482.3.8";
/// Form factor (one byte).
pub const OID_FORM_FACTOR: &str = "1.3.6.1.4.1.41482.3.9";

const MAX_DEPTH: usize = 6;

/// Decodes every PEM certificate in `text` to DER.
pub fn pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line == "-----BEGIN CERTIFICATE-----" {
            body = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            let b = body.take().ok_or("END CERTIFICATE without BEGIN")?;
            out.push(
                data_encoding::BASE64
                    .decode(b.as_bytes())
                    .map_err(|e| format!("bad base64 in a PEM certificate: {e}"))?,
            );
        } else if let Some(b) = body.as_mut() {
            b.push_str(line);
        }
    }
    if body.is_some() {
        return Err("a PEM certificate has no END line".into());
    }
    Ok(out)
}

/// SHA-256 of `der`, lowercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    crate::tka::hex::lower(&Sha256::digest(der))
}

struct Cert {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
    label: String,
    test: bool,
}

impl Cert {
    fn parse(der: Vec<u8>, label: String, test: bool) -> Result<Self, String> {
        let cert = x509_cert::Certificate::from_der(&der)
            .map_err(|e| format!("{label}: not a DER X.509 certificate: {e}"))?;
        Ok(Cert {
            der,
            cert,
            label,
            test,
        })
    }
    fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }
    fn issuer(&self) -> String {
        self.cert.tbs_certificate().issuer().to_string()
    }
    fn extension(&self, oid: &str) -> Option<&[u8]> {
        self.cert
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|e| e.extn_id.to_string() == oid)
            .map(|e| e.extn_value.as_bytes())
    }
    fn is_ca(&self) -> bool {
        self.extension("2.5.29.19")
            .and_then(|v| x509_cert::ext::pkix::BasicConstraints::from_der(v).ok())
            .is_some_and(|b| b.ca)
    }
    fn self_signed(&self) -> bool {
        self.subject() == self.issuer() && signed_by(self, self).is_ok()
    }
}

/// Checks that `issuer`'s key signed `cert`.
fn signed_by(cert: &Cert, issuer: &Cert) -> Result<(), String> {
    let tbs = cert
        .cert
        .tbs_certificate()
        .to_der()
        .map_err(|e| format!("cannot re-encode {}: {e}", cert.label))?;
    let alg = cert.cert.signature_algorithm().oid.to_string();
    let sig = cert.cert.signature().raw_bytes();
    let spki = issuer.cert.tbs_certificate().subject_public_key_info();
    let key_alg = spki.algorithm.oid.to_string();
    let digest = |name: &str| -> Option<Vec<u8>> {
        Some(match name {
            "sha256" => Sha256::digest(&tbs).to_vec(),
            "sha384" => Sha384::digest(&tbs).to_vec(),
            "sha512" => Sha512::digest(&tbs).to_vec(),
            _ => return None,
        })
    };
    let bad = || format!("the signature on {} does not verify", cert.label);
    match (key_alg.as_str(), alg.as_str()) {
        ("1.2.840.113549.1.1.1", a) => {
            let (scheme, hash) = match a {
                "1.2.840.113549.1.1.11" => (rsa::Pkcs1v15Sign::new::<Sha256>(), "sha256"),
                "1.2.840.113549.1.1.12" => (rsa::Pkcs1v15Sign::new::<Sha384>(), "sha384"),
                "1.2.840.113549.1.1.13" => (rsa::Pkcs1v15Sign::new::<Sha512>(), "sha512"),
                other => return Err(format!("{}: unsupported RSA signature {other}", cert.label)),
            };
            let spki_der = spki
                .to_der()
                .map_err(|e| format!("{}: bad key: {e}", issuer.label))?;
            let key =
                <rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_der(&spki_der)
                    .map_err(|e| format!("{}: bad RSA key: {e}", issuer.label))?;
            let hashed = digest(hash).ok_or_else(bad)?;
            key.verify(scheme, &hashed, sig).map_err(|_| bad())
        }
        ("1.2.840.10045.2.1", a) => {
            let hash = match a {
                "1.2.840.10045.4.3.2" => "sha256",
                "1.2.840.10045.4.3.3" => "sha384",
                "1.2.840.10045.4.3.4" => "sha512",
                other => {
                    return Err(format!(
                        "{}: unsupported ECDSA signature {other}",
                        cert.label
                    ))
                }
            };
            let prehash = digest(hash).ok_or_else(bad)?;
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
                .map(|o| o.to_string());
            let point = spki.subject_public_key.raw_bytes();
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => {
                    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map_err(|_| format!("{}: bad P-256 key", issuer.label))?;
                    let s = p256::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
                    vk.verify_prehash(&prehash, &s).map_err(|_| bad())
                }
                Some("1.3.132.0.34") => {
                    let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map_err(|_| format!("{}: bad P-384 key", issuer.label))?;
                    let s = p384::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
                    vk.verify_prehash(&prehash, &s).map_err(|_| bad())
                }
                other => Err(format!(
                    "{}: unsupported elliptic curve {}",
                    issuer.label,
                    other.unwrap_or("(none)")
                )),
            }
        }
        (k, _) => Err(format!(
            "{}: keys of type {k} cannot sign attestations here (RSA, P-256, P-384 only)",
            issuer.label
        )),
    }
}

/// The roots and intermediates an attestation may chain to.
pub struct TrustStore {
    roots: Vec<Cert>,
    intermediates: Vec<Cert>,
}

impl std::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustStore")
            .field(
                "roots",
                &self.roots.iter().map(|r| &r.label).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Default for TrustStore {
    fn default() -> Self {
        Self::yubico()
    }
}

impl Clone for TrustStore {
    fn clone(&self) -> Self {
        let copy = |c: &Cert| Cert {
            der: c.der.clone(),
            cert: c.cert.clone(),
            label: c.label.clone(),
            test: c.test,
        };
        TrustStore {
            roots: self.roots.iter().map(copy).collect(),
            intermediates: self.intermediates.iter().map(copy).collect(),
        }
    }
}

impl TrustStore {
    /// Yubico's bundled roots and intermediates only (the default).
    pub fn yubico() -> Self {
        let mut store = TrustStore {
            roots: Vec::new(),
            intermediates: Vec::new(),
        };
        for b in BUNDLED {
            // The bundle is compiled in and pinned by a test; a certificate
            // that does not parse or match its pin is left out, never trusted.
            let Ok(ders) = pem_certificates(b.pem) else {
                continue;
            };
            for der in ders {
                if fingerprint(&der) != b.sha256 {
                    continue;
                }
                if let Ok(c) = Cert::parse(der, format!("{} (bundled)", b.file), false) {
                    if b.root {
                        store.roots.push(c);
                    } else {
                        store.intermediates.push(c);
                    }
                }
            }
        }
        store
    }

    /// Adds TEST roots and intermediates from a PEM bundle (self-signed
    /// certificates are roots, the others intermediates). For the virtual
    /// card in tests only; every verdict reached through one says so.
    pub fn with_test_roots(mut self, pem: &str, source: &str) -> Result<Self, String> {
        let ders = pem_certificates(pem)?;
        if ders.is_empty() {
            return Err(format!("{source}: no PEM certificate in it"));
        }
        for (i, der) in ders.into_iter().enumerate() {
            let c = Cert::parse(der, format!("TEST certificate {} of {source}", i + 1), true)?;
            if c.self_signed() {
                self.roots.push(c);
            } else {
                self.intermediates.push(c);
            }
        }
        if !self.roots.iter().any(|r| r.test) {
            return Err(format!("{source}: no self-signed (root) certificate in it"));
        }
        Ok(self)
    }

    /// True when a test root was added.
    pub fn has_test_roots(&self) -> bool {
        self.roots.iter().any(|r| r.test)
    }
}

/// What a slot attestation states (Yubico's extensions).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Statement {
    /// Card serial (…3.7).
    pub serial: Option<u32>,
    /// Firmware version (…3.3).
    pub firmware: Option<String>,
    /// PIN policy (…3.8, first byte): never, once, always.
    pub pin_policy: Option<String>,
    /// Touch policy (…3.8, second byte): never, always, cached.
    pub touch_policy: Option<String>,
    /// Form factor (…3.9).
    pub form_factor: Option<String>,
    /// The attested public key (subjectPublicKey bits), hex.
    pub public_key: String,
}

impl Statement {
    /// `serial 123, firmware 5.7.1, PIN policy always, …` (what is stated).
    pub fn described(&self) -> String {
        let mut said = Vec::new();
        if let Some(s) = self.serial {
            said.push(format!("serial {s}"));
        }
        for (name, v) in [
            ("firmware", &self.firmware),
            ("PIN policy", &self.pin_policy),
            ("touch policy", &self.touch_policy),
            ("form factor", &self.form_factor),
        ] {
            if let Some(v) = v {
                said.push(format!("{name} {v}"));
            }
        }
        said.join(", ")
    }
}

fn pin_policy_name(b: u8) -> String {
    match b {
        1 => "never".into(),
        2 => "once".into(),
        3 => "always".into(),
        4 => "match-once".into(),
        5 => "match-always".into(),
        other => format!("unknown ({other})"),
    }
}

fn touch_policy_name(b: u8) -> String {
    match b {
        1 => "never".into(),
        2 => "always".into(),
        3 => "cached".into(),
        other => format!("unknown ({other})"),
    }
}

fn form_factor_name(b: u8) -> String {
    let base = match b & 0x3f {
        0 => "unspecified",
        1 => "USB-A keychain",
        2 => "USB-A nano",
        3 => "USB-C keychain",
        4 => "USB-C nano",
        5 => "USB-C and Lightning keychain",
        6 => "USB-A Bio keychain",
        7 => "USB-C Bio keychain",
        _ => "unknown",
    };
    let mut s = format!("{base} (0x{b:02x})");
    if b & 0x80 != 0 {
        s.push_str(", FIPS");
    }
    if b & 0x40 != 0 {
        s.push_str(", CSPN");
    }
    s
}

/// Ranks policies so that a stronger one compares greater.
pub fn pin_policy_rank(name: &str) -> u8 {
    match name {
        "never" => 0,
        "once" | "match-once" => 1,
        "always" | "match-always" => 2,
        _ => 0,
    }
}

/// Ranks touch policies so that a stronger one compares greater.
pub fn touch_policy_rank(name: &str) -> u8 {
    match name {
        "never" => 0,
        "cached" => 1,
        "always" => 2,
        _ => 0,
    }
}

fn statement(att: &Cert) -> Result<Statement, String> {
    let serial = match att.extension(OID_SERIAL) {
        Some(v) => Some(
            u32::from_der(v)
                .map_err(|_| "the serial extension (…3.7) is unreadable".to_string())?,
        ),
        None => None,
    };
    let firmware = att
        .extension(OID_FIRMWARE)
        .map(|v| match v {
            [a, b, c] => Ok(format!("{a}.{b}.{c}")),
            _ => Err("the firmware extension (…3.3) is not 3 bytes".to_string()),
        })
        .transpose()?;
    let (pin_policy, touch_policy) = match att.extension(OID_POLICY) {
        Some([p, t]) => (Some(pin_policy_name(*p)), Some(touch_policy_name(*t))),
        Some(_) => return Err("the policy extension (…3.8) is not 2 bytes".into()),
        None => (None, None),
    };
    let form_factor = match att.extension(OID_FORM_FACTOR) {
        Some([f]) => Some(form_factor_name(*f)),
        Some(_) => return Err("the form factor extension (…3.9) is not 1 byte".into()),
        None => None,
    };
    Ok(Statement {
        serial,
        firmware,
        pin_policy,
        touch_policy,
        form_factor,
        public_key: crate::tka::hex::lower(
            att.cert
                .tbs_certificate()
                .subject_public_key_info()
                .subject_public_key
                .raw_bytes(),
        ),
    })
}

/// One certificate of a verified (or attempted) chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainLink {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// SHA-256 of the DER.
    pub sha256: String,
}

/// The outcome of checking a PIV attestation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    /// True when the whole chain verifies to a trusted root and the
    /// attestation is for the expected key and card.
    pub verified: bool,
    /// One line: what was proven, or the first thing that failed.
    pub summary: String,
    /// The root reached (bundle file or test source), when verified.
    pub root: Option<String>,
    /// True when the root reached is a TEST root, not Yubico's.
    pub test_root: bool,
    /// What the attestation states, when it could be read.
    pub statement: Option<Statement>,
    /// The chain, leaf first (slot attestation, f9, intermediates, root).
    pub chain: Vec<ChainLink>,
}

impl Verdict {
    fn failed(
        summary: impl Into<String>,
        statement: Option<Statement>,
        chain: Vec<ChainLink>,
    ) -> Self {
        Verdict {
            verified: false,
            summary: summary.into(),
            root: None,
            test_root: false,
            statement,
            chain,
        }
    }

    /// `verified: …` or `NOT verified: …`.
    pub fn line(&self) -> String {
        format!(
            "{}: {}",
            if self.verified {
                "verified"
            } else {
                "NOT verified"
            },
            self.summary
        )
    }
}

fn link(c: &Cert) -> ChainLink {
    ChainLink {
        subject: c.subject(),
        issuer: c.issuer(),
        sha256: fingerprint(&c.der),
    }
}

/// What the attestation must match.
#[derive(Clone, Debug, Default)]
pub struct Expected<'a> {
    /// The slot's public key (subjectPublicKey bits; 32 bytes for Ed25519).
    pub public_key: Option<&'a [u8]>,
    /// The serial of the card in use.
    pub serial: Option<u32>,
}

/// Verifies a slot attestation and the card's f9 certificate to a root of
/// `trust`, and checks it names `expected`'s key and serial.
pub fn verify(
    attestation_der: &[u8],
    f9_der: Option<&[u8]>,
    expected: &Expected<'_>,
    trust: &TrustStore,
) -> Verdict {
    let att = match Cert::parse(
        attestation_der.to_vec(),
        "the slot attestation".into(),
        false,
    ) {
        Ok(c) => c,
        Err(e) => return Verdict::failed(e, None, vec![]),
    };
    let mut chain = vec![link(&att)];
    let st = match statement(&att) {
        Ok(s) => s,
        Err(e) => return Verdict::failed(format!("attestation unreadable: {e}"), None, chain),
    };
    if let Some(key) = expected.public_key {
        let attested = att
            .cert
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes();
        if attested != key {
            return Verdict::failed(
                "the attestation is for a different key than the one in the slot",
                Some(st),
                chain,
            );
        }
    }
    if let Some(serial) = expected.serial {
        match st.serial {
            Some(s) if s == serial => {}
            Some(s) => {
                return Verdict::failed(
                    format!(
                        "the attestation names card serial {s}, but the card in use is {serial}"
                    ),
                    Some(st),
                    chain,
                )
            }
            None => {
                return Verdict::failed(
                    "the attestation states no card serial (…3.7)",
                    Some(st),
                    chain,
                )
            }
        }
    }
    let Some(f9_der) = f9_der else {
        return Verdict::failed(
            "the card's attestation certificate (slot f9) is missing",
            Some(st),
            chain,
        );
    };
    let f9 = match Cert::parse(f9_der.to_vec(), "the slot f9 certificate".into(), false) {
        Ok(c) => c,
        Err(e) => return Verdict::failed(e, Some(st), chain),
    };
    chain.push(link(&f9));
    if let Err(e) = signed_by(&att, &f9) {
        return Verdict::failed(
            format!("{e}: the slot f9 key did not sign this attestation"),
            Some(st),
            chain,
        );
    }
    if !f9.is_ca() {
        return Verdict::failed(
            "the slot f9 certificate is not a CA certificate (basicConstraints)",
            Some(st),
            chain,
        );
    }
    // Walk up: issuers found by name among the trusted certificates, each
    // checked by signature; stops at a root.
    let mut current = &f9;
    for _ in 0..MAX_DEPTH {
        let issuer_name = current.issuer();
        if let Some(root) = trust
            .roots
            .iter()
            .find(|r| r.subject() == issuer_name && signed_by(current, r).is_ok())
        {
            chain.push(link(root));
            let who = if root.test {
                format!(
                    "a TEST root ({}), NOT Yubico's: this proves nothing about real hardware",
                    root.label
                )
            } else {
                format!("Yubico's root \"{}\" ({})", root.subject(), root.label)
            };
            return Verdict {
                verified: true,
                summary: format!(
                    "key generated on the card (serial {}, firmware {}, PIN policy {}, touch policy {}): \
                     attestation chain verifies to {who}",
                    st.serial.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
                    st.firmware.as_deref().unwrap_or("?"),
                    st.pin_policy.as_deref().unwrap_or("?"),
                    st.touch_policy.as_deref().unwrap_or("?"),
                ),
                root: Some(root.label.clone()),
                test_root: root.test,
                statement: Some(st),
                chain,
            };
        }
        let Some(next) = trust
            .intermediates
            .iter()
            .find(|c| c.subject() == issuer_name && c.is_ca() && signed_by(current, c).is_ok())
        else {
            return Verdict::failed(
                format!(
                    "the chain does not reach a trusted root: no bundled certificate \"{issuer_name}\" \
                     signed \"{}\" (a card whose f9 certificate is not Yubico's, or a Yubico CA \
                     locksmith does not bundle)",
                    current.subject()
                ),
                Some(st),
                chain,
            );
        };
        chain.push(link(next));
        current = next;
    }
    Verdict::failed("the chain is too long", Some(st), chain)
}

/// A slot's attestation as fetched from the card, with its verdict.
#[derive(Clone, Debug)]
pub struct Attestation {
    /// The verdict.
    pub verdict: Verdict,
    /// The slot attestation and f9 certificate, PEM (empty when the card gave none).
    pub chain_pem: String,
    /// The slot's Ed25519 public key.
    pub public_key: [u8; 32],
}

/// What a ceremony transcript keeps of a key's attestation, so a witness
/// can re-check it later (`locksmith ceremony verify`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    /// The key (`tlpub:…`).
    pub tlpub: String,
    /// The verdict line at the time.
    pub verdict: String,
    /// Whether it verified at the time.
    pub verified: bool,
    /// The root it reached.
    pub root: Option<String>,
    /// True when that root was a TEST root (named by `--attestation-test-roots`).
    pub test_root: bool,
    /// What the attestation stated.
    pub statement: Option<Statement>,
    /// The policies the ceremony asked for, e.g. `pin>=always touch>=never`.
    pub required: String,
    /// The override the operator passed when the attestation did not satisfy
    /// the ceremony (e.g. `--allow-unverified-attestation`), if any.
    pub overridden_by: Option<String>,
    /// The slot attestation and f9 certificate, PEM.
    pub chain_pem: String,
}

impl Evidence {
    /// Re-checks the kept chain against `trust` for this record's key and serial.
    pub fn recheck(&self, trust: &TrustStore) -> Verdict {
        let key = crate::tka::keyforms::parse_lock_key(&self.tlpub).ok();
        verify_pem(
            &self.chain_pem,
            key.as_ref().map(|k| &k[..]),
            self.statement.as_ref().and_then(|s| s.serial),
            trust,
        )
    }
}

/// A verdict's chain certificates as PEM (slot attestation, f9), for records.
pub fn chain_pem(attestation_der: &[u8], f9_der: Option<&[u8]>) -> String {
    let mut pem = super::x509::pem(attestation_der);
    if let Some(f9) = f9_der {
        pem.push_str(&super::x509::pem(f9));
    }
    pem
}

/// Re-checks an attestation kept as PEM (slot attestation first, then f9),
/// e.g. from a transcript, against `trust`, for the key given.
pub fn verify_pem(
    pem: &str,
    public_key: Option<&[u8]>,
    serial: Option<u32>,
    trust: &TrustStore,
) -> Verdict {
    let ders = match pem_certificates(pem) {
        Ok(d) => d,
        Err(e) => return Verdict::failed(e, None, vec![]),
    };
    let Some(att) = ders.first() else {
        return Verdict::failed("no attestation certificate kept", None, vec![]);
    };
    verify(
        att,
        ders.get(1).map(Vec::as_slice),
        &Expected { public_key, serial },
        trust,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_certificates_match_their_pins() {
        // Fails if a bundled certificate changes: each file holds one
        // certificate whose SHA-256 is the one written here and in
        // assets/yubico/README.md.
        let readme = include_str!("../../assets/yubico/README.md");
        for b in BUNDLED {
            let ders = pem_certificates(b.pem).expect("pem");
            assert_eq!(ders.len(), 1, "{}", b.file);
            assert_eq!(fingerprint(&ders[0]), b.sha256, "{} changed", b.file);
            assert!(readme.contains(b.sha256), "{} not pinned in README", b.file);
            assert!(
                readme.contains(b.file),
                "{} not described in README",
                b.file
            );
        }
        let store = TrustStore::yubico();
        assert_eq!(store.roots.len(), 2);
        assert_eq!(store.intermediates.len(), 4);
        assert!(!store.has_test_roots());
    }

    #[test]
    fn bundled_intermediates_chain_to_root_1() {
        let store = TrustStore::yubico();
        for c in &store.intermediates {
            let issuer = store
                .intermediates
                .iter()
                .chain(&store.roots)
                .find(|i| i.subject() == c.issuer())
                .expect("issuer bundled");
            signed_by(c, issuer).expect("signature");
            assert!(c.is_ca());
        }
        for r in &store.roots {
            assert!(r.self_signed(), "{}", r.label);
        }
    }

    fn real(dir: &str, slot: &str) -> (Vec<u8>, Vec<u8>) {
        let base = format!(
            "{}/tests/data/piv-attestation/{dir}",
            env!("CARGO_MANIFEST_DIR")
        );
        let read = |f: &str| {
            let text = std::fs::read_to_string(format!("{base}/{f}")).expect("test data");
            pem_certificates(&text).expect("pem").remove(0)
        };
        (
            read(&format!("slot-{slot}-attestation.pem")),
            read("slot-f9.pem"),
        )
    }

    #[test]
    fn real_yubikey_chains_verify_and_a_flipped_byte_does_not() {
        let trust = TrustStore::yubico();
        for (dir, slot, serial) in [
            ("docker-tuf-25515003", "9c", Some(25_515_003)),
            ("docker-tuf-25515137", "9c", Some(25_515_137)),
            ("piv-go-valid-chain", "9a", None),
        ] {
            let (att, f9) = real(dir, slot);
            let v = verify(
                &att,
                Some(&f9),
                &Expected {
                    public_key: None,
                    serial,
                },
                &trust,
            );
            assert!(v.verified, "{dir}: {}", v.summary);
            assert!(!v.test_root);
            assert_eq!(v.chain.len(), 3, "{dir}");
            assert!(
                v.summary.contains("Yubico PIV Root CA Serial 263751"),
                "{}",
                v.summary
            );
            let st = v.statement.expect("statement");
            assert!(st.firmware.is_some() && st.pin_policy.is_some() && st.touch_policy.is_some());
            // A flipped byte in the signed part of either certificate breaks the chain.
            for which in 0..2 {
                let (mut a, mut f) = (att.clone(), f9.clone());
                let target = if which == 0 { &mut a } else { &mut f };
                let i = target.len() / 2;
                target[i] ^= 0x01;
                let v = verify(&a, Some(&f), &Expected::default(), &trust);
                assert!(!v.verified, "{dir}: flipped byte in cert {which} verified");
            }
        }
        // A wrong serial or a foreign f9 is refused.
        let (att, f9) = real("docker-tuf-25515003", "9c");
        let v = verify(
            &att,
            Some(&f9),
            &Expected {
                public_key: None,
                serial: Some(1),
            },
            &trust,
        );
        assert!(!v.verified && v.summary.contains("serial"), "{}", v.summary);
        let (other, _) = real("piv-go-valid-chain", "9a");
        let v = verify(&other, Some(&f9), &Expected::default(), &trust);
        assert!(!v.verified, "{}", v.summary);
        // The 2018 chain under the U2F root is not accepted (root not bundled).
        let (att, f9) = real("piv-go-valid-chain-2018", "9a");
        assert!(!verify(&att, Some(&f9), &Expected::default(), &trust).verified);
    }

    #[test]
    fn a_real_firmware_5_7_4_ed25519_chain_verifies_through_the_2024_pki() {
        // A YubiKey 5 FIPS on firmware 5.7.4, Ed25519 key in slot 9c: the
        // 2024 PKI (f9 "Yubico PIV Attestation" → PIV Attestation B 1 →
        // Attestation Intermediate B 1 → Attestation Root 1). Source in
        // tests/data/piv-attestation/README.md.
        let trust = TrustStore::yubico();
        let (att, f9) = real("ciris-a1-fw574", "9c");
        let key = crate::tka::hex::decode(
            "1ccc40eca960c149f9a16425b9f07869e168b939851ac4c82cda617b41372a53",
        )
        .expect("hex");
        let v = verify(
            &att,
            Some(&f9),
            &Expected {
                public_key: Some(&key),
                serial: Some(38_165_850),
            },
            &trust,
        );
        assert!(v.verified, "{}", v.summary);
        assert!(!v.test_root);
        assert!(
            v.summary.contains("Yubico Attestation Root 1"),
            "{}",
            v.summary
        );
        assert_eq!(v.chain.len(), 5, "{}", v.summary);
        let st = v.statement.expect("statement");
        assert_eq!(st.serial, Some(38_165_850));
        assert_eq!(st.firmware.as_deref(), Some("5.7.4"));
        assert_eq!(st.public_key, crate::tka::hex::lower(&key));
        // The wrong key or a flipped byte in either certificate fails.
        let other = [0u8; 32];
        let wrong = Expected {
            public_key: Some(&other),
            serial: None,
        };
        assert!(!verify(&att, Some(&f9), &wrong, &trust).verified);
        for which in 0..2 {
            let (mut a, mut f) = (att.clone(), f9.clone());
            let target = if which == 0 { &mut a } else { &mut f };
            let i = target.len() / 2;
            target[i] ^= 0x01;
            assert!(
                !verify(&a, Some(&f), &Expected::default(), &trust).verified,
                "flipped byte in cert {which} verified"
            );
        }
    }

    #[test]
    fn names_of_policies_and_form_factors() {
        assert_eq!(pin_policy_name(3), "always");
        assert_eq!(touch_policy_name(3), "cached");
        assert_eq!(form_factor_name(0x83), "USB-C keychain (0x83), FIPS");
        assert!(pin_policy_rank("always") > pin_policy_rank("once"));
        assert!(touch_policy_rank("cached") > touch_policy_rank("never"));
    }

    #[test]
    fn pem_errors() {
        assert!(pem_certificates("-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
        assert!(
            pem_certificates("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
        assert_eq!(pem_certificates("nothing").expect("ok").len(), 0);
    }
}
