//! Spare pages for printed and static QR sets: Reed-Solomon parity over
//! the plain fragments of a `ur:locksmith` sequence.
//!
//! The guarantee: a set of N numbered pages with S spare pages loses
//! nothing if ANY S of its N + S pages are lost (data pages or spares, in
//! any combination). Reed-Solomon over GF(2^8) is an MDS code: any N of the
//! N + S shards determine the N fragments. Fountain parts give no such
//! guarantee (a fountain part XORs a random subset of fragments, so a
//! spare often covers none of the lost pages), which is why static sets do
//! not use them. GF(2^8) allows N + S <= 256
//! ([`crate::limits::MAX_STATIC_PAGES`]).
//!
//! Wire form of a spare page, one single-part UR (uppercase in the code):
//!
//! ```text
//! ur:locksmith-spare/<bytewords(CBOR [count, message_len, checksum, index, spares, shard])>
//! ```
//!
//! `count`, `message_len` and `checksum` (CRC-32) are those of the
//! `ur:locksmith/i-count/...` parts the spare belongs to; `index` is
//! 1..=`spares`; `shard` is the parity shard, as long as a fragment. The
//! data pages stay standard UR parts, readable by any UR decoder; a
//! decoder that does not know `locksmith-spare` just sees another UR type.

use super::cbor::{self, uint, Value};
use reed_solomon_erasure::galois_8::ReedSolomon;

use super::error::{ExchangeError, Result};
use crate::limits;

/// The UR type of a spare page.
pub const SPARE_UR_TYPE: &str = "locksmith-spare";

/// One spare page: which sequence it belongs to, which parity shard it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparePage {
    /// Plain fragments (data pages) of the sequence.
    pub count: usize,
    pub message_len: usize,
    /// CRC-32 of the message, as in the UR parts.
    pub checksum: u32,
    /// 1-based index of this spare.
    pub index: usize,
    /// Spare pages in the set.
    pub spares: usize,
    pub shard: Vec<u8>,
}

fn codec(count: usize, spares: usize) -> Result<ReedSolomon> {
    if count + spares > limits::MAX_STATIC_PAGES {
        return Err(ExchangeError::QrEncode {
            reason: format!(
                "{count} pages and {spares} spare pages make more than the {} pages a printed set can protect; use a higher --density or fewer spare pages",
                limits::MAX_STATIC_PAGES
            ),
        });
    }
    ReedSolomon::new(count, spares).map_err(|e| ExchangeError::QrEncode {
        reason: format!("cannot set up the spare-page code: {e:?}"),
    })
}

/// The `spares` parity shards of `fragments` (all of one length).
pub fn parity_shards(fragments: &[Vec<u8>], spares: usize) -> Result<Vec<Vec<u8>>> {
    let len = fragments.first().map(Vec::len).unwrap_or(0);
    let rs = codec(fragments.len(), spares)?;
    let mut parity = vec![vec![0u8; len]; spares];
    rs.encode_sep(fragments, &mut parity)
        .map_err(|e| ExchangeError::QrEncode {
            reason: format!("cannot compute spare pages: {e:?}"),
        })?;
    Ok(parity)
}

/// Recovers every fragment from `fragments` (None where a page was lost)
/// and the spares held (`(index, shard)`, index 1-based). Needs at least
/// `fragments.len()` shards in all.
pub fn recover(
    fragments: &[Option<Vec<u8>>],
    spares: usize,
    held: &[(usize, Vec<u8>)],
) -> Option<Vec<Vec<u8>>> {
    let rs = codec(fragments.len(), spares).ok()?;
    let mut shards: Vec<Option<Vec<u8>>> = fragments.to_vec();
    shards.extend((0..spares).map(|_| None));
    for (index, shard) in held {
        let slot = shards.get_mut(fragments.len() + index.checked_sub(1)?)?;
        *slot = Some(shard.clone());
    }
    rs.reconstruct_data(&mut shards).ok()?;
    shards.truncate(fragments.len());
    shards.into_iter().collect()
}

impl SparePage {
    /// The page's UR text, uppercase (alphanumeric QR mode).
    pub fn to_ur(&self) -> String {
        let value = Value::Array(vec![
            uint(self.count as u64),
            uint(self.message_len as u64),
            uint(u64::from(self.checksum)),
            uint(self.index as u64),
            uint(self.spares as u64),
            Value::Bytes(self.shard.clone()),
        ]);
        // Integers and a byte string: always encodable.
        let cbor = cbor::encode(&value).unwrap_or_default();
        format!(
            "ur:{SPARE_UR_TYPE}/{}",
            ur::bytewords::encode(&cbor, ur::bytewords::Style::Minimal)
        )
        .to_ascii_uppercase()
    }

    /// Whether `text` is a spare page (by its UR type).
    pub fn is_spare(text: &str) -> bool {
        let t = text.trim();
        t.len() > 4 + SPARE_UR_TYPE.len()
            && t.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("ur:"))
            && t.get(3..3 + SPARE_UR_TYPE.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(SPARE_UR_TYPE))
            && t.as_bytes().get(3 + SPARE_UR_TYPE.len()) == Some(&b'/')
    }

    /// Parses a spare page's UR text; `input` names it in errors.
    pub fn from_ur(text: &str, input: &str) -> Result<Self> {
        let bad = |reason: &str| ExchangeError::BadPart {
            input: input.into(),
            reason: format!("damaged spare page: {reason}"),
        };
        let t = text.trim();
        if !Self::is_spare(t) || t.len() > limits::MAX_UR_PART_CHARS {
            return Err(bad("not a `ur:locksmith-spare/...` code of a sane size"));
        }
        let body = &t[4 + SPARE_UR_TYPE.len()..];
        if body.contains('/') {
            return Err(bad("a spare page is a single-part UR"));
        }
        let cbor = ur::bytewords::decode(&body.to_ascii_lowercase(), ur::bytewords::Style::Minimal)
            .map_err(|e| bad(&e.to_string()))?;
        let value = cbor::parse(&cbor).map_err(|e| bad(&e.to_string()))?;
        let Value::Array(items) = value else {
            return Err(bad("not an array"));
        };
        if items.len() != 6 {
            return Err(bad("expected 6 fields"));
        }
        let n = |i: usize| -> Result<usize> {
            match items.get(i) {
                Some(Value::Unsigned(v)) => usize::try_from(*v)
                    .ok()
                    .ok_or_else(|| bad("a field is out of range")),
                _ => Err(bad("a field is not an unsigned integer")),
            }
        };
        let shard = match items.get(5) {
            Some(Value::Bytes(b)) => b.clone(),
            _ => return Err(bad("the shard is not a byte string")),
        };
        let page = SparePage {
            count: n(0)?,
            message_len: n(1)?,
            checksum: u32::try_from(n(2)?).map_err(|_| bad("checksum out of range"))?,
            index: n(3)?,
            spares: n(4)?,
            shard,
        };
        if page.count == 0
            || page.spares == 0
            || page.index == 0
            || page.index > page.spares
            || page.count + page.spares > limits::MAX_STATIC_PAGES
            || page.shard.is_empty()
            || page.message_len > page.count * page.shard.len()
        {
            return Err(bad("inconsistent numbering or sizes"));
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way of losing up to S of N + S shards recovers the data.
    #[test]
    fn any_s_lost_shards_recover_exhaustively() {
        let (n, s) = (5usize, 3usize);
        let data: Vec<Vec<u8>> = (0..n)
            .map(|i| (0..7).map(|j| (i * 31 + j * 7) as u8).collect())
            .collect();
        let parity = parity_shards(&data, s).unwrap();
        for lost in 0u32..(1 << (n + s)) {
            if lost.count_ones() as usize > s {
                continue;
            }
            let frags: Vec<Option<Vec<u8>>> = (0..n)
                .map(|i| (lost & (1 << i) == 0).then(|| data[i].clone()))
                .collect();
            let held: Vec<(usize, Vec<u8>)> = (0..s)
                .filter(|j| lost & (1 << (n + j)) == 0)
                .map(|j| (j + 1, parity[j].clone()))
                .collect();
            assert_eq!(
                recover(&frags, s, &held).as_ref(),
                Some(&data),
                "lost {lost:b}"
            );
        }
    }

    #[test]
    fn spare_page_round_trips_and_rejects_damage() {
        let p = SparePage {
            count: 39,
            message_len: 7000,
            checksum: 0xdead_beef,
            index: 2,
            spares: 11,
            shard: vec![5; 180],
        };
        let text = p.to_ur();
        assert!(text.starts_with("UR:LOCKSMITH-SPARE/"));
        assert!(SparePage::is_spare(&text));
        assert_eq!(SparePage::from_ur(&text, "t").unwrap(), p);
        let mut damaged = text.into_bytes();
        let i = damaged.len() - 5;
        damaged[i] = if damaged[i] == b'A' { b'B' } else { b'A' };
        assert!(SparePage::from_ur(&String::from_utf8(damaged).unwrap(), "t").is_err());
        assert!(codec(200, 57).is_err());
    }
}
