//! The printed layout of a secret and its per-line check letters.
//!
//! A secret's 64 hex digits are printed as 4 lines of 16 digits, in groups
//! of 4, each line followed by one **check letter**:
//!
//! ```text
//! 1  3F2A 0B9C 77D1 E4A0  K
//! ```
//!
//! The check letter of line `L` (1-based) with digits `d1 … d16` (their
//! values 0–15) is
//!
//! ```text
//! c = (L + 1·d1 + 2·d2 + … + 16·d16) mod 17
//! ```
//!
//! written as the c-th letter of [`CHECK_ALPHABET`] `GHJKMNPQRSTUVWXYZ`
//! (17 letters, none of them a hex digit, and none of the confusable I, L,
//! O). Because 17 is prime and the weights 1…16 are distinct and non-zero
//! modulo 17:
//! - any single wrong digit changes `c` (its error times its weight is not
//!   a multiple of 17);
//! - swapping any two different digits of a line changes `c` (the
//!   difference of the digits times the difference of their weights is not
//!   a multiple of 17);
//! - a whole line typed in the place of another line changes `c` (the line
//!   numbers differ by 1 to 3).
//!
//! So when a custodian types the lines with their check letters, a typo is
//! pinned to its line without knowing the secret; the property tests in
//! `tests/secrets_lines_props.rs` check these claims.

use zeroize::Zeroizing;

use super::secret::{hex_digit, DisablementSecret, HEX_UPPER};
use crate::tka::disablement::DISABLEMENT_LENGTH;

/// Hex digits per printed line.
pub const DIGITS_PER_LINE: usize = 16;
/// Printed lines per secret.
pub const LINES: usize = 2 * DISABLEMENT_LENGTH / DIGITS_PER_LINE;
/// The check letters, indexed by the checksum modulo 17.
pub const CHECK_ALPHABET: &[u8; 17] = b"GHJKMNPQRSTUVWXYZ";

/// The check letter for line `line` (1-based) holding `digits` (values 0–15).
pub fn check_letter(line: usize, digits: &[u8]) -> char {
    let mut sum = line % 17;
    for (i, d) in digits.iter().enumerate() {
        sum = (sum + (i + 1) % 17 * usize::from(*d % 16)) % 17;
    }
    CHECK_ALPHABET[sum] as char
}

/// The digit values of line `line` (1-based) of `secret`.
fn line_digits(secret: &DisablementSecret, line: usize) -> Zeroizing<Vec<u8>> {
    let bytes = secret.expose();
    let start = (line - 1) * DIGITS_PER_LINE / 2;
    let mut out = Zeroizing::new(Vec::with_capacity(DIGITS_PER_LINE));
    for byte in &bytes[start..start + DIGITS_PER_LINE / 2] {
        out.push(byte >> 4);
        out.push(byte & 0x0f);
    }
    out
}

/// One printed line: its hex in groups of four and its check letter.
pub struct PrintedLine {
    /// 1-based line number.
    pub number: usize,
    /// `3F2A 0B9C 77D1 E4A0`.
    pub groups: Zeroizing<String>,
    /// The check letter.
    pub check: char,
}

/// The four printed lines of `secret`.
pub fn printed_lines(secret: &DisablementSecret) -> Vec<PrintedLine> {
    (1..=LINES)
        .map(|number| {
            let digits = line_digits(secret, number);
            let mut groups = Zeroizing::new(String::with_capacity(DIGITS_PER_LINE + 3));
            for (i, d) in digits.iter().enumerate() {
                if i > 0 && i % 4 == 0 {
                    groups.push(' ');
                }
                groups.push(HEX_UPPER[usize::from(*d)] as char);
            }
            PrintedLine {
                number,
                check: check_letter(number, &digits),
                groups,
            }
        })
        .collect()
}

/// What is wrong with one typed line. Never carries the typed text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineProblem {
    /// A character that is neither a hex digit, a space, nor a check letter.
    BadCharacter { column: usize },
    /// Not 16 hex digits.
    WrongLength { digits: usize },
    /// No check letter at the end of the line.
    MissingCheck,
    /// The check letter does not match the digits: a typo in this line.
    CheckMismatch,
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineProblem::BadCharacter { column } => write!(
                f,
                "character {column} is not a hex digit (0-9, A-F) or a check letter ({})",
                std::str::from_utf8(CHECK_ALPHABET).unwrap_or("")
            ),
            LineProblem::WrongLength { digits } => write!(
                f,
                "{digits} hex digits; each line of the sheet has {DIGITS_PER_LINE} (four groups of four)"
            ),
            LineProblem::MissingCheck => {
                f.write_str("no check letter; type the letter printed at the end of the line")
            }
            LineProblem::CheckMismatch => f.write_str(
                "the check letter does not match: there is a typo in this line (or in its check letter); compare it with the sheet",
            ),
        }
    }
}

/// Checks one typed line (1-based `line`): 16 hex digits in any grouping
/// and case, then its check letter. Returns the digit values.
pub fn check_typed_line(line: usize, text: &str) -> Result<Zeroizing<Vec<u8>>, LineProblem> {
    let mut digits = Zeroizing::new(Vec::with_capacity(DIGITS_PER_LINE));
    let mut check = None;
    for (i, c) in text.trim().chars().enumerate() {
        if c.is_whitespace() || c == '-' {
            continue;
        }
        let upper = c.to_ascii_uppercase();
        if check.is_some() {
            return Err(LineProblem::BadCharacter { column: i + 1 });
        }
        if let Some(d) = hex_digit(c) {
            digits.push(d);
        } else if upper.is_ascii() && CHECK_ALPHABET.contains(&(upper as u8)) {
            check = Some(upper);
        } else {
            return Err(LineProblem::BadCharacter { column: i + 1 });
        }
    }
    if digits.len() != DIGITS_PER_LINE {
        return Err(LineProblem::WrongLength {
            digits: digits.len(),
        });
    }
    match check {
        None => Err(LineProblem::MissingCheck),
        Some(c) if c != check_letter(line, &digits) => Err(LineProblem::CheckMismatch),
        Some(_) => Ok(digits),
    }
}

/// Joins four checked lines' digits into a secret.
pub fn secret_from_lines(lines: &[Zeroizing<Vec<u8>>]) -> Option<DisablementSecret> {
    if lines.len() != LINES || lines.iter().any(|l| l.len() != DIGITS_PER_LINE) {
        return None;
    }
    let mut bytes = Zeroizing::new([0u8; DISABLEMENT_LENGTH]);
    for (i, pair) in lines.iter().flat_map(|l| l.chunks(2)).enumerate() {
        bytes[i] = (pair[0] << 4) | pair[1];
    }
    Some(DisablementSecret::from_bytes(&mut bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_lines_check_back() {
        let s = DisablementSecret::generate().unwrap();
        let lines = printed_lines(&s);
        assert_eq!(lines.len(), 4);
        let mut checked = Vec::new();
        for l in &lines {
            assert_eq!(l.groups.len(), 19);
            let typed = format!("{} {}", l.groups.as_str(), l.check);
            checked.push(check_typed_line(l.number, &typed).unwrap());
        }
        let back = secret_from_lines(&checked).unwrap();
        assert_eq!(back.expose(), s.expose());
    }

    #[test]
    fn known_check_letter() {
        // line 1, digits 0..15: 1 + sum(i*(i-1)) for i=1..16 = 1 + 1360 = 1361 = 17*80 + 1
        let digits: Vec<u8> = (0..16).collect();
        assert_eq!(check_letter(1, &digits), 'H');
        assert_eq!(check_letter(2, &[0; 16]), 'J');
    }
}
