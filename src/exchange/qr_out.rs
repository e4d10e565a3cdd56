//! Plans and renders the QR output of an artifact: one code when it fits,
//! otherwise a multi-part sequence (numbered static frames for paper and
//! files, fountain-coded animated frames for screens).

use std::path::{Path, PathBuf};

use super::animation::{module_px_for, render_gif, render_html};
use super::envelope::Envelope;
use super::error::{ExchangeError, Result};
use super::multipart::{encode_parts, fragment_count, MAX_PARTS};
use super::qr_code::{Ecc, QrMatrix};
use super::qr_render::{
    render_pdf, render_png, render_svg, render_terminal, terminal_quiet_zone, TerminalColors,
    STANDARD_QUIET_ZONE,
};
use super::raw_forms::RawForm;
use super::spare_pages::{parity_shards, SparePage};
use crate::limits;

/// Where the QR output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrFormat {
    /// Unicode half blocks on the terminal (animated when several parts).
    Terminal,
    /// PNG: one file, or a directory of numbered frames.
    Png,
    /// SVG: one file, or a directory of numbered frames.
    Svg,
    /// A printable A4 PDF, one code a page, numbered.
    Pdf,
    /// An animated GIF.
    Gif,
    /// A self-contained HTML page that plays the animation.
    Html,
}

impl QrFormat {
    /// Every value, in the order `--help` lists them.
    pub const ALL: [QrFormat; 6] = [
        Self::Terminal,
        Self::Png,
        Self::Svg,
        Self::Pdf,
        Self::Gif,
        Self::Html,
    ];

    /// The name on the command line (what [`FromStr`](std::str::FromStr) reads).
    pub fn name(self) -> &'static str {
        match self {
            Self::Terminal => "terminal",
            Self::Png => "png",
            Self::Svg => "svg",
            Self::Pdf => "pdf",
            Self::Gif => "gif",
            Self::Html => "html",
        }
    }

    /// What the value means, in one line (the CLI's help for it).
    pub fn description(self) -> &'static str {
        match self {
            Self::Terminal => "Unicode half blocks on the terminal (animated when several parts)",
            Self::Png => "PNG: one file, or a directory of numbered frames",
            Self::Svg => "SVG: one file, or a directory of numbered frames",
            Self::Pdf => "A printable A4 PDF, one code a page, numbered",
            Self::Gif => "An animated GIF",
            Self::Html => "A self-contained HTML page that plays the animation",
        }
    }
}

from_str_by_name!(QrFormat, ExchangeError, "QR output format");

impl QrFormat {
    /// The file extension of this format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Terminal => "txt",
            Self::Png => "png",
            Self::Svg => "svg",
            Self::Pdf => "pdf",
            Self::Gif => "gif",
            Self::Html => "html",
        }
    }

    fn is_animated(self) -> bool {
        matches!(self, Self::Gif | Self::Html | Self::Terminal)
    }
}

/// How much data each code carries. Denser codes need a sharper camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Density {
    /// 100-byte fragments (QR version 8 at L): old webcams, poor light.
    Low,
    /// 200-byte fragments (QR version 11 at L): phones and HD webcams. Default.
    Medium,
    /// 350-byte fragments (QR version 15 at L): good cameras, large screens.
    High,
}

impl Density {
    /// Every value, in the order `--help` lists them.
    pub const ALL: [Density; 3] = [Self::Low, Self::Medium, Self::High];

    /// The name on the command line (what [`FromStr`](std::str::FromStr) reads).
    pub fn name(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// What the value means, in one line (the CLI's help for it).
    pub fn description(self) -> &'static str {
        match self {
            Self::Low => "100-byte fragments (QR version 8 at L): old webcams, poor light",
            Self::Medium => {
                "200-byte fragments (QR version 11 at L): phones and HD webcams. Default"
            }
            Self::High => "350-byte fragments (QR version 15 at L): good cameras, large screens",
        }
    }
}

from_str_by_name!(Density, ExchangeError, "QR density");

impl Density {
    /// Bytes of payload per part of a multi-part sequence.
    pub fn fragment_len(self) -> usize {
        match self {
            Self::Low => 100,
            Self::Medium => 200,
            Self::High => 350,
        }
    }

    /// The largest QR version used for a single code before splitting.
    pub fn max_single_version(self) -> i16 {
        match self {
            Self::Low => 10,
            Self::Medium => 20,
            Self::High => 40,
        }
    }
}

/// What a single code carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrContent {
    /// The locksmith envelope (binary, byte mode): kind and checksum travel along.
    Envelope,
    /// The upstream raw form: uppercase hex for CBOR artifacts (alphanumeric
    /// mode; a phone scan yields the exact `revoke-keys` blob), text as is.
    Raw,
}

impl QrContent {
    /// Every value, in the order `--help` lists them.
    pub const ALL: [QrContent; 2] = [Self::Envelope, Self::Raw];

    /// The name on the command line (what [`FromStr`](std::str::FromStr) reads).
    pub fn name(self) -> &'static str {
        match self {
            Self::Envelope => "envelope",
            Self::Raw => "raw",
        }
    }

    /// What the value means, in one line (the CLI's help for it).
    pub fn description(self) -> &'static str {
        match self {
            Self::Envelope => "The locksmith envelope (binary, byte mode): kind and checksum travel along",
            Self::Raw => "The upstream raw form: uppercase hex for CBOR artifacts (alphanumeric mode; a phone scan yields the exact `revoke-keys` blob), text as is",
        }
    }
}

from_str_by_name!(QrContent, ExchangeError, "QR content");

/// Options for QR output.
#[derive(Debug, Clone)]
pub struct QrOptions {
    pub format: QrFormat,
    /// Error correction; default L for screens (terminal, GIF, HTML), M for
    /// files and paper.
    pub ecc: Option<Ecc>,
    pub density: Density,
    /// Animation speed in frames per second.
    pub fps: f32,
    /// Frames in an animation (default twice the number of fragments); for
    /// static frames, the pages in all: above the number of fragments, the
    /// rest are Reed-Solomon spare pages (with S spares, any S lost pages
    /// are recoverable).
    pub frames: Option<usize>,
    pub content: QrContent,
    pub terminal_colors: TerminalColors,
    /// Terminal width to fit.
    pub max_cols: usize,
    /// Pixels per module in PNG/GIF/HTML output; default chosen per format.
    pub module_px: Option<u32>,
}

/// The largest module size in pixels for image output.
pub const MAX_MODULE_PX: u32 = 40;

/// The default animation speed: 5 frames/s (see docs/qr.md).
pub const DEFAULT_FPS: f32 = 5.0;

impl Default for QrOptions {
    fn default() -> Self {
        Self {
            format: QrFormat::Png,
            ecc: None,
            density: Density::Medium,
            fps: DEFAULT_FPS,
            frames: None,
            content: QrContent::Envelope,
            terminal_colors: TerminalColors::LightOnDark,
            max_cols: 80,
            module_px: None,
        }
    }
}

impl QrOptions {
    /// The error-correction level in effect.
    pub fn effective_ecc(&self) -> Ecc {
        self.ecc.unwrap_or(match self.format {
            QrFormat::Terminal | QrFormat::Gif | QrFormat::Html => Ecc::L,
            QrFormat::Png | QrFormat::Svg | QrFormat::Pdf => Ecc::M,
        })
    }
}

/// One planned code with its caption.
#[derive(Debug, Clone)]
pub struct QrFrame {
    pub matrix: QrMatrix,
    pub caption: String,
}

/// The codes an artifact becomes.
#[derive(Debug, Clone)]
pub struct QrPlan {
    pub frames: Vec<QrFrame>,
    /// Number of plain fragments (1 for a single code).
    pub parts: usize,
    pub multipart: bool,
}

/// The content of a single code in `QrContent::Raw` mode.
pub fn raw_qr_content(env: &Envelope) -> Vec<u8> {
    if env.kind.is_text() {
        env.payload.clone()
    } else {
        RawForm::HexUpper.encode(&env.payload)
    }
}

/// Plans the codes for `env`.
pub fn plan(env: &Envelope, opts: &QrOptions) -> Result<QrPlan> {
    let ecc = opts.effective_ecc();
    let single_content = match opts.content {
        QrContent::Envelope => env.to_bytes(),
        QrContent::Raw => raw_qr_content(env),
    };
    if let Ok(m) = QrMatrix::encode(&single_content, ecc) {
        let fits = match opts.format {
            QrFormat::Terminal => terminal_quiet_zone(&m, opts.max_cols).is_some(),
            _ => m.version() <= opts.density.max_single_version(),
        };
        if fits {
            let caption = format!("locksmith {} ({} bytes)", env.kind, env.payload.len());
            return Ok(QrPlan {
                frames: vec![QrFrame { matrix: m, caption }],
                parts: 1,
                multipart: false,
            });
        }
    }
    if opts.content == QrContent::Raw {
        return Err(ExchangeError::QrEncode {
            reason: format!(
                "--qr-content raw: the {} artifact ({} bytes) does not fit one code{}, and a split artifact travels only as UR parts of its envelope; drop --qr-content raw (the receiver's `locksmith exchange decode` writes the raw form), or try --ecc L or --density high",
                env.kind,
                env.payload.len(),
                if opts.format == QrFormat::Terminal { " on this terminal" } else { "" }
            ),
        });
    }
    // Multi-part: the envelope as a UR sequence.
    let message = env.to_bytes();
    let frag = opts.density.fragment_len();
    let parts = fragment_count(message.len(), frag);
    let animated = opts.format.is_animated();
    // Animations loop over twice as many fountain-coded frames as
    // fragments (standard UR). Static sets are the numbered fragments plus,
    // if --frames asks for more, Reed-Solomon spare pages: with S spares,
    // any S lost pages are recoverable (spare_pages.rs).
    let count = if animated {
        opts.frames.unwrap_or(parts * 2).max(parts)
    } else {
        opts.frames.unwrap_or(parts).max(parts)
    };
    if count > MAX_PARTS || (!animated && count > parts && count > limits::MAX_STATIC_PAGES) {
        let most = if animated {
            MAX_PARTS
        } else {
            limits::MAX_STATIC_PAGES
        };
        return Err(ExchangeError::QrEncode {
            reason: format!(
                "{count} frames is more than the {most} a {} may have; ask for fewer frames or a higher density",
                if animated { "sequence" } else { "printed set (pages plus spare pages)" }
            ),
        });
    }
    let spares = if animated { 0 } else { count - parts };
    let texts = if animated {
        encode_parts(&message, frag, count)?
    } else {
        static_set_texts(&message, frag, spares)?
    };
    // Encoding a code (segmentation, Reed-Solomon, mask choice) is the
    // costly step; frames are independent, so use every core.
    use rayon::prelude::*;
    let frames = texts
        .par_iter()
        .enumerate()
        .map(|(i, t)| {
            let matrix = QrMatrix::encode(t.as_bytes(), ecc)?;
            let caption = if i < parts {
                format!("locksmith {} part {} of {parts}", env.kind, i + 1)
            } else if spares > 0 {
                format!(
                    "locksmith {} spare page {} of {spares} (with {spares} spares, any {spares} lost pages can be recovered)",
                    env.kind,
                    i + 1 - parts
                )
            } else {
                format!(
                    "locksmith {} extra part {} (fountain-coded)",
                    env.kind,
                    i + 1
                )
            };
            Ok(QrFrame { matrix, caption })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(QrPlan {
        frames,
        parts,
        multipart: true,
    })
}

/// The texts of a printed (static) set for `message`: the numbered plain
/// UR parts (`UR:LOCKSMITH/i-N/...`, standard UR) followed by `spares`
/// Reed-Solomon spare pages (`UR:LOCKSMITH-SPARE/...`). With S spares,
/// ANY S of the N + S pages may be lost.
pub fn static_set_texts(message: &[u8], fragment_len: usize, spares: usize) -> Result<Vec<String>> {
    let parts = fragment_count(message.len(), fragment_len);
    let mut texts = encode_parts(message, fragment_len, parts)?;
    if spares > 0 {
        texts.extend(spare_page_texts(message, &texts, spares)?);
    }
    Ok(texts)
}

/// The UR texts of `spares` Reed-Solomon spare pages over the plain parts
/// `texts` of `message`.
fn spare_page_texts(message: &[u8], texts: &[String], spares: usize) -> Result<Vec<String>> {
    let broken = |what: &str| ExchangeError::QrEncode {
        reason: format!("cannot compute spare pages: {what}"),
    };
    let mut fragments = Vec::with_capacity(texts.len());
    for t in texts {
        let body = t
            .rsplit_once('/')
            .map(|(_, b)| b.to_ascii_lowercase())
            .ok_or_else(|| broken("a part without a body"))?;
        let cbor = ur::bytewords::decode(&body, ur::bytewords::Style::Minimal)
            .map_err(|e| broken(&e.to_string()))?;
        let part: ur::fountain::Part =
            minicbor::decode(&cbor).map_err(|e| broken(&e.to_string()))?;
        fragments.push(part.data().to_vec());
    }
    let parity = parity_shards(&fragments, spares)?;
    let checksum = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(message);
    Ok(parity
        .into_iter()
        .enumerate()
        .map(|(j, shard)| {
            SparePage {
                count: fragments.len(),
                message_len: message.len(),
                checksum,
                index: j + 1,
                spares,
                shard,
            }
            .to_ur()
        })
        .collect())
}

/// Rendered QR output.
#[derive(Debug, Clone)]
pub enum QrRendered {
    /// Text to print (terminal, one code).
    Terminal(String),
    /// Terminal frames to play (or print one after the other).
    TerminalFrames(Vec<(QrMatrix, String)>, usize),
    /// One file.
    File(Vec<u8>),
    /// Numbered frames for a directory: (file name, contents).
    Frames(Vec<(String, Vec<u8>)>),
}

/// Renders a plan in the requested format.
pub fn render(plan: &QrPlan, opts: &QrOptions, title: &str) -> Result<QrRendered> {
    // Keep images to a sane size whatever was asked for.
    let opts = &QrOptions {
        module_px: opts.module_px.map(|p| p.clamp(1, MAX_MODULE_PX)),
        ..opts.clone()
    };
    let first = match plan.frames.first() {
        Some(f) => f,
        None => return Ok(QrRendered::Frames(Vec::new())),
    };
    let px = |m: &QrMatrix, target: u32| opts.module_px.unwrap_or_else(|| module_px_for(m, target));
    let n = plan.frames.len();
    let name = |i: usize| format!("part-{:0w$}-of-{:0w$}", i + 1, n, w = n.to_string().len());
    Ok(match opts.format {
        QrFormat::Terminal => {
            let quiet = terminal_quiet_zone(&first.matrix, opts.max_cols).unwrap_or(1);
            if plan.multipart {
                QrRendered::TerminalFrames(
                    plan.frames
                        .iter()
                        .map(|f| (f.matrix.clone(), f.caption.clone()))
                        .collect(),
                    quiet,
                )
            } else {
                QrRendered::Terminal(render_terminal(&first.matrix, quiet, opts.terminal_colors))
            }
        }
        QrFormat::Png if !plan.multipart => QrRendered::File(render_png(
            &first.matrix,
            opts.module_px.unwrap_or(8),
            STANDARD_QUIET_ZONE,
        )?),
        QrFormat::Svg if !plan.multipart => QrRendered::File(
            render_svg(
                &first.matrix,
                opts.module_px.unwrap_or(8),
                STANDARD_QUIET_ZONE,
            )
            .into_bytes(),
        ),
        QrFormat::Png => {
            let mut files = Vec::with_capacity(n);
            for (i, f) in plan.frames.iter().enumerate() {
                files.push((
                    format!("{}.png", name(i)),
                    render_png(&f.matrix, opts.module_px.unwrap_or(8), STANDARD_QUIET_ZONE)?,
                ));
            }
            QrRendered::Frames(files)
        }
        QrFormat::Svg => QrRendered::Frames(
            plan.frames
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    (
                        format!("{}.svg", name(i)),
                        render_svg(&f.matrix, opts.module_px.unwrap_or(8), STANDARD_QUIET_ZONE)
                            .into_bytes(),
                    )
                })
                .collect(),
        ),
        QrFormat::Pdf => {
            let pages: Vec<(QrMatrix, Vec<String>)> = plan
                .frames
                .iter()
                .map(|f| {
                    (
                        f.matrix.clone(),
                        vec![
                            title.to_string(),
                            f.caption.clone(),
                            format!(
                                "QR version {}, error correction {:?}",
                                f.matrix.version(),
                                f.matrix.ecc()
                            ),
                        ],
                    )
                })
                .collect();
            QrRendered::File(render_pdf(&pages))
        }
        QrFormat::Gif => {
            let ms: Vec<QrMatrix> = plan.frames.iter().map(|f| f.matrix.clone()).collect();
            QrRendered::File(render_gif(&ms, opts.fps, px(&first.matrix, 480))?)
        }
        QrFormat::Html => {
            let ms: Vec<QrMatrix> = plan.frames.iter().map(|f| f.matrix.clone()).collect();
            QrRendered::File(
                render_html(&ms, opts.fps, px(&first.matrix, 480), title)?.into_bytes(),
            )
        }
    })
}

/// The path one rendered output goes to, given `--out PATH`: a single file
/// gets the format's extension (`PATH.png`), numbered frames a directory
/// (`PATH/`).
pub fn output_path(out: &Path, rendered: &QrRendered, format: QrFormat) -> PathBuf {
    let ext = format.extension();
    match rendered {
        QrRendered::Frames(_) => {
            if out.extension().and_then(|e| e.to_str()) == Some(ext) {
                out.with_extension("")
            } else {
                out.to_path_buf()
            }
        }
        _ => {
            if out.extension().and_then(|e| e.to_str()) == Some(ext) {
                out.to_path_buf()
            } else {
                let mut s = out.as_os_str().to_owned();
                s.push(".");
                s.push(ext);
                PathBuf::from(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::qr_code::Ecc;
    use crate::exchange::qr_render::TerminalColors;

    #[test]
    fn value_names_parse_back_and_unknown_names_list_the_choices() {
        for f in QrFormat::ALL {
            assert_eq!(f.name().parse::<QrFormat>().expect("parses"), f);
        }
        assert_eq!(
            "light-on-dark".parse::<TerminalColors>().expect("parses"),
            TerminalColors::LightOnDark
        );
        assert_eq!("h".parse::<Ecc>().expect("parses"), Ecc::H);
        assert_eq!("raw".parse::<QrContent>().expect("parses"), QrContent::Raw);
        assert_eq!("high".parse::<Density>().expect("parses"), Density::High);
        // Case matters, as it did when the CLI derived these names.
        let e = "PNG".parse::<QrFormat>().unwrap_err();
        assert!(matches!(
            e,
            ExchangeError::UnknownName {
                what: "QR output format",
                ..
            }
        ));
        assert!(
            e.to_string().ends_with(
                "is not a QR output format; use one of: terminal, png, svg, pdf, gif, html"
            ),
            "{e}"
        );
    }
}
