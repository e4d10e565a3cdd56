//! A custodian's checks of the disablement secrets (`secrets verify`,
//! `secrets decrypt`): the authority's expected values read from where the
//! user said, a secret read from a sheet (typed line by line with its
//! check letters, or a photo of its QR code) or from an age file, checked
//! against those values, and a match recorded in the verification record.
//! The secret itself is never printed unless asked for by name.

use crate::ceremony::chain::ChainRequest;
use crate::ceremony::error::{bail, refusal, Context};
use crate::ceremony::terminal::Terminal;
use crate::secrets::decrypt::{decrypt_file, Unlock};
use crate::secrets::lines::{secret_from_lines, LINES};
use crate::secrets::qr::secret_from_qr_image;
use crate::secrets::record::{VerificationRecord, VerifyMethod};
use crate::secrets::secret::{parse_secret_hex, DisablementSecret};
use crate::secrets::values::{parse_value_text, DisablementValue};
use crate::secrets::verify::{check_line, read_typed_secret, verify_secret, Verdict};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Where the expected disablement values come from (any mix).
#[derive(Debug, Clone, Default)]
pub struct ExpectedValues {
    /// `disablement:<hex>` values given one by one.
    pub values: Vec<String>,
    /// A file of values, one `disablement:<hex>` per line (`#` comments).
    pub values_file: Option<PathBuf>,
    /// A chain (verified first) whose state holds the values.
    pub chain: Vec<String>,
    /// The local store whose authority holds the values.
    pub store: Option<PathBuf>,
}

impl ExpectedValues {
    /// The values, in the authority's state order first, then as given.
    pub fn load(&self) -> crate::ceremony::error::Result<Vec<DisablementValue>> {
        let mut out = Vec::new();
        if !self.chain.is_empty() || self.store.is_some() {
            let authority = ChainRequest {
                chain: self.chain.clone(),
                store: self.store.clone(),
                unpinned: false,
            }
            .authority()?;
            for v in authority.state().disablement_values() {
                let value: DisablementValue = v.try_into().map_err(|_| {
                    refusal!("the chain holds a disablement value that is not 32 bytes")
                })?;
                out.push(value);
            }
        }
        for v in &self.values {
            out.push(parse_value_text(v).ok_or_else(|| {
                refusal!("--value {v:?} is not a disablement value; give `disablement:` followed by 64 hex digits, as `tailscale lock disablement-kdf` prints")
            })?);
        }
        if let Some(path) = &self.values_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the values file {}", path.display()))?;
            for (n, line) in text.lines().enumerate() {
                let l = line.trim();
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                out.push(parse_value_text(l).ok_or_else(|| {
                    refusal!(
                        "{}, line {}: not a disablement value; each line must be `disablement:` followed by 64 hex digits",
                        path.display(),
                        n + 1
                    )
                })?);
            }
        }
        Ok(out)
    }
}

/// Refuses an empty list of expected values, saying how to give them.
pub fn require_expected(expected: &[DisablementValue]) -> crate::ceremony::error::Result<()> {
    if expected.is_empty() {
        bail!("no expected disablement values: give the authority's values with --value disablement:HEX (repeatable) or --values FILE");
    }
    Ok(())
}

/// Where the secret to verify comes from.
pub enum SecretSource<'a> {
    /// A photo or scan of the sheet's QR code.
    QrImage(&'a Path),
    /// Typed at the terminal, line by line (hidden).
    Typed(&'a mut dyn Terminal),
    /// Text read from a pipe (the four lines, or the whole secret), named
    /// `input` in errors.
    Text { input: &'a str, text: &'a str },
}

/// How many times a mistyped sheet line is asked for again before giving up.
pub const LINE_TRIES: usize = 3;

/// Asks for the sheet's lines one by one (hidden input); a line whose
/// check letter does not match is asked for again, up to [`LINE_TRIES`]
/// times. The whole `disablement-secret:…` may be pasted at the first prompt.
pub fn read_secret_lines(
    term: &mut dyn Terminal,
) -> crate::ceremony::error::Result<DisablementSecret> {
    term.say("Type the secret from the sheet, one line at a time, each with its check letter");
    term.say("(or paste the whole disablement-secret:… at the first prompt). Input is hidden.");
    let mut lines = Vec::with_capacity(LINES);
    let mut line_no = 1;
    let mut tries = 0;
    while line_no <= LINES {
        let typed = term
            .secret(&format!("line {line_no} of {LINES}: "))
            .context("reading from the terminal")?;
        if line_no == 1 {
            if let Some(secret) = parse_secret_hex(&typed) {
                return Ok(secret);
            }
        }
        match check_line(line_no, &typed) {
            Ok(digits) => {
                lines.push(digits);
                line_no += 1;
                tries = 0;
            }
            Err(problem) => {
                tries += 1;
                term.say(&format!("line {line_no}: {problem}"));
                if tries >= LINE_TRIES {
                    bail!("line {line_no} of the sheet could not be read after {LINE_TRIES} tries: {problem}");
                }
                term.say(&format!("type line {line_no} again"));
            }
        }
    }
    secret_from_lines(&lines)
        .ok_or_else(|| refusal!("the typed lines do not make a 32-byte secret"))
}

/// Reads a custodian's secret from `source` and checks it against
/// `expected` (which must not be empty). The secret is dropped (zeroized)
/// before this returns.
pub fn verify(
    source: SecretSource<'_>,
    expected: &[DisablementValue],
) -> crate::ceremony::error::Result<(Verdict, VerifyMethod)> {
    require_expected(expected)?;
    let (secret, method) = match source {
        SecretSource::QrImage(path) => (secret_from_qr_image(path)?, VerifyMethod::QrImage),
        SecretSource::Typed(term) => (read_secret_lines(term)?, VerifyMethod::Typed),
        SecretSource::Text { input, text } => {
            (read_typed_secret(input, text)?, VerifyMethod::Typed)
        }
    };
    let verdict = verify_secret(&secret, expected);
    drop(secret);
    Ok((verdict, method))
}

/// Who verified, and the record to add a match to.
#[derive(Debug, Clone, Default)]
pub struct RecordTo {
    pub custodian: Option<String>,
    pub record: Option<PathBuf>,
}

/// Adds a match to the verification record; returns the line to say, or
/// `None` when nothing was recorded (no record asked for, or no match).
pub fn record_verification(
    to: &RecordTo,
    verdict: &Verdict,
    method: VerifyMethod,
) -> crate::ceremony::error::Result<Option<String>> {
    let (Some(path), Some(who), Verdict::Matches { index, value }) =
        (&to.record, &to.custodian, verdict)
    else {
        return Ok(None);
    };
    let mut r = VerificationRecord::load(path)?;
    r.add(who, *index, value, method);
    r.save(path)?;
    Ok(Some(format!(
        "recorded: {who} verified secret #{index} in {}",
        path.display()
    )))
}

/// One secret of a decrypted age file, checked.
pub struct DecryptedCheck {
    /// The 1-based index the file's header gives.
    pub file_index: Option<usize>,
    pub verdict: Verdict,
    /// What it was checked against, for the report.
    pub checked_against: &'static str,
    /// The secret itself, only when asked for (`--reveal`).
    pub revealed: Option<Zeroizing<String>>,
}

/// What `secrets decrypt` found.
pub struct DecryptReport {
    pub checks: Vec<DecryptedCheck>,
    /// Lines to say (what was recorded, or why not).
    pub notes: Vec<String>,
}

impl DecryptReport {
    /// Whether every secret matched.
    pub fn all_match(&self) -> bool {
        self.checks
            .iter()
            .all(|c| matches!(c.verdict, Verdict::Matches { .. }))
    }
}

/// Decrypts `file` with `unlock` and checks each secret in it against
/// `expected`; with no expected values, against the value the file
/// records (weaker: it proves the file intact, not that it belongs to the
/// authority, and nothing is recorded).
pub fn check_age_file(
    file: &Path,
    unlock: &Unlock,
    expected: &[DisablementValue],
    record: &RecordTo,
    reveal: bool,
) -> crate::ceremony::error::Result<DecryptReport> {
    let found = decrypt_file(file, unlock)?;
    let mut checks = Vec::new();
    let mut notes = Vec::new();
    for f in &found {
        let (verdict, checked_against) = if expected.is_empty() {
            let own: Vec<DisablementValue> = f.recorded_value.into_iter().collect();
            (
                verify_secret(&f.secret, &own),
                "the value recorded in the file (pass --value/--values to check against the authority)",
            )
        } else {
            (verify_secret(&f.secret, expected), "the expected values")
        };
        if !expected.is_empty() {
            notes.extend(record_verification(
                record,
                &verdict,
                VerifyMethod::DecryptedFile,
            )?);
        }
        checks.push(DecryptedCheck {
            file_index: f.index,
            verdict,
            checked_against,
            revealed: reveal.then(|| f.secret.text()),
        });
    }
    if record.record.is_some() && expected.is_empty() {
        notes.push("not recorded: a verification is recorded only against the authority's values (--value/--values)".into());
    }
    Ok(DecryptReport { checks, notes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceremony::terminal::{Answer, Scripted};
    use crate::secrets::lines::printed_lines;

    fn expected_for(secret: &DisablementSecret) -> Vec<DisablementValue> {
        vec![[7u8; 32], secret.value()]
    }

    #[test]
    fn typed_lines_are_checked_one_by_one_and_a_typo_is_asked_again() {
        let secret = DisablementSecret::generate_many(1).unwrap().remove(0);
        let mut answers: Vec<Answer> = Vec::new();
        // Line 2 first typed with its first digit changed (a typo).
        for (i, l) in printed_lines(&secret).iter().enumerate() {
            let typed = format!("{} {}", l.groups.as_str(), l.check);
            if i == 1 {
                let first = if typed.starts_with('0') { "1" } else { "0" };
                answers.push(Answer::Text(format!("{first}{}", &typed[1..])));
            }
            answers.push(Answer::Text(typed));
        }
        let mut term = Scripted::new(answers);
        let (verdict, method) =
            verify(SecretSource::Typed(&mut term), &expected_for(&secret)).unwrap();
        assert!(
            matches!(verdict, Verdict::Matches { index: 2, .. }),
            "{verdict}"
        );
        assert_eq!(method, VerifyMethod::Typed);
        assert!(
            term.transcript.iter().any(|l| l == "type line 2 again"),
            "{:?}",
            term.transcript
        );
        // The secret is never said.
        let said = term.transcript.join("\n");
        assert!(!said.contains(secret.text().as_str()));
    }

    #[test]
    fn three_bad_tries_give_up_and_no_expected_values_is_refused_first() {
        let mut term = Scripted::new((0..3).map(|_| Answer::Text("nonsense".into())));
        let err = read_secret_lines(&mut term).unwrap_err().to_string();
        assert!(err.contains("could not be read after 3 tries"), "{err}");

        let mut term = Scripted::none();
        let err = verify(SecretSource::Typed(&mut term), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no expected disablement values"), "{err}");
        assert!(
            term.transcript.is_empty(),
            "nothing asked: {:?}",
            term.transcript
        );
    }

    #[test]
    fn a_match_is_recorded_and_a_mismatch_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let secret = DisablementSecret::generate_many(1).unwrap().remove(0);
        let text = secret.text();
        let to = RecordTo {
            custodian: Some("Ada".into()),
            record: Some(dir.path().join("record.json")),
        };
        let source = SecretSource::Text {
            input: "stdin",
            text: text.as_str(),
        };
        let (verdict, method) = verify(source, &expected_for(&secret)).unwrap();
        let said = record_verification(&to, &verdict, method).unwrap().unwrap();
        assert!(said.contains("Ada verified secret #2"), "{said}");
        let record = std::fs::read_to_string(dir.path().join("record.json")).unwrap();
        assert!(record.contains("Ada"), "{record}");
        assert!(
            !record.contains(text.as_str()),
            "the record never holds the secret"
        );

        let source = SecretSource::Text {
            input: "stdin",
            text: text.as_str(),
        };
        let (verdict, method) = verify(source, &[[9u8; 32]]).unwrap();
        assert!(matches!(verdict, Verdict::MatchesNone { .. }));
        let none = RecordTo {
            record: Some(dir.path().join("other.json")),
            ..to
        };
        assert_eq!(record_verification(&none, &verdict, method).unwrap(), None);
        assert!(!dir.path().join("other.json").exists());
    }

    #[test]
    fn expected_values_come_from_arguments_and_a_file_with_line_numbers_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let good = format!("disablement:{}", "ab".repeat(32));
        let file = dir.path().join("values");
        std::fs::write(&file, format!("# the authority's\n{good}\n\nnot-a-value\n")).unwrap();
        let req = ExpectedValues {
            values: vec![good.clone()],
            values_file: Some(file),
            ..Default::default()
        };
        let err = req.load().unwrap_err().to_string();
        assert!(err.contains("line 4: not a disablement value"), "{err}");

        let bad = ExpectedValues {
            values: vec!["disablement:12".into()],
            ..Default::default()
        };
        assert!(bad
            .load()
            .unwrap_err()
            .to_string()
            .contains("64 hex digits"));
        let ok = ExpectedValues {
            values: vec![good],
            ..Default::default()
        };
        assert_eq!(ok.load().unwrap(), vec![[0xab; 32]]);
    }
}
