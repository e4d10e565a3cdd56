//! Typed errors of the exchange layer. Every message says what was wrong,
//! in which input, and what to do next. Input names (file names, frame
//! names) are [`Untrusted`]: a message shows them only escaped.

use std::path::PathBuf;

use crate::shown::Untrusted;

/// Everything that can go wrong while wrapping, reading, rendering or
/// decoding an artifact that crosses the air gap.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{input}: not a locksmith exchange envelope ({reason}); pass the artifact in one of its raw forms or as an envelope written by `locksmith exchange encode`")]
    NotAnEnvelope { input: Untrusted, reason: String },

    #[error("{input}: envelope version {found} is newer than this locksmith understands (it reads version {supported}); upgrade locksmith on this machine")]
    UnsupportedVersion {
        input: Untrusted,
        found: u64,
        supported: u64,
    },

    #[error("{input}: envelope checksum mismatch (the data was damaged in transit); export it again or rescan the QR code")]
    ChecksumMismatch { input: Untrusted },

    #[error(
        "{input}: unknown artifact kind {kind:?}; it was probably written by a newer locksmith"
    )]
    UnknownKind { input: Untrusted, kind: String },

    #[error("{input}: {reason}")]
    InvalidEnvelopeField { input: Untrusted, reason: String },

    #[error("{input}: unrecognised input form ({reason}); expected a locksmith envelope, uppercase/lowercase hex, base64 (standard or URL alphabet, with or without padding), raw CBOR, upstream JSON, a UR (`ur:...`) or a QR image")]
    UnrecognisedForm { input: Untrusted, reason: String },

    #[error("{input}: a `ur:{ur_type}` code, a UR type locksmith does not read; it reads ur:locksmith (its envelope, from `locksmith exchange encode`) and ur:bytes (a CBOR byte string holding the artifact)")]
    UnsupportedUrType { input: Untrusted, ur_type: String },

    #[error("{input}: empty input; nothing to read")]
    EmptyInput { input: Untrusted },

    #[error(
        "{input}: input is {size} bytes, over the {limit}-byte limit for an exchanged artifact"
    )]
    TooLarge {
        input: Untrusted,
        size: u64,
        limit: u64,
    },

    #[error("{input}: expected a {expected} artifact but found a {found} artifact")]
    WrongKind {
        input: Untrusted,
        expected: String,
        found: String,
    },

    #[error("cannot render a QR code: {reason}")]
    QrEncode { reason: String },

    #[error("{input}: no QR code found in the image; make sure the whole code is in the picture, in focus and evenly lit, then retake it")]
    QrNotFound { input: Untrusted },

    #[error("{input}: cannot read the image ({reason}); locksmith reads PNG, JPEG and GIF files")]
    ImageRead { input: Untrusted, reason: String },

    #[error("{input}: refused: {reason}; this is not a QR image locksmith wrote or a camera took (take a smaller photo, or crop it to the code)")]
    ImageTooLarge { input: Untrusted, reason: String },

    #[error("{input}: {reason}")]
    OverLimit { input: Untrusted, reason: String },

    #[error("{input}: not a part of a multi-part sequence ({reason})")]
    BadPart { input: Untrusted, reason: String },

    #[error("two different codes: {first} holds {first_is} and {second} holds {second_is}; locksmith reads one artifact at a time: cover or crop away the code you do not mean, or decode them separately")]
    TwoArtifacts {
        first: Untrusted,
        first_is: String,
        second: Untrusted,
        second_is: String,
    },

    #[error("{input}: frames of different multi-part sequences, none complete; decode one sequence at a time")]
    MixedSequences { input: Untrusted },

    #[error("multi-part payload incomplete: {resolved}/{total} parts recovered from {received} frames; capture more frames (an animated code repeats with fresh parts) or rescan the missing numbered pages")]
    Incomplete {
        resolved: usize,
        total: usize,
        received: usize,
    },

    #[error(
        "{input}: the reassembled multi-part payload failed its checksum; rescan the sequence"
    )]
    ReassemblyFailed { input: Untrusted },

    #[error("{}: refusing to overwrite an existing file; pass --force to replace it", crate::shown::path(.path))]
    WouldOverwrite { path: PathBuf },

    #[error("{}: {action} failed: {cause}", crate::shown::path(.path))]
    Io {
        path: PathBuf,
        action: &'static str,
        cause: std::io::Error,
    },

    #[error("{input}: no such file or directory, and not an artifact given inline (envelope, hex, base64, JSON, UR or an upstream text form); check the path")]
    NoSuchInput { input: Untrusted },

    #[error("{given} is not a {what}; use one of: {}", .expected.join(", "))]
    UnknownName {
        what: &'static str,
        given: Untrusted,
        expected: Vec<&'static str>,
    },
}

impl ExchangeError {
    /// An I/O error on `path` while doing `action` ("read", "write", ...).
    pub fn io(path: impl Into<PathBuf>, action: &'static str, cause: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            action,
            cause,
        }
    }
}

/// Result alias of the exchange layer.
pub type Result<T, E = ExchangeError> = std::result::Result<T, E>;

impl From<crate::output::OutputError> for ExchangeError {
    fn from(e: crate::output::OutputError) -> Self {
        match e {
            crate::output::OutputError::Exists(path) => {
                ExchangeError::WouldOverwrite { path: path.into() }
            }
            crate::output::OutputError::Io {
                path,
                action,
                source,
            } => ExchangeError::io(path, action, source),
        }
    }
}
