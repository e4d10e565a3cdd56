//! The core's error type.

use super::cbor::CborError;

/// Why the core rejected an artifact or an operation. Messages follow
/// upstream's wording where upstream has one, so that they can be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TkaError {
    /// The bytes are not a CBOR encoding of the expected structure.
    #[error("decoding CBOR: {0}")]
    Decode(#[from] CborError),
    /// The structure decoded but breaks a static rule (upstream's StaticValidate).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The key is not trusted by the authority (upstream's ErrNoSuchKey).
    #[error("key not found")]
    NoSuchKey,
    /// A state transition, chain or signature check failed.
    #[error("{0}")]
    Rejected(String),
}

impl TkaError {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        TkaError::Invalid(msg.into())
    }

    pub(crate) fn rejected(msg: impl Into<String>) -> Self {
        TkaError::Rejected(msg.into())
    }
}
