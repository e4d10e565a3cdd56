//! Just enough X.509 for PIV: build certificates with the `x509-cert`
//! builder (the self-signed certificate written on generation, and the
//! virtual card's test CA and attestations), and read certificates.
//! Attestation chains are verified in [`super::piv_attestation`].
//!
//! The builder signs through `signature::Signer`. A key on a card signs
//! through a closure instead, so [`ClosureSigner`] adapts one: it holds the
//! Ed25519 public key and calls the closure (a card round trip, whose
//! signature the closure verifies before returning it).

use der::Decode;
use der::Encode;
use std::cell::RefCell;
use std::str::FromStr;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};

/// id-Ed25519 (1.3.101.112).
pub const OID_ED25519: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.101.112");
/// Yubico PIV attestation extension: firmware version (1.3.6.1.4.1.41482.3.3).
pub const OID_YUBICO_FIRMWARE: &str = "1.3.6.1.4.1.41482.3.3";
/// Yubico PIV attestation extension: serial number (…3.7).
pub const OID_YUBICO_SERIAL: &str = "1.3.6.1.4.1.41482.3.7";
/// Yubico PIV attestation extension: PIN and touch policy (…3.8).
pub const OID_YUBICO_POLICY: &str = "1.3.6.1.4.1.41482.3.8";
/// Yubico PIV attestation extension: form factor (…3.9).
pub const OID_YUBICO_FORM_FACTOR: &str = "1.3.6.1.4.1.41482.3.9";
/// basicConstraints (2.5.29.19).
pub const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";

/// An X.509 extension to put in a certificate.
#[derive(Clone, Debug)]
pub struct Extension {
    /// Dotted OID.
    pub oid: &'static str,
    /// Critical flag.
    pub critical: bool,
    /// The extnValue contents (DER of the extension's value, or Yubico's raw bytes).
    pub value: Vec<u8>,
}

impl Extension {
    /// basicConstraints with cA true (critical).
    pub fn ca() -> Self {
        let bc = x509_cert::ext::pkix::BasicConstraints {
            ca: true,
            path_len_constraint: None,
        };
        Extension {
            oid: OID_BASIC_CONSTRAINTS,
            critical: true,
            // Encoding a two-field structure of booleans cannot fail.
            value: bc.to_der().unwrap_or_default(),
        }
    }
}

/// What goes into a certificate.
#[derive(Clone, Debug)]
pub struct CertificateRequest {
    /// Serial number bytes (big-endian; made positive).
    pub serial: Vec<u8>,
    /// Issuer common name.
    pub issuer_cn: String,
    /// Subject common name.
    pub subject_cn: String,
    /// notBefore as seconds since the Unix epoch (notAfter is 99991231235959Z,
    /// RFC 5280's "no well-defined expiration").
    pub not_before_unix: u64,
    /// The subject's public key.
    pub subject_public_key: SubjectPublicKeyInfoOwned,
    /// Extensions.
    pub extensions: Vec<Extension>,
}

/// The SubjectPublicKeyInfo of an Ed25519 key.
pub fn ed25519_spki(public: &[u8; 32]) -> der::Result<SubjectPublicKeyInfoOwned> {
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: OID_ED25519,
            parameters: None,
        },
        subject_public_key: der::asn1::BitString::from_bytes(public)?,
    })
}

/// `CN=<name>` with RFC 4514 escaping.
fn common_name(cn: &str) -> Result<x509_cert::name::Name, String> {
    let mut escaped = String::from("CN=");
    for (i, c) in cn.chars().enumerate() {
        let lead = i == 0 && (c == ' ' || c == '#');
        let trail = i + 1 == cn.chars().count() && c == ' ';
        if lead || trail || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    x509_cert::name::Name::from_str(&escaped).map_err(|e| format!("name {cn:?}: {e}"))
}

/// The builder profile: names and extensions exactly as requested.
struct Exact {
    issuer: x509_cert::name::Name,
    subject: x509_cert::name::Name,
    extensions: Vec<x509_cert::ext::Extension>,
}

impl x509_cert::builder::profile::BuilderProfile for Exact {
    fn get_issuer(&self, _subject: &x509_cert::name::Name) -> x509_cert::name::Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> x509_cert::name::Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _spk: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<x509_cert::ext::Extension>> {
        Ok(self.extensions.clone())
    }
}

fn positive_serial(bytes: &[u8]) -> Result<x509_cert::serial_number::SerialNumber, String> {
    let mut v: Vec<u8> = bytes
        .iter()
        .copied()
        .skip_while(|b| *b == 0)
        .take(19)
        .collect();
    if v.is_empty() {
        v.push(1);
    }
    if v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    x509_cert::serial_number::SerialNumber::new(&v).map_err(|e| format!("serial: {e}"))
}

/// Builds and signs a certificate with any `signature::Signer` the builder
/// accepts (ECDSA, RSA, or [`ClosureSigner`]).
pub fn build_certificate<S, Sig>(req: &CertificateRequest, signer: &S) -> Result<Vec<u8>, String>
where
    S: signature::Signer<Sig> + signature::Keypair + DynSignatureAlgorithmIdentifier,
    S::VerifyingKey: EncodePublicKey,
    Sig: SignatureBitStringEncoding,
{
    let not_before = x509_cert::time::Time::try_from(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(req.not_before_unix),
    )
    .map_err(|e| format!("notBefore: {e}"))?;
    let validity = x509_cert::time::Validity::new(not_before, x509_cert::time::Time::INFINITY);
    let extensions = req
        .extensions
        .iter()
        .map(|e| {
            Ok(x509_cert::ext::Extension {
                extn_id: der::asn1::ObjectIdentifier::new(e.oid)
                    .map_err(|err| format!("OID {}: {err}", e.oid))?,
                critical: e.critical,
                extn_value: der::asn1::OctetString::new(e.value.clone())
                    .map_err(|err| format!("extension {}: {err}", e.oid))?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let profile = Exact {
        issuer: common_name(&req.issuer_cn)?,
        subject: common_name(&req.subject_cn)?,
        extensions,
    };
    let builder = CertificateBuilder::new(
        profile,
        positive_serial(&req.serial)?,
        validity,
        req.subject_public_key.clone(),
    )
    .map_err(|e| e.to_string())?;
    let cert = builder.build::<S, Sig>(signer).map_err(|e| e.to_string())?;
    cert.to_der().map_err(|e| e.to_string())
}

/// An Ed25519 public key as the builder wants it (`EncodePublicKey`).
#[derive(Clone, Debug)]
pub struct Ed25519Public(pub [u8; 32]);

impl EncodePublicKey for Ed25519Public {
    fn to_public_key_der(&self) -> x509_cert::spki::Result<der::Document> {
        Ok(der::Document::encode_msg(&ed25519_spki(&self.0)?)?)
    }
}

/// A pure Ed25519 signature as a certificate's signature bits.
pub struct Ed25519Signature(pub [u8; 64]);

impl SignatureBitStringEncoding for Ed25519Signature {
    fn to_bitstring(&self) -> der::Result<der::asn1::BitString> {
        der::asn1::BitString::from_bytes(&self.0)
    }
}

/// Adapts a signing closure (a card, a test key) to `signature::Signer`
/// for the certificate builder. The closure's error is kept and returned
/// by [`ed25519_certificate`].
pub struct ClosureSigner<F, E> {
    public: [u8; 32],
    sign: RefCell<F>,
    error: RefCell<Option<E>>,
}

impl<F, E> signature::Keypair for ClosureSigner<F, E> {
    type VerifyingKey = Ed25519Public;
    fn verifying_key(&self) -> Ed25519Public {
        Ed25519Public(self.public)
    }
}

impl<F, E> DynSignatureAlgorithmIdentifier for ClosureSigner<F, E> {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: OID_ED25519,
            parameters: None,
        })
    }
}

impl<F, E> signature::Signer<Ed25519Signature> for ClosureSigner<F, E>
where
    F: FnMut(&[u8]) -> Result<[u8; 64], E>,
{
    fn try_sign(&self, msg: &[u8]) -> Result<Ed25519Signature, signature::Error> {
        let mut sign = self
            .sign
            .try_borrow_mut()
            .map_err(|_| signature::Error::new())?;
        match sign(msg) {
            Ok(sig) => Ok(Ed25519Signature(sig)),
            Err(e) => {
                *self.error.borrow_mut() = Some(e);
                Err(signature::Error::new())
            }
        }
    }
}

/// Builds a certificate for `req`, signed with pure Ed25519 by `sign` (the
/// issuer's key, whose public half is `issuer_public`).
/// The signer's own error comes back as it is; a request that cannot be
/// encoded is an [`super::Error::Certificate`].
pub fn ed25519_certificate(
    req: &CertificateRequest,
    issuer_public: [u8; 32],
    sign: impl FnMut(&[u8]) -> Result<[u8; 64], super::Error>,
) -> Result<Vec<u8>, super::Error> {
    let signer = ClosureSigner {
        public: issuer_public,
        sign: RefCell::new(sign),
        error: RefCell::new(None),
    };
    match build_certificate::<_, Ed25519Signature>(req, &signer) {
        Ok(der) => Ok(der),
        Err(e) => Err(match signer.error.into_inner() {
            Some(card) => card,
            None => super::Error::Certificate(e),
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;

    fn request(public: [u8; 32], cn: &str) -> CertificateRequest {
        CertificateRequest {
            serial: vec![0x81, 2, 3],
            issuer_cn: cn.into(),
            subject_cn: cn.into(),
            not_before_unix: 1_795_000_000,
            subject_public_key: ed25519_spki(&public).expect("spki"),
            extensions: vec![Extension {
                oid: OID_YUBICO_SERIAL,
                critical: false,
                value: vec![2, 1, 5],
            }],
        }
    }

    #[test]
    fn builds_and_parses_a_self_signed_certificate() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let public = key.verifying_key().to_bytes();
        let der = ed25519_certificate(&request(public, "a, b+c"), public, |tbs| {
            Ok(key.sign(tbs).to_bytes())
        })
        .expect("built");
        let parsed = parse_certificate(&der).expect("parsed");
        assert_eq!(parsed.ed25519_public_key(), Some(public));
        assert!(parsed.signed_by_ed25519(&public));
        assert_eq!(parsed.subject, "CN=a\\, b\\+c");
        assert_eq!(
            parsed.extension("1.3.6.1.4.1.41482.3.7"),
            Some(&[2u8, 1, 5][..])
        );
        assert!(pem(&der).starts_with("-----BEGIN CERTIFICATE-----\n"));
    }

    #[test]
    fn the_signers_error_comes_back() {
        let err = ed25519_certificate(&request([9; 32], "x"), [9; 32], |_| {
            Err(super::super::Error::Software("card gone".into()))
        })
        .expect_err("fails");
        assert!(matches!(err, super::super::Error::Software(ref m) if m == "card gone"));
    }
}
