//! `locksmith exchange`: move artifacts across the air gap as envelopes,
//! raw upstream forms or QR codes.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::exchange::qr_out::{self, QrRendered};
use crate::exchange::qr_render::render_terminal;
use crate::exchange::{
    self, to_raw, Artifact, ArtifactKind, Density, Ecc, Envelope, Progress, QrContent, QrFormat,
    QrOptions, RawForm, TerminalColors,
};
use crate::input::Input;
use crate::output::{write_atomic, write_dir_atomic};

#[derive(Debug, Subcommand)]
pub enum ExchangeCommand {
    /// Wrap an artifact (envelope or any raw form) as an envelope, a raw
    /// form, or QR codes.
    #[command(after_help = super::examples::EXCHANGE_ENCODE)]
    Encode(EncodeArgs),
    /// Read an artifact from QR images (files, a directory of frames, an
    /// animated GIF) or any other form, and write it in its raw form.
    #[command(after_help = super::examples::EXCHANGE_DECODE)]
    Decode(DecodeArgs),
}

/// QR rendering options shared by every command that writes QR codes.
#[derive(Debug, Clone, Args)]
pub struct QrArgs {
    /// Write QR codes: on the terminal, as PNG/SVG (one file, or a
    /// directory of numbered frames), a printable PDF, an animated GIF or a
    /// self-contained HTML page.
    #[arg(long, value_enum)]
    pub qr: Option<QrFormat>,
    /// Frames per second of animations.
    #[arg(long, default_value_t = qr_out::DEFAULT_FPS)]
    pub fps: f32,
    /// Data per code; lower is easier to capture.
    #[arg(long, value_enum, default_value = "medium")]
    pub density: Density,
    /// Error-correction level (default: L on screens, M on files and paper).
    #[arg(long, value_enum)]
    pub ecc: Option<Ecc>,
    /// Frames in an animation (default: twice the number of parts; the
    /// animation is a standard fountain-coded UR stream). For PNG/SVG/PDF
    /// sets, the pages in all: S pages above the number of parts are
    /// Reed-Solomon spare pages, and then ANY S lost pages (data or spare)
    /// are recoverable; at most 256 pages.
    #[arg(long)]
    pub frames: Option<usize>,
    /// What a single code carries. `raw` is for one code only: an
    /// artifact too big for one code is refused with `raw` (split
    /// artifacts travel as UR parts of the envelope).
    #[arg(long, value_enum, default_value = "envelope")]
    pub qr_content: QrContent,
    /// Terminal colours (default: ANSI on a terminal, light-on-dark otherwise).
    #[arg(long, value_enum)]
    pub colors: Option<TerminalColors>,
    /// Terminal width to fit (default: $COLUMNS or 80).
    #[arg(long)]
    pub cols: Option<usize>,
    /// Pixels per module in image output.
    #[arg(long)]
    pub module_px: Option<u32>,
}

impl QrArgs {
    pub fn options(&self, format: QrFormat) -> anyhow::Result<QrOptions> {
        if !(0.2..=60.0).contains(&self.fps) {
            bail!(
                "--fps {} is out of range; use 0.2 to 60 (5 suits phones and webcams)",
                self.fps
            );
        }
        let cols = self
            .cols
            .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
            .unwrap_or(80);
        Ok(QrOptions {
            format,
            ecc: self.ecc,
            density: self.density,
            fps: self.fps,
            frames: self.frames,
            content: self.qr_content,
            terminal_colors: self.colors.unwrap_or(if std::io::stdout().is_terminal() {
                TerminalColors::Ansi
            } else {
                TerminalColors::LightOnDark
            }),
            max_cols: cols,
            module_px: self.module_px,
        })
    }
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// The artifact: a path, `-` for stdin, or the artifact itself inline.
    pub input: String,
    /// The input is QR images (a file or a directory of frames).
    #[arg(long)]
    pub qr_in: bool,
    /// Set the artifact kind instead of guessing it from the input.
    #[arg(long)]
    pub kind: Option<ArtifactKind>,
    /// A label carried in the envelope.
    #[arg(long)]
    pub label: Option<String>,
    /// Make this a response to a request: the request's nonce (hex), or
    /// the request envelope itself (e.g. the `online export` file).
    #[arg(long)]
    pub answers: Option<String>,
    /// Write the raw form instead of the envelope (ignored with --qr).
    #[arg(long)]
    pub raw_form: Option<RawForm>,
    #[command(flatten)]
    pub qr: QrArgs,
    /// Output path (QR: `PATH.png` for one code, a directory `PATH/` for
    /// several). Without it, the envelope is printed as a `UR:LOCKSMITH/...`
    /// text line and terminal QR codes go to stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace an existing output.
    #[arg(long)]
    pub force: bool,
    /// Print what was written as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// QR images, directories of frames, or any artifact input (path, `-`, inline).
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// The inputs are QR images.
    #[arg(long)]
    pub qr_in: bool,
    /// Require this artifact kind.
    #[arg(long)]
    pub kind: Option<ArtifactKind>,
    /// Output form (default: the kind's upstream raw form, e.g. uppercase
    /// hex for a recovery AUM, CBOR for other AUMs and signatures).
    #[arg(long, conflicts_with = "envelope")]
    pub raw_form: Option<RawForm>,
    /// Write the envelope instead of the raw form.
    #[arg(long)]
    pub envelope: bool,
    /// Output file (default: stdout, text forms only).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace an existing output.
    #[arg(long)]
    pub force: bool,
    /// Print what was read as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: ExchangeCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ExchangeCommand::Encode(args) => encode(args),
        ExchangeCommand::Decode(args) => decode(args),
    }
}

/// Prints reassembly progress on stderr ("17/24 parts"): the CLI's
/// progress sink for the input front door ([`crate::input::set_progress`]).
pub fn progress_printer() -> impl Fn(&Progress) + Send + Sync {
    let tty = std::io::stderr().is_terminal();
    move |p: &Progress| {
        if tty {
            // The line-erase is ours; the progress text goes through the escaper.
            eprint!("\r\x1b[2K");
            eout!("{p}");
            if p.resolved == p.total {
                eoutln!();
            }
        } else if p.resolved == p.total {
            eoutln!("{p}");
        }
    }
}

fn describe(art: &Artifact) -> serde_json::Value {
    use sha2::Digest;
    let env = art.envelope.as_ref();
    json!({
        "kind": art.kind.name(),
        "form": art.form.to_string(),
        "payload_bytes": art.payload.len(),
        "payload_sha256": data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&art.payload)),
        "label": env.and_then(|e| e.label.clone()),
        "request": env.and_then(|e| e.request).map(|r| json!({"nonce": r.nonce.to_hex(), "created": r.created, "expires": r.expires})),
        "answers": env.and_then(|e| e.answers).map(|n| n.to_hex()),
    })
}

/// Writes `env` as QR codes per `qr` (to `out`, or the terminal).
pub fn write_qr(
    env: &Envelope,
    format: QrFormat,
    qr: &QrArgs,
    out: Option<&Path>,
    force: bool,
) -> anyhow::Result<serde_json::Value> {
    let opts = qr.options(format)?;
    let plan = qr_out::plan(env, &opts).context("planning QR codes")?;
    let title = format!("locksmith {} ({} bytes)", env.kind, env.payload.len());
    let rendered = qr_out::render(&plan, &opts, &title).context("rendering QR codes")?;
    let summary = |path: Option<&Path>| {
        json!({
            "qr": format!("{format:?}").to_lowercase(),
            "codes": plan.frames.len(),
            "parts": plan.parts,
            "version": plan.frames.first().map(|f| f.matrix.version()),
            "ecc": format!("{:?}", opts.effective_ecc()),
            "path": path.map(|p| p.display().to_string()),
        })
    };
    match (&rendered, out) {
        (QrRendered::Terminal(text), None) => {
            print!("{text}");
            Ok(summary(None))
        }
        (QrRendered::TerminalFrames(frames, quiet), None) => {
            let mut stdout = std::io::stdout().lock();
            if std::io::stdout().is_terminal() {
                eoutln!("playing {} frames at {} frames/s; press Ctrl-C when the receiver reports completion", frames.len(), opts.fps);
                crate::exchange::animation::play_terminal(
                    frames,
                    opts.fps,
                    *quiet,
                    opts.terminal_colors,
                    usize::MAX,
                    &mut stdout,
                )?;
            } else {
                // Not a terminal: the numbered parts one after the other.
                for (m, caption) in frames.iter().take(plan.parts) {
                    writeln!(stdout, "{caption}")?;
                    write!(
                        stdout,
                        "{}",
                        render_terminal(m, *quiet, opts.terminal_colors)
                    )?;
                }
            }
            Ok(summary(None))
        }
        (_, None) => bail!(
            "--qr {} needs --out PATH",
            format!("{format:?}").to_lowercase()
        ),
        (QrRendered::Terminal(text), Some(path)) => {
            write_atomic(path, text.as_bytes(), force)?;
            Ok(summary(Some(path)))
        }
        (QrRendered::TerminalFrames(frames, quiet), Some(path)) => {
            let mut text = String::new();
            for (m, caption) in frames.iter().take(plan.parts) {
                text.push_str(caption);
                text.push('\n');
                text.push_str(&render_terminal(m, *quiet, opts.terminal_colors));
            }
            write_atomic(path, text.as_bytes(), force)?;
            Ok(summary(Some(path)))
        }
        (QrRendered::File(bytes), Some(path)) => {
            let path = qr_out::output_path(path, &rendered, format);
            write_atomic(&path, bytes, force)?;
            Ok(summary(Some(&path)))
        }
        (QrRendered::Frames(files), Some(path)) => {
            let dir = qr_out::output_path(path, &rendered, format);
            write_dir_atomic(&dir, files, force)?;
            Ok(summary(Some(&dir)))
        }
    }
}

fn encode(args: EncodeArgs) -> anyhow::Result<ExitCode> {
    let art = Input::read_with(&args.input, args.qr_in)?.artifact()?;
    let mut env = art.to_envelope();
    if let Some(kind) = args.kind {
        env.kind = kind;
    }
    if let Some(label) = &args.label {
        env.label = Some(label.as_str().into());
    }
    if let Some(answers) = &args.answers {
        let nonce = match exchange::Nonce::from_hex(answers) {
            Some(n) => n,
            None => Input::read(answers)?
                .artifact()?
                .envelope
                .and_then(|e| e.request)
                .map(|r| r.nonce)
                .with_context(|| format!("--answers {answers}: neither a request nonce (32 hex digits) nor a request envelope"))?,
        };
        env.request = None;
        env.answers = Some(nonce);
    }
    let mut report = describe(&Artifact {
        kind: env.kind,
        envelope: Some(env.clone()),
        ..art
    });
    if let Some(format) = args.qr.qr {
        let written = write_qr(&env, format, &args.qr, args.out.as_deref(), args.force)?;
        report["written"] = written;
    } else {
        let bytes = match args.raw_form {
            Some(form) => to_raw(env.kind, &env.payload, Some(form)),
            None => env.to_bytes(),
        };
        match &args.out {
            Some(path) => {
                write_atomic(path, &bytes, args.force)?;
                report["written"] =
                    json!({"path": path.display().to_string(), "bytes": bytes.len()});
            }
            None => {
                let text = match args.raw_form {
                    Some(RawForm::Binary) => bail!("binary output needs --out FILE"),
                    Some(_) => String::from_utf8_lossy(&bytes).trim_end().to_string(),
                    None => exchange::multipart::encode_single(&bytes)?,
                };
                if args.json {
                    report["text"] = json!(text);
                } else {
                    outln!("{text}");
                }
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn decode(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let mut art = Input::read_all(&args.inputs, args.qr_in)?.artifact()?;
    if let Some(kind) = args.kind {
        art = art.expect_kind(kind, &args.inputs.join(" "))?;
    }
    let bytes = if args.envelope {
        art.to_envelope().to_bytes()
    } else {
        to_raw(art.kind, &art.payload, args.raw_form)
    };
    let mut report = describe(&art);
    match &args.out {
        Some(path) => {
            write_atomic(path, &bytes, args.force)?;
            report["written"] = json!({"path": path.display().to_string(), "bytes": bytes.len()});
        }
        None => {
            let form = args.raw_form.unwrap_or(art.kind.default_raw_form());
            if args.envelope || form == RawForm::Binary {
                if args.json {
                    // Small binary data goes in the JSON as hex.
                    if bytes.len() <= 4096 {
                        report["data_hex"] = json!(data_encoding::HEXLOWER.encode(&bytes));
                    } else {
                        report["data"] = json!("not shown; pass --out FILE to write it");
                    }
                } else if std::io::stdout().is_terminal() {
                    bail!(
                        "the {} artifact is binary; pass --out FILE or --raw-form hex",
                        art.kind
                    );
                } else {
                    std::io::stdout().write_all(&bytes)?;
                }
            } else if args.json {
                report["text"] = json!(String::from_utf8_lossy(&bytes).trim_end());
            } else {
                std::io::stdout().write_all(&bytes)?;
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}
