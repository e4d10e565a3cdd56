//! Where a ceremony's disablement secrets go, as asked (`lock init`'s
//! `--secrets-*` options and `secrets generate`): recipients parsed, the
//! passphrase read and the destinations checked before anything slow or
//! irreversible, so a bad recipient fails first.

use crate::ceremony::error::{bail, refusal, Context};
use crate::secrets::age_files::{AgeOptions, AgeRecipient, AgeTarget, FileLayout};
use crate::secrets::label::{parse_date, today, AuthorityLabel};
use crate::secrets::{
    generate_secrets, write_outputs, GeneratedSecrets, OutputOptions, Overwrite, Progress,
    SheetFormat, SheetOptions, WrittenOutputs,
};
use age::secrecy::SecretString;
use std::path::PathBuf;

/// Where the secrets go, as the user asked.
#[derive(Debug, Clone, Default)]
pub struct SecretsDestinations {
    /// age recipients (`age1…`, `age1<plugin>1…`, ssh keys).
    pub to: Vec<String>,
    /// Files of age recipients.
    pub to_file: Vec<PathBuf>,
    /// Encrypt to a passphrase (read through [`plan_outputs`]'s reader).
    pub passphrase: bool,
    /// The directory of the age files.
    pub out: Option<PathBuf>,
    pub armor: bool,
    pub single_file: bool,
    /// The directory of the printable sheets (PLAINTEXT secrets).
    pub sheet_dir: Option<PathBuf>,
    /// Sheet formats (empty: all of them).
    pub sheet_format: Vec<SheetFormat>,
    pub single_sheet_file: bool,
    pub force: bool,
}

/// Reads the passphrase the age files are encrypted to (the CLI asks on
/// its terminal, twice, or reads standard input).
pub type PassphraseSource = dyn Fn() -> crate::ceremony::error::Result<SecretString>;

/// Checked destinations, with recipients parsed and the passphrase read.
pub struct PlannedOutputs {
    age: Option<(PathBuf, AgeOptions)>,
    sheets: Option<(PathBuf, SheetOptions)>,
    overwrite: Overwrite,
}

impl PlannedOutputs {
    /// Whether anything will be written.
    pub fn is_empty(&self) -> bool {
        self.age.is_none() && self.sheets.is_none()
    }

    /// The options for [`crate::secrets::write_outputs`] and
    /// [`crate::secrets::render_outputs`].
    pub fn options(&self) -> OutputOptions<'_> {
        OutputOptions {
            age: self.age.as_ref().map(|(d, o)| {
                (
                    d.as_path(),
                    AgeOptions {
                        target: match &o.target {
                            AgeTarget::Recipients(r) => AgeTarget::Recipients(r.clone()),
                            AgeTarget::Passphrase(p) => AgeTarget::Passphrase(p.clone()),
                        },
                        layout: o.layout,
                        armor: o.armor,
                        overwrite: o.overwrite,
                        progress: o.progress,
                    },
                )
            }),
            sheets: self.sheets.as_ref().map(|(d, o)| (d.as_path(), o.clone())),
            overwrite: self.overwrite,
        }
    }
}

/// Parses recipients, reads the passphrase (with `passphrase`, when one is
/// asked for), and checks that the destinations make sense. `allow_none`:
/// whether writing nothing is acceptable (e.g. `--reveal`).
pub fn plan_outputs(
    d: &SecretsDestinations,
    allow_none: bool,
    passphrase: &PassphraseSource,
) -> crate::ceremony::error::Result<PlannedOutputs> {
    let mut recipients = Vec::new();
    for r in &d.to {
        recipients.push(AgeRecipient::parse(r).context("age recipient")?);
    }
    for f in &d.to_file {
        recipients.extend(AgeRecipient::parse_file(f).context("age recipients file")?);
    }
    let encrypting = d.passphrase || !recipients.is_empty();
    if encrypting && d.out.is_none() {
        bail!("no directory for the age files: say where they go (--out / --secrets-out DIR)");
    }
    if d.out.is_some() && !encrypting {
        bail!("a directory for age files but nobody to encrypt to: add a recipient (--to / --secrets-to) or a passphrase");
    }
    if !encrypting && d.sheet_dir.is_none() && !allow_none {
        bail!("nowhere to put the secrets: give age recipients or a passphrase with an output directory, and/or a sheet directory");
    }
    let overwrite = if d.force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    let target = if d.passphrase {
        Some(AgeTarget::Passphrase(passphrase()?))
    } else if recipients.is_empty() {
        None
    } else {
        Some(AgeTarget::Recipients(recipients))
    };
    let layout = |single: bool| {
        if single {
            FileLayout::Single
        } else {
            FileLayout::PerSecret
        }
    };
    let formats: Vec<SheetFormat> = if d.sheet_format.is_empty() {
        SheetFormat::ALL.to_vec()
    } else {
        d.sheet_format.clone()
    };
    Ok(PlannedOutputs {
        age: match (&d.out, target) {
            (Some(dir), Some(target)) => Some((
                dir.clone(),
                AgeOptions {
                    target,
                    layout: layout(d.single_file),
                    armor: d.armor,
                    overwrite,
                    progress: Progress::Auto,
                },
            )),
            _ => None,
        },
        sheets: d.sheet_dir.as_ref().map(|dir| {
            (
                dir.clone(),
                SheetOptions {
                    formats,
                    layout: layout(d.single_sheet_file),
                },
            )
        }),
        overwrite,
    })
}

/// What `secrets generate` was asked for.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// How many secrets (1 to 32).
    pub count: usize,
    /// The genesis AUM hash (base32) of the authority the secrets are for.
    pub genesis: String,
    pub state_id1: u64,
    pub state_id2: u64,
    /// The creation date (YYYY-MM-DD); `None` for today (UTC).
    pub created: Option<String>,
    pub destinations: SecretsDestinations,
    /// The secrets are shown to the caller (so writing no file is acceptable).
    pub reveal: bool,
}

/// Secrets made and written.
pub struct Generated {
    pub label: AuthorityLabel,
    pub written: WrittenOutputs,
    /// The secrets themselves, for a caller that reveals them; zeroized on drop.
    pub secrets: GeneratedSecrets,
}

/// Makes disablement secrets offline and writes them where `request`
/// says: every destination and recipient checked, and the passphrase
/// read, before any secret is made.
pub fn generate(
    request: &GenerateRequest,
    passphrase: &PassphraseSource,
) -> crate::ceremony::error::Result<Generated> {
    let created = match &request.created {
        Some(d) => parse_date(d)
            .ok_or_else(|| refusal!("--created {d:?} is not a date; use YYYY-MM-DD"))?,
        None => today(),
    };
    let label = AuthorityLabel::new(
        &request.genesis,
        request.state_id1,
        request.state_id2,
        created,
    )
    .context("--genesis")?;
    let planned = plan_outputs(&request.destinations, request.reveal, passphrase)?;
    let secrets = generate_secrets(request.count, Progress::Auto)?;
    let written = write_outputs(&secrets, &label, &planned.options()).context(
        "writing the disablement secrets (nothing was enrolled; fix the cause and run again)",
    )?;
    Ok(Generated {
        label,
        written,
        secrets,
    })
}
