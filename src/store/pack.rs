//! AUM packs: the AUMs of one `lock import` in one store file.
//!
//! A 10,000-AUM chain imported as 10,000 files costs 10,000 creations,
//! renames and directory updates (seconds on a real disk); as one pack it
//! is one file written, synced and renamed. AUMs this machine signs itself
//! (`lock init`, `lock add/remove/update`, `revoke-keys --finish`) stay one
//! `aums/HASH.aum` file each, the names those commands print.
//!
//! Format (`aums/<64 hex digits>.pack`):
//! - the magic line `locksmith aum-pack 1\n`;
//! - then, for each AUM, its length as a 4-byte big-endian integer and its
//!   canonical CBOR (the bytes whose BLAKE2s-256 is the AUM's hash).
//!
//! The name is the hex BLAKE2s-256 of the whole file, so a pack is
//! content-named like an AUM file: an existing pack of that name holds
//! exactly these bytes, and a pack whose bytes do not match its name is a
//! damaged store. Nothing in a pack is trusted for being there: loading
//! verifies its AUMs from the anchor like any other (or matches the
//! verified cache's digest over every byte of every store file).

/// The extension of a pack file.
pub const EXTENSION: &str = "pack";
const MAGIC: &[u8] = b"locksmith aum-pack 1\n";

/// Why a pack file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error(
        "not an AUM pack (it does not start with {:?})",
        String::from_utf8_lossy(MAGIC)
    )]
    Magic,
    #[error("record {index} is cut short: it says {length} bytes, {left} are left")]
    Truncated {
        index: usize,
        length: usize,
        left: usize,
    },
    #[error("record {index} is empty")]
    Empty { index: usize },
    #[error("its bytes do not match its name (the name is the BLAKE2s-256 of the file)")]
    Name,
}

/// The bytes of a pack holding `aums` (canonical CBOR each), in order.
pub fn encode<'a>(aums: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    for aum in aums {
        // An AUM is a few hundred bytes; the core refuses anything near 4 GiB.
        let length = u32::try_from(aum.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&aum[..length as usize]);
    }
    out
}

/// The file name (without directory) of a pack with these bytes.
pub fn file_name(bytes: &[u8]) -> String {
    format!("{}.{EXTENSION}", stem(bytes))
}

fn stem(bytes: &[u8]) -> String {
    crate::tka::hex::lower(&crate::tka::hash::blake2s(bytes))
}

/// The records of a pack named `stem` (its file name without extension),
/// as slices of `bytes`; refuses a pack whose name does not match.
pub fn decode<'a>(stem_of_name: &str, bytes: &'a [u8]) -> Result<Vec<&'a [u8]>, PackError> {
    let mut rest = bytes.strip_prefix(MAGIC).ok_or(PackError::Magic)?;
    if stem(bytes) != stem_of_name {
        return Err(PackError::Name);
    }
    let mut records = Vec::new();
    while !rest.is_empty() {
        let index = records.len();
        let (length, tail) = match rest.split_first_chunk::<4>() {
            Some((l, tail)) => (u32::from_be_bytes(*l) as usize, tail),
            None => {
                return Err(PackError::Truncated {
                    index,
                    length: 4,
                    left: rest.len(),
                })
            }
        };
        if length == 0 {
            return Err(PackError::Empty { index });
        }
        if length > tail.len() {
            return Err(PackError::Truncated {
                index,
                length,
                left: tail.len(),
            });
        }
        let (record, tail) = tail.split_at(length);
        records.push(record);
        rest = tail;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_stem(bytes: &[u8]) -> String {
        file_name(bytes).trim_end_matches(".pack").to_string()
    }

    #[test]
    fn records_come_back_in_order() {
        let aums: [&[u8]; 3] = [b"\xa1\x01\x02", b"\xa2\x01\x02\x03\x04", b"\x80"];
        let pack = encode(aums);
        assert_eq!(decode(&name_stem(&pack), &pack).expect("decode"), aums);
        let empty = encode(std::iter::empty());
        assert!(decode(&name_stem(&empty), &empty)
            .expect("empty pack")
            .is_empty());
    }

    #[test]
    fn the_name_is_the_digest_of_the_bytes() {
        let pack = encode([&b"\xa1\x01\x02"[..]]);
        let name = file_name(&pack);
        assert_eq!(name.len(), 64 + ".pack".len());
        assert!(name
            .trim_end_matches(".pack")
            .bytes()
            .all(|b| b.is_ascii_hexdigit()));
        let mut changed = pack.clone();
        *changed.last_mut().expect("byte") ^= 1;
        assert_eq!(decode(&name_stem(&pack), &changed), Err(PackError::Name));
    }

    #[test]
    fn damaged_packs_are_refused_without_panicking() {
        let pack = encode([&b"\xa1\x01\x02"[..], &b"\xa1\x03\x04"[..]]);
        assert_eq!(decode("x", b"not a pack"), Err(PackError::Magic));
        let first_record_end = MAGIC.len() + 4 + 3;
        for cut in (MAGIC.len() + 1..pack.len()).filter(|&c| c != first_record_end) {
            let short = &pack[..cut];
            assert!(
                matches!(
                    decode(&name_stem(short), short),
                    Err(PackError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
        let mut zero = MAGIC.to_vec();
        zero.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(
            decode(&name_stem(&zero), &zero),
            Err(PackError::Empty { index: 0 })
        );
    }
}
