//! The verification record: who proved they hold which secret, when, and
//! how. A ceremony can hold the genesis AUM back until every disablement
//! value has an entry ([`VerificationRecord::unverified`] is empty), as
//! Vault's rekey verification does. The record holds only public values,
//! never a secret. It is a JSON file, replaced atomically on each update.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::SecretsError;
use super::label::AuthorityLabel;
use super::values::{parse_value_text, value_text, DisablementValue};
use crate::output::write_atomic;

/// How a custodian proved possession.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyMethod {
    /// Typed from the sheet.
    Typed,
    /// A photo or scan of the sheet's QR code.
    QrImage,
    /// Decrypted their age file.
    DecryptedFile,
}

/// One verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationEntry {
    pub custodian: String,
    /// 1-based index among the authority's disablement values.
    pub index: usize,
    /// `disablement:<hex>`.
    pub value: String,
    pub method: VerifyMethod,
    /// RFC 3339, UTC.
    pub verified_at: String,
}

/// The record file's content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRecord {
    /// The authority the secrets belong to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<AuthorityLabel>,
    #[serde(default)]
    pub entries: Vec<VerificationEntry>,
}

impl VerificationRecord {
    /// Reads the record at `path`; a missing file is an empty record.
    pub fn load(path: &Path) -> Result<Self, SecretsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(SecretsError::io(path, "reading the verification record", e)),
        };
        serde_json::from_str(&text).map_err(|e| SecretsError::BadRecord {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Adds an entry, stamped now.
    pub fn add(
        &mut self,
        custodian: &str,
        index: usize,
        value: &DisablementValue,
        method: VerifyMethod,
    ) {
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        let verified_at = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| now.to_string());
        self.entries.push(VerificationEntry {
            custodian: custodian.to_owned(),
            index,
            value: value_text(value),
            method,
            verified_at,
        });
    }

    /// Writes the record atomically (replacing the previous version).
    pub fn save(&self, path: &Path) -> Result<(), SecretsError> {
        let json = serde_json::to_string_pretty(self).map_err(|e| SecretsError::BadRecord {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(write_atomic(path, format!("{json}\n").as_bytes(), true)?)
    }

    /// 1-based indices of `values` that nobody has verified yet.
    pub fn unverified(&self, values: &[DisablementValue]) -> Vec<usize> {
        values
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                !self
                    .entries
                    .iter()
                    .any(|e| parse_value_text(&e.value).as_ref() == Some(*v))
            })
            .map(|(i, _)| i + 1)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_and_tracks_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.json");
        let mut r = VerificationRecord::load(&path).unwrap();
        let values = [[1u8; 32], [2u8; 32], [3u8; 32]];
        assert_eq!(r.unverified(&values), vec![1, 2, 3]);
        r.add("alice", 2, &values[1], VerifyMethod::Typed);
        r.save(&path).unwrap();
        let back = VerificationRecord::load(&path).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.unverified(&values), vec![1, 3]);
        assert!(back.entries[0].verified_at.ends_with('Z'));
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            VerificationRecord::load(&path),
            Err(SecretsError::BadRecord { .. })
        ));
    }
}
