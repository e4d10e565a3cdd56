//! Which authority a set of disablement secrets belongs to. The caller
//! (`lock init`) supplies it once the genesis AUM exists; file names, age
//! headers, sheets and verification records show it. It never holds a
//! secret.

use serde::{Deserialize, Serialize};
use time::Date;

use super::error::SecretsError;

/// Identifies an authority: its genesis AUM hash and state IDs, and the
/// day the secrets were made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityLabel {
    /// Text form of the genesis AUM hash (base32, standard alphabet, no padding).
    pub genesis_hash: String,
    /// The genesis state's StateID1.
    pub state_id1: u64,
    /// The genesis state's StateID2.
    pub state_id2: u64,
    /// The day the secrets were made.
    #[serde(with = "iso_date")]
    pub created: Date,
}

/// Length of the base32 text of a 32-byte AUM hash.
const AUM_HASH_TEXT_LEN: usize = 52;

impl AuthorityLabel {
    /// Builds a label, checking that `genesis_hash` is an AUM hash text.
    pub fn new(
        genesis_hash: &str,
        state_id1: u64,
        state_id2: u64,
        created: Date,
    ) -> Result<Self, SecretsError> {
        let label = AuthorityLabel {
            genesis_hash: genesis_hash.trim().to_owned(),
            state_id1,
            state_id2,
            created,
        };
        label.check()?;
        Ok(label)
    }

    /// Checks the genesis hash text (labels read from JSON bypass `new`).
    pub fn check(&self) -> Result<(), SecretsError> {
        let ok = self.genesis_hash.len() == AUM_HASH_TEXT_LEN
            && data_encoding::BASE32_NOPAD
                .decode(self.genesis_hash.as_bytes())
                .is_ok_and(|b| b.len() == 32);
        if ok {
            Ok(())
        } else {
            Err(SecretsError::BadGenesisHash {
                text: self.genesis_hash.chars().take(80).collect(),
            })
        }
    }

    /// The state ID as `tailscale lock status` shows StateID1, plus StateID2.
    pub fn state_id_text(&self) -> String {
        format!("{:016x}:{:016x}", self.state_id1, self.state_id2)
    }

    /// The creation day as `YYYY-MM-DD`.
    pub fn created_text(&self) -> String {
        iso_date::format(self.created)
    }

    /// A short tag for file names: the first 16 characters of the genesis hash.
    pub fn file_tag(&self) -> &str {
        self.genesis_hash.get(..16).unwrap_or(&self.genesis_hash)
    }

    /// One line naming the authority, for headers and sheets.
    pub fn describe(&self) -> String {
        format!(
            "genesis {} state {} created {}",
            self.genesis_hash,
            self.state_id_text(),
            self.created_text()
        )
    }
}

/// `created` as `YYYY-MM-DD` in JSON.
mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::{macros::format_description, Date};

    pub fn format(date: Date) -> String {
        date.format(format_description!("[year]-[month]-[day]"))
            .unwrap_or_else(|_| date.to_string())
    }

    pub fn parse(text: &str) -> Result<Date, time::error::Parse> {
        Date::parse(text, format_description!("[year]-[month]-[day]"))
    }

    pub fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    iso_date::parse(text.trim()).ok()
}

/// Today (UTC).
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: &str = "L7VFPZB6Y4CN5BXTRUOWMA3EUNWEN54CFYEE5XPCZW3XSDD3FAUQ";

    #[test]
    fn label_checks_the_hash() {
        let d = parse_date("2026-11-23").unwrap();
        let l = AuthorityLabel::new(GENESIS, 1, 2, d).unwrap();
        assert_eq!(l.file_tag(), "L7VFPZB6Y4CN5BXT");
        assert_eq!(l.state_id_text(), "0000000000000001:0000000000000002");
        assert!(l.describe().contains("created 2026-11-23"));
        assert!(AuthorityLabel::new("nothex", 1, 2, d).is_err());
        assert!(AuthorityLabel::new(&GENESIS[..50], 1, 2, d).is_err());
        let json = serde_json::to_string(&l).unwrap();
        assert!(json.contains("\"created\":\"2026-11-23\""));
        assert_eq!(serde_json::from_str::<AuthorityLabel>(&json).unwrap(), l);
    }
}
