//! Multi-part payloads: fountain-coded parts in Blockchain Commons'
//! Uniform Resource format (`ur:locksmith/SEQ-COUNT/...`, bytewords), via
//! the `ur` crate (0.5.2 or later, which verifies the message checksum).
//!
//! - Animated sequences: the first COUNT parts are the plain fragments in
//!   order, every later part XORs a pseudo-random subset of them, so a
//!   camera that misses frames still completes once it has seen a few more
//!   parts than there are fragments.
//! - Numbered static frames (paper): the COUNT plain fragments, each one
//!   printed with "part i of COUNT".
//!
//! Parts are emitted in uppercase so that the QR code uses alphanumeric mode.

use super::error::{ExchangeError, Result};

/// The UR type carrying a locksmith envelope.
pub const UR_TYPE: &str = "locksmith";
/// Refuse sequences claiming more parts than this (hostile input guard).
pub const MAX_PARTS: usize = 16_384;

/// Splits `message` into fountain parts of at most `fragment_len` bytes and
/// returns the first `count` parts, uppercase. With `count` equal to
/// [`fragment_count`] these are exactly the plain, numbered fragments.
pub fn encode_parts(message: &[u8], fragment_len: usize, count: usize) -> Result<Vec<String>> {
    let mut encoder = ur::Encoder::new(message, fragment_len.max(1), UR_TYPE).map_err(|e| {
        ExchangeError::QrEncode {
            reason: format!("cannot split the payload into parts: {e}"),
        }
    })?;
    let mut parts = Vec::with_capacity(count);
    for _ in 0..count {
        let part = encoder.next_part().map_err(|e| ExchangeError::QrEncode {
            reason: format!("cannot encode a part: {e}"),
        })?;
        parts.push(part.to_ascii_uppercase());
    }
    Ok(parts)
}

/// How many plain fragments `message_len` bytes make at `fragment_len`.
pub fn fragment_count(message_len: usize, fragment_len: usize) -> usize {
    let fragment_len = fragment_len.max(1);
    // The ur encoder balances fragment sizes: ceil(len / max) fragments.
    message_len.div_ceil(fragment_len).max(1)
}

/// Encodes `message` as one single-part UR, uppercase.
pub fn encode_single(message: &[u8]) -> Result<String> {
    ur::ur::try_encode(message, &ur::Type::Custom(UR_TYPE))
        .map(|s| s.to_ascii_uppercase())
        .map_err(|e| ExchangeError::QrEncode {
            reason: format!("cannot encode the UR: {e}"),
        })
}

/// Whether `text` looks like a part of a multi-part UR (`ur:type/i-n/...`).
pub fn is_multipart_ur(text: &str) -> bool {
    parse_indices(text).is_some()
}

fn parse_indices(text: &str) -> Option<(usize, usize)> {
    let lower = text.trim();
    let rest = lower
        .get(..3)?
        .eq_ignore_ascii_case("ur:")
        .then(|| &lower[3..])?;
    let mut fields = rest.split('/');
    let _type = fields.next()?;
    let indices = fields.next()?;
    fields.next()?; // a body must follow
    let (i, n) = indices.split_once('-')?;
    Some((i.parse().ok()?, n.parse().ok()?))
}

/// Decodes a single-part UR to its message bytes.
pub fn decode_single_ur(text: &str, input: &str) -> Result<Vec<u8>> {
    if is_multipart_ur(text) {
        return Err(ExchangeError::BadPart {
            input: input.into(),
            reason: "this is one part of a multi-part sequence; pass all the parts (images or a directory) together".into(),
        });
    }
    let (_, bytes) = ur::ur::decode(text.trim()).map_err(|e| ExchangeError::UnrecognisedForm {
        input: input.into(),
        reason: format!("malformed UR: {e}"),
    })?;
    Ok(bytes)
}

/// Progress of a reassembly: how many of the plain fragments are recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Plain fragments recovered so far.
    pub resolved: usize,
    /// Plain fragments in the message (0 until the first part arrives).
    pub total: usize,
    /// Distinct parts received.
    pub received: usize,
    /// Parts seen again (duplicates).
    pub duplicates: usize,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} parts", self.resolved, self.total)?;
        if self.received > self.resolved || self.duplicates > 0 {
            write!(
                f,
                " ({} frames read, {} duplicates)",
                self.received, self.duplicates
            )?;
        }
        Ok(())
    }
}

/// Collects multi-part frames in any order, with duplicates and losses,
/// until the message is complete.
#[derive(Default)]
pub struct Reassembler {
    decoder: ur::Decoder,
    seen: std::collections::HashSet<String>,
    total: usize,
    received: usize,
    duplicates: usize,
}

impl Reassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one part (text of one QR frame). `input` names the frame.
    pub fn push(&mut self, part: &str, input: &str) -> Result<Progress> {
        let part = part.trim();
        let (seq, count) = parse_indices(part).ok_or_else(|| ExchangeError::BadPart {
            input: input.into(),
            reason: "expected `ur:TYPE/SEQ-COUNT/BODY`".into(),
        })?;
        if count == 0 || count > MAX_PARTS || seq == 0 {
            return Err(ExchangeError::BadPart {
                input: input.into(),
                reason: format!(
                    "part {seq} of {count} is out of range (at most {MAX_PARTS} parts)"
                ),
            });
        }
        if self.total != 0 && count != self.total {
            return Err(ExchangeError::MixedSequences {
                input: input.into(),
            });
        }
        let key = part.to_ascii_lowercase();
        if self.seen.contains(&key) {
            self.duplicates += 1;
            return Ok(self.progress());
        }
        if self.decoder.complete() {
            self.duplicates += 1;
            return Ok(self.progress());
        }
        self.decoder.receive(&key).map_err(|e| match e {
            ur::ur::Error::Fountain(ur::fountain::Error::InconsistentPart)
            | ur::ur::Error::UnexpectedType => ExchangeError::MixedSequences {
                input: input.into(),
            },
            other => ExchangeError::BadPart {
                input: input.into(),
                reason: other.to_string(),
            },
        })?;
        self.seen.insert(key);
        self.total = count;
        self.received += 1;
        Ok(self.progress())
    }

    /// Current progress.
    pub fn progress(&self) -> Progress {
        Progress {
            resolved: self.decoder.resolved_fragment_count().unwrap_or(0),
            total: self.total,
            received: self.received,
            duplicates: self.duplicates,
        }
    }

    /// Whether every fragment is recovered.
    pub fn is_complete(&self) -> bool {
        self.decoder.complete()
    }

    /// The UR type of the sequence ("locksmith" or another tool's type).
    pub fn ur_type(&self) -> Option<&str> {
        self.decoder.ur_type()
    }

    /// The reassembled message, checked against the sequence's CRC-32.
    pub fn finish(&self, input: &str) -> Result<Vec<u8>> {
        let progress = self.progress();
        if !self.is_complete() {
            return Err(ExchangeError::Incomplete {
                resolved: progress.resolved,
                total: progress.total,
                received: progress.received,
            });
        }
        match self.decoder.message() {
            Ok(Some(message)) => Ok(message),
            _ => Err(ExchangeError::ReassemblyFailed {
                input: input.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_reassemble_in_any_order_with_duplicates() {
        let message: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let n = fragment_count(message.len(), 100);
        let parts = encode_parts(&message, 100, n).unwrap();
        assert_eq!(parts.len(), n);
        assert!(parts[0].starts_with(&format!("UR:LOCKSMITH/1-{n}/")));
        let mut r = Reassembler::new();
        for p in parts.iter().rev().chain(parts.iter()) {
            r.push(p, "t").unwrap();
        }
        assert!(r.is_complete());
        assert_eq!(r.finish("t").unwrap(), message);
        assert_eq!(r.progress().duplicates, n);
    }

    #[test]
    fn incomplete_and_mixed_are_errors() {
        let a = encode_parts(&[1u8; 300], 100, 3).unwrap();
        let b = encode_parts(&[2u8; 300], 100, 3).unwrap();
        let mut r = Reassembler::new();
        r.push(&a[0], "a0").unwrap();
        assert_eq!(r.progress().to_string(), "1/3 parts");
        assert!(matches!(
            r.push(&b[1], "b1"),
            Err(ExchangeError::MixedSequences { .. })
        ));
        assert!(matches!(
            r.finish("t"),
            Err(ExchangeError::Incomplete {
                resolved: 1,
                total: 3,
                ..
            })
        ));
        assert!(r.push("UR:LOCKSMITH/1-999999999/AE", "x").is_err());
        assert!(r.push("not a part", "x").is_err());
    }
}
