//! The printable transcript: self-contained HTML and a PDF (through the
//! secrets sheets' PDF writer, with their embedded DejaVu Sans Mono), each ending
//! with signature lines for the operator and witnesses.

use crate::pdf::{pdf_string, write_pdf, PAGE_H, PAGE_W};
use crate::secrets::font::SHEET_FONT_ADVANCE;
use crate::transcript::Record;
use std::fmt::Write as _;
use zeroize::Zeroizing;

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
        for e in &b.attestations {
            for line in crate::attestation_policy::evidence_lines(e) {
                l.push(format!("  {line}"));
            }
            l.push(
                "  kept attestation chain (PEM; re-check with `locksmith ceremony verify`):".into(),
            );
            for line in e.chain_pem.lines() {
                l.push(format!("    {line}"));
            }
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

const MARGIN: f32 = 40.0;
const SIZE: f32 = 7.5;
const LEADING: f32 = 9.5;

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

    let pages: Vec<Zeroizing<String>> = pages.into_iter().map(Zeroizing::new).collect();
    write_pdf(&pages).to_vec()
}
