//! What a printed sheet says, independent of its format (PDF, HTML, plain
//! text): one page per secret. The renderers in `sheet_pdf`, `sheet_html`
//! and `sheet_text` lay this out.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::age_files::FileLayout;
use super::error::SecretsError;
use super::label::AuthorityLabel;
use super::lines::{printed_lines, PrintedLine, CHECK_ALPHABET};
use super::qr::{secret_qr, QrMatrix};
use super::secret::DisablementSecret;
use super::values::{value_text, DisablementValue};
use crate::output::{check_free, ensure_dir, Batch, Overwrite};

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

/// How the sheets are split into files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetOptions {
    pub formats: Vec<SheetFormat>,
    /// One file per secret, or one file (one page per secret) for all.
    pub layout: FileLayout,
}

impl Default for SheetOptions {
    fn default() -> Self {
        SheetOptions {
            formats: SheetFormat::ALL.to_vec(),
            layout: FileLayout::PerSecret,
        }
    }
}

/// One planned sheet file: which secrets (1-based, inclusive), which
/// format, which file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedSheet {
    pub first: usize,
    pub last: usize,
    pub format: SheetFormat,
    pub name: PathBuf,
}

/// The sheet files [`write_sheets`] writes for `count` secrets, in order.
pub fn sheet_plan(
    label: &AuthorityLabel,
    count: usize,
    options: &SheetOptions,
) -> Vec<PlannedSheet> {
    let mut plan = Vec::new();
    let spans: Vec<(usize, usize)> = match options.layout {
        FileLayout::PerSecret => (1..=count).map(|i| (i, i)).collect(),
        FileLayout::Single => vec![(1, count)],
    };
    for (first, last) in spans {
        for format in &options.formats {
            let which = if first == last {
                format!("{first:02}of{count:02}")
            } else {
                format!("all{count:02}")
            };
            plan.push(PlannedSheet {
                first,
                last,
                format: *format,
                name: PathBuf::from(format!(
                    "disablement-sheet-{}-{which}.{}",
                    label.file_tag(),
                    format.extension()
                )),
            });
        }
    }
    plan
}

/// Writes the sheets into `dir` (one page per secret). These files hold
/// the secrets in plaintext: put `dir` on a RAM disk or removable medium,
/// print, then destroy it. Every destination is checked before anything
/// is written.
pub fn write_sheets(
    dir: &Path,
    label: &AuthorityLabel,
    secrets: &[DisablementSecret],
    values: &[DisablementValue],
    options: &SheetOptions,
    overwrite: Overwrite,
) -> Result<Vec<PathBuf>, SecretsError> {
    let count = secrets.len().min(values.len());
    let paths: Vec<PathBuf> = sheet_plan(label, count, options)
        .iter()
        .map(|p| dir.join(&p.name))
        .collect();
    ensure_dir(dir)?;
    check_free(&paths, overwrite.force())?;
    let mut batch = Batch::new();
    for (path, bytes) in render_sheets(dir, label, secrets, values, options)? {
        batch.write(&path, &bytes, overwrite.force())?;
    }
    Ok(batch.commit())
}

/// The sheets for `dir`: each file's path and (PLAINTEXT) bytes, nothing
/// written (a commit unit writes them with the other outputs).
pub fn render_sheets(
    dir: &Path,
    label: &AuthorityLabel,
    secrets: &[DisablementSecret],
    values: &[DisablementValue],
    options: &SheetOptions,
) -> Result<Vec<(PathBuf, Zeroizing<Vec<u8>>)>, SecretsError> {
    let count = secrets.len().min(values.len());
    let mut out = Vec::new();
    for planned in sheet_plan(label, count, options) {
        let mut sheets = Vec::new();
        for index in planned.first..=planned.last {
            sheets.push(Sheet::new(
                label,
                index,
                count,
                &secrets[index - 1],
                &values[index - 1],
            )?);
        }
        let pages: Vec<&Sheet> = sheets.iter().collect();
        let bytes = match planned.format {
            SheetFormat::Pdf => super::sheet_pdf::render_pdf(&pages),
            SheetFormat::Html => {
                Zeroizing::new(super::sheet_html::render_html(&pages).as_bytes().to_vec())
            }
            SheetFormat::Text => {
                Zeroizing::new(super::sheet_text::render_text(&pages).as_bytes().to_vec())
            }
        };
        out.push((dir.join(planned.name), bytes));
    }
    Ok(out)
}
