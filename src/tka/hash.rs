//! AUM hashes and their base32 text form.

use blake2::{Blake2s256, Digest};
use std::fmt;
use std::str::FromStr;

/// BLAKE2s-256 of `data`.
pub fn blake2s(data: &[u8]) -> [u8; 32] {
    Blake2s256::digest(data).into()
}

/// The BLAKE2s-256 digest of a serialized AUM. Text form: base32, standard
/// alphabet, no padding (upstream's `AUMHash.String()`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AumHash(pub [u8; 32]);

impl AumHash {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0u8; 32]
    }
}

impl fmt::Display for AumHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&data_encoding::BASE32_NOPAD.encode(&self.0))
    }
}

impl fmt::Debug for AumHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AumHash({self})")
    }
}

impl FromStr for AumHash {
    type Err = super::error::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || super::error::Error::AumHashText(s.chars().take(80).collect());
        let bytes = data_encoding::BASE32_NOPAD
            .decode(s.as_bytes())
            .map_err(|_| err())?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| err())?;
        Ok(AumHash(arr))
    }
}
