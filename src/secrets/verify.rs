//! Checking a secret a custodian holds against the authority's disablement
//! values, and reading a typed secret so that a typo is pinned to its line.

use serde::Serialize;
use zeroize::Zeroizing;

use super::error::SecretsError;
use super::lines::{check_typed_line, secret_from_lines, LineProblem, LINES};
use super::secret::{parse_secret_hex, DisablementSecret};
use super::values::{value_text, DisablementValue};

/// The answer of a verification. Never holds the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Verdict {
    /// The secret's value is the `index`-th (1-based) of the expected values.
    Matches {
        index: usize,
        #[serde(serialize_with = "ser_value")]
        value: DisablementValue,
    },
    /// The secret's value is none of the expected values.
    MatchesNone {
        #[serde(serialize_with = "ser_value")]
        value: DisablementValue,
    },
}

fn ser_value<S: serde::Serializer>(v: &DisablementValue, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&value_text(v))
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Matches { index, value } => write!(
                f,
                "OK: the secret matches disablement value #{index}: {}",
                value_text(value)
            ),
            Verdict::MatchesNone { value } => write!(
                f,
                "NO MATCH: the secret derives {}, which is none of the expected disablement values",
                value_text(value)
            ),
        }
    }
}

/// Derives `secret`'s value and looks it up in `expected`. This is the
/// function `lock init`/`--chain` callers use with the authority's values.
pub fn verify_secret(secret: &DisablementSecret, expected: &[DisablementValue]) -> Verdict {
    let value = secret.value();
    match expected.iter().position(|v| *v == value) {
        Some(i) => Verdict::Matches {
            index: i + 1,
            value,
        },
        None => Verdict::MatchesNone { value },
    }
}

/// Strips a leading printed line number (`1:`, `2.`, `3)`).
fn strip_line_number(line: &str) -> &str {
    let t = line.trim_start();
    let mut chars = t.chars();
    match (chars.next(), chars.next()) {
        (Some(d), Some(':' | '.' | ')')) if d.is_ascii_digit() => &t[2..],
        _ => t,
    }
}

/// Checks one typed sheet line (1-based), the line number prefix allowed.
pub fn check_line(line: usize, text: &str) -> Result<Zeroizing<Vec<u8>>, LineProblem> {
    check_typed_line(line, strip_line_number(text))
}

/// Reads a typed secret: either the four sheet lines with their check
/// letters (a typo is reported with its line), or one line holding the
/// whole secret (`disablement-secret:…` or 64 hex digits, not checkable
/// line by line). `input` names the source in errors; the typed text is
/// never echoed.
pub fn read_typed_secret(input: &str, text: &str) -> Result<DisablementSecret, SecretsError> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() == 1 {
        if let Some(secret) = parse_secret_hex(lines[0]) {
            return Ok(secret);
        }
    }
    if lines.len() != LINES {
        let (line, problem) = if lines.len() < LINES {
            (
                lines.len() + 1,
                format!(
                    "line {} of {LINES} is missing; type the {LINES} lines of the sheet, each with its check letter (or the whole disablement-secret:… on one line)",
                    lines.len() + 1
                ),
            )
        } else {
            (
                LINES + 1,
                format!("more than {LINES} lines typed; the sheet has {LINES} lines of hex"),
            )
        };
        return Err(SecretsError::BadSecretText {
            input: input.to_owned(),
            line,
            problem,
        });
    }
    let mut checked = Vec::with_capacity(LINES);
    for (i, l) in lines.iter().enumerate() {
        let digits = check_line(i + 1, l).map_err(|problem| SecretsError::BadSecretText {
            input: input.to_owned(),
            line: i + 1,
            problem: format!("sheet line {}: {problem}", i + 1),
        })?;
        checked.push(digits);
    }
    secret_from_lines(&checked).ok_or_else(|| SecretsError::BadSecretText {
        input: input.to_owned(),
        line: 1,
        problem: "the lines do not make a 32-byte secret".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::lines::printed_lines;

    fn typed(secret: &DisablementSecret) -> String {
        printed_lines(secret)
            .iter()
            .map(|l| format!("{}: {}  {}\n", l.number, l.groups.as_str(), l.check))
            .collect()
    }

    #[test]
    fn typed_sheet_round_trips_and_typo_is_located() {
        let s = DisablementSecret::generate().unwrap();
        let text = typed(&s);
        assert_eq!(read_typed_secret("t", &text).unwrap().expose(), s.expose());
        // Change one digit of line 3.
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let l3 = &mut lines[2];
        let pos = 4; // first hex digit after "3: "
        let old = l3.as_bytes()[pos];
        let new = if old == b'0' { '1' } else { '0' };
        l3.replace_range(pos..pos + 1, &new.to_string());
        let err = read_typed_secret("t", &lines.join("\n")).unwrap_err();
        match err {
            SecretsError::BadSecretText { line, problem, .. } => {
                assert_eq!(line, 3);
                assert!(problem.contains("typo"), "{problem}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn verdict_names_the_value() {
        let s = DisablementSecret::generate().unwrap();
        let v = s.value();
        assert_eq!(
            verify_secret(&s, &[[0; 32], v]),
            Verdict::Matches { index: 2, value: v }
        );
        assert_eq!(
            verify_secret(&s, &[[0; 32]]),
            Verdict::MatchesNone { value: v }
        );
        let shown = verify_secret(&s, &[v]).to_string();
        assert!(!shown.contains(s.hex_upper().as_str()));
        assert!(!shown.to_uppercase().contains(s.hex_upper().as_str()));
    }
}
