//! `locksmith secrets`: make, verify and decrypt disablement secrets.
//!
//! Exit codes: 0 success (every secret checked matches), 1 error (bad
//! input, typo found, I/O), 2 usage error (clap), 3 a secret matches none of the expected
//! disablement values.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use age::secrecy::SecretString;
use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::ceremony::custody::{
    self, check_age_file, record_verification, require_expected, ExpectedValues, RecordTo,
    SecretSource,
};
pub use crate::ceremony::disablement::SecretsDestinations;
use crate::ceremony::disablement::{generate, GenerateRequest, Generated};
use crate::ceremony::terminal::Tty;
use crate::secrets::decrypt::{load_identities, Unlock};
use crate::secrets::label::AuthorityLabel;
use crate::secrets::secret::DisablementSecret;
use crate::secrets::values::DisablementValue;
use crate::secrets::verify::Verdict;
use crate::secrets::SheetFormat;

/// Exit code when a secret matches none of the expected values.
pub const EXIT_NO_MATCH: u8 = 3;

/// Disablement secrets: generate, verify, decrypt.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Make disablement secrets offline: age files and/or printable sheets.
    #[command(after_help = super::examples::SECRETS_GENERATE)]
    Generate(GenerateArgs),
    /// Check a secret (typed, or a photo/scan of its sheet's QR code)
    /// against the authority's disablement values, without printing it.
    #[command(after_help = super::examples::SECRETS_VERIFY)]
    Verify(VerifyArgs),
    /// Decrypt a disablement age file and check the secrets it holds
    /// (the yearly custody check). Prints secrets only with --reveal.
    #[command(after_help = super::examples::SECRETS_DECRYPT)]
    Decrypt(DecryptArgs),
}

/// Formats of the printable sheets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SheetFormatArg {
    Pdf,
    Html,
    Text,
}

impl From<SheetFormatArg> for SheetFormat {
    fn from(f: SheetFormatArg) -> Self {
        match f {
            SheetFormatArg::Pdf => SheetFormat::Pdf,
            SheetFormatArg::Html => SheetFormat::Html,
            SheetFormatArg::Text => SheetFormat::Text,
        }
    }
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many secrets (1 to 32).
    #[arg(short = 'n', long, default_value_t = 10)]
    pub count: usize,
    /// Encrypt to this age recipient: age1…, age1<plugin>1… (e.g.
    /// age1yubikey1…), or an "ssh-ed25519 …"/"ssh-rsa …" public key. Repeatable.
    #[arg(long = "to", value_name = "RECIPIENT")]
    pub to: Vec<String>,
    /// Encrypt to every recipient listed in this file (as `age -R`). Repeatable.
    #[arg(long = "to-file", value_name = "PATH")]
    pub to_file: Vec<PathBuf>,
    /// Encrypt to a passphrase, asked for on the terminal (read from stdin
    /// when it is not a terminal); never taken from the command line.
    #[arg(long, conflicts_with_all = ["to", "to_file"])]
    pub passphrase: bool,
    /// Directory for the age files.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// One age file holding every secret instead of one file per secret.
    #[arg(long)]
    pub single_file: bool,
    /// ASCII-armored age files.
    #[arg(long)]
    pub armor: bool,
    /// Write printable sheets (PLAINTEXT secrets) into this directory; use a
    /// RAM disk or removable medium, print, then destroy it.
    #[arg(long, value_name = "DIR")]
    pub sheet_dir: Option<PathBuf>,
    /// One sheet file per format holding every secret (a page each)
    /// instead of one file per secret.
    #[arg(long)]
    pub single_sheet_file: bool,
    /// Sheet formats (default: all three).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub sheet_format: Vec<SheetFormatArg>,
    /// Genesis AUM hash (base32) of the authority the secrets are for.
    #[arg(long, value_name = "HASH")]
    pub genesis: String,
    /// The authority's StateID1.
    #[arg(long, default_value_t = 0)]
    pub state_id1: u64,
    /// The authority's StateID2.
    #[arg(long, default_value_t = 0)]
    pub state_id2: u64,
    /// Creation date (YYYY-MM-DD); default today (UTC).
    #[arg(long, value_name = "DATE")]
    pub created: Option<String>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// Print the secrets themselves on stdout (PLAINTEXT).
    #[arg(long)]
    pub reveal: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Where the expected disablement values come from.
#[derive(Debug, Args, Default)]
pub struct ExpectedValuesArgs {
    /// An expected disablement value, `disablement:<hex>`. Repeatable.
    #[arg(long = "value", value_name = "disablement:HEX")]
    pub value: Vec<String>,
    /// A file of expected values, one `disablement:<hex>` per line.
    #[arg(long = "values", value_name = "FILE")]
    pub values: Option<PathBuf>,
    /// Take the expected values from this chain (AUM files, a directory,
    /// `tailscale lock log --json=1` output, or an online export); verified first.
    #[arg(long = "chain", value_name = "INPUT", conflicts_with = "store")]
    pub chain: Vec<String>,
    /// Take the expected values from the local authority store.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
}

/// Who verified, and where to record it.
#[derive(Debug, Args, Default)]
pub struct RecordArgs {
    /// Custodian name for the verification record.
    #[arg(long, requires = "record")]
    pub custodian: Option<String>,
    /// Verification record (JSON) to add this verification to.
    #[arg(long, value_name = "FILE", requires = "custodian")]
    pub record: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub expected: ExpectedValuesArgs,
    /// Read the secret from a photo or scan (PNG/JPEG) of the sheet's QR
    /// code instead of typing it.
    #[arg(long, value_name = "PATH")]
    pub qr_image: Option<PathBuf>,
    #[command(flatten)]
    pub record: RecordArgs,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The age file.
    pub file: PathBuf,
    /// age identity file or OpenSSH private key. Repeatable. Without it,
    /// the passphrase is asked for.
    #[arg(short = 'i', long = "identity", value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    #[command(flatten)]
    pub expected: ExpectedValuesArgs,
    #[command(flatten)]
    pub record: RecordArgs,
    /// Print the secrets themselves on stdout (PLAINTEXT).
    #[arg(long)]
    pub reveal: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `secrets` subcommand.
pub fn run(cmd: SecretsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SecretsCommand::Generate(args) => run_generate(args),
        SecretsCommand::Verify(args) => {
            let expected = ExpectedValues::from(&args.expected).load()?;
            run_verify(&args, &expected)
        }
        SecretsCommand::Decrypt(args) => {
            let expected = ExpectedValues::from(&args.expected).load()?;
            run_decrypt(&args, &expected)
        }
    }
}

impl From<&ExpectedValuesArgs> for ExpectedValues {
    fn from(a: &ExpectedValuesArgs) -> Self {
        ExpectedValues {
            values: a.value.clone(),
            values_file: a.values.clone(),
            chain: a.chain.clone(),
            store: a.store.clone(),
        }
    }
}

impl From<&RecordArgs> for RecordTo {
    fn from(a: &RecordArgs) -> Self {
        RecordTo {
            custodian: a.custodian.clone(),
            record: a.record.clone(),
        }
    }
}

/// Reads a passphrase: from the terminal (twice when `confirm`), or one
/// line of stdin when stdin is not a terminal.
pub fn read_passphrase(confirm: bool) -> anyhow::Result<SecretString> {
    if std::io::stdin().is_terminal() {
        let first = Zeroizing::new(
            rpassword::prompt_password("Passphrase: ").context("reading the passphrase")?,
        );
        if confirm {
            let again = Zeroizing::new(
                rpassword::prompt_password("Passphrase again: ")
                    .context("reading the passphrase")?,
            );
            if *first != *again {
                bail!("the two passphrases differ; nothing was written, run the command again");
            }
        }
        if first.is_empty() {
            bail!("empty passphrase; choose a long passphrase");
        }
        Ok(SecretString::from(first.to_string()))
    } else {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the passphrase from stdin")?;
        let pass = line.trim_end_matches(['\n', '\r']);
        if pass.is_empty() {
            bail!("empty passphrase on stdin; give the passphrase as the first line of stdin");
        }
        Ok(SecretString::from(pass.to_owned()))
    }
}

fn ser_secret<S: serde::Serializer>(
    v: &Option<Zeroizing<String>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(t) => s.serialize_str(t.as_str()),
        None => s.serialize_none(),
    }
}

fn ser_secret_list<S: serde::Serializer>(
    v: &Option<Vec<Zeroizing<String>>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let list = v.as_deref().unwrap_or(&[]);
    let mut seq = s.serialize_seq(Some(list.len()))?;
    for t in list {
        seq.serialize_element(t.as_str())?;
    }
    seq.end()
}

#[derive(Serialize)]
struct GenerateReport<'a> {
    authority: &'a AuthorityLabel,
    #[serde(flatten)]
    written: &'a crate::secrets::WrittenOutputs,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_secret_list"
    )]
    secrets: Option<Vec<Zeroizing<String>>>,
}

/// `lock init`'s options for the disablement secrets; flatten into its
/// clap args and pass `(&args).into()` to the library's request.
#[derive(Debug, Args, Clone, Default)]
pub struct InitSecretsArgs {
    /// How many disablement secrets (1 to 32).
    #[arg(
        long = "gen-disablements",
        visible_alias = "secrets",
        value_name = "N",
        default_value_t = 10
    )]
    pub secrets_count: usize,
    /// age recipient for the secrets (age1…, age1<plugin>1…, ssh-ed25519/ssh-rsa key). Repeatable.
    #[arg(long = "secrets-to", value_name = "RECIPIENT")]
    pub secrets_to: Vec<String>,
    /// File of age recipients for the secrets. Repeatable.
    #[arg(long = "secrets-to-file", value_name = "PATH")]
    pub secrets_to_file: Vec<PathBuf>,
    /// Encrypt the secrets to a passphrase (asked for on the terminal).
    #[arg(long, conflicts_with_all = ["secrets_to", "secrets_to_file"])]
    pub secrets_passphrase: bool,
    /// Directory for the age files.
    #[arg(long, value_name = "DIR")]
    pub secrets_out: Option<PathBuf>,
    /// ASCII-armored age files.
    #[arg(long)]
    pub secrets_armor: bool,
    /// One age file for all secrets.
    #[arg(long)]
    pub secrets_single_file: bool,
    /// Directory for the printable sheets (PLAINTEXT secrets).
    #[arg(long, value_name = "DIR")]
    pub secrets_sheet_dir: Option<PathBuf>,
    /// Sheet formats (default: pdf,html,text).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub secrets_sheet_format: Vec<SheetFormatArg>,
    /// One sheet file per format for all secrets.
    #[arg(long)]
    pub secrets_single_sheet_file: bool,
}

impl From<&InitSecretsArgs> for SecretsDestinations {
    fn from(a: &InitSecretsArgs) -> Self {
        SecretsDestinations {
            to: a.secrets_to.clone(),
            to_file: a.secrets_to_file.clone(),
            passphrase: a.secrets_passphrase,
            out: a.secrets_out.clone(),
            armor: a.secrets_armor,
            single_file: a.secrets_single_file,
            sheet_dir: a.secrets_sheet_dir.clone(),
            sheet_format: a.secrets_sheet_format.iter().map(|f| (*f).into()).collect(),
            single_sheet_file: a.secrets_single_sheet_file,
            force: false,
        }
    }
}

fn run_generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let request = GenerateRequest {
        count: args.count,
        genesis: args.genesis.clone(),
        state_id1: args.state_id1,
        state_id2: args.state_id2,
        created: args.created.clone(),
        destinations: SecretsDestinations {
            to: args.to.clone(),
            to_file: args.to_file.clone(),
            passphrase: args.passphrase,
            out: args.out.clone(),
            armor: args.armor,
            single_file: args.single_file,
            sheet_dir: args.sheet_dir.clone(),
            sheet_format: args.sheet_format.iter().map(|f| (*f).into()).collect(),
            single_sheet_file: args.single_sheet_file,
            force: args.force,
        },
        reveal: args.reveal,
    };
    let Generated {
        label,
        written,
        secrets: generated,
    } = generate(&request, &|| super::prompted(read_passphrase(true)))?;
    if args.json {
        let report = GenerateReport {
            authority: &label,
            written: &written,
            secrets: args.reveal.then(|| {
                generated
                    .secrets
                    .iter()
                    .map(DisablementSecret::text)
                    .collect()
            }),
        };
        let json = Zeroizing::new(serde_json::to_string_pretty(&report)?);
        println!("{}", json.as_str());
    } else {
        outln!("authority: {}", label.describe());
        for (i, v) in written.values.iter().enumerate() {
            outln!("value {}: {v}", i + 1);
        }
        for f in &written.age_files {
            outln!("age file: {}", f.display());
        }
        for f in &written.sheets {
            outln!("sheet (PLAINTEXT): {}", f.display());
        }
        if args.reveal {
            for (i, s) in generated.secrets.iter().enumerate() {
                outln!("secret {}: {}", i + 1, s.text().as_str());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verdict_exit(verdict: &Verdict) -> ExitCode {
    match verdict {
        Verdict::Matches { .. } => ExitCode::SUCCESS,
        Verdict::MatchesNone { .. } => ExitCode::from(EXIT_NO_MATCH),
    }
}

/// `secrets verify` against `expected` (the authority's disablement values,
/// in state order). `lock`/`--chain`/`--store` callers pass the values
/// they read from the chain.
pub fn run_verify(args: &VerifyArgs, expected: &[DisablementValue]) -> anyhow::Result<ExitCode> {
    // The expected values are checked before anything is asked for.
    require_expected(expected)?;
    let mut text = Zeroizing::new(String::new());
    let mut tty;
    let source = if let Some(path) = &args.qr_image {
        SecretSource::QrImage(path)
    } else if std::io::stdin().is_terminal() {
        tty = Tty::open();
        SecretSource::Typed(&mut tty)
    } else {
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .context("reading the secret from stdin")?;
        SecretSource::Text {
            input: "stdin",
            text: text.as_str(),
        }
    };
    let (verdict, method) = custody::verify(source, expected)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verdict)?);
    } else {
        outln!("{verdict}");
    }
    if let Some(said) = record_verification(&(&args.record).into(), &verdict, method)? {
        eoutln!("{said}");
    }
    Ok(verdict_exit(&verdict))
}

#[derive(Serialize)]
struct DecryptedReport {
    file_index: Option<usize>,
    #[serde(flatten)]
    verdict: Verdict,
    checked_against: &'static str,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_secret")]
    secret: Option<Zeroizing<String>>,
}

/// `secrets decrypt` checking against `expected`; when `expected` is empty
/// each secret is checked against the value its file records (weaker: it
/// proves the file is intact, not that it belongs to the authority).
pub fn run_decrypt(args: &DecryptArgs, expected: &[DisablementValue]) -> anyhow::Result<ExitCode> {
    let unlock = if args.identity.is_empty() {
        Unlock::Passphrase(read_passphrase(false)?)
    } else {
        let mut ids = Vec::new();
        for path in &args.identity {
            ids.extend(load_identities(path)?);
        }
        Unlock::Identities(ids)
    };
    let checked = check_age_file(
        &args.file,
        &unlock,
        expected,
        &(&args.record).into(),
        args.reveal,
    )?;
    let all_match = checked.all_match();
    let reports: Vec<DecryptedReport> = checked
        .checks
        .into_iter()
        .map(|c| DecryptedReport {
            file_index: c.file_index,
            verdict: c.verdict,
            checked_against: c.checked_against,
            secret: c.revealed,
        })
        .collect();
    if args.json {
        let json = Zeroizing::new(serde_json::to_string_pretty(&reports)?);
        println!("{}", json.as_str());
    } else {
        for r in &reports {
            let which = r
                .file_index
                .map_or_else(|| "secret".to_owned(), |i| format!("secret {i}"));
            outln!(
                "{which}: {} (checked against {})",
                r.verdict,
                r.checked_against
            );
            if let Some(s) = &r.secret {
                outln!("{which}: {}", s.as_str());
            }
        }
    }
    for note in &checked.notes {
        eoutln!("{note}");
    }
    Ok(if all_match {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NO_MATCH)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceremony::disablement::plan_outputs;
    use crate::secrets::AgeTarget;
    use clap::Parser;
    use std::path::Path;

    fn no_passphrase() -> crate::ceremony::Result<SecretString> {
        Err(crate::ceremony::Error::refused(
            "no passphrase asked for here",
        ))
    }

    /// Stands in for `lock init`, which flattens the secrets options.
    #[derive(Debug, Parser)]
    struct FakeInit {
        #[command(flatten)]
        secrets: InitSecretsArgs,
    }

    const X25519: &str = "age1n78dp3q4xfe6xf4zhlzmwzpcc99r8dcrcqrx8np2eph4pl24d9yq9wyxhm";

    #[test]
    fn lock_init_options_plan_the_outputs() {
        let args = FakeInit::try_parse_from([
            "init",
            "--secrets",
            "5",
            "--secrets-to",
            X25519,
            "--secrets-out",
            "/tmp/x",
            "--secrets-sheet-dir",
            "/tmp/s",
            "--secrets-sheet-format",
            "pdf,text",
        ])
        .unwrap();
        assert_eq!(args.secrets.secrets_count, 5);
        let planned = plan_outputs(&(&args.secrets).into(), false, &no_passphrase).unwrap();
        let options = planned.options();
        let (dir, age) = options.age.as_ref().unwrap();
        assert_eq!(*dir, Path::new("/tmp/x"));
        assert!(matches!(&age.target, AgeTarget::Recipients(r) if r.len() == 1));
        let (sdir, sheets) = options.sheets.as_ref().unwrap();
        assert_eq!(*sdir, Path::new("/tmp/s"));
        assert_eq!(sheets.formats, vec![SheetFormat::Pdf, SheetFormat::Text]);

        let none = FakeInit::try_parse_from(["init"]).unwrap();
        let err = plan_outputs(&(&none.secrets).into(), false, &no_passphrase)
            .err()
            .unwrap();
        assert!(err.to_string().contains("nowhere to put the secrets"));
        assert!(
            FakeInit::try_parse_from(["init", "--secrets-passphrase", "--secrets-to", X25519])
                .is_err()
        );
        let bad =
            FakeInit::try_parse_from(["init", "--secrets-to", "age1nope", "--secrets-out", "d"])
                .unwrap();
        let err = plan_outputs(&(&bad.secrets).into(), false, &no_passphrase)
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("is not an age recipient"));
    }
}
