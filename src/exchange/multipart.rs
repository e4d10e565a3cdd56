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
/// The standard UR type for plain bytes: the message is a CBOR byte
/// string (major type 2) holding the payload, as bc-ur's
/// `UR.fromBuffer` makes it.
pub const BYTES_UR_TYPE: &str = "bytes";
/// Refuse sequences claiming more parts than this (hostile input guard).
pub use crate::limits::MAX_PARTS;

/// The UR types locksmith reads, for messages.
pub const READ_UR_TYPES: &str =
    "ur:locksmith (its envelope), ur:bytes (a CBOR byte string holding the artifact) and ur:locksmith-spare (a spare page of a printed set)";

/// The type of a UR text (`ur:TYPE/...`), lowercase.
pub fn ur_type_of(text: &str) -> Option<String> {
    let t = text.trim();
    let rest = t.get(..3)?.eq_ignore_ascii_case("ur:").then(|| &t[3..])?;
    let (ty, _) = rest.split_once('/')?;
    Some(ty.to_ascii_lowercase())
}

/// Refuses UR types locksmith does not define, by name.
fn check_ur_type(ur_type: &str, input: &str) -> Result<()> {
    if ur_type == UR_TYPE || ur_type == BYTES_UR_TYPE {
        return Ok(());
    }
    let shown: String = crate::shown::escape(ur_type).chars().take(40).collect();
    Err(ExchangeError::UnsupportedUrType {
        input: input.into(),
        ur_type: shown,
    })
}

/// The artifact bytes a UR message of `ur_type` carries: a `ur:locksmith`
/// message as it is; a `ur:bytes` message is a CBOR byte string, unwrapped
/// to its content (anything else is refused: the bytes would not be the
/// artifact).
pub fn message_payload(ur_type: &str, message: Vec<u8>, input: &str) -> Result<Vec<u8>> {
    check_ur_type(ur_type, input)?;
    if ur_type != BYTES_UR_TYPE {
        return Ok(message);
    }
    let bad = |reason: String| {
        ExchangeError::UnrecognisedForm {
        input: input.into(),
        reason: format!("a ur:bytes message must be one CBOR byte string (major type 2) holding the artifact, but {reason}"),
    }
    };
    let head = *message.first().ok_or_else(|| bad("it is empty".into()))?;
    if head >> 5 != 2 {
        return Err(bad(format!("it starts with CBOR major type {}", head >> 5)));
    }
    let (len, start) = match head & 0x1f {
        n @ 0..=23 => (u64::from(n), 1),
        n @ 24..=27 => {
            let width = 1usize << (n - 24);
            let bytes = message
                .get(1..1 + width)
                .ok_or_else(|| bad("its length is cut off".into()))?;
            (
                bytes.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)),
                1 + width,
            )
        }
        _ => return Err(bad("it has an indefinite or reserved length".into())),
    };
    let payload = message.get(start..).unwrap_or_default();
    if payload.len() as u64 != len {
        return Err(bad(format!(
            "its head announces {len} bytes and {} follow",
            payload.len()
        )));
    }
    Ok(payload.to_vec())
}

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

/// Decodes a single-part UR to the artifact bytes it carries (see
/// [`message_payload`]); refuses UR types locksmith does not define.
pub fn decode_single_ur(text: &str, input: &str) -> Result<Vec<u8>> {
    if super::spare_pages::SparePage::is_spare(text) {
        return Err(ExchangeError::BadPart {
            input: input.into(),
            reason: "this is a spare page of a printed set; pass it together with the other pages (images or a directory)".into(),
        });
    }
    let ur_type = ur_type_of(text).unwrap_or_default();
    check_ur_type(&ur_type, input)?;
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
    message_payload(&ur_type, bytes, input)
}

/// Progress of a reassembly: how many of the plain fragments are recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Independent parts collected so far (the fragments are all
    /// recovered when this reaches `total`).
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

/// The sequence parameters every part repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SequenceInfo {
    count: usize,
    message_len: usize,
    checksum: u32,
    fragment_len: usize,
}

/// One received part: which fragments it XORs together, and the data.
struct Row {
    mask: Vec<u64>,
    data: Vec<u8>,
}

fn lowest_bit(mask: &[u64]) -> Option<usize> {
    mask.iter()
        .enumerate()
        .find(|(_, w)| **w != 0)
        .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
}

impl Row {
    fn xor_with(&mut self, other: &Row) {
        for (a, b) in self.mask.iter_mut().zip(&other.mask) {
            *a ^= b;
        }
        for (a, b) in self.data.iter_mut().zip(&other.data) {
            *a ^= b;
        }
    }
    fn has(&self, bit: usize) -> bool {
        self.mask
            .get(bit / 64)
            .is_some_and(|w| w & (1u64 << (bit % 64)) != 0)
    }
}

/// Collects multi-part frames in any order, with duplicates and losses,
/// until the message is complete.
///
/// Parts are parsed and checked with the `ur` crate (bytewords with their
/// CRC-32, fountain part CBOR, fragment choice), but solved here by
/// Gaussian elimination over GF(2) rather than the crate's peeling
/// decoder: it completes as soon as the parts received determine every
/// fragment, which after random frame loss takes noticeably fewer frames.
#[derive(Default)]
pub struct Reassembler {
    ur_type: Option<String>,
    info: Option<SequenceInfo>,
    /// Pivot rows by their lowest fragment index.
    pivots: Vec<Option<Row>>,
    rank: usize,
    seen: std::collections::HashSet<String>,
    received: usize,
    duplicates: usize,
    /// Plain fragments received as such (parts 1..=count), for recovery
    /// with spare pages.
    plain: Vec<Option<Vec<u8>>>,
    /// Spare pages held: (index, shard), and how many the set has.
    spares: Vec<(usize, Vec<u8>)>,
    spare_total: Option<usize>,
}

impl Reassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one part (text of one QR frame). `input` names the frame.
    pub fn push(&mut self, part: &str, input: &str) -> Result<Progress> {
        let bad = |reason: String| ExchangeError::BadPart {
            input: input.into(),
            reason,
        };
        if part.len() > crate::limits::MAX_UR_PART_CHARS {
            return Err(bad(format!(
                "{} characters; a QR code holds at most 4296",
                part.len()
            )));
        }
        let key = part.trim().to_ascii_lowercase();
        let (seq, count) =
            parse_indices(&key).ok_or_else(|| bad("expected `ur:TYPE/SEQ-COUNT/BODY`".into()))?;
        if count == 0 || count > MAX_PARTS || seq == 0 {
            return Err(bad(format!(
                "part {seq} of {count} is out of range (at most {MAX_PARTS} parts)"
            )));
        }
        if self.seen.contains(&key) || self.is_complete() {
            self.duplicates += 1;
            return Ok(self.progress());
        }
        let rest = key.get(3..).unwrap_or_default();
        let (ur_type, rest) = rest
            .split_once('/')
            .ok_or_else(|| bad("no UR type".into()))?;
        let body = rest.rsplit_once('/').map(|(_, b)| b).unwrap_or_default();
        check_ur_type(ur_type, input)?;
        if self.ur_type.as_deref().is_some_and(|t| t != ur_type) {
            return Err(ExchangeError::MixedSequences {
                input: input.into(),
            });
        }
        let cbor = ur::bytewords::decode(body, ur::bytewords::Style::Minimal)
            .map_err(|e| bad(format!("damaged part: {e}")))?;
        let (info, seq_in_part) =
            parse_part_header(&cbor).ok_or_else(|| bad("malformed fountain part".into()))?;
        if seq_in_part != seq || info.count != count {
            return Err(bad(
                "the part's numbering does not match its contents".into()
            ));
        }
        if info.fragment_len == 0
            || info.message_len == 0
            || info.message_len > info.count.saturating_mul(info.fragment_len)
            || info.count.saturating_mul(info.fragment_len)
                > crate::limits::MAX_ARTIFACT_BYTES as usize
        {
            return Err(bad("inconsistent fountain part sizes".into()));
        }
        match self.info {
            Some(known) if known != info => {
                return Err(ExchangeError::MixedSequences {
                    input: input.into(),
                })
            }
            _ => {}
        }
        let part: ur::fountain::Part =
            minicbor::decode(&cbor).map_err(|e| bad(format!("malformed fountain part: {e}")))?;
        let words = info.count.div_ceil(64);
        let mut row = Row {
            mask: vec![0u64; words],
            data: part.data().to_vec(),
        };
        for idx in part.indexes() {
            if let Some(w) = row.mask.get_mut(idx / 64) {
                *w ^= 1u64 << (idx % 64);
            }
        }
        self.start(info, ur_type);
        if let (true, [idx]) = (seq <= info.count, part.indexes().as_slice()) {
            if let Some(slot) = self.plain.get_mut(*idx) {
                *slot = Some(part.data().to_vec());
            }
        }
        self.seen.insert(key);
        self.received += 1;
        self.insert(row);
        Ok(self.progress())
    }

    fn start(&mut self, info: SequenceInfo, ur_type: &str) {
        if self.info.is_none() {
            self.info = Some(info);
            self.ur_type = Some(ur_type.to_string());
            self.pivots = (0..info.count).map(|_| None).collect();
            self.plain = vec![None; info.count];
        }
    }

    /// Feeds one spare page (`ur:locksmith-spare/...`). A spare of another
    /// sequence is a [`ExchangeError::MixedSequences`] error.
    pub fn push_spare(&mut self, text: &str, input: &str) -> Result<Progress> {
        let page = super::spare_pages::SparePage::from_ur(text, input)?;
        let info = SequenceInfo {
            count: page.count,
            message_len: page.message_len,
            checksum: page.checksum,
            fragment_len: page.shard.len(),
        };
        let key = text.trim().to_ascii_lowercase();
        if self.seen.contains(&key) || self.is_complete() {
            self.duplicates += 1;
            return Ok(self.progress());
        }
        let mixed = || ExchangeError::MixedSequences {
            input: input.into(),
        };
        if self.info.is_some_and(|known| known != info)
            || self.ur_type.as_deref().is_some_and(|t| t != UR_TYPE)
            || self.spare_total.is_some_and(|s| s != page.spares)
        {
            return Err(mixed());
        }
        self.start(info, UR_TYPE);
        self.spare_total = Some(page.spares);
        self.spares.push((page.index, page.shard));
        self.seen.insert(key);
        self.received += 1;
        Ok(self.progress())
    }

    /// Fragments known by themselves plus spare pages held.
    fn erasure_shards(&self) -> usize {
        self.plain.iter().filter(|f| f.is_some()).count() + self.spares.len()
    }

    fn insert(&mut self, mut row: Row) {
        while let Some(p) = lowest_bit(&row.mask) {
            match self.pivots.get(p) {
                Some(Some(pivot)) => row.xor_with(pivot),
                Some(None) => {
                    if let Some(slot) = self.pivots.get_mut(p) {
                        *slot = Some(row);
                        self.rank += 1;
                    }
                    return;
                }
                None => return,
            }
        }
        // Redundant: a combination of parts already held.
    }

    /// Current progress.
    pub fn progress(&self) -> Progress {
        let total = self.info.map(|i| i.count).unwrap_or(0);
        let resolved = if self.spares.is_empty() {
            self.rank
        } else {
            self.rank.max(self.erasure_shards().min(total))
        };
        Progress {
            resolved,
            total: self.info.map(|i| i.count).unwrap_or(0),
            received: self.received,
            duplicates: self.duplicates,
        }
    }

    /// Whether every fragment is determined.
    pub fn is_complete(&self) -> bool {
        self.info
            .is_some_and(|i| self.progress().resolved == i.count)
    }

    /// The UR type of the sequence ("locksmith" or another tool's type).
    pub fn ur_type(&self) -> Option<&str> {
        self.ur_type.as_deref()
    }

    /// The artifact bytes: the reassembled message, checked against the
    /// sequence's CRC-32, unwrapped per its UR type ([`message_payload`]).
    pub fn finish(&self, input: &str) -> Result<Vec<u8>> {
        let message = self.finish_message(input)?;
        message_payload(self.ur_type.as_deref().unwrap_or(UR_TYPE), message, input)
    }

    fn finish_message(&self, input: &str) -> Result<Vec<u8>> {
        let progress = self.progress();
        let (Some(info), true) = (self.info, self.is_complete()) else {
            return Err(ExchangeError::Incomplete {
                resolved: progress.resolved,
                total: progress.total,
                received: progress.received,
            });
        };
        let failed = || ExchangeError::ReassemblyFailed {
            input: input.into(),
        };
        if self.rank < info.count {
            // Not solvable from the parts alone: the spare pages make up
            // the difference (Reed-Solomon, any `spares` pages lost).
            let fragments = super::spare_pages::recover(
                &self.plain,
                self.spare_total.unwrap_or(0),
                &self.spares,
            )
            .ok_or_else(failed)?;
            return check_message(fragments.concat(), info).ok_or_else(failed);
        }
        // Back-substitution, highest pivot first: afterwards row p holds
        // exactly fragment p.
        let mut solved: Vec<Option<Row>> = (0..info.count).map(|_| None).collect();
        for p in (0..info.count).rev() {
            let pivot = self
                .pivots
                .get(p)
                .and_then(|r| r.as_ref())
                .ok_or_else(failed)?;
            let mut row = Row {
                mask: pivot.mask.clone(),
                data: pivot.data.clone(),
            };
            for q in p + 1..info.count {
                if row.has(q) {
                    let done = solved.get(q).and_then(|r| r.as_ref()).ok_or_else(failed)?;
                    row.xor_with(done);
                }
            }
            if let Some(slot) = solved.get_mut(p) {
                *slot = Some(row);
            }
        }
        let mut message = Vec::with_capacity(info.count * info.fragment_len);
        for row in solved.iter() {
            message.extend_from_slice(&row.as_ref().ok_or_else(failed)?.data);
        }
        check_message(message, info).ok_or_else(failed)
    }
}

/// The message without its zero padding, if it matches the sequence's
/// length and CRC-32.
fn check_message(mut message: Vec<u8>, info: SequenceInfo) -> Option<Vec<u8>> {
    let padding = message.get(info.message_len..)?;
    if padding.iter().any(|b| *b != 0) {
        return None;
    }
    message.truncate(info.message_len);
    (crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&message) == info.checksum)
        .then_some(message)
}

/// Reads `[seq, count, message_len, checksum, data]` from a part's CBOR.
fn parse_part_header(cbor: &[u8]) -> Option<(SequenceInfo, usize)> {
    use super::cbor::{as_u64, Value};
    let Value::Array(items) = super::cbor::parse(cbor).ok()? else {
        return None;
    };
    let uint = |i: usize| -> Option<u64> { as_u64(items.get(i)?) };
    let data_len = match items.get(4)? {
        Value::Bytes(b) => b.len(),
        _ => return None,
    };
    if items.len() != 5 {
        return None;
    }
    let info = SequenceInfo {
        count: usize::try_from(uint(1)?).ok()?,
        message_len: usize::try_from(uint(2)?).ok()?,
        checksum: u32::try_from(uint(3)?).ok()?,
        fragment_len: data_len,
    };
    Some((info, usize::try_from(uint(0)?).ok()?))
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
