//! Just enough X.509 for PIV: build Ed25519-signed certificates (the
//! self-signed certificate written on generation, and the test CA of the
//! virtual card), read certificates, and check a PIV attestation.
//!
//! Certificates are built by hand in DER: the `x509-cert` builder wants a
//! signer type, while here the signature comes from a token (or a test CA)
//! through a closure, and must be verified before the certificate is used.

use der::Decode;
use der::Encode;

/// DER OID of id-Ed25519 (1.3.101.112), contents only.
pub const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// Yubico PIV attestation extension: firmware version (1.3.6.1.4.1.41482.3.3).
pub const OID_YUBICO_FIRMWARE: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xc4, 0x0a, 0x03, 0x03];
/// Yubico PIV attestation extension: serial number (…3.7).
pub const OID_YUBICO_SERIAL: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xc4, 0x0a, 0x03, 0x07];
/// Yubico PIV attestation extension: PIN and touch policy (…3.8).
pub const OID_YUBICO_POLICY: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xc4, 0x0a, 0x03, 0x08];
/// Yubico PIV attestation extension: form factor (…3.9).
pub const OID_YUBICO_FORM_FACTOR: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xc4, 0x0a, 0x03, 0x09];
/// basicConstraints (2.5.29.19).
pub const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];

/// A DER TLV with a definite length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0x81, n as u8]);
    } else if n <= 0xffff {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    } else {
        out.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn name(common_name: &str) -> Vec<u8> {
    // Name ::= SEQUENCE OF SET OF AttributeTypeAndValue; CN = 2.5.4.3, UTF8String.
    let atv = seq(&[
        &tlv(0x06, &[0x55, 0x04, 0x03]),
        &tlv(0x0c, common_name.as_bytes()),
    ]);
    seq(&[&tlv(0x31, &atv)])
}

fn positive_integer(bytes: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if v.is_empty() || v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    tlv(0x02, &v)
}

/// An X.509 extension to put in a certificate.
#[derive(Clone, Debug)]
pub struct Extension {
    /// OID contents (no tag/length).
    pub oid: Vec<u8>,
    /// Critical flag.
    pub critical: bool,
    /// The extnValue contents (DER of the extension's value).
    pub value: Vec<u8>,
}

/// What goes into an Ed25519-signed certificate.
#[derive(Clone, Debug)]
pub struct CertificateRequest {
    /// Serial number bytes (big-endian, made positive).
    pub serial: Vec<u8>,
    /// Issuer common name.
    pub issuer_cn: String,
    /// Subject common name.
    pub subject_cn: String,
    /// notBefore as seconds since the Unix epoch.
    pub not_before_unix: u64,
    /// The subject's Ed25519 public key.
    pub subject_public_key: [u8; 32],
    /// Extensions.
    pub extensions: Vec<Extension>,
}

/// The DER of an Ed25519 SubjectPublicKeyInfo.
pub fn ed25519_spki(public: &[u8; 32]) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(public);
    seq(&[&seq(&[&tlv(0x06, OID_ED25519)]), &tlv(0x03, &bits)])
}

/// UTCTime (before 2050) or GeneralizedTime for a Unix time.
pub fn der_time(unix: u64) -> Vec<u8> {
    let days = (unix / 86400) as i64;
    let secs = unix % 86400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if (1950..2050).contains(&year) {
        tlv(
            0x17,
            format!("{:02}{month:02}{day:02}{h:02}{m:02}{s:02}Z", year % 100).as_bytes(),
        )
    } else {
        tlv(
            0x18,
            format!("{year:04}{month:02}{day:02}{h:02}{m:02}{s:02}Z").as_bytes(),
        )
    }
}

/// The DER of the TBSCertificate for `req`.
pub fn tbs_certificate(req: &CertificateRequest) -> Vec<u8> {
    let alg = seq(&[&tlv(0x06, OID_ED25519)]);
    // RFC 5280 4.1.2.5: 99991231235959Z for "no well-defined expiration".
    let validity = seq(&[
        &der_time(req.not_before_unix),
        &tlv(0x18, b"99991231235959Z"),
    ]);
    let mut parts: Vec<Vec<u8>> = vec![
        tlv(0xa0, &tlv(0x02, &[0x02])),
        positive_integer(&req.serial),
        alg,
        name(&req.issuer_cn),
        validity,
        name(&req.subject_cn),
        ed25519_spki(&req.subject_public_key),
    ];
    if !req.extensions.is_empty() {
        let exts: Vec<Vec<u8>> = req
            .extensions
            .iter()
            .map(|e| {
                let mut inner = tlv(0x06, &e.oid);
                if e.critical {
                    inner.extend_from_slice(&tlv(0x01, &[0xff]));
                }
                inner.extend_from_slice(&tlv(0x04, &e.value));
                tlv(0x30, &inner)
            })
            .collect();
        parts.push(tlv(0xa3, &tlv(0x30, &exts.concat())));
    }
    tlv(0x30, &parts.concat())
}

/// Builds a certificate, signing the TBS with `sign` (pure Ed25519).
pub fn ed25519_certificate<E>(
    req: &CertificateRequest,
    sign: impl FnOnce(&[u8]) -> Result<[u8; 64], E>,
) -> Result<Vec<u8>, E> {
    let tbs = tbs_certificate(req);
    let sig = sign(&tbs)?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(&sig);
    Ok(seq(&[
        &tbs,
        &seq(&[&tlv(0x06, OID_ED25519)]),
        &tlv(0x03, &bits),
    ]))
}

/// PEM armour for a DER certificate.
pub fn pem(der: &[u8]) -> String {
    let b64 = data_encoding::BASE64.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The facts locksmith reads from a certificate.
#[derive(Clone, Debug)]
pub struct ParsedCertificate {
    /// Subject as text.
    pub subject: String,
    /// Issuer as text.
    pub issuer: String,
    /// The subject public key algorithm OID (dotted).
    pub key_algorithm: String,
    /// The subject public key bits.
    pub public_key: Vec<u8>,
    /// The signature algorithm OID (dotted).
    pub signature_algorithm: String,
    /// The signature bits.
    pub signature: Vec<u8>,
    /// DER of the TBSCertificate (what the signature covers).
    pub tbs_der: Vec<u8>,
    /// Extensions: (dotted OID, value bytes).
    pub extensions: Vec<(String, Vec<u8>)>,
}

impl ParsedCertificate {
    /// The subject key as an Ed25519 public key, if it is one.
    pub fn ed25519_public_key(&self) -> Option<[u8; 32]> {
        if self.key_algorithm != "1.3.101.112" {
            return None;
        }
        self.public_key.as_slice().try_into().ok()
    }

    /// An extension's value by dotted OID.
    pub fn extension(&self, oid: &str) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, v)| v.as_slice())
    }

    /// True when `issuer_key` (Ed25519) signed this certificate.
    pub fn signed_by_ed25519(&self, issuer_key: &[u8; 32]) -> bool {
        if self.signature_algorithm != "1.3.101.112" {
            return false;
        }
        let Ok(sig) = <[u8; 64]>::try_from(self.signature.as_slice()) else {
            return false;
        };
        let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(issuer_key) else {
            return false;
        };
        vk.verify_strict(&self.tbs_der, &ed25519_dalek::Signature::from_bytes(&sig))
            .is_ok()
    }
}

/// Parses a DER certificate.
pub fn parse_certificate(der_bytes: &[u8]) -> Result<ParsedCertificate, String> {
    let cert = x509_cert::Certificate::from_der(der_bytes)
        .map_err(|e| format!("not a DER X.509 certificate: {e}"))?;
    let tbs = cert.tbs_certificate();
    let spki = tbs.subject_public_key_info();
    let extensions = tbs
        .extensions()
        .map(|exts| {
            exts.iter()
                .map(|e| (e.extn_id.to_string(), e.extn_value.as_bytes().to_vec()))
                .collect()
        })
        .unwrap_or_default();
    Ok(ParsedCertificate {
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        key_algorithm: spki.algorithm.oid.to_string(),
        public_key: spki.subject_public_key.raw_bytes().to_vec(),
        signature_algorithm: cert.signature_algorithm().oid.to_string(),
        signature: cert.signature().raw_bytes().to_vec(),
        tbs_der: tbs
            .to_der()
            .map_err(|e| format!("cannot re-encode the certificate: {e}"))?,
        extensions,
    })
}

/// The outcome of checking a PIV attestation.
#[derive(Clone, Debug)]
pub struct AttestationVerdict {
    /// True when the attestation proves the key was generated on this card.
    pub verified: bool,
    /// One-line explanation.
    pub summary: String,
    /// The attestation's issuer chain, as text (slot cert issuer, f9 cert issuer).
    pub chain: Vec<String>,
}

/// Checks a slot attestation certificate against the card's attestation
/// (slot f9) certificate and the slot's public key and card serial.
///
/// Checked: the attested key equals `slot_public`; the serial extension
/// equals `serial`; the attestation is signed by the f9 key. Signatures
/// other than Ed25519 (real YubiKeys sign with RSA or ECDSA) are reported as
/// not checked here; the f9 certificate's own chain to the vendor root is
/// reported, not verified (locksmith ships no vendor roots).
pub fn check_attestation(
    attestation_der: &[u8],
    f9_der: Option<&[u8]>,
    slot_public: &[u8; 32],
    serial: u32,
) -> AttestationVerdict {
    let fail = |s: String, chain: Vec<String>| AttestationVerdict {
        verified: false,
        summary: s,
        chain,
    };
    let att = match parse_certificate(attestation_der) {
        Ok(c) => c,
        Err(e) => return fail(format!("attestation unreadable: {e}"), vec![]),
    };
    let mut chain = vec![format!(
        "attestation: subject {}, issuer {}",
        att.subject, att.issuer
    )];
    if att.ed25519_public_key().as_ref() != Some(slot_public) {
        return fail(
            "attestation is for a different key than the one in the slot".into(),
            chain,
        );
    }
    if let Some(v) = att.extension("1.3.6.1.4.1.41482.3.7") {
        match u32::from_der(v) {
            Ok(s) if s == serial => {}
            Ok(s) => {
                return fail(
                    format!("attestation names card serial {s}, not {serial}"),
                    chain,
                )
            }
            Err(_) => return fail("attestation serial extension unreadable".into(), chain),
        }
    }
    let Some(f9) = f9_der else {
        return fail(
            "the card's attestation certificate (slot f9) is missing".into(),
            chain,
        );
    };
    let f9 = match parse_certificate(f9) {
        Ok(c) => c,
        Err(e) => return fail(format!("slot f9 certificate unreadable: {e}"), chain),
    };
    chain.push(format!(
        "device attestation (f9): subject {}, issuer {}",
        f9.subject, f9.issuer
    ));
    if att.signature_algorithm == "1.3.101.112" {
        match f9.ed25519_public_key() {
            Some(k) if att.signed_by_ed25519(&k) => AttestationVerdict {
                verified: true,
                summary: format!(
                    "key generated on the card: attestation signed by the card's attestation key \
                     (issued by {}); the chain to that root is not checked by locksmith",
                    f9.issuer
                ),
                chain,
            },
            _ => fail(
                "attestation signature does NOT verify against the card's f9 key".into(),
                chain,
            ),
        }
    } else {
        fail(
            format!(
                "attestation signed with {} (not checked by locksmith); verify it with the vendor's \
                 tools and root CA",
                att.signature_algorithm
            ),
            chain,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;

    #[test]
    fn builds_and_parses_a_self_signed_certificate() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let public = key.verifying_key().to_bytes();
        let req = CertificateRequest {
            serial: vec![0x81, 2, 3],
            issuer_cn: "test".into(),
            subject_cn: "test".into(),
            not_before_unix: 1_795_000_000,
            subject_public_key: public,
            extensions: vec![Extension {
                oid: OID_YUBICO_SERIAL.to_vec(),
                critical: false,
                value: vec![2, 1, 5],
            }],
        };
        let der = ed25519_certificate(&req, |tbs| Ok::<_, ()>(key.sign(tbs).to_bytes())).unwrap();
        let parsed = parse_certificate(&der).unwrap();
        assert_eq!(parsed.ed25519_public_key(), Some(public));
        assert!(parsed.signed_by_ed25519(&public));
        assert_eq!(parsed.subject, "CN=test");
        assert_eq!(
            parsed.extension("1.3.6.1.4.1.41482.3.7"),
            Some(&[2u8, 1, 5][..])
        );
        assert!(pem(&der).starts_with("-----BEGIN CERTIFICATE-----\n"));
    }

    #[test]
    fn times() {
        assert_eq!(der_time(0), tlv(0x17, b"700101000000Z"));
        assert_eq!(der_time(1_795_433_632), tlv(0x17, b"261123113352Z"));
        assert_eq!(der_time(2_524_608_000), tlv(0x18, b"20500101000000Z"));
    }
}
