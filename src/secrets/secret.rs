//! The disablement secret itself: 32 bytes from the operating system's
//! random number generator, zeroized when dropped, never shown by `Debug`.

use std::fmt;

use rand_core::{OsRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use super::error::SecretsError;
use crate::tka::disablement::DISABLEMENT_LENGTH;

/// Upstream limits a checkpoint's state to at most 32 disablement values.
pub const MAX_SECRETS: usize = 32;

/// One disablement secret. The bytes are wiped when the value is dropped;
/// `Debug` prints only `DisablementSecret(<redacted>)`. There is no
/// `Clone`: every copy would be one more place to wipe.
pub struct DisablementSecret(Box<[u8; DISABLEMENT_LENGTH]>);

impl DisablementSecret {
    /// A fresh secret from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, SecretsError> {
        let mut bytes = Box::new([0u8; DISABLEMENT_LENGTH]);
        OsRng
            .try_fill_bytes(&mut bytes[..])
            .map_err(|err| SecretsError::Random(err.to_string()))?;
        Ok(DisablementSecret(bytes))
    }

    /// `count` fresh secrets (1 to [`MAX_SECRETS`]).
    pub fn generate_many(count: usize) -> Result<Vec<Self>, SecretsError> {
        if count == 0 || count > MAX_SECRETS {
            return Err(SecretsError::BadCount { count });
        }
        (0..count).map(|_| Self::generate()).collect()
    }

    /// Takes ownership of bytes read from somewhere else (a sheet, a file),
    /// wiping the caller's copy.
    pub fn from_bytes(bytes: &mut [u8; DISABLEMENT_LENGTH]) -> Self {
        // Filled in place on the heap: no stray copy on the stack.
        let mut boxed = Box::new([0u8; DISABLEMENT_LENGTH]);
        boxed.copy_from_slice(&bytes[..]);
        bytes.zeroize();
        DisablementSecret(boxed)
    }

    /// The raw secret. Keep what you derive from it in `Zeroizing`.
    pub fn expose(&self) -> &[u8; DISABLEMENT_LENGTH] {
        &self.0
    }

    /// Uppercase hex, as upstream prints secrets.
    pub fn hex_upper(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(2 * DISABLEMENT_LENGTH));
        for byte in self.0.iter() {
            out.push(HEX_UPPER[usize::from(byte >> 4)] as char);
            out.push(HEX_UPPER[usize::from(byte & 0x0f)] as char);
        }
        out
    }

    /// `disablement-secret:<UPPERCASE hex>`, the form `tailscale lock
    /// disable` takes.
    pub fn text(&self) -> Zeroizing<String> {
        let hex = self.hex_upper();
        let mut out = Zeroizing::new(String::with_capacity(SECRET_PREFIX.len() + hex.len()));
        out.push_str(SECRET_PREFIX);
        out.push_str(&hex);
        out
    }

    /// The disablement value this secret unlocks (Argon2i, ~35 ms).
    pub fn value(&self) -> [u8; DISABLEMENT_LENGTH] {
        crate::tka::disablement::disablement_kdf(&self.0[..])
    }
}

impl Drop for DisablementSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for DisablementSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DisablementSecret(<redacted>)")
    }
}

/// The text prefix of a secret.
pub const SECRET_PREFIX: &str = "disablement-secret:";

pub(crate) const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Value of one hex digit in either case.
pub(crate) fn hex_digit(c: char) -> Option<u8> {
    c.to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Parses 64 hex digits (either case, spaces and dashes ignored, optional
/// `disablement-secret:` prefix) into a secret. `None` when the text is not
/// exactly 32 bytes of hex; the caller words the error (never echoing the
/// text, which may be a secret with a typo).
pub fn parse_secret_hex(text: &str) -> Option<DisablementSecret> {
    let trimmed = text.trim();
    let body = trimmed
        .get(..SECRET_PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(SECRET_PREFIX))
        .map_or(trimmed, |_| &trimmed[SECRET_PREFIX.len()..]);
    let mut bytes = Zeroizing::new([0u8; DISABLEMENT_LENGTH]);
    let mut n = 0usize;
    for c in body.chars() {
        if c.is_whitespace() || c == '-' {
            continue;
        }
        let d = hex_digit(c)?;
        let i = n / 2;
        if i >= DISABLEMENT_LENGTH {
            return None;
        }
        bytes[i] = if n % 2 == 0 { d << 4 } else { bytes[i] | d };
        n += 1;
    }
    if n != 2 * DISABLEMENT_LENGTH {
        return None;
    }
    Some(DisablementSecret::from_bytes(&mut bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let s = DisablementSecret::generate().unwrap();
        let shown = format!("{s:?}");
        assert_eq!(shown, "DisablementSecret(<redacted>)");
        assert!(!shown.contains(&s.hex_upper()[..8]));
    }

    #[test]
    fn text_round_trips() {
        let s = DisablementSecret::generate().unwrap();
        let back = parse_secret_hex(&s.text()).unwrap();
        assert_eq!(back.expose(), s.expose());
        let lower = s.hex_upper().to_lowercase();
        assert_eq!(parse_secret_hex(&lower).unwrap().expose(), s.expose());
        assert!(parse_secret_hex(&s.hex_upper()[..62]).is_none());
        assert!(parse_secret_hex("zz").is_none());
    }

    #[test]
    fn count_is_bounded() {
        assert!(DisablementSecret::generate_many(0).is_err());
        assert!(DisablementSecret::generate_many(33).is_err());
        let two = DisablementSecret::generate_many(2).unwrap();
        assert_ne!(two[0].expose(), two[1].expose());
    }

    #[test]
    fn matches_upstream_kdf_vector() {
        let mut bytes = [0u8; 32];
        let hex = "ab523cdcba46ad8ee28f61a63ea82f9e9642cd07517cd5078cee747fb7afde3c";
        bytes.copy_from_slice(&crate::tka::hex::decode(hex).unwrap());
        let s = DisablementSecret::from_bytes(&mut bytes);
        assert_eq!(bytes, [0u8; 32], "caller's copy wiped");
        assert_eq!(
            crate::tka::hex::lower(&s.value()),
            "ee4ef599ba28aa4f5b054e322ca377286fe748e5058c3541f2a215f04c21aa8a"
        );
    }
}
