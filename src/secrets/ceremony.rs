//! The disablement-secret steps of a key ceremony, as `lock init` runs
//! them: make the secrets and their values (before the genesis AUM, which
//! carries the values), then, once the genesis hash is known, write the
//! age files and the sheets.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::age_files::{write_age_files, AgeOptions};
use super::error::SecretsError;
use super::label::AuthorityLabel;
use super::secret::DisablementSecret;
use super::sheet::{sheet_plan, write_sheets, SheetOptions};
use super::values::{compute_values, value_text, DisablementValue, Progress};
use crate::output::Overwrite;

/// Freshly made secrets and their values, in the same order.
#[derive(Debug)]
pub struct GeneratedSecrets {
    pub secrets: Vec<DisablementSecret>,
    pub values: Vec<DisablementValue>,
}

/// Makes `count` secrets (1–32) from the OS CSPRNG and derives their
/// values in parallel.
pub fn generate_secrets(
    count: usize,
    progress: Progress,
) -> Result<GeneratedSecrets, SecretsError> {
    let secrets = DisablementSecret::generate_many(count)?;
    let values = compute_values(&secrets, progress);
    Ok(GeneratedSecrets { secrets, values })
}

/// Where the secrets go.
pub struct OutputOptions<'a> {
    /// age files into this directory.
    pub age: Option<(&'a Path, AgeOptions)>,
    /// Printable sheets (PLAINTEXT) into this directory.
    pub sheets: Option<(&'a Path, SheetOptions)>,
    pub overwrite: Overwrite,
}

/// What was written. No secrets.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WrittenOutputs {
    /// `disablement:<hex>` of each secret, in order.
    pub values: Vec<String>,
    pub age_files: Vec<PathBuf>,
    pub sheets: Vec<PathBuf>,
}

/// Writes the age files and sheets `options` asks for. All destinations
/// are checked before the first file is written, and if a write fails
/// the files already written by this call are removed.
pub fn write_outputs(
    generated: &GeneratedSecrets,
    label: &AuthorityLabel,
    options: &OutputOptions<'_>,
) -> Result<WrittenOutputs, SecretsError> {
    label.check()?;
    let mut out = WrittenOutputs {
        values: generated.values.iter().map(value_text).collect(),
        ..Default::default()
    };
    if options.overwrite == Overwrite::Refuse {
        let mut planned = Vec::new();
        if let Some((dir, age)) = &options.age {
            planned.extend(
                super::age_files::age_file_names(label, generated.secrets.len(), age.layout)
                    .into_iter()
                    .map(|n| dir.join(n)),
            );
        }
        if let Some((dir, sheets)) = &options.sheets {
            planned.extend(
                sheet_plan(label, generated.secrets.len(), sheets)
                    .into_iter()
                    .map(|p| dir.join(p.name)),
            );
        }
        crate::output::check_free(&planned, false)?;
    }
    if let Some((dir, age)) = &options.age {
        out.age_files = write_age_files(dir, label, &generated.secrets, &generated.values, age)?;
    }
    if let Some((dir, sheets)) = &options.sheets {
        match write_sheets(
            dir,
            label,
            &generated.secrets,
            &generated.values,
            sheets,
            options.overwrite,
        ) {
            Ok(paths) => out.sheets = paths,
            Err(e) => {
                // No half ceremony: the age files go too.
                crate::output::remove_files(&out.age_files);
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// The age files and sheets `options` asks for, as paths and bytes
/// (sheets are PLAINTEXT), nothing written: for a commit unit that writes
/// them together with the command's other outputs.
pub fn render_outputs(
    generated: &GeneratedSecrets,
    label: &AuthorityLabel,
    options: &OutputOptions<'_>,
) -> Result<Vec<(PathBuf, zeroize::Zeroizing<Vec<u8>>)>, SecretsError> {
    label.check()?;
    let mut out = Vec::new();
    if let Some((dir, age)) = &options.age {
        for (path, bytes) in super::age_files::render_age_files(
            dir,
            label,
            &generated.secrets,
            &generated.values,
            age,
        )? {
            out.push((path, zeroize::Zeroizing::new(bytes)));
        }
    }
    if let Some((dir, sheets)) = &options.sheets {
        out.extend(super::sheet::render_sheets(
            dir,
            label,
            &generated.secrets,
            &generated.values,
            sheets,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_ceremony_shows_no_secret() {
        let generated = generate_secrets(2, Progress::Hidden).unwrap();
        let shown = format!("{generated:?}");
        for s in &generated.secrets {
            assert!(!shown.contains(s.hex_upper().as_str()));
            assert!(!shown.contains(&s.hex_upper().to_lowercase()));
            // Nor as a list of byte values.
            assert!(!shown.contains(&format!("{:?}", &s.expose()[..4])));
        }
        assert!(shown.contains("DisablementSecret(<redacted>)"));
        assert_eq!(generated.values[0], generated.secrets[0].value());
    }
}
