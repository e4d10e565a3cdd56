//! Renders QR matrices: terminal text with Unicode half blocks, PNG, SVG
//! and a printable PDF page.

use std::fmt::Write as _;

use image::{GrayImage, Luma};

use super::error::{ExchangeError, Result};
use super::qr_code::QrMatrix;

/// The quiet zone the standard asks for, in modules.
pub const STANDARD_QUIET_ZONE: usize = 4;

/// How the terminal shows dark and light.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminalColors {
    /// Explicit black-on-white ANSI colours: right on any theme.
    Ansi,
    /// Text colour draws the light modules: for dark terminal themes (and
    /// files shown later in one).
    LightOnDark,
    /// Text colour draws the dark modules: for light themes.
    DarkOnLight,
}

impl TerminalColors {
    /// Every value, in the order `--help` lists them.
    pub const ALL: [TerminalColors; 3] = [Self::Ansi, Self::LightOnDark, Self::DarkOnLight];

    /// The name on the command line (what [`FromStr`](std::str::FromStr) reads).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ansi => "ansi",
            Self::LightOnDark => "light-on-dark",
            Self::DarkOnLight => "dark-on-light",
        }
    }

    /// What the value means, in one line (the CLI's help for it).
    pub fn description(self) -> &'static str {
        match self {
            Self::Ansi => "Explicit black-on-white ANSI colours: right on any theme",
            Self::LightOnDark => "Text colour draws the light modules: for dark terminal themes (and files shown later in one)",
            Self::DarkOnLight => "Text colour draws the dark modules: for light themes",
        }
    }
}

from_str_by_name!(TerminalColors, ExchangeError, "terminal colour scheme");

/// Terminal columns a matrix needs with a `quiet`-module margin each side.
pub fn terminal_width(m: &QrMatrix, quiet: usize) -> usize {
    m.size() + 2 * quiet
}

/// The widest quiet zone (at most 2, at least 1 module) that keeps the
/// code within `max_cols` columns, or `None` if it cannot fit.
pub fn terminal_quiet_zone(m: &QrMatrix, max_cols: usize) -> Option<usize> {
    (1..=2).rev().find(|q| terminal_width(m, *q) <= max_cols)
}

/// Renders with half blocks: one column per module, two module rows per
/// text line, so modules come out square in the usual 1:2 character cell.
pub fn render_terminal(m: &QrMatrix, quiet: usize, colors: TerminalColors) -> String {
    let q = quiet as isize;
    let n = m.size() as isize;
    let mut out = String::new();
    let mut y = -q;
    while y < n + q {
        if colors == TerminalColors::Ansi {
            out.push_str("\x1b[30;107m");
        }
        for x in -q..n + q {
            let top = m.is_dark(x, y);
            // Past the bottom quiet zone on an odd line count: light.
            let bottom = y + 1 < n + q && m.is_dark(x, y + 1);
            let (ink_top, ink_bottom) = match colors {
                TerminalColors::LightOnDark => (!top, !bottom && y + 1 < n + q),
                TerminalColors::Ansi | TerminalColors::DarkOnLight => (top, bottom),
            };
            out.push(match (ink_top, ink_bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        if colors == TerminalColors::Ansi {
            out.push_str("\x1b[0m");
        }
        out.push('\n');
        y += 2;
    }
    out
}

/// A grayscale bitmap of the code: `module_px` pixels a module, `quiet`
/// modules of margin.
pub fn render_luma(m: &QrMatrix, module_px: u32, quiet: usize) -> GrayImage {
    let module_px = module_px.max(1);
    let side = (m.size() + 2 * quiet) as u32 * module_px;
    GrayImage::from_fn(side, side, |px, py| {
        let x = (px / module_px) as isize - quiet as isize;
        let y = (py / module_px) as isize - quiet as isize;
        if m.is_dark(x, y) {
            Luma([0])
        } else {
            Luma([255])
        }
    })
}

/// PNG bytes of `img`.
pub fn encode_png(img: &GrayImage) -> Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| ExchangeError::QrEncode {
            reason: format!("cannot encode PNG: {e}"),
        })?;
    Ok(out.into_inner())
}

/// PNG file contents for one code.
pub fn render_png(m: &QrMatrix, module_px: u32, quiet: usize) -> Result<Vec<u8>> {
    encode_png(&render_luma(m, module_px, quiet))
}

/// Horizontal runs of dark modules: (x, y, length).
fn dark_runs(m: &QrMatrix) -> Vec<(usize, usize, usize)> {
    let n = m.size();
    let mut runs = Vec::new();
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if m.is_dark(x as isize, y as isize) {
                let start = x;
                while x < n && m.is_dark(x as isize, y as isize) {
                    x += 1;
                }
                runs.push((start, y, x - start));
            } else {
                x += 1;
            }
        }
    }
    runs
}

/// A standalone SVG of the code, `module_px` user units a module.
///
/// Every renderer must draw it as intended, including the simple ones
/// (ImageMagick 6's built-in MSVG renderer, as Debian builds it without
/// librsvg, strokes paths unless told not to, which bleeds the modules
/// together): every shape says `stroke="none"` and its fill explicitly,
/// edges are crisp, coordinates are whole module units, and each run of
/// dark modules is one closed rectangle in absolute coordinates.
pub fn render_svg(m: &QrMatrix, module_px: u32, quiet: usize) -> String {
    let side = (m.size() + 2 * quiet) as u32 * module_px;
    let mut path = String::new();
    for (x, y, len) in dark_runs(m) {
        let (x0, y0) = (x + quiet, y + quiet);
        let _ = write!(path, "M{x0} {y0}H{}V{}H{x0}Z", x0 + len, y0 + 1);
    }
    let units = m.size() + 2 * quiet;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{side}\" height=\"{side}\" viewBox=\"0 0 {units} {units}\" shape-rendering=\"crispEdges\" stroke=\"none\">\n<rect x=\"0\" y=\"0\" width=\"{units}\" height=\"{units}\" fill=\"#ffffff\" stroke=\"none\"/>\n<path fill=\"#000000\" fill-rule=\"nonzero\" stroke=\"none\" d=\"{path}\"/>\n</svg>\n"
    )
}

/// A printable PDF (A4), one code a page, each with its caption lines
/// ("part 2 of 5", the kind, a checksum) under it. Vector modules, so it
/// prints sharp at any resolution.
pub fn render_pdf(pages: &[(QrMatrix, Vec<String>)]) -> Vec<u8> {
    use crate::pdf::{pdf_string, write_pdf, PAGE_H, PAGE_W};
    let (w, h) = (f64::from(PAGE_W), f64::from(PAGE_H));
    let mut contents = Vec::with_capacity(pages.len());
    for (m, caption) in pages {
        let units = (m.size() + 2 * STANDARD_QUIET_ZONE) as f64;
        let side = (w - 100.0).min(h - 260.0);
        let unit = side / units;
        let left = (w - side) / 2.0;
        let top = h - 60.0;
        let mut content = String::from("0 g\n");
        for (x, y, len) in dark_runs(m) {
            let px = left + (x + STANDARD_QUIET_ZONE) as f64 * unit;
            let py = top - (y + STANDARD_QUIET_ZONE + 1) as f64 * unit;
            let _ = writeln!(
                content,
                "{px:.3} {py:.3} {:.3} {unit:.3} re",
                len as f64 * unit
            );
        }
        content.push_str("f\nBT /F1 11 Tf\n");
        let mut ty = top - side - 24.0;
        for line in caption {
            let _ = write!(content, "1 0 0 1 50 {ty:.1} Tm ");
            pdf_string(&mut content, line);
            content.push_str(" Tj\n");
            ty -= 16.0;
        }
        content.push_str("ET\n");
        contents.push(zeroize::Zeroizing::new(content));
    }
    write_pdf(&contents).to_vec()
}
