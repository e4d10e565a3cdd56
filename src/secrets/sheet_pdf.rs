//! The PDF sheet, written by hand (PDF 1.4, no dependency): A4 pages, one
//! per secret, with the sheet font (DejaVu Sans Mono, dotted zero)
//! embedded as a TrueType `FontFile2`, and the QR code drawn as filled
//! squares, so it rasterizes crisply at any resolution.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::font::{SHEET_FONT, SHEET_FONT_ADVANCE, SHEET_FONT_NAME};
use super::qr::QUIET_ZONE;
use super::sheet::Sheet;

/// A4 in points.
pub const PAGE_W: f32 = 595.0;
pub const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
/// Side of the QR code including its quiet zone, in points (about 64 mm).
const QR_SIDE: f32 = 180.0;

/// Escapes text for a PDF string literal (ASCII only; other characters
/// become `?`, the sheet text is ASCII).
pub fn pdf_string(out: &mut String, text: &str) {
    out.push('(');
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push(')');
}

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
    let modules = (q.width + 2 * QUIET_ZONE) as f32;
    let m = QR_SIDE / modules;
    let left = MARGIN;
    let bottom = PAGE_H - top - QR_SIDE;
    for y in 0..q.width {
        for x in 0..q.width {
            if q.is_dark(x, y) {
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

/// A PDF 1.4 document of A4 pages, one per content stream, with the sheet
/// font embedded as `/F1`. The buffer is zeroized on drop (sheet pages
/// hold secrets).
pub fn write_pdf(pages: &[Zeroizing<String>]) -> Zeroizing<Vec<u8>> {
    // Reserved up front: growing would leave copies of the secrets behind.
    let content_len: usize = pages.iter().map(|p| p.len() + 128).sum();
    let mut pdf = Zeroizing::new(Vec::<u8>::with_capacity(
        SHEET_FONT.len() + content_len + (pages.len() + 4) * 1024,
    ));
    let mut offsets: Vec<usize> = Vec::new();
    pdf.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");

    let n = pages.len();
    // Objects: 1 catalog, 2 pages, 3 font, 4 descriptor, 5 font file,
    // then a page and its content stream per page.
    let page_ids: Vec<usize> = (0..n).map(|i| 6 + 2 * i).collect();
    let obj = |pdf: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(pdf.len());
        let id = offsets.len();
        pdf.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut pdf, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = page_ids.iter().map(|id| format!("{id} 0 R")).collect();
    obj(
        &mut pdf,
        &mut offsets,
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).as_bytes(),
    );
    let widths = vec![SHEET_FONT_ADVANCE.to_string(); 95].join(" ");
    obj(
        &mut pdf,
        &mut offsets,
        format!(
            "<< /Type /Font /Subtype /TrueType /BaseFont /{SHEET_FONT_NAME} /FirstChar 32 /LastChar 126 /Widths [{widths}] /Encoding /WinAnsiEncoding /FontDescriptor 4 0 R >>"
        )
        .as_bytes(),
    );
    obj(
        &mut pdf,
        &mut offsets,
        format!(
            "<< /Type /FontDescriptor /FontName /{SHEET_FONT_NAME} /Flags 33 /FontBBox [-558 -375 718 1042] /ItalicAngle 0 /Ascent 760 /Descent -240 /CapHeight 729 /StemV 80 /FontFile2 5 0 R >>"
        )
        .as_bytes(),
    );
    let mut font =
        format!("<< /Length {0} /Length1 {0} >>\nstream\n", SHEET_FONT.len()).into_bytes();
    font.extend_from_slice(SHEET_FONT);
    font.extend_from_slice(b"\nendstream");
    obj(&mut pdf, &mut offsets, &font);
    for (i, content) in pages.iter().enumerate() {
        let content_id = page_ids[i] + 1;
        obj(
            &mut pdf,
            &mut offsets,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
            )
            .as_bytes(),
        );
        let mut stream = Zeroizing::new(Vec::with_capacity(content.len() + 64));
        stream.extend_from_slice(format!("<< /Length {} >>\nstream\n", content.len()).as_bytes());
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"\nendstream");
        obj(&mut pdf, &mut offsets, &stream);
    }
    let xref = pdf.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for off in &offsets {
        let _ = writeln!(tail, "{off:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    pdf.extend_from_slice(tail.as_bytes());
    pdf
}
