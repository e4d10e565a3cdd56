//! The PDF sheet, written by hand (PDF 1.4, no dependency): A4 pages, one
//! per secret, with the sheet font (DejaVu Sans Mono, dotted zero)
//! embedded as a TrueType `FontFile2`, and the QR code drawn as filled
//! squares, so it rasterizes crisply at any resolution.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::font::SHEET_FONT_ADVANCE;
use super::qr::QUIET_ZONE;
use super::sheet::Sheet;
use crate::pdf::{pdf_string, write_pdf, PAGE_H};

const MARGIN: f32 = 50.0;
/// Side of the QR code including its quiet zone, in points (about 64 mm).
const QR_SIDE: f32 = 180.0;

/// Text at (`x`, `top`) measured from the top of the page.
fn text(out: &mut String, size: f32, x: f32, top: f32, s: &str) {
    let _ = write!(out, "BT /F1 {size} Tf {x} {} Td ", PAGE_H - top);
    pdf_string(out, s);
    out.push_str(" Tj ET\n");
}

/// The content stream of one page.
fn page_content(sheet: &Sheet) -> Zeroizing<String> {
    // Reserved up front: growing would leave copies of the secret behind.
    let mut c = Zeroizing::new(String::with_capacity(256 * 1024));
    c.push_str("0 0 0 rg\n");
    text(&mut c, 16.0, MARGIN, 60.0, &sheet.title());
    let mut top = 84.0;
    for l in sheet.authority_lines() {
        text(&mut c, 9.0, MARGIN, top, &l);
        top += 12.0;
    }
    top += 14.0;
    text(
        &mut c,
        9.0,
        MARGIN,
        top,
        "SECRET (hex; the letter after each line is its check letter)",
    );
    top += 30.0;
    let advance = SHEET_FONT_ADVANCE as f32 / 1000.0;
    for l in &sheet.lines {
        let _ = write!(c, "BT /F1 22 Tf {MARGIN} {} Td ", PAGE_H - top);
        let _ = writeln!(
            c,
            "({}:  {}   {}) Tj ET",
            l.number,
            l.groups.as_str(),
            l.check
        );
        top += 32.0;
    }
    // A box around the check letters: column 27 of each line.
    let box_x = MARGIN + 26.0 * 22.0 * advance - 4.0;
    let _ = writeln!(
        c,
        "0.8 w {box_x} {} {} {} re S",
        PAGE_H - top + 22.0,
        22.0 * advance + 8.0,
        4.0 * 32.0
    );
    top += 6.0;
    text(
        &mut c,
        9.0,
        MARGIN,
        top,
        "As typed to `tailscale lock disable`:",
    );
    top += 13.0;
    let _ = write!(c, "BT /F1 8.5 Tf {MARGIN} {} Td ", PAGE_H - top);
    pdf_string(&mut c, &sheet.secret_text);
    c.push_str(" Tj ET\n");
    top += 18.0;
    text(
        &mut c,
        9.0,
        MARGIN,
        top,
        "Matches the authority's disablement value:",
    );
    top += 13.0;
    text(&mut c, 8.5, MARGIN, top, &sheet.value_text);
    top += 14.0;
    // QR code, white quiet zone included.
    let q = &sheet.qr;
    let modules = (q.size() + 2 * QUIET_ZONE) as f32;
    let m = QR_SIDE / modules;
    let left = MARGIN;
    let bottom = PAGE_H - top - QR_SIDE;
    for y in 0..q.size() {
        for x in 0..q.size() {
            if q.is_dark(x as isize, y as isize) {
                let px = left + (x + QUIET_ZONE) as f32 * m;
                let py = bottom + QR_SIDE - (y + QUIET_ZONE + 1) as f32 * m;
                let _ = writeln!(c, "{px:.3} {py:.3} {m:.3} {m:.3} re");
            }
        }
    }
    c.push_str("f\n");
    text(
        &mut c,
        8.0,
        left + QR_SIDE + 12.0,
        top + QR_SIDE / 2.0,
        "QR code: the disablement-secret text.",
    );
    top += QR_SIDE + 18.0;
    for l in sheet.instructions() {
        text(&mut c, 9.0, MARGIN, top, &l);
        top += 12.0;
    }
    c
}

/// Renders the sheets as one PDF document, one page each.
pub fn render_pdf(sheets: &[&Sheet]) -> Zeroizing<Vec<u8>> {
    let pages: Vec<Zeroizing<String>> = sheets.iter().map(|s| page_content(s)).collect();
    write_pdf(&pages)
}
