//! Pre-auth keys wrapped with a Tailnet Lock credential.
//!
//! Format: `<authkey>--TL<base64(NKS)>-<base64(private key)>`, standard
//! base64 alphabet **without padding**, split at the first `--TL` and then
//! at the first `-`. The NKS is a credential whose wrapping key is a fresh
//! Ed25519 key; the private part is that key's 64-byte Go private key
//! (seed followed by public key). The node signs its own node key with it
//! as a rotation nesting the credential. A suffix that does not decode
//! leaves the key "not wrapped", as upstream treats it.

use super::error::Error;
use super::nks::NodeKeySignature;
use zeroize::Zeroizing;

/// A decoded wrapped auth key. The private key is zeroized on drop and
/// never shown by `Debug`.
pub struct WrappedAuthKey {
    /// The pre-auth key itself: a secret too, zeroized on drop.
    pub auth_key: Zeroizing<String>,
    pub credential: NodeKeySignature,
    pub credential_bytes: Vec<u8>,
    pub private: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for WrappedAuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedAuthKey")
            .field("credential", &self.credential)
            .field("private", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Why a `--TL` suffix did not decode (upstream logs these and treats the
/// key as unwrapped); carried by [`super::Error::Wrap`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WrapProblem {
    #[error("the auth key has no --TL suffix, so it carries no credential: give the wrapped key that `locksmith lock sign --credential` printed (tskey-auth-…--TL…-…)")]
    NotWrapped,
    #[error("the --TL suffix has no '-' between the credential and the private key")]
    NoDelimiter,
    #[error("the credential in the --TL suffix is not unpadded standard base64")]
    SignatureBase64,
    #[error("the private key in the --TL suffix is not unpadded standard base64")]
    PrivateBase64,
    #[error("the credential in the --TL suffix does not decode: {0}")]
    Signature(String),
}

/// Decodes a wrapped auth key (upstream's `DecodeWrappedAuthkey`).
pub fn decode(wrapped: &str) -> Result<WrappedAuthKey, Error> {
    let (auth_key, suffix) = wrapped.split_once("--TL").ok_or(WrapProblem::NotWrapped)?;
    let (sig_b64, priv_b64) = suffix.split_once('-').ok_or(WrapProblem::NoDelimiter)?;
    let credential_bytes = data_encoding::BASE64_NOPAD
        .decode(sig_b64.as_bytes())
        .map_err(|_| WrapProblem::SignatureBase64)?;
    let private = decode_secret(priv_b64.as_bytes()).ok_or(WrapProblem::PrivateBase64)?;
    let credential = NodeKeySignature::decode(&credential_bytes)
        .map_err(|e| WrapProblem::Signature(e.to_string()))?;
    Ok(WrappedAuthKey {
        auth_key: Zeroizing::new(auth_key.to_string()),
        credential,
        credential_bytes,
        private,
    })
}

/// Unpadded standard base64 of a secret, decoded into a zeroized buffer
/// of the final size (also zeroized when the input turns out invalid).
fn decode_secret(b64: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let b = data_encoding::BASE64_NOPAD;
    let mut out = Zeroizing::new(vec![0u8; b.decode_len(b64.len()).ok()?]);
    let len = b.decode_mut(b64, &mut out).ok()?;
    out.truncate(len);
    Some(out)
}

/// The `--TL…-…` suffix for a credential and its wrapping private key
/// (64 bytes: seed then public key). Built in one zeroized buffer sized up
/// front: the private key's base64 is never in a temporary string, and
/// the buffer never reallocates (which would leave a copy behind).
pub fn suffix(credential: &NodeKeySignature, private64: &[u8; 64]) -> Zeroizing<String> {
    let b = data_encoding::BASE64_NOPAD;
    let cred = credential.serialize();
    let len = 4 + b.encode_len(cred.len()) + 1 + b.encode_len(private64.len());
    let mut out = Zeroizing::new(String::with_capacity(len));
    out.push_str("--TL");
    b.encode_append(&cred, &mut out);
    out.push('-');
    b.encode_append(private64, &mut out);
    debug_assert_eq!(out.capacity(), len, "the suffix buffer reallocated");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tka::nks::SigKind;

    #[test]
    fn suffix_round_trips_in_a_buffer_that_never_grew() {
        let cred = NodeKeySignature {
            kind: SigKind::CREDENTIAL,
            key_id: Some(vec![1; 32]),
            wrapping_pubkey: Some(vec![2; 32]),
            signature: Some(vec![3; 64]),
            ..Default::default()
        };
        let private = [9u8; 64];
        let s = suffix(&cred, &private);
        assert_eq!(s.len(), s.capacity());
        let w = decode(&format!("tskey-auth-x{}", s.as_str())).unwrap();
        assert_eq!(&w.private[..], &private[..]);
        assert_eq!(w.credential_bytes, cred.serialize());
        assert!(!format!("{w:?}").contains(&data_encoding::BASE64_NOPAD.encode(&private)));
        assert!(!format!("{w:?}").contains("tskey-auth-x"));
        let bad = format!(
            "tskey-auth-x--TL{}-!!",
            data_encoding::BASE64_NOPAD.encode(&cred.serialize())
        );
        assert!(matches!(
            decode(&bad).unwrap_err(),
            Error::Wrap(WrapProblem::PrivateBase64)
        ));
    }
}
