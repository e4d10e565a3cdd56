//! What a printed sheet says, independent of its format (PDF, HTML, plain
//! text): one page per secret. The renderers in `sheet_pdf`, `sheet_html`
//! and `sheet_text` lay this out.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::atomic::{check_free, ensure_dir, write_atomic, Overwrite};
use super::error::SecretsError;
use super::label::AuthorityLabel;
use super::lines::{printed_lines, PrintedLine, CHECK_ALPHABET};
use super::qr::{secret_qr, QrMatrix};
use super::secret::DisablementSecret;
use super::values::{value_text, DisablementValue};

/// Everything printed on one sheet. Holds the secret's text; wiped on drop.
pub struct Sheet {
    /// 1-based index of the secret, and how many were made.
    pub index: usize,
    pub count: usize,
    pub label: AuthorityLabel,
    pub lines: Vec<PrintedLine>,
    pub secret_text: Zeroizing<String>,
    pub value_text: String,
    pub qr: QrMatrix,
}

impl Sheet {
    /// Builds the sheet of secret `index` (1-based) of `count`.
    pub fn new(
        label: &AuthorityLabel,
        index: usize,
        count: usize,
        secret: &DisablementSecret,
        value: &DisablementValue,
    ) -> Result<Self, SecretsError> {
        Ok(Sheet {
            index,
            count,
            label: label.clone(),
            lines: printed_lines(secret),
            secret_text: secret.text(),
            value_text: value_text(value),
            qr: secret_qr(secret)?,
        })
    }

    /// The sheet's title.
    pub fn title(&self) -> String {
        format!(
            "Tailnet Lock disablement secret {} of {}",
            self.index, self.count
        )
    }

    /// The authority, one fact per line.
    pub fn authority_lines(&self) -> Vec<String> {
        vec![
            format!("Genesis AUM hash: {}", self.label.genesis_hash),
            format!(
                "State ID:         {} (StateID1 {})",
                self.label.state_id_text(),
                self.label.state_id1
            ),
            format!("Created:          {}", self.label.created_text()),
        ]
    }

    /// How to type the lines back and how to use the secret.
    pub fn instructions(&self) -> Vec<String> {
        let letters = std::str::from_utf8(CHECK_ALPHABET).unwrap_or("");
        vec![
            "KEEP THIS SHEET IN A SAFE. Anyone holding it can turn Tailnet Lock off".into(),
            "for the whole tailnet. One secret is enough; the others are spares.".into(),
            String::new(),
            "To check it (custody check): run  locksmith secrets verify  with the".into(),
            "authority's values and type each line above with its check letter; a typo is".into(),
            format!("reported with its line. Check letters are from {letters} (no I, L, O)."),
            "Or show the QR code to:       locksmith secrets verify --qr-image PHOTO".into(),
            String::new(),
            "To disable Tailnet Lock (only when the lock itself is the problem):".into(),
            "  - on any node of the tailnet, run".into(),
            "      tailscale lock disable disablement-secret:<the 64 hex digits>".into(),
            "  - or in the admin console: Device management > Disable Tailnet Lock,".into(),
            "    and enter the disablement-secret text.".into(),
            "Once used, the secret is sent to every node: consider it public.".into(),
            "The value above is what the authority stores; it is not secret.".into(),
        ]
    }
}

/// Output formats of the sheets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetFormat {
    Pdf,
    Html,
    Text,
}

impl SheetFormat {
    pub const ALL: [SheetFormat; 3] = [SheetFormat::Pdf, SheetFormat::Html, SheetFormat::Text];

    fn extension(self) -> &'static str {
        match self {
            SheetFormat::Pdf => "pdf",
            SheetFormat::Html => "html",
            SheetFormat::Text => "txt",
        }
    }
}

/// File name of secret `index`'s sheet in `format`.
pub fn sheet_file_name(
    label: &AuthorityLabel,
    index: usize,
    count: usize,
    format: SheetFormat,
) -> PathBuf {
    PathBuf::from(format!(
        "disablement-sheet-{}-{index:02}of{count:02}.{}",
        label.file_tag(),
        format.extension()
    ))
}

/// Writes one sheet per secret in each of `formats` into `dir`. These
/// files hold the secrets in plaintext: put `dir` on a RAM disk or
/// removable medium, print, then destroy it. Every destination is
/// checked before anything is written.
pub fn write_sheets(
    dir: &Path,
    label: &AuthorityLabel,
    secrets: &[DisablementSecret],
    values: &[DisablementValue],
    formats: &[SheetFormat],
    overwrite: Overwrite,
) -> Result<Vec<PathBuf>, SecretsError> {
    let count = secrets.len();
    let mut plan = Vec::new();
    for index in 1..=count {
        for f in formats {
            plan.push((
                index,
                *f,
                dir.join(sheet_file_name(label, index, count, *f)),
            ));
        }
    }
    let paths: Vec<PathBuf> = plan.iter().map(|(_, _, p)| p.clone()).collect();
    ensure_dir(dir)?;
    check_free(&paths, overwrite)?;
    for (index, format, path) in &plan {
        let (Some(secret), Some(value)) = (secrets.get(index - 1), values.get(index - 1)) else {
            continue;
        };
        let sheet = Sheet::new(label, *index, count, secret, value)?;
        let bytes: Zeroizing<Vec<u8>> = match format {
            SheetFormat::Pdf => super::sheet_pdf::render_pdf(&[&sheet]),
            SheetFormat::Html => Zeroizing::new(
                super::sheet_html::render_html(&[&sheet])
                    .as_bytes()
                    .to_vec(),
            ),
            SheetFormat::Text => Zeroizing::new(
                super::sheet_text::render_text(&[&sheet])
                    .as_bytes()
                    .to_vec(),
            ),
        };
        write_atomic(path, &bytes, overwrite)?;
    }
    Ok(paths)
}
