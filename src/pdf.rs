//! The one PDF writer (PDF 1.4, written by hand, no dependency): A4
//! pages from content streams, with the sheet font (DejaVu Sans Mono,
//! dotted zero) embedded as a TrueType `FontFile2` under `/F1`. Used by
//! the disablement sheets, the printed QR codes of `--qr pdf` and the
//! transcript printout; each builds its page content and calls
//! [`write_pdf`].

use std::fmt::Write as _;

use zeroize::Zeroizing;

use crate::secrets::font::{SHEET_FONT, SHEET_FONT_ADVANCE, SHEET_FONT_NAME};

/// A4 in points.
pub const PAGE_W: f32 = 595.0;
pub const PAGE_H: f32 = 842.0;
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
