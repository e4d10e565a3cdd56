//! A growing buffer for secrets that zeroizes on reallocation.
//!
//! `Zeroizing<Vec<u8>>` wipes the final allocation only: every time a
//! `Vec` grows, the old allocation (holding everything written so far) is
//! freed as it is. [`SecretBuf`] grows by hand instead: it allocates the
//! bigger buffer, copies, and zeroizes the old one (its whole capacity)
//! before freeing it, so a secret that is decrypted or written in pieces
//! leaves no copy behind. Reads go straight into the buffer's spare room,
//! never through a stack buffer.

use std::io::Read;
use zeroize::{Zeroize, Zeroizing};

/// The smallest allocation, and the room made for each read.
const CHUNK: usize = 4096;

/// A byte buffer for secrets: zeroized on every reallocation and on drop.
#[derive(Default)]
pub struct SecretBuf {
    buf: Vec<u8>,
    /// How many times the buffer grew (tests check it is what they expect).
    grew: usize,
}

impl std::fmt::Debug for SecretBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBuf({} bytes, <redacted>)", self.buf.len())
    }
}

impl SecretBuf {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        SecretBuf {
            buf: Vec::with_capacity(capacity),
            grew: 0,
        }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The number of bytes written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// How many times the buffer moved to a bigger allocation.
    pub fn reallocations(&self) -> usize {
        self.grew
    }

    /// Makes room for `additional` more bytes; a move to a bigger
    /// allocation zeroizes the old one.
    pub fn reserve(&mut self, additional: usize) {
        if self.buf.capacity() - self.buf.len() >= additional {
            return;
        }
        let wanted = (self.buf.len() + additional)
            .max(self.buf.capacity() * 2)
            .max(CHUNK);
        let mut bigger = Vec::with_capacity(wanted);
        bigger.extend_from_slice(&self.buf);
        // Zeroizes the whole old capacity, then frees it.
        self.buf.zeroize();
        self.buf = bigger;
        self.grew += 1;
    }

    /// Appends bytes.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        self.buf.extend_from_slice(bytes);
    }

    /// Reads `reader` to its end, at most `limit` bytes (an error beyond).
    pub fn read_to_end_from(&mut self, mut reader: impl Read, limit: usize) -> std::io::Result<()> {
        loop {
            self.reserve(CHUNK);
            let start = self.buf.len();
            let room = (self.buf.capacity() - start).min(limit + 1 - start.min(limit));
            // Within the capacity just reserved: no reallocation.
            self.buf.resize(start + room, 0);
            let n = loop {
                match reader.read(&mut self.buf[start..]) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(e);
                }
            };
            self.buf.truncate(start + n);
            if self.buf.len() > limit {
                return Err(std::io::Error::other(format!(
                    "more than {limit} bytes of plaintext; not a locksmith secrets file"
                )));
            }
            if n == 0 {
                return Ok(());
            }
        }
    }

    /// The bytes, in a buffer that is zeroized on drop (no copy is made).
    pub fn into_zeroizing(mut self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(std::mem::take(&mut self.buf))
    }

    /// The bytes as text (no copy is made); `None` when not UTF-8.
    pub fn into_string(self) -> Option<Zeroizing<String>> {
        let bytes = self.into_zeroizing();
        if std::str::from_utf8(&bytes).is_err() {
            return None;
        }
        let mut bytes = bytes;
        let vec = std::mem::take(&mut *bytes);
        // Checked just above; from_utf8 reuses the allocation.
        String::from_utf8(vec).ok().map(Zeroizing::new)
    }
}

impl Drop for SecretBuf {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

impl std::fmt::Write for SecretBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Why [`read_bounded_text`] gave no text.
#[derive(Debug, thiserror::Error)]
pub enum BoundedReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("the {what} is longer than {cap} bytes; give only the secret(s)")]
    TooLong { what: String, cap: usize },
    #[error("the {what} is not UTF-8 text")]
    NotUtf8 { what: String },
}

/// Reads at most `cap` bytes of secret text (`what` names it in errors)
/// into a buffer sized for them up front, so it never reallocates and
/// leaves a copy; as UTF-8, zeroized on drop.
pub fn read_bounded_text(
    reader: impl Read,
    what: &str,
    cap: usize,
) -> Result<Zeroizing<String>, BoundedReadError> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(cap + 1));
    reader.take(cap as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > cap {
        return Err(BoundedReadError::TooLong {
            what: what.to_string(),
            cap,
        });
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => {
            let mut out = Zeroizing::new(String::with_capacity(text.len()));
            out.push_str(text);
            Ok(out)
        }
        Err(_) => Err(BoundedReadError::NotUtf8 {
            what: what.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_keeps_the_bytes_and_counts_moves() {
        let mut b = SecretBuf::with_capacity(8);
        b.extend_from_slice(b"secret-1");
        assert_eq!(b.reallocations(), 0);
        b.extend_from_slice(&[7; 5000]);
        assert_eq!(b.reallocations(), 1);
        assert_eq!(&b.as_bytes()[..8], b"secret-1");
        assert_eq!(b.len(), 5008);
        assert_eq!(format!("{b:?}"), "SecretBuf(5008 bytes, <redacted>)");
        let z = b.into_zeroizing();
        assert_eq!(z.len(), 5008);
    }

    #[test]
    fn reads_to_the_end_within_a_limit() {
        let data = vec![b'x'; 10_000];
        let mut b = SecretBuf::default();
        b.read_to_end_from(&data[..], 10_000).unwrap();
        assert_eq!(b.as_bytes(), &data[..]);
        let mut small = SecretBuf::default();
        assert!(small.read_to_end_from(&data[..], 9_999).is_err());
        let text = SecretBuf::default();
        let mut text = text;
        std::fmt::Write::write_str(&mut text, "disablement-secret:AB").unwrap();
        assert_eq!(
            text.into_string().unwrap().as_str(),
            "disablement-secret:AB"
        );
        let mut bad = SecretBuf::default();
        bad.extend_from_slice(&[0xff]);
        assert!(bad.into_string().is_none());
    }
}
