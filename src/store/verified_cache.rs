//! The store's verified cache: a record of what the last full verification
//! of the store established, so that loading need not check every
//! signature and apply every update again.
//!
//! The record (`verified-cache`, text) names the cache format, the
//! locksmith version that verified, the anchor, the head that
//! verification reached, the number of AUM files and a BLAKE2s-256
//! digest over the anchor and, in name order, every AUM file's (`aums/*.aum`,
//! `aums/*.pack`)
//! name, length and bytes.
//!
//! What it trusts, and what it does not:
//! - It is used only when the anchor, the number of AUM files and the
//!   digest over every byte of every AUM file all match. Any added,
//!   removed, renamed, truncated or changed file, a changed anchor, another
//!   locksmith version or an unreadable record means a full
//!   re-verification from the anchor (which refuses a tampered store as
//!   before) and a new record.
//! - It is not keyed: it trusts the store directory exactly as far as the
//!   `anchor` file is already trusted. Someone who can rewrite the store
//!   directory can rewrite the anchor (and so pin another authority)
//!   whether or not a cache exists; they could equally write a record
//!   that matches forged files. Keep the store writable only by the
//!   operator (it is on the offline machine, 0700 under the user's data
//!   directory by default).
//! - Even on a match, the head must be among the AUMs and have no
//!   children, the anchor must be a checkpoint among them, and the state at
//!   head is recomputed from the AUMs (back to the nearest checkpoint).

use crate::output::write_atomic;
use crate::tka::hash::AumHash;
use crate::tka::hex;
use blake2::{Blake2s256, Digest};
use std::path::Path;

/// The record's file name in the store directory.
pub const FILE: &str = "verified-cache";
const MAGIC: &str = "locksmith verified-cache 2";

/// A parsed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub version: String,
    pub anchor: AumHash,
    pub head: AumHash,
    pub aums: usize,
    pub digest: [u8; 32],
}

impl Record {
    /// Whether the record describes exactly this store content, as
    /// verified by this locksmith version.
    pub fn matches(&self, anchor: &AumHash, aums: usize, digest: &[u8; 32]) -> bool {
        self.version == env!("CARGO_PKG_VERSION")
            && self.anchor == *anchor
            && self.aums == aums
            && self.digest == *digest
    }
}

/// The digest over the anchor and every AUM file (`files` sorted by name).
pub fn digest(anchor: &AumHash, files: &[(String, Vec<u8>)]) -> [u8; 32] {
    let mut h = Blake2s256::new();
    h.update(MAGIC.as_bytes());
    h.update(anchor.as_bytes());
    h.update((files.len() as u64).to_le_bytes());
    for (name, bytes) in files {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize().into()
}

/// The store's record, if there is a readable one.
pub fn read(dir: &Path) -> Option<Record> {
    let text = std::fs::read_to_string(dir.join(FILE)).ok()?;
    parse(&text)
}

fn parse(text: &str) -> Option<Record> {
    let mut lines = text.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let mut field = |name: &str| {
        lines
            .next()?
            .strip_prefix(name)?
            .strip_prefix(' ')
            .map(str::to_string)
    };
    let version = field("version")?;
    let anchor = field("anchor")?.parse().ok()?;
    let head = field("head")?.parse().ok()?;
    let aums = field("aums")?.parse().ok()?;
    let digest = hex::decode(&field("digest")?)?.try_into().ok()?;
    Some(Record {
        version,
        anchor,
        head,
        aums,
        digest,
    })
}

fn render(r: &Record) -> String {
    format!(
        "{MAGIC}\nversion {}\nanchor {}\nhead {}\naums {}\ndigest {}\n",
        r.version,
        r.anchor,
        r.head,
        r.aums,
        hex::lower(&r.digest)
    )
}

/// Writes (atomically, replacing) the record for a store just verified.
pub fn write(
    dir: &Path,
    anchor: &AumHash,
    head: AumHash,
    aums: usize,
    digest: &[u8; 32],
) -> Result<(), crate::output::OutputError> {
    let record = Record {
        version: env!("CARGO_PKG_VERSION").to_string(),
        anchor: *anchor,
        head,
        aums,
        digest: *digest,
    };
    write_atomic(&dir.join(FILE), render(&record).as_bytes(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            version: env!("CARGO_PKG_VERSION").to_string(),
            anchor: AumHash([1; 32]),
            head: AumHash([2; 32]),
            aums: 3,
            digest: [4; 32],
        }
    }

    #[test]
    fn a_record_reads_back_as_written() {
        assert_eq!(parse(&render(&record())), Some(record()));
    }

    #[test]
    fn a_damaged_record_is_no_record() {
        let text = render(&record());
        assert_eq!(parse(&text.replace("aums 3", "aums x")), None);
        assert_eq!(
            parse(&text.replace(MAGIC, "locksmith verified-cache 1")),
            None
        );
        assert_eq!(parse(&text[..text.len() / 2]), None);
    }

    #[test]
    fn the_digest_covers_names_lengths_and_bytes() {
        let a = AumHash([1; 32]);
        let base = vec![("A".to_string(), vec![1, 2]), ("B".to_string(), vec![3])];
        let d = digest(&a, &base);
        let mut renamed = base.clone();
        renamed[1].0 = "C".into();
        let mut changed = base.clone();
        changed[0].1[1] = 9;
        // Moving a byte from one file to the next keeps the concatenation.
        let shifted = vec![("A".to_string(), vec![1]), ("B".to_string(), vec![2, 3])];
        for other in [renamed, changed, shifted, base[..1].to_vec()] {
            assert_ne!(digest(&a, &other), d);
        }
        assert_ne!(digest(&AumHash([9; 32]), &base), d);
        let mut stale = record();
        stale.version = "0.0.0-other".into();
        assert!(!stale.matches(&stale.anchor.clone(), 3, &[4; 32]));
        assert!(record().matches(&AumHash([1; 32]), 3, &[4; 32]));
        assert!(!record().matches(&AumHash([1; 32]), 4, &[4; 32]));
    }
}
