//! The printable transcript: self-contained HTML and a PDF (hand-written
//! PDF 1.4 with the sheet font, DejaVu Sans Mono, embedded), each ending
//! with signature lines for the operator and witnesses.

use crate::secrets::font::{SHEET_FONT, SHEET_FONT_ADVANCE, SHEET_FONT_NAME};
use crate::transcript::Record;
use std::fmt::Write as _;

/// The transcript as plain lines (shared by both renderings).
pub fn text_lines(title: &str, records: &[Record]) -> Vec<String> {
    let mut l = vec![title.to_string(), String::new()];
    for r in records {
        let b = &r.body;
        l.push(format!("Record {}  {}  {}", b.seq, b.time, b.command));
        l.push(format!("  previous record hash: {}", b.prev));
        if let Some(op) = &b.operator {
            l.push(format!("  operator: {op}"));
        }
        if !b.witnesses.is_empty() {
            l.push(format!("  witnesses: {}", b.witnesses.join(", ")));
        }
        for s in &b.signers {
            l.push(format!(
                "  signer: {} on {} [{}]",
                s.tlpub, s.token, s.custody
            ));
        }
        for s in &b.signed {
            l.push(format!("  signed digest: {s}"));
        }
        for h in &b.inputs {
            l.push(format!("  input {}: sha256 {}", h.name, h.sha256));
        }
        for h in &b.outputs {
            l.push(format!("  output {}: sha256 {}", h.name, h.sha256));
        }
        l.push("  shown before confirmation:".into());
        for line in b.shown.lines() {
            l.push(format!("    {line}"));
        }
        for s in &r.signatures {
            l.push(format!(
                "  record signature by {}: {}",
                s.tlpub, s.signature
            ));
        }
        l.push(String::new());
    }
    l
}

/// The people who sign on paper: the operators and witnesses named in the records.
pub fn signatories(records: &[Record]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in records {
        for n in r.body.operator.iter().chain(r.body.witnesses.iter()) {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained HTML page (no external resources).
pub fn render_html(title: &str, records: &[Record], last_hash: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>body{{font-family:monospace;font-size:10pt;margin:2em}}pre{{white-space:pre-wrap;word-break:break-all}}.sig{{margin-top:3em;border-top:1px solid #000;width:60%;padding-top:.3em}}</style></head><body>\n<h1>{t}</h1>\n<p>{n} record(s); SHA-256 of the last record: <b>{last}</b>. Check with <code>locksmith ceremony verify</code>.</p>\n<pre>",
        t = html_escape(title),
        n = records.len(),
        last = html_escape(last_hash)
    );
    for line in text_lines(title, records).iter().skip(2) {
        h.push_str(&html_escape(line));
        h.push('\n');
    }
    h.push_str("</pre>\n<h2>Signatures</h2>\n");
    let mut people = signatories(records);
    people.push("Witness (name):".into());
    for p in people {
        let _ = writeln!(
            h,
            "<div class=\"sig\">{} &nbsp; &nbsp; date:</div>",
            html_escape(&p)
        );
    }
    h.push_str("</body></html>\n");
    h
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 40.0;
const SIZE: f32 = 7.5;
const LEADING: f32 = 9.5;

fn pdf_string(out: &mut String, text: &str) {
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

/// Wraps lines to the page width (monospace), keeping indentation.
fn wrap(lines: &[String]) -> Vec<String> {
    let cols = ((PAGE_W - 2.0 * MARGIN) / (SIZE * SHEET_FONT_ADVANCE as f32 / 1000.0)) as usize;
    let mut out = Vec::new();
    for l in lines {
        let chars: Vec<char> = l.chars().collect();
        if chars.len() <= cols {
            out.push(l.clone());
            continue;
        }
        let indent = chars
            .iter()
            .take_while(|c| **c == ' ')
            .count()
            .min(cols / 2)
            + 2;
        let mut start = 0;
        let mut first = true;
        while start < chars.len() {
            let width = if first { cols } else { cols - indent };
            let end = (start + width).min(chars.len());
            let piece: String = chars[start..end].iter().collect();
            out.push(if first {
                piece
            } else {
                format!("{}{piece}", " ".repeat(indent))
            });
            first = false;
            start = end;
        }
    }
    out
}

/// A PDF: the transcript lines, then a page of signature lines.
pub fn render_pdf(title: &str, records: &[Record], last_hash: &str) -> Vec<u8> {
    let mut lines = text_lines(title, records);
    lines.insert(1, format!("SHA-256 of the last record: {last_hash}"));
    let lines = wrap(&lines);
    let per_page = ((PAGE_H - 2.0 * MARGIN) / LEADING) as usize;
    let mut pages: Vec<String> = Vec::new();
    for chunk in lines.chunks(per_page.max(1)) {
        let mut c = String::from("0 0 0 rg\n");
        for (i, l) in chunk.iter().enumerate() {
            let _ = write!(
                c,
                "BT /F1 {SIZE} Tf {MARGIN} {} Td ",
                PAGE_H - MARGIN - (i as f32 + 1.0) * LEADING
            );
            pdf_string(&mut c, l);
            c.push_str(" Tj ET\n");
        }
        pages.push(c);
    }
    // The signature page.
    let mut c = String::from("0 0 0 rg\n");
    let _ = write!(c, "BT /F1 14 Tf {MARGIN} {} Td ", PAGE_H - 70.0);
    pdf_string(&mut c, "Signatures of the operator and witnesses");
    c.push_str(" Tj ET\n");
    let mut people = signatories(records);
    people.push("Witness (name):".into());
    people.push("Witness (name):".into());
    let mut y = PAGE_H - 140.0;
    for p in people {
        let _ = writeln!(c, "0.8 w {MARGIN} {y} m {} {y} l S", MARGIN + 300.0);
        let _ = writeln!(c, "{} {y} m {} {y} l S", MARGIN + 340.0, PAGE_W - MARGIN);
        let _ = write!(c, "BT /F1 9 Tf {MARGIN} {} Td ", y - 12.0);
        pdf_string(&mut c, &p);
        c.push_str(" Tj ET\n");
        let _ = write!(c, "BT /F1 9 Tf {} {} Td ", MARGIN + 340.0, y - 12.0);
        pdf_string(&mut c, "date");
        c.push_str(" Tj ET\n");
        y -= 60.0;
    }
    pages.push(c);

    let mut pdf: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let mut obj = |pdf: &mut Vec<u8>, body: &[u8]| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    };
    let n = pages.len();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 6 + 2 * i)).collect();
    obj(&mut pdf, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(
        &mut pdf,
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).as_bytes(),
    );
    let widths = vec![SHEET_FONT_ADVANCE.to_string(); 95].join(" ");
    obj(&mut pdf, format!("<< /Type /Font /Subtype /TrueType /BaseFont /{SHEET_FONT_NAME} /FirstChar 32 /LastChar 126 /Widths [{widths}] /Encoding /WinAnsiEncoding /FontDescriptor 4 0 R >>").as_bytes());
    obj(&mut pdf, format!("<< /Type /FontDescriptor /FontName /{SHEET_FONT_NAME} /Flags 33 /FontBBox [-558 -375 718 1042] /ItalicAngle 0 /Ascent 760 /Descent -240 /CapHeight 729 /StemV 80 /FontFile2 5 0 R >>").as_bytes());
    let mut font =
        format!("<< /Length {0} /Length1 {0} >>\nstream\n", SHEET_FONT.len()).into_bytes();
    font.extend_from_slice(SHEET_FONT);
    font.extend_from_slice(b"\nendstream");
    obj(&mut pdf, &font);
    for (i, content) in pages.iter().enumerate() {
        obj(&mut pdf, format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>", 7 + 2 * i).as_bytes());
        obj(
            &mut pdf,
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            )
            .as_bytes(),
        );
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
