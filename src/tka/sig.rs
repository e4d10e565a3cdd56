//! Ed25519 verification with upstream's two sets of rules.
//!
//! Compatibility rule: upstream verifies AUM signatures and direct and
//! credential node-key signatures with `ed25519consensus` (ZIP-215: the
//! cofactored equation, non-canonical R and A accepted, S < L required), but
//! the outer signature of a rotation node-key signature with Go's
//! `crypto/ed25519` (the cofactorless equation, R compared by its encoding,
//! S < L, non-canonical A accepted). A key made of small-order points can
//! forge a signature that one accepts and the other rejects, so each call
//! site must use the verifier upstream uses there.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

/// ZIP-215 verification (`ed25519consensus.Verify`).
pub fn verify_zip215(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(public), Ok(signature)) = (<[u8; 32]>::try_from(public), <[u8; 64]>::try_from(signature)) else {
        return false;
    };
    let Ok(key) = ed25519_consensus::VerificationKey::try_from(public) else {
        return false;
    };
    key.verify(&ed25519_consensus::Signature::from(signature), message).is_ok()
}

/// Go `crypto/ed25519.Verify` semantics.
pub fn verify_go_std(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(public), Ok(signature)) = (<[u8; 32]>::try_from(public), <[u8; 64]>::try_from(signature)) else {
        return false;
    };
    if signature[63] & 0xe0 != 0 {
        return false;
    }
    let Some(a) = CompressedEdwardsY(public).decompress() else {
        return false;
    };
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&signature[32..]);
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
        return false;
    };
    let mut h = Sha512::new();
    h.update(&signature[..32]);
    h.update(public);
    h.update(message);
    let k = Scalar::from_hash(h);
    let r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &(-a), &s);
    r.compress().to_bytes()[..] == signature[..32]
}
